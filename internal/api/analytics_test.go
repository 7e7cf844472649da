package api

import (
	"testing"
	"time"
)

func TestLast12Months(t *testing.T) {
	la, _ := time.LoadLocation("America/Los_Angeles")
	// 03:00 UTC on 1 March is still 28 February in Los Angeles.
	p := Last12Months(time.Date(2026, 3, 1, 3, 0, 0, 0, time.UTC), la)
	if p.From != "2025-03-01" || p.To != "2026-02-28" {
		t.Errorf("Last12Months = %+v, want 2025-03-01..2026-02-28", p)
	}
	prev := p.Previous()
	if prev.To != "2025-02-28" || prev.From != "2024-03-01" {
		t.Errorf("Previous = %+v, want 2024-03-01..2025-02-28 (365 days)", prev)
	}
}
