package demo

import (
	"iter"
	"math"
	"math/bits"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/phantomos/phantomos"
)

// progressEvery is how many rows pass between two progress reports.
const progressEvery = 100_000

// sales returns the plan's sale rows, drawn lazily day by day: memory stays
// flat whatever the total. productIDs and connectorIDs are the stored ids of
// p.listings and of the connectors, by index. Every row is yielded in the
// same *phantomos.Sale, overwritten for the next one, so a consumer must be
// done with a row before it asks for the next (BulkLoadSales is). Iterating
// twice yields the same rows.
func (p *plan) sales(productIDs, connectorIDs []string, progress func(done, total int64)) iter.Seq[*phantomos.Sale] {
	return func(yield func(*phantomos.Sale) bool) {
		g := newSaleGen(p, productIDs, connectorIDs)
		var done int64
		for d := range p.days {
			rows := p.days[d].rows
			if rows == 0 {
				continue
			}
			g.startDay(d)
			for rows > 0 {
				n := g.startOrder(rows)
				for k := range n {
					g.line(k)
					if !yield(&g.sale) {
						return
					}
					done++
					if progress != nil && done%progressEvery == 0 && done < p.total {
						progress(done, p.total)
					}
				}
				rows -= int64(n)
			}
		}
	}
}

// saleGen holds the state of one pass over the plan's sales: the random
// stream, the day's sampling tables, and the order being written.
type saleGen struct {
	p            *plan
	r            *rand.PCG
	productIDs   []string
	connectorIDs []string

	// Static sampling tables.
	countries  [numConnectors]picker
	regions    []picker // by country; empty for countries without regions
	hours      picker
	lines      [numConnectors]picker
	qtyRetail  picker
	qtyRegular picker
	amazonPre  []string // Amazon order-id prefix by country

	// The day's tables.
	day     *dayPlan
	trends  []float64
	weights []float64
	scratch []float64
	alias   [numConnectors]aliasTable
	active  [numConnectors]int // listings with sales that day

	// The order being written.
	seq      [numConnectors]uint64
	conn     int
	country  int
	currency int
	region   string
	date     time.Time
	discount int64 // percent
	picked   [4]int
	buf      []byte
	sale     phantomos.Sale
}

func newSaleGen(p *plan, productIDs, connectorIDs []string) *saleGen {
	g := &saleGen{
		p:            p,
		r:            rand.NewPCG(uint64(p.seed), streamSales),
		productIDs:   productIDs,
		connectorIDs: connectorIDs,
		trends:       make([]float64, len(p.assets)),
		weights:      make([]float64, len(p.listings)),
		scratch:      make([]float64, 0, len(p.listings)),
		buf:          make([]byte, 0, 32),
	}
	countryIdx := map[string]int{}
	for i, c := range p.countries {
		countryIdx[c.code] = i
	}
	for c, spec := range p.connectors {
		idx := make([]int, 0, len(spec.countries))
		w := make([]float64, 0, len(spec.countries))
		for _, s := range spec.countries {
			if i, ok := countryIdx[s.code]; ok { // TestCountries checks they all are
				idx, w = append(idx, i), append(w, s.weight)
			}
		}
		g.countries[c] = newPicker(w, idx)
	}
	g.regions = make([]picker, len(p.countries))
	g.amazonPre = make([]string, len(p.countries))
	for i, c := range p.countries {
		if len(c.regions) > 0 {
			g.regions[i] = newPicker(c.regionW, nil)
		}
		g.amazonPre[i] = amazonPrefix(c.code)
	}
	// Orders by hour of the day in the publisher's time zone: quiet nights,
	// busy evenings.
	g.hours = newPicker([]float64{2.5, 1.8, 1.2, 0.9, 0.8, 1.0, 1.5, 2.2, 3.0, 3.6, 4.0, 4.3,
		4.6, 4.8, 4.8, 4.9, 5.0, 5.3, 5.8, 6.2, 6.3, 5.8, 4.6, 3.4}, nil)
	consumerLines := newPicker([]float64{55, 25, 13, 7}, []int{1, 2, 3, 4})
	g.lines = [numConnectors]picker{
		connShopify: consumerLines,
		connAmazon:  newPicker([]float64{70, 20, 7, 3}, []int{1, 2, 3, 4}),
		connWoo:     newPicker([]float64{20, 30, 25, 25}, []int{1, 2, 3, 4}),
	}
	g.qtyRegular = newPicker([]float64{82, 13, 3, 1.5, 0.5}, []int{1, 2, 3, 4, 5})
	g.qtyRetail = newPicker([]float64{10, 15, 20, 25, 15, 10, 5}, []int{2, 3, 4, 6, 8, 12, 24})
	return g
}

