package demo

import (
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/phantomos/phantomos"
)

// Independent random streams, so that changing how one part is drawn does
// not reshuffle the others.
const (
	streamCatalog = 0x636174616c6f67 // "catalog"
	streamDays    = 0x64617973       // "days"
	streamSales   = 0x73616c6573     // "sales"
)

// plan is everything decided before the first sale row is drawn: the
// catalog, the calendar and how many rows each day gets. Building it costs
// milliseconds whatever the number of sales; the rows themselves are drawn
// lazily by plan.sales.
type plan struct {
	seed  int64
	total int64
	now   time.Time // the "as of" time
	loc   *time.Location
	days  []dayPlan

	ips        []ipSpec
	assets     []assetSpec
	listings   []listing
	byConn     [numConnectors][]int // listing indexes of each connector
	connectors [numConnectors]connectorSpec
	countries  []countrySpec
	currencies [numCurrencies]currencySpec
	// toReporting converts minor units of each currency to USD cents.
	toReporting [numCurrencies]float64
}

// dayPlan is one calendar day of the sales window in the publisher's time
// zone.
type dayPlan struct {
	day    phantomos.Day
	start  int64 // Unix seconds of local midnight
	length int64 // seconds until the next local midnight (23, 24 or 25 hours)
	promo  bool  // a sale event: many more orders carry a discount code
	// factor is each channel's demand multiplier for the day (season,
	// weekday, events, growth, noise); weight multiplies it by the demand of
	// the connector's products on sale that day.
	factor [numConnectors]float64
	weight [numConnectors]float64
	rows   int64
}

