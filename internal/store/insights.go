package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/phantomos/phantomos"
)

// Insight types, as the ai_insights table allows them.
const (
	InsightGrowth         = "growth_opportunity"
	InsightRisk           = "risk_alert"
	InsightTrend          = "trend_detection"
	InsightRecommendation = "recommendation"
	InsightForecast       = "forecast"
)

// InsightTypes lists every insight type.
var InsightTypes = []string{InsightTrend, InsightRisk, InsightGrowth, InsightRecommendation, InsightForecast}

// Insight statuses: new until a person dismisses it or marks it done.
const (
	InsightNew       = "new"
	InsightDismissed = "dismissed"
	InsightDone      = "done"
)

// Insight sources: the local engine or a language model.
const (
	SourceLocal = "local"
	SourceLLM   = "llm"
)

// Insight is a stored finding about a publisher's data. Evidence is JSON
// whose shape belongs to internal/insights; the store keeps it as it is.
type Insight struct {
	ID          string
	Type        string
	Fingerprint string // unique per publisher: the same finding in a later run has the same one
	Title       string
	Description string
	Confidence  float64 // 0 to 1
	Evidence    json.RawMessage
	Status      string
	Source      string
	CreatedAt   time.Time
	UpdatedAt   time.Time // the last run that found it
}

func validInsight(in *Insight) error {
	ok := false
	for _, t := range InsightTypes {
		ok = ok || in.Type == t
	}
	switch {
	case !ok:
		return phantomos.Errorf(phantomos.EINVALID, "Unknown insight type %q.", in.Type)
	case in.Fingerprint == "" || len(in.Fingerprint) > 200:
		return phantomos.Errorf(phantomos.EINVALID, "An insight needs a fingerprint of at most 200 characters.")
	case in.Title == "":
		return phantomos.Errorf(phantomos.EINVALID, "An insight needs a title.")
	case in.Confidence < 0 || in.Confidence > 1 || in.Confidence != in.Confidence:
		return phantomos.Errorf(phantomos.EINVALID, "Insight confidence %v is not between 0 and 1.", in.Confidence)
	case in.Source != SourceLocal && in.Source != SourceLLM:
		return phantomos.Errorf(phantomos.EINVALID, "Unknown insight source %q.", in.Source)
	case len(in.Evidence) == 0 || !json.Valid(in.Evidence):
		return phantomos.Errorf(phantomos.EINVALID, "Insight %q has no valid evidence.", in.Fingerprint)
	}
	return nil
}

// UpsertInsights stores the findings of one run for publisher pub in one
// transaction, merging each with the stored insight of the same
// fingerprint: its text, confidence and evidence are replaced and it is
// marked as seen now (UpdatedAt). A finding someone dismissed or marked
// done keeps that status, unless reopen (when not nil) says the evidence
// changed materially, in which case it is new again. The ids, statuses and
// times of the stored rows are written back into list.
func (s *Store) UpsertInsights(ctx context.Context, pub phantomos.PublisherID, list []*Insight, reopen func(old, new *Insight) bool) error {
	for _, in := range list {
		if err := validInsight(in); err != nil {
			return err
		}
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		now := s.nowUTC()
		for _, in := range list {
			old, err := scanInsight(tx.QueryRowContext(ctx, `SELECT `+insightColumns+` FROM ai_insights WHERE publisher_id = $1 AND fingerprint = $2`, pub, in.Fingerprint))
			switch {
			case err == sql.ErrNoRows:
				in.ID, in.Status, in.CreatedAt, in.UpdatedAt = phantomos.NewID(), InsightNew, now, now
				_, err = tx.ExecContext(ctx, `INSERT INTO ai_insights (id, publisher_id, type, fingerprint, title, description, confidence, evidence, status, source, created_at, updated_at)
					VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)`,
					in.ID, pub, in.Type, in.Fingerprint, in.Title, in.Description, in.Confidence, string(in.Evidence), in.Status, in.Source, now)
				if err != nil {
					return fmt.Errorf("store: insert insight %s: %w", in.Fingerprint, err)
				}
				continue
			case err != nil:
				return fmt.Errorf("store: insight %s: %w", in.Fingerprint, err)
			}
			status := old.Status
			if status != InsightNew && reopen != nil && reopen(old, in) {
				status = InsightNew
			}
			in.ID, in.Status, in.CreatedAt, in.UpdatedAt = old.ID, status, old.CreatedAt, now
			_, err = tx.ExecContext(ctx, `UPDATE ai_insights SET type = $3, title = $4, description = $5, confidence = $6, evidence = $7,
					status = $8, source = $9, updated_at = $10
				WHERE publisher_id = $1 AND id = $2`,
				pub, old.ID, in.Type, in.Title, in.Description, in.Confidence, string(in.Evidence), status, in.Source, now)
			if err != nil {
				return fmt.Errorf("store: update insight %s: %w", in.Fingerprint, err)
			}
		}
		return nil
	})
}