// startDay builds the day's per-connector product tables.
func (g *saleGen) startDay(d int) {
	p := g.p
	g.day = &p.days[d]
	p.dayWeights(d, g.trends, g.weights)
	for c := range numConnectors {
		w := g.scratch[:0]
		active := 0
		for _, li := range p.byConn[c] {
			w = append(w, g.weights[li])
			if g.weights[li] > 0 {
				active++
			}
		}
		g.alias[c].build(w)
		g.active[c] = active
	}
}

// startOrder draws an order's shared attributes and returns its number of
// lines, at most left.
func (g *saleGen) startOrder(left int64) int {
	day := g.day
	// Connector, in proportion to the day's channel weights.
	total := day.weight[0] + day.weight[1] + day.weight[2]
	x := g.float() * total
	c := 0
	for c < numConnectors-1 && (x >= day.weight[c] || g.active[c] == 0) {
		x -= day.weight[c]
		c++
	}
	g.conn = c
	g.country = g.countries[c].pick(g.r.Uint64())
	g.currency = g.p.countries[g.country].currency
	g.region = ""
	if rp := &g.regions[g.country]; rp.n() > 0 {
		g.region = g.p.countries[g.country].regions[rp.pick(g.r.Uint64())]
	}
	// Seconds into a 24-hour day, stretched or squeezed onto the 23 or 25
	// hours of a day when the clocks change.
	sec := int64(g.hours.pick(g.r.Uint64()))*3600 + int64(g.intn(3600))
	if day.length != 86_400 {
		sec = sec * day.length / 86_400
	}
	g.date = time.Unix(day.start+sec, 0).UTC()

	g.discount = 0
	switch u := g.float(); {
	case c == connWoo:
		if u < 0.08 { // volume discount
			g.discount = 5
		}
	case day.promo && u < 0.5:
		g.discount = [...]int64{20, 25, 30}[g.intn(3)]
	case c == connAmazon && u < 0.06:
		g.discount = [...]int64{5, 10, 15}[g.intn(3)]
	case c == connShopify && u < 0.11:
		g.discount = [...]int64{10, 10, 15, 20}[g.intn(4)]
	}

	g.buf = g.buf[:0]
	seq := g.seq[c]
	g.seq[c]++
	switch c {
	case connShopify:
		g.buf = append(g.buf, '#')
		g.buf = strconv.AppendUint(g.buf, 1001+seq, 10)
	case connAmazon:
		// 3-7-7 digits like Amazon's; an affine map of the sequence modulo
		// 10^14 keeps them unique while looking random.
		hi, lo := bits.Mul64(seq, 48_271_519_337)
		lo, carry := bits.Add64(lo, 31_415_926_535_897, 0)
		v := bits.Rem64(hi+carry, lo, 1e14)
		g.buf = append(g.buf, g.amazonPre[g.country]...)
		g.buf = append(g.buf, '-')
		g.buf = appendDigits(g.buf, v/10_000_000, 7)
		g.buf = append(g.buf, '-')
		g.buf = appendDigits(g.buf, v%10_000_000, 7)
	default:
		g.buf = strconv.AppendUint(g.buf, 40_001+seq, 10)
	}
	g.sale.ExternalOrderID = string(g.buf)

	n := g.lines[c].pick(g.r.Uint64())
	n = min(n, int(left), g.active[c])
	return n
}

// line fills g.sale with line k of the current order.
func (g *saleGen) line(k int) {
	c := g.conn
	tab := &g.alias[c]
	var li int
	// Prefer a product not already in the order; after a few tries accept a
	// repeat, as a second size of the same T-shirt would be.
	for try := 0; ; try++ {
		li = tab.pick(g.r.Uint64())
		dup := false
		for _, q := range g.picked[:k] {
			dup = dup || q == li
		}
		if !dup || try == 3 {
			break
		}
	}
	g.picked[k] = li
	l := &g.p.listings[g.p.byConn[c][li]]

	qty := int64(1)
	switch {
	case l.digital:
	case c == connWoo:
		qty = int64(g.qtyRetail.pick(g.r.Uint64()))
	default:
		qty = int64(g.qtyRegular.pick(g.r.Uint64()))
	}
	gross := l.local[g.currency] * qty
	discount := gross * g.discount / 100
	var refunded int64
	if u := g.float(); u < l.refundRate {
		refunded = gross - discount
		if qty > 1 && u < l.refundRate/2 { // one unit came back
			refunded /= qty
		}
	}
	net := gross - discount - refunded

	x := &g.sale
	x.ProductID = g.productIDs[g.p.byConn[c][li]]
	x.ConnectorID = g.connectorIDs[c]
	x.ExternalLineID = "1234"[k : k+1] // a substring of a constant: no allocation
	x.OrderDate = g.date
	x.Day = g.day.day
	x.Quantity = qty
	x.Gross, x.Discount, x.Refunded, x.Net = gross, discount, refunded, net
	x.Currency = g.p.currencies[g.currency].code
	// Reporting amounts: convert the parts that are subtracted and the
	// net, and let gross be their sum, so that gross - discount - refunded
	// = net holds in the reporting currency too, to the cent.
	if g.currency == curUSD {
		x.NetReporting, x.DiscountReporting, x.RefundedReporting = net, discount, refunded
	} else {
		f := g.p.toReporting[g.currency]
		x.NetReporting = int64(math.Round(float64(net) * f))
		x.DiscountReporting = int64(math.Round(float64(discount) * f))
		x.RefundedReporting = int64(math.Round(float64(refunded) * f))
	}
	x.GrossReporting = x.NetReporting + x.DiscountReporting + x.RefundedReporting
	x.Country = g.p.countries[g.country].code
	x.Region = g.region
	x.Channel = g.p.connectors[c].channel
}