// newPlan decides the catalog and calendar of opts for a publisher in loc.
func newPlan(opts Options, loc *time.Location) (*plan, error) {
	if opts.Sales < 0 {
		return nil, phantomos.Errorf(phantomos.EINVALID, "The number of demo sales must not be negative (got %d).", opts.Sales)
	}
	p := &plan{seed: opts.Seed, total: int64(opts.Sales), loc: loc}
	if p.total == 0 {
		p.total = DefaultSales
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	p.now = now
	// The window is the 24 months of whole days before the day of now.
	y, m, d := now.In(loc).Date()
	end := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	first := end.AddDate(0, -24, 0)
	n := int(end.Sub(first).Hours() / 24)

	p.ips = demoIPs()
	p.assets = demoAssets()
	p.countries = demoCountries()
	p.connectors = demoConnectors()
	p.currencies = demoCurrencies()
	for i, c := range p.currencies {
		p.toReporting[i] = c.usdRate * math.Pow10(2-phantomos.MinorDigits(c.code))
	}

	cat := rand.New(rand.NewPCG(uint64(opts.Seed), streamCatalog))
	for i := range p.assets {
		a := &p.assets[i]
		if !a.fixedTrend {
			s := -0.35 + 0.8*cat.Float64()
			a.trendFrom, a.trendTo = math.Exp(-s/2), math.Exp(s/2)
		}
		// A little noise, so that the stored popularity (demand on a 0-100
		// scale) reads like a measured score.
		a.demand *= math.Exp(0.1 * cat.NormFloat64())
	}
	p.listings = buildCatalog(cat, n, p.ips, p.assets, demoKinds())
	for i := range p.listings {
		l := &p.listings[i]
		p.byConn[l.conn] = append(p.byConn[l.conn], i)
		for c, cur := range p.currencies {
			if l.conn == connWoo { // wholesale prices convert without charm
				l.local[c] = int64(math.Round(float64(l.price) * cur.priceMult / math.Pow10(2-phantomos.MinorDigits(cur.code))))
				continue
			}
			l.local[c] = localPrice(cur, l.price)
		}
	}

	p.days = make([]dayPlan, n)
	dr := rand.New(rand.NewPCG(uint64(opts.Seed), streamDays))
	trends := make([]float64, len(p.assets))
	weights := make([]float64, len(p.listings))
	for i := range p.days {
		civil := first.AddDate(0, 0, i)
		cy, cm, cd := civil.Date()
		start := time.Date(cy, cm, cd, 0, 0, 0, 0, loc)
		next := time.Date(cy, cm, cd+1, 0, 0, 0, 0, loc)
		dp := &p.days[i]
		dp.day = phantomos.Day(civil.Format(time.DateOnly))
		dp.start, dp.length = start.Unix(), next.Unix()-start.Unix()
		dp.factor, dp.promo = dayFactors(civil, float64(i)/float64(max(n-1, 1)))
		for c := range dp.factor {
			dp.factor[c] *= math.Exp(0.1 * dr.NormFloat64())
		}
		p.dayWeights(i, trends, weights)
		for c := range numConnectors {
			var sum float64
			for _, li := range p.byConn[c] {
				sum += weights[li]
			}
			dp.weight[c] = dp.factor[c] * sum
		}
	}
	p.apportion()
	return p, nil
}

// dayFactors returns each channel's demand multiplier for the civil date
// day at position t (0 to 1) of the window, and whether a sale event runs.
func dayFactors(day time.Time, t float64) (f [numConnectors]float64, promo bool) {
	// Channel demand by calendar month, January first. Consumers buy for the
	// holidays; retail partners stock up in the autumn and stop in December.
	seasonOnline := [12]float64{0.86, 0.80, 0.88, 0.90, 0.88, 0.76, 0.70, 0.74, 0.90, 1.02, 1.45, 1.75}
	seasonMarket := [12]float64{0.88, 0.82, 0.88, 0.90, 0.90, 0.80, 0.86, 0.76, 0.90, 1.02, 1.40, 1.70}
	seasonRetail := [12]float64{0.70, 0.65, 0.85, 0.90, 0.85, 0.80, 0.85, 1.05, 1.30, 1.40, 1.20, 0.60}
	// Weekday multipliers, Sunday first: partners order on working days.
	weekdayConsumer := [7]float64{1.12, 0.98, 0.96, 0.96, 1.0, 1.03, 1.10}
	weekdayRetail := [7]float64{0.1, 1.05, 1.1, 1.1, 1.1, 1.0, 0.15}
	// Relative size of each channel.
	channelScale := [numConnectors]float64{connShopify: 1.0, connAmazon: 0.9, connWoo: 0.45}

	month, wd := day.Month(), day.Weekday()
	f[connShopify] = seasonOnline[month-1] * weekdayConsumer[wd]
	f[connAmazon] = seasonMarket[month-1] * weekdayConsumer[wd]
	f[connWoo] = seasonRetail[month-1] * weekdayRetail[wd]

	y, dom := day.Year(), day.Day()
	blackFriday := thanksgiving(y) + 1
	primeDay := nthWeekday(y, time.July, time.Tuesday, 2)
	switch {
	case month == time.November && dom == blackFriday:
		f[connShopify] *= 2.8
		f[connAmazon] *= 2.2
		promo = true
	case month == time.November && (dom == blackFriday+1 || dom == blackFriday+2):
		f[connShopify] *= 1.7
		f[connAmazon] *= 1.5
		promo = true
	case month == time.November && dom == blackFriday+3 || month == time.December && dom == blackFriday+3-30:
		// Cyber Monday, which can fall on the 1st or 2nd of December.
		f[connShopify] *= 2.4
		f[connAmazon] *= 1.9
		promo = true
	case month == time.July && (dom == primeDay || dom == primeDay+1):
		f[connAmazon] *= 3.2
		f[connShopify] *= 1.1
		promo = true
	case month == time.December && dom >= 24 && dom <= 26:
		f[connShopify] *= 0.55
		f[connAmazon] *= 0.55
		f[connWoo] *= 0.1
	case month == time.December && dom > 26:
		f[connWoo] *= 0.2
	case month == time.January && dom == 1:
		f[connShopify] *= 0.7
		f[connAmazon] *= 0.7
		f[connWoo] *= 0.1
	}
	// The business grows about a quarter over the two years.
	growth := math.Exp(0.22 * t)
	for c := range f {
		f[c] *= growth * channelScale[c]
	}
	return f, promo
}

// thanksgiving returns the day of November of US Thanksgiving: the fourth
// Thursday.
func thanksgiving(year int) int { return nthWeekday(year, time.November, time.Thursday, 4) }

// nthWeekday returns the day of month of the nth weekday wd of the month.
func nthWeekday(year int, month time.Month, wd time.Weekday, n int) int {
	first := time.Date(year, month, 1, 0, 0, 0, 0, time.UTC).Weekday()
	return 1 + (int(wd)-int(first)+7)%7 + 7*(n-1)
}

// dayWeights fills weights with the demand of every listing on day d (zero
// before its launch), using trends as scratch space for the assets' trend
// multipliers.
func (p *plan) dayWeights(d int, trends, weights []float64) {
	t := float64(d) / float64(max(len(p.days)-1, 1))
	for i, a := range p.assets {
		trends[i] = a.trendFrom + (a.trendTo-a.trendFrom)*t
	}
	for i := range p.listings {
		l := &p.listings[i]
		if d < l.launch {
			weights[i] = 0
			continue
		}
		w := l.demand
		if len(l.assets) > 0 {
			var tr float64
			for k, a := range l.assets {
				tr += l.mix[k] * trends[a]
			}
			w *= tr
		}
		if age := float64(d - l.launch); l.spike > 0 && age < 8*l.tau {
			w *= 1 + l.spike*math.Exp(-age/l.tau)
		}
		weights[i] = w
	}
}

// apportion gives every day its number of rows, in proportion to its total
// weight, by largest remainder so that they add up to exactly p.total.
func (p *plan) apportion() {
	var sum float64
	for _, d := range p.days {
		for _, w := range d.weight {
			sum += w
		}
	}
	if sum == 0 || len(p.days) == 0 {
		return
	}
	type rem struct {
		day  int
		frac float64
	}
	rems := make([]rem, len(p.days))
	var given int64
	for i := range p.days {
		var w float64
		for _, x := range p.days[i].weight {
			w += x
		}
		q := float64(p.total) * w / sum
		p.days[i].rows = int64(q)
		given += p.days[i].rows
		rems[i] = rem{i, q - math.Floor(q)}
	}
	slices.SortStableFunc(rems, func(a, b rem) int {
		switch {
		case a.frac > b.frac:
			return -1
		case a.frac < b.frac:
			return 1
		}
		return a.day - b.day
	})
	for i := 0; given < p.total; i = (i + 1) % len(rems) {
		p.days[rems[i].day].rows++
		given++
	}
}
