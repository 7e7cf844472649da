package worker

import (
	"context"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/insights"
	"github.com/phantomos/phantomos/internal/llm"
	"github.com/phantomos/phantomos/internal/store"
)

// InsightsMaxAge is how old a publisher's insights may be before opening
// the Intelligence page runs the detectors again.
const InsightsMaxAge = 24 * time.Hour

// narrator returns the narrator the configuration asks for: Claude,
// guarded by the local engine, with ANTHROPIC_API_KEY; the local engine
// without.
func (w *Worker) narrator() llm.Narrator {
	return llm.New(w.llmConfig(), w.logger)
}

func (w *Worker) llmConfig() llm.Config { return llm.Config{APIKey: w.cfg.AnthropicAPIKey} }

// GenerateInsights runs the detectors for pub with a bounded wait for the
// narrative, then refreshes the stored forecasts of total revenue by month
// and by week (if the data changed), so that the scheduler's runs leave
// them ready for the page and the API.
func (w *Worker) GenerateInsights(ctx context.Context, pub *phantomos.Publisher) ([]insights.Insight, error) {
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	AsOf, _, err := w.AsOf(ctx, pub)
	if err != nil {
		return nil, err
	}
	list, err := insights.GenerateWith(ctx, w.store, pub, AsOf, w.narrator())
	if err != nil {
		return nil, err
	}
	for _, g := range []string{insights.GrainMonth, insights.GrainWeek} {
		if _, err := insights.Forecast(ctx, w.store, pub, AsOf, insights.ForecastRequest{Scope: store.ScopeTotal, Grain: g}); err != nil {
			w.logger.Warn("forecast", "publisher", pub.ID, "grain", g, "err", err)
		}
	}
	return list, nil
}

// staleAfter is how long after a publisher's last sale the pages that look
// back from today (Intelligence, the workbench's revenue at stake) look
// back from that last sale instead: imported history from years ago is
// still worth analysing, while a store that paused for a few weeks is not
// history yet.
const staleAfter = 62 * 24 * time.Hour

// AsOf is the moment from which pages that look back from today look back
// for publisher pub: now, or the end of its last day of sales when that
// lies more than staleAfter in the past. The second result is that last
// day when it is used, "" otherwise.
func (w *Worker) AsOf(ctx context.Context, pub *phantomos.Publisher) (time.Time, phantomos.Day, error) {
	now := w.now()
	_, last, err := w.store.SalesSpan(ctx, pub.ID)
	if err != nil || last == "" {
		return now, "", err
	}
	t := last.Time()
	end := time.Date(t.Year(), t.Month(), t.Day(), 23, 59, 59, 0, pub.Location())
	if now.Sub(end) <= staleAfter {
		return now, "", nil
	}
	return end, last, nil
}

// InsightsRun is the work of an insights_run job: pub's insights and
// stored forecasts, regenerated.
func (w *Worker) InsightsRun(ctx context.Context, pub phantomos.PublisherID) error {
	p, err := w.store.Publisher(ctx, pub)
	if err != nil {
		return err
	}
	_, err = w.GenerateInsights(ctx, p)
	return err
}
