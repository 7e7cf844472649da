package store_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// TestForecastReuseColumns: a stored forecast keeps the data version, the
// basis and the detail it was saved with, a replacement overwrites them,
// the weekly and monthly forecasts of a scope are kept apart, and another
// publisher sees none of them.
func TestForecastReuseColumns(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := newInsightPublisher(t, s, "alpha")
		b := newInsightPublisher(t, s, "beta")
		at := time.Date(2026, 3, 15, 18, 30, 0, 0, time.UTC)
		week := &store.Forecast{Scope: store.ScopeChannel, ScopeID: "marketplace", Grain: store.GrainWeek, Model: "Seasonal ratio",
			Points: json.RawMessage(`[{"period": "2026-03-09", "week": "2026-W11", "point": 10}]`), GeneratedAt: at,
			DataVersion: 7, Basis: "r2|week|2026-03-02|UTC", Detail: json.RawMessage(`{"name": "Marketplace", "history": []}`)}
		if err := s.SaveForecast(ctx, a.ID, week); err != nil {
			t.Fatal(err)
		}
		month := &store.Forecast{Scope: store.ScopeChannel, ScopeID: "marketplace", Grain: store.GrainMonth, Model: "Theta", Points: json.RawMessage(`[]`)}
		if err := s.SaveForecast(ctx, a.ID, month); err != nil {
			t.Fatal(err)
		}
		got, err := s.StoredForecast(ctx, a.ID, store.ScopeChannel, "marketplace", store.GrainWeek)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != week.ID || got.DataVersion != 7 || got.Basis != week.Basis || !got.GeneratedAt.Equal(at) || got.Model != "Seasonal ratio" {
			t.Errorf("weekly forecast read back as %+v", got)
		}
		var detail struct{ Name string }
		if json.Unmarshal(got.Detail, &detail) != nil || detail.Name != "Marketplace" {
			t.Errorf("detail read back as %s", got.Detail)
		}
		if m, err := s.StoredForecast(ctx, a.ID, store.ScopeChannel, "marketplace", store.GrainMonth); err != nil || m.ID == week.ID || string(m.Detail) != "{}" || m.DataVersion != 0 {
			t.Errorf("monthly forecast %+v, %v: want its own row with an empty detail", m, err)
		}

		// A new computation replaces the row in place.
		week.DataVersion, week.Basis, week.Detail, week.GeneratedAt = 8, "r2|week|2026-03-09|UTC", json.RawMessage(`{"name": "Marketplace", "note": "n"}`), at.Add(24*time.Hour)
		if err := s.SaveForecast(ctx, a.ID, week); err != nil {
			t.Fatal(err)
		}
		got, _ = s.StoredForecast(ctx, a.ID, store.ScopeChannel, "marketplace", store.GrainWeek)
		if got.ID != week.ID || got.DataVersion != 8 || got.Basis != week.Basis || !json.Valid(got.Detail) || !got.GeneratedAt.Equal(week.GeneratedAt) {
			t.Errorf("replaced forecast read back as %+v", got)
		}
		if l, _ := s.StoredForecasts(ctx, a.ID); len(l) != 2 {
			t.Errorf("%d stored forecasts, want 2", len(l))
		}

		if _, err := s.StoredForecast(ctx, b.ID, store.ScopeChannel, "marketplace", store.GrainWeek); phantomos.ErrorCode(err) != phantomos.ENOTFOUND {
			t.Errorf("A's weekly forecast as B: %v, want not found", err)
		}
		for name, f := range map[string]*store.Forecast{
			"grain":  {Scope: store.ScopeTotal, Grain: "day", Points: json.RawMessage(`[]`)},
			"detail": {Scope: store.ScopeTotal, Grain: store.GrainWeek, Points: json.RawMessage(`[]`), Detail: json.RawMessage(`{"name":`)},
		} {
			if err := s.SaveForecast(ctx, a.ID, f); phantomos.ErrorCode(err) != phantomos.EINVALID {
				t.Errorf("bad %s: %v, want invalid", name, err)
			}
		}
	})
}
