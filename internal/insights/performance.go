package insights

import (
	"context"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/analytics"
	"github.com/phantomos/phantomos/internal/store"
)

// AssetLine is one asset's attributed revenue over the last complete
// months.
type AssetLine struct {
	ID      string  `json:"id"`
	Name    string  `json:"name"`
	Monthly []int64 `json:"monthly"`
	// Total is the revenue of the whole window and Previous that of the
	// window before it, both attributed over the window as the Assets page
	// does; Change is their relative change, nil without a previous window
	// or revenue in it.
	Total    int64    `json:"net_revenue"`
	Previous *int64   `json:"previous_net_revenue,omitempty"`
	Change   *float64 `json:"change,omitempty"`
}

// AssetPerformance compares the top assets month by month.
type AssetPerformance struct {
	Period analytics.Period `json:"period"`
	Months []string         `json:"months"`
	Assets []AssetLine      `json:"assets"`
}

// TopAssets returns the n assets of publisher pub that earned most over the
// last 12 complete months (fewer months when there are not that many) as
// of now, with their monthly attributed revenue and their change on the
// 12 months before.
func TopAssets(ctx context.Context, s *store.Store, pub *phantomos.Publisher, now time.Time, n int) (*AssetPerformance, error) {
	d, err := load(ctx, s, pub, now)
	if err != nil {
		return nil, err
	}
	out := &AssetPerformance{Period: d.window(12), Months: []string{}, Assets: []AssetLine{}}
	if len(d.months) == 0 {
		return out, nil
	}
	last := len(d.months) - 1
	from := max(0, last-11)
	out.Months = d.months[from:]
	cur := d.attributed(from, last, nil)
	var prev *analytics.Attribution
	if from >= 12 {
		p := d.attributed(from-12, from-1, nil)
		prev = &p
	}
	series := d.assetSeries()
	for _, id := range sortedKeys(cur.ByAsset, func(v int64) int64 { return v }) {
		a, ok := d.assetBy[id]
		if !ok || cur.ByAsset[id] <= 0 {
			continue
		}
		line := AssetLine{ID: id, Name: a.Name, Monthly: series[id][from:], Total: cur.ByAsset[id]}
		if prev != nil {
			v := prev.ByAsset[id]
			line.Previous = &v
			if v > 0 {
				c := float64(line.Total)/float64(v) - 1
				line.Change = &c
			}
		}
		out.Assets = append(out.Assets, line)
		if len(out.Assets) == n {
			break
		}
	}
	return out, nil
}
