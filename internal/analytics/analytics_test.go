package analytics

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/store"
)

func TestSplitReconcilesExactly(t *testing.T) {
	for _, tc := range []struct {
		amount int64
		fr     []float64
		want   []int64
	}{
		{100, []float64{1.0 / 3, 1.0 / 3, 1.0 / 3}, []int64{34, 33, 33}},
		{-100, []float64{1.0 / 3, 1.0 / 3, 1.0 / 3}, []int64{-34, -33, -33}},
		{1, []float64{0.5, 0.5}, []int64{1, 0}},
		{999, []float64{0.7, 0.3}, []int64{699, 300}},
		{5, []float64{0, 1}, []int64{0, 5}},
	} {
		got := split(tc.amount, tc.fr)
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("split(%d, %v) (-want +got):\n%s", tc.amount, tc.fr, diff)
		}
	}
}

func TestAttributeModels(t *testing.T) {
	net := map[string]int64{"hoodie": 1000, "mug": 301, "poster": 500}
	links := []store.AssetLink{
		{ProductID: "hoodie", AssetID: "hero", IsPrimary: true, Weight: 3},
		{ProductID: "hoodie", AssetID: "villain", Weight: 1},
		{ProductID: "mug", AssetID: "hero", Weight: 1},
		{ProductID: "mug", AssetID: "logo", Weight: 1},
		{ProductID: "mug", AssetID: "villain", Weight: 1},
	}
	for model, want := range map[string]Attribution{
		phantomos.AttributionPrimary:  {ByAsset: map[string]int64{"hero": 1000 + 301}, Unmapped: 500},
		phantomos.AttributionEqual:    {ByAsset: map[string]int64{"hero": 500 + 101, "villain": 500 + 100, "logo": 100}, Unmapped: 500},
		phantomos.AttributionWeighted: {ByAsset: map[string]int64{"hero": 750 + 101, "villain": 250 + 100, "logo": 100}, Unmapped: 500},
	} {
		got := Attribute(net, links, model)
		for k, v := range got.ByAsset {
			if v == 0 {
				delete(got.ByAsset, k)
			}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", model, diff)
		}
	}
}

func TestRanges(t *testing.T) {
	la, _ := time.LoadLocation("America/Los_Angeles")
	now := time.Date(2026, 5, 1, 3, 0, 0, 0, time.UTC) // 30 April in Los Angeles
	for preset, want := range map[string]Period{
		"7d":  {"2026-04-24", "2026-04-30"},
		"30d": {"2026-04-01", "2026-04-30"},
		"12m": {"2025-05-01", "2026-04-30"},
		"qtd": {"2026-04-01", "2026-04-30"},
		"ytd": {"2026-01-01", "2026-04-30"},
		"lq":  {"2026-01-01", "2026-03-31"},
	} {
		got, err := Range(preset, now, la)
		if err != nil || got != want {
			t.Errorf("Range(%s) = %v, %v; want %v", preset, got, err, want)
		}
	}
	if _, err := Range("forever", now, la); phantomos.ErrorCode(err) != phantomos.EINVALID {
		t.Errorf("bad preset: %v", err)
	}
	prev, _, _ := Compare(Period{"2026-03-01", "2026-03-31"}, ComparePrevious)
	if prev != (Period{"2026-01-29", "2026-02-28"}) {
		t.Errorf("previous = %v", prev)
	}
	yoy, _, _ := Compare(Period{"2026-03-01", "2026-03-31"}, CompareYear)
	if yoy != (Period{"2025-03-01", "2025-03-31"}) {
		t.Errorf("year = %v", yoy)
	}
	if _, err := Custom("2026-02-01", "2026-01-01"); err == nil {
		t.Error("reversed custom range accepted")
	}
	if Bucket("2026-04-30", "week") != "2026-04-27" || Bucket("2026-04-30", "month") != "2026-04-01" {
		t.Error("bucketing")
	}
}
