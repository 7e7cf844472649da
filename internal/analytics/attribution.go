// Package analytics turns the store's rollups into answers: date ranges
// and comparisons in the publisher's time zone, and the attribution of
// product revenue to the IP assets the products depict.
package analytics

import (
	"sort"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/store"
)

// Attribution is revenue split over assets.
type Attribution struct {
	// ByAsset is net revenue per asset id.
	ByAsset map[string]int64
	// Unmapped is the revenue of products without confirmed assets.
	Unmapped int64
}

// Attribute splits each product's net revenue over its confirmed assets by
// model (phantomos.AttributionPrimary, Equal or Weighted). Shares are
// rounded per product by largest remainder, so the assets of a product add
// up to exactly its revenue, and ByAsset plus Unmapped to exactly the total:
// nothing is double-counted or lost to rounding.
//
// Under the primary model a product without a link flagged primary gives
// everything to its first asset by id; under the weighted model a product
// whose weights sum to zero is split equally.
func Attribute(productNet map[string]int64, links []store.AssetLink, model string) Attribution {
	byProduct := map[string][]store.AssetLink{}
	for _, l := range links {
		byProduct[l.ProductID] = append(byProduct[l.ProductID], l)
	}
	out := Attribution{ByAsset: map[string]int64{}}
	for product, net := range productNet {
		ls := byProduct[product]
		if len(ls) == 0 {
			out.Unmapped += net
			continue
		}
		sort.Slice(ls, func(i, j int) bool { return ls[i].AssetID < ls[j].AssetID })
		for i, part := range split(net, shares(ls, model)) {
			out.ByAsset[ls[i].AssetID] += part
		}
	}
	return out
}

// shares returns the fraction of a product's revenue each link gets.
func shares(ls []store.AssetLink, model string) []float64 {
	w := make([]float64, len(ls))
	switch model {
	case phantomos.AttributionPrimary:
		p := 0
		for i, l := range ls {
			if l.IsPrimary {
				p = i
				break
			}
		}
		w[p] = 1
		return w
	case phantomos.AttributionWeighted:
		var sum float64
		for _, l := range ls {
			if l.Weight > 0 {
				sum += l.Weight
			}
		}
		if sum > 0 {
			for i, l := range ls {
				if l.Weight > 0 {
					w[i] = l.Weight / sum
				}
			}
			return w
		}
	}
	for i := range w {
		w[i] = 1 / float64(len(w))
	}
	return w
}

// split divides amount by fractions (summing to 1) into integers that add
// up to amount exactly: floors first, then the remaining units go to the
// largest remainders (earlier index on ties).
func split(amount int64, fractions []float64) []int64 {
	sign := int64(1)
	if amount < 0 {
		sign, amount = -1, -amount
	}
	parts := make([]int64, len(fractions))
	rem := make([]float64, len(fractions))
	var given int64
	for i, f := range fractions {
		exact := float64(amount) * f
		parts[i] = int64(exact)
		rem[i] = exact - float64(parts[i])
		given += parts[i]
	}
	order := make([]int, len(fractions))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return rem[order[a]] > rem[order[b]] })
	for k := 0; given < amount; k++ {
		i := order[k%len(order)]
		if fractions[i] == 0 && k < len(order) {
			continue
		}
		parts[i]++
		given++
	}
	for i := range parts {
		parts[i] *= sign
	}
	return parts
}