// DeleteStaleInsights removes publisher pub's new insights that no run has
// found since seen: findings that no longer hold. Dismissed and done ones
// are kept, so that the decision survives if the finding comes back.
func (s *Store) DeleteStaleInsights(ctx context.Context, pub phantomos.PublisherID, seen time.Time) (int64, error) {
	res, err := s.exec(ctx, `DELETE FROM ai_insights WHERE publisher_id = $1 AND status = 'new' AND updated_at < $2`,
		pub, seen.UTC().Truncate(time.Microsecond))
	if err != nil {
		return 0, fmt.Errorf("store: delete stale insights: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// InsightFilter narrows a list of insights. Empty fields do not filter.
type InsightFilter struct {
	Type   string
	Status string
	Limit  int // 0 means 500
}

// Insights lists publisher pub's insights under f: new ones first, then by
// confidence, most confident first.
func (s *Store) Insights(ctx context.Context, pub phantomos.PublisherID, f InsightFilter) ([]*Insight, error) {
	conds := []string{"publisher_id = $1"}
	args := []any{pub}
	if f.Type != "" {
		args = append(args, f.Type)
		conds = append(conds, fmt.Sprintf("type = $%d", len(args)))
	}
	if f.Status != "" {
		args = append(args, f.Status)
		conds = append(conds, fmt.Sprintf("status = $%d", len(args)))
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 500
	}
	args = append(args, limit)
	rows, err := s.db.QueryContext(ctx, `SELECT `+insightColumns+` FROM ai_insights WHERE `+strings.Join(conds, " AND ")+`
		ORDER BY CASE status WHEN 'new' THEN 0 ELSE 1 END, confidence DESC, fingerprint
		LIMIT $`+fmt.Sprint(len(args)), args...)
	if err != nil {
		return nil, fmt.Errorf("store: insights: %w", err)
	}
	defer rows.Close()
	var out []*Insight
	for rows.Next() {
		in, err := scanInsight(rows)
		if err != nil {
			return nil, fmt.Errorf("store: insights: %w", err)
		}
		out = append(out, in)
	}
	return out, rows.Err()
}

// Insight returns insight id of publisher pub.
func (s *Store) Insight(ctx context.Context, pub phantomos.PublisherID, id string) (*Insight, error) {
	if !phantomos.ValidID(id) {
		return nil, phantomos.Errorf(phantomos.ENOTFOUND, "Insight not found.")
	}
	in, err := scanInsight(s.db.QueryRowContext(ctx, `SELECT `+insightColumns+` FROM ai_insights WHERE publisher_id = $1 AND id = $2`, pub, id))
	if err != nil {
		return nil, notFound(err, "Insight")
	}
	return in, nil
}

// SetInsightStatus sets the status of insight id of publisher pub to new,
// dismissed or done.
func (s *Store) SetInsightStatus(ctx context.Context, pub phantomos.PublisherID, id, status string) error {
	if status != InsightNew && status != InsightDismissed && status != InsightDone {
		return phantomos.Errorf(phantomos.EINVALID, "Status %q must be new, dismissed or done.", status)
	}
	if !phantomos.ValidID(id) {
		return phantomos.Errorf(phantomos.ENOTFOUND, "Insight not found.")
	}
	res, err := s.exec(ctx, `UPDATE ai_insights SET status = $3 WHERE publisher_id = $1 AND id = $2`, pub, id, status)
	if err != nil {
		return fmt.Errorf("store: set insight status: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return phantomos.Errorf(phantomos.ENOTFOUND, "Insight not found.")
	}
	return nil
}

// LastInsightRun returns when a run last found any of publisher pub's
// insights, zero when there is none.
func (s *Store) LastInsightRun(ctx context.Context, pub phantomos.PublisherID) (time.Time, error) {
	var t time.Time
	err := s.db.QueryRowContext(ctx, `SELECT updated_at FROM ai_insights WHERE publisher_id = $1 ORDER BY updated_at DESC LIMIT 1`, pub).Scan(&t)
	if err == sql.ErrNoRows {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("store: last insight run: %w", err)
	}
	return t, nil
}

const insightColumns = `CAST(id AS TEXT), type, fingerprint, title, description, confidence, CAST(evidence AS TEXT), status, source, created_at, updated_at`

type rowScanner interface{ Scan(dest ...any) error }

func scanInsight(r rowScanner) (*Insight, error) {
	var in Insight
	var evidence string
	if err := r.Scan(&in.ID, &in.Type, &in.Fingerprint, &in.Title, &in.Description, &in.Confidence, &evidence, &in.Status, &in.Source, &in.CreatedAt, &in.UpdatedAt); err != nil {
		return nil, err
	}
	in.Evidence = json.RawMessage(evidence)
	return &in, nil
}

// MonthProduct is one product's figures in one calendar month, in the
// reporting currency.
type MonthProduct struct {
	Month     string // "2006-01"
	ProductID string
	Gross     int64
	Refunded  int64
	Net       int64
	Units     int64
	Orders    int64
}

// MonthlyProducts returns publisher pub's figures per product and calendar
// month for the months from..to ("2006-01", inclusive), read from the
// monthly product rollup, oldest first.
func (s *Store) MonthlyProducts(ctx context.Context, pub phantomos.PublisherID, from, to string) ([]MonthProduct, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT month, CAST(product_id AS TEXT), gross, refunded, net, units, orders
		FROM product_monthly WHERE publisher_id = $1 AND month BETWEEN $2 AND $3 ORDER BY month, product_id`, pub, from, to)
	if err != nil {
		return nil, fmt.Errorf("store: monthly products: %w", err)
	}
	defer rows.Close()
	var out []MonthProduct
	for rows.Next() {
		var m MonthProduct
		if err := rows.Scan(&m.Month, &m.ProductID, &m.Gross, &m.Refunded, &m.Net, &m.Units, &m.Orders); err != nil {
			return nil, fmt.Errorf("store: monthly products: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// MonthSegment is one segment's figures (a channel or a country) in one
// calendar month.
type MonthSegment struct {
	Month    string
	Key      string // channel or country code
	Gross    int64
	Refunded int64
	Net      int64
	Orders   int64
}

// MonthlySegments returns publisher pub's figures per calendar month and
// channel (dim ByChannel) or country (ByCountry) for the months from..to,
// read from the monthly geographic rollup.
func (s *Store) MonthlySegments(ctx context.Context, pub phantomos.PublisherID, dim Dimension, from, to string) ([]MonthSegment, error) {
	col, err := segmentColumn(dim)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT month, `+col+`, SUM(gross), SUM(refunded), SUM(net), SUM(orders)
		FROM geo_monthly WHERE publisher_id = $1 AND month BETWEEN $2 AND $3 GROUP BY month, `+col+` ORDER BY month, `+col, pub, from, to)
	if err != nil {
		return nil, fmt.Errorf("store: monthly by %s: %w", dim, err)
	}
	defer rows.Close()
	var out []MonthSegment
	for rows.Next() {
		var m MonthSegment
		if err := rows.Scan(&m.Month, &m.Key, &m.Gross, &m.Refunded, &m.Net, &m.Orders); err != nil {
			return nil, fmt.Errorf("store: monthly by %s: %w", dim, err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// MonthProductSegment is one product's net revenue in one channel or
// country in one calendar month.
type MonthProductSegment struct {
	Month     string
	ProductID string
	Key       string
	Net       int64
}

// MonthlyProductSegments returns publisher pub's net revenue per calendar
// month, product and channel (ByChannel) or country (ByCountry) for the
// days from..to, which should be whole months. Only segments in keys are
// returned when keys is not empty.
func (s *Store) MonthlyProductSegments(ctx context.Context, pub phantomos.PublisherID, dim Dimension, from, to phantomos.Day, keys []string) ([]MonthProductSegment, error) {
	col, err := segmentColumn(dim)
	if err != nil {
		return nil, err
	}
	// Whole months from product_geo_monthly while the filter rollups are
	// current; otherwise the lines.
	current, err := s.FilterRollupsCurrent(ctx, pub)
	if err != nil {
		return nil, err
	}
	var src, month string
	var args []any
	if current && from == monthStart(from) && to == addDays(nextMonth(to), -1) {
		src, month = `product_geo_monthly t WHERE t.publisher_id = $1 AND t.month BETWEEN $2 AND $3`, "t.month"
		args = []any{pub, string(from)[:7], string(to)[:7]}
	} else {
		refundDate, err := s.lineBooking(ctx, pub, fullGrain)
		if err != nil {
			return nil, err
		}
		var lines string
		lines, args = Filter{}.bookedLines([]any{pub}, refundDate, from, to)
		src, month = `(`+lines+`) t WHERE t.publisher_id = $1`, s.dialect.monthOf("t.day")
	}
	cond := ""
	if len(keys) > 0 {
		ph := make([]string, len(keys))
		for i, k := range keys {
			args = append(args, k)
			ph[i] = fmt.Sprintf("$%d", len(args))
		}
		cond = " AND t." + col + " IN (" + strings.Join(ph, ", ") + ")"
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+month+` AS m, CAST(t.product_id AS TEXT), t.`+col+`, SUM(t.net)
		FROM `+src+cond+`
		GROUP BY m, t.product_id, t.`+col+` ORDER BY m`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: monthly products by %s: %w", dim, err)
	}
	defer rows.Close()
	var out []MonthProductSegment
	for rows.Next() {
		var m MonthProductSegment
		if err := rows.Scan(&m.Month, &m.ProductID, &m.Key, &m.Net); err != nil {
			return nil, fmt.Errorf("store: monthly products by %s: %w", dim, err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

func segmentColumn(dim Dimension) (string, error) {
	switch dim {
	case ByChannel:
		return "channel", nil
	case ByCountry:
		return "country", nil
	}
	return "", phantomos.Errorf(phantomos.EINVALID, "Monthly segments are by channel or country, not %q.", dim)
}

// FirstSaleDay returns the day of publisher pub's earliest sale, and false
// when it has none.
func (s *Store) FirstSaleDay(ctx context.Context, pub phantomos.PublisherID) (phantomos.Day, bool, error) {
	var d sql.NullString
	if err := s.db.QueryRowContext(ctx, `SELECT MIN(`+s.DayText("day")+`) FROM product_daily WHERE publisher_id = $1`, pub).Scan(&d); err != nil {
		return "", false, fmt.Errorf("store: first sale: %w", err)
	}
	if !d.Valid || d.String == "" {
		return "", false, nil
	}
	return phantomos.Day(d.String), true, nil
}

// MonthLines counts the order lines of one category and channel in one
// calendar month, and how many of them were refunded (wholly or partly).
type MonthLines struct {
	Month    string
	Category string
	Channel  string
	Lines    int64
	Refunded int64
}

// MonthlyRefundLines counts publisher pub's order lines and refunded lines
// per calendar month, product category and channel for the days from..to,
// in one pass over the sales. Refund rates tested on these counts are not
// swayed by one large refund the way amounts are.
func (s *Store) MonthlyRefundLines(ctx context.Context, pub phantomos.PublisherID, from, to phantomos.Day) ([]MonthLines, error) {
	month := s.dialect.monthOf("t.day")
	rows, err := s.db.QueryContext(ctx, `SELECT `+month+` AS m, p.category, t.channel, COUNT(*), SUM(CASE WHEN t.refunded > 0 THEN 1 ELSE 0 END)
		FROM sales t JOIN products p ON p.publisher_id = t.publisher_id AND p.id = t.product_id
		WHERE t.publisher_id = $1 AND t.day BETWEEN $2 AND $3 GROUP BY m, p.category, t.channel ORDER BY m`, pub, string(from), string(to))
	if err != nil {
		return nil, fmt.Errorf("store: refund lines: %w", err)
	}
	defer rows.Close()
	var out []MonthLines
	for rows.Next() {
		var m MonthLines
		if err := rows.Scan(&m.Month, &m.Category, &m.Channel, &m.Lines, &m.Refunded); err != nil {
			return nil, fmt.Errorf("store: refund lines: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}