// float returns a uniform float64 in [0, 1).
func (g *saleGen) float() float64 { return float64(g.r.Uint64()>>11) / (1 << 53) }

// intn returns a uniform int in [0, n).
func (g *saleGen) intn(n int) int {
	hi, _ := bits.Mul64(g.r.Uint64(), uint64(n))
	return int(hi)
}

// appendDigits appends v as exactly width decimal digits.
func appendDigits(b []byte, v uint64, width int) []byte {
	start := len(b)
	for range width {
		b = append(b, 0)
	}
	for i := len(b) - 1; i >= start; i-- {
		b[i] = byte('0' + v%10)
		v /= 10
	}
	return b
}

// amazonPrefix is the first group of an Amazon order id in the country's
// marketplace.
func amazonPrefix(country string) string {
	switch country {
	case "CA":
		return "702"
	case "GB":
		return "204"
	case "DE":
		return "304"
	case "FR":
		return "405"
	case "IT":
		return "403"
	case "ES":
		return "406"
	case "JP":
		return "503"
	}
	return "113"
}

// picker draws from a small fixed distribution by linear search of
// cumulative thresholds on the 64-bit range.
type picker struct {
	cum    []uint64
	values []int
}

// newPicker returns a picker drawing index i (or values[i] when values is
// not nil) with probability proportional to weights[i].
func newPicker(weights []float64, values []int) picker {
	var sum float64
	for _, w := range weights {
		sum += w
	}
	cum := make([]uint64, len(weights))
	var acc float64
	for i, w := range weights {
		acc += w
		cum[i] = uint64(acc / sum * (1 << 63) * 2)
	}
	if len(cum) > 0 {
		cum[len(cum)-1] = math.MaxUint64
	}
	return picker{cum: cum, values: values}
}

func (p *picker) n() int { return len(p.cum) }

// pick maps a uniform 64-bit number to a draw.
func (p *picker) pick(x uint64) int {
	i := 0
	for i < len(p.cum)-1 && x >= p.cum[i] {
		i++
	}
	if p.values != nil {
		return p.values[i]
	}
	return i
}

// aliasTable draws index i with probability weights[i]/sum in constant
// time (Walker's alias method, Vose's construction). Its buffers are reused
// from one build to the next.
type aliasTable struct {
	thr          []uint64 // acceptance threshold of slot i, out of 2^32
	alias        []int32
	prob         []float64
	small, large []int32
}

func (t *aliasTable) build(weights []float64) {
	n := len(weights)
	t.thr = resize(t.thr, n)
	t.alias = resize(t.alias, n)
	t.prob = resize(t.prob, n)
	t.small, t.large = t.small[:0], t.large[:0]
	var sum float64
	for _, w := range weights {
		sum += w
	}
	if n == 0 {
		return
	}
	if sum == 0 {
		for i := range n { // nothing on sale: uniform, never used
			t.thr[i], t.alias[i] = 1<<32, int32(i)
		}
		return
	}
	for i, w := range weights {
		t.prob[i] = w * float64(n) / sum
		if t.prob[i] < 1 {
			t.small = append(t.small, int32(i))
		} else {
			t.large = append(t.large, int32(i))
		}
	}
	for len(t.small) > 0 && len(t.large) > 0 {
		s := t.small[len(t.small)-1]
		t.small = t.small[:len(t.small)-1]
		l := t.large[len(t.large)-1]
		t.thr[s] = uint64(t.prob[s] * (1 << 32))
		t.alias[s] = l
		t.prob[l] -= 1 - t.prob[s]
		if t.prob[l] < 1 {
			t.large = t.large[:len(t.large)-1]
			t.small = append(t.small, l)
		}
	}
	// What is left has probability 1 up to rounding.
	for _, i := range t.large {
		t.thr[i], t.alias[i] = 1<<32, i
	}
	for _, i := range t.small {
		t.thr[i], t.alias[i] = 1<<32, i
	}
}

// pick maps a uniform 64-bit number to an index: the high half chooses a
// slot, the low half decides between the slot and its alias.
func (t *aliasTable) pick(x uint64) int {
	i := int((x >> 32) * uint64(len(t.thr)) >> 32)
	if x&(1<<32-1) < t.thr[i] {
		return i
	}
	return int(t.alias[i])
}

// resize returns s resized to n, reallocating only when it must grow.
func resize[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}
