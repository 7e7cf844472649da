package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/phantomos/phantomos"
)

// Forecast scopes, as the forecasts table allows them.
const (
	ScopeTotal    = "total"
	ScopeGameIP   = "game_ip"
	ScopeAsset    = "asset"
	ScopeCategory = "category"
	ScopeChannel  = "channel"
)

// Forecast grains, as the forecasts table allows them.
const (
	GrainMonth = "month"
	GrainWeek  = "week"
)

// Forecast is a stored forecast of one scope of a publisher's revenue.
type Forecast struct {
	ID      string
	Scope   string // total, game_ip, asset, category, channel
	ScopeID string // "" for total
	Grain   string // month or week
	Model   string
	// Points is the forecast, one per period after the data, as JSON whose
	// shape belongs to the forecasting service.
	Points json.RawMessage
	// BacktestError is the mean absolute percentage error of one-step-ahead
	// rolling-origin backtests (0.08 = 8%), nil when there was too little
	// history to measure it.
	BacktestError *float64
	GeneratedAt   time.Time
	// DataVersion is the publisher's data version (see DataVersion) the
	// forecast was computed from; -1 when unknown.
	DataVersion int64
	// Basis names what else the forecast depends on (the last complete
	// period, settings, the engine's revision), as the forecasting service
	// spells it: a stored forecast is current while both match.
	Basis string
	// Detail is the rest of the answer as JSON whose shape belongs to the
	// forecasting service ("{}" when there is none).
	Detail json.RawMessage
}

// SaveForecast stores f for publisher pub, replacing the forecast of the
// same scope and grain.
func (s *Store) SaveForecast(ctx context.Context, pub phantomos.PublisherID, f *Forecast) error {
	switch f.Scope {
	case ScopeTotal, ScopeGameIP, ScopeAsset, ScopeCategory, ScopeChannel:
	default:
		return phantomos.Errorf(phantomos.EINVALID, "Unknown forecast scope %q.", f.Scope)
	}
	if f.Grain != GrainMonth && f.Grain != GrainWeek {
		return phantomos.Errorf(phantomos.EINVALID, "Unknown forecast grain %q.", f.Grain)
	}
	if len(f.Points) == 0 || !json.Valid(f.Points) {
		return phantomos.Errorf(phantomos.EINVALID, "A forecast needs its points as JSON.")
	}
	if len(f.Detail) == 0 {
		f.Detail = json.RawMessage(`{}`)
	}
	if !json.Valid(f.Detail) {
		return phantomos.Errorf(phantomos.EINVALID, "A forecast's detail must be JSON.")
	}
	now := s.nowUTC()
	if f.GeneratedAt.IsZero() {
		f.GeneratedAt = now
	}
	f.GeneratedAt = f.GeneratedAt.UTC().Truncate(time.Microsecond)
	id := phantomos.NewID()
	err := s.writeRow(ctx, `INSERT INTO forecasts (id, publisher_id, scope, scope_id, grain, model, points, backtest_error, generated_at,
			data_version, basis, detail, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)
		ON CONFLICT (publisher_id, scope, scope_id, grain) DO UPDATE SET model = excluded.model, points = excluded.points,
			backtest_error = excluded.backtest_error, generated_at = excluded.generated_at, data_version = excluded.data_version,
			basis = excluded.basis, detail = excluded.detail, updated_at = excluded.updated_at
		RETURNING CAST(id AS TEXT)`,
		id, pub, f.Scope, f.ScopeID, f.Grain, f.Model, string(f.Points), f.BacktestError, f.GeneratedAt,
		f.DataVersion, f.Basis, string(f.Detail), now).Scan(&f.ID)
	if err != nil {
		return fmt.Errorf("store: save forecast %s %s: %w", f.Scope, f.ScopeID, err)
	}
	return nil
}

// StoredForecast returns publisher pub's forecast of scope and scopeID at
// grain.
func (s *Store) StoredForecast(ctx context.Context, pub phantomos.PublisherID, scope, scopeID, grain string) (*Forecast, error) {
	f, err := scanForecast(s.db.QueryRowContext(ctx, `SELECT `+forecastColumns+` FROM forecasts
		WHERE publisher_id = $1 AND scope = $2 AND scope_id = $3 AND grain = $4`, pub, scope, scopeID, grain))
	if err != nil {
		return nil, notFound(err, "Forecast")
	}
	return f, nil
}

// StoredForecasts lists publisher pub's forecasts by scope and scope id.
func (s *Store) StoredForecasts(ctx context.Context, pub phantomos.PublisherID) ([]*Forecast, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+forecastColumns+` FROM forecasts WHERE publisher_id = $1 ORDER BY scope, scope_id, grain`, pub)
	if err != nil {
		return nil, fmt.Errorf("store: forecasts: %w", err)
	}
	defer rows.Close()
	var out []*Forecast
	for rows.Next() {
		f, err := scanForecast(rows)
		if err != nil {
			return nil, fmt.Errorf("store: forecasts: %w", err)
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

const forecastColumns = `CAST(id AS TEXT), scope, scope_id, grain, model, CAST(points AS TEXT), backtest_error, generated_at,
	data_version, basis, CAST(detail AS TEXT)`

func scanForecast(r rowScanner) (*Forecast, error) {
	var f Forecast
	var points, detail string
	var backtest sql.NullFloat64
	if err := r.Scan(&f.ID, &f.Scope, &f.ScopeID, &f.Grain, &f.Model, &points, &backtest, &f.GeneratedAt,
		&f.DataVersion, &f.Basis, &detail); err != nil {
		return nil, err
	}
	f.Points, f.Detail = json.RawMessage(points), json.RawMessage(detail)
	if backtest.Valid {
		v := backtest.Float64
		f.BacktestError = &v
	}
	return &f, nil
}
