package amazon

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/phantomos/phantomos/internal/connector"
	"github.com/phantomos/phantomos/internal/ingest"
)

// VendorSalesReport is Vendor Central's sell-through report: what Amazon,
// having bought the vendor's goods wholesale, sold of each ASIN by period.
const VendorSalesReport = "GET_VENDOR_SALES_REPORT"

// Vendor report views and programs.
const (
	// ViewManufacturing counts every sale of the vendor's products (it
	// carries orderedRevenue and orderedUnits); ViewSourcing only those
	// Amazon bought from the vendor.
	ViewManufacturing = "MANUFACTURING"
	ViewSourcing      = "SOURCING"
	ProgramRetail     = "RETAIL"
	ProgramBusiness   = "BUSINESS"
	ProgramFresh      = "FRESH"
)

// VendorSale is one ASIN's sell-through on one day, in minor units of
// Currency. These are sales without orders: Amazon reports totals, not
// the orders behind them.
type VendorSale struct {
	Day             time.Time // the day (UTC midnight)
	ASIN            string
	OrderedUnits    int64
	OrderedRevenue  int64
	ShippedUnits    int64
	ShippedRevenue  int64
	CustomerReturns int64
	Currency        string
}

// VendorOptions choose the view and program of a vendor sales report
// (ViewManufacturing and ProgramRetail when empty).
type VendorOptions struct {
	DistributorView string
	SellingProgram  string
}

// vendorWindow is how many days one vendor report covers.
const vendorWindow = 30

// VendorSales reads GET_VENDOR_SALES_REPORT by day for the days from..to
// (inclusive) of the account's marketplace, report by report, waiting for
// each (bounded by ctx).
func (c *Client) VendorSales(ctx context.Context, from, to time.Time, opt VendorOptions) ([]VendorSale, error) {
	opt.DistributorView = cmpOr(strings.ToUpper(opt.DistributorView), ViewManufacturing)
	opt.SellingProgram = cmpOr(strings.ToUpper(opt.SellingProgram), ProgramRetail)
	if opt.DistributorView != ViewManufacturing && opt.DistributorView != ViewSourcing {
		return nil, fmt.Errorf("amazon: distributor view %q (MANUFACTURING or SOURCING)", opt.DistributorView)
	}
	switch opt.SellingProgram {
	case ProgramRetail, ProgramBusiness, ProgramFresh:
	default:
		return nil, fmt.Errorf("amazon: selling program %q (RETAIL, BUSINESS or FRESH)", opt.SellingProgram)
	}
	ids, err := c.marketIDs(ctx)
	if err != nil {
		return nil, err
	}
	from, to = from.UTC().Truncate(24*time.Hour), to.UTC().Truncate(24*time.Hour)
	var out []VendorSale
	for start := from; !start.After(to); start = start.AddDate(0, 0, vendorWindow) {
		end := earliest(start.AddDate(0, 0, vendorWindow-1), to)
		sales, err := c.vendorReport(ctx, ids[:1], start, end, opt)
		if err != nil {
			return nil, err
		}
		out = append(out, sales...)
	}
	return out, nil
}

func (c *Client) vendorReport(ctx context.Context, market []string, start, end time.Time, opt VendorOptions) ([]VendorSale, error) {
	body := map[string]any{"reportType": VendorSalesReport, "marketplaceIds": market,
		"dataStartTime": start.Format("2006-01-02"), "dataEndTime": end.Format("2006-01-02"),
		"reportOptions": map[string]string{"reportPeriod": "DAY", "distributorView": opt.DistributorView, "sellingProgram": opt.SellingProgram}}
	var created struct {
		ReportID string `json:"reportId"`
	}
	if err := c.call(ctx, "createReport", http.MethodPost, "/reports/"+ReportsAPIVersion+"/reports", nil, body, &created); err != nil {
		return nil, err
	}
	var doc string
	for doc == "" {
		var rep struct {
			ProcessingStatus string `json:"processingStatus"`
			ReportDocumentID string `json:"reportDocumentId"`
		}
		if err := c.call(ctx, "getReport", http.MethodGet, "/reports/"+ReportsAPIVersion+"/reports/"+created.ReportID, nil, nil, &rep); err != nil {
			return nil, err
		}
		switch rep.ProcessingStatus {
		case "DONE":
			doc = rep.ReportDocumentID
			continue
		case "CANCELLED":
			return nil, nil // no data for the window
		case "FATAL":
			return nil, connector.Errorf(connector.Transient, "Amazon failed to build vendor sales report %s.", created.ReportID)
		}
		if err := sleep(ctx, c.cfg.ReportPoll); err != nil {
			return nil, err
		}
	}
	var data []byte
	for attempt := 1; ; attempt++ {
		var meta struct {
			URL                  string `json:"url"`
			CompressionAlgorithm string `json:"compressionAlgorithm"`
		}
		if err := c.call(ctx, "getReportDocument", http.MethodGet, "/reports/"+ReportsAPIVersion+"/documents/"+doc, nil, nil, &meta); err != nil {
			return nil, err
		}
		var expired bool
		var err error
		if data, expired, err = c.download(ctx, meta.URL, meta.CompressionAlgorithm); err != nil {
			return nil, err
		}
		if !expired {
			break
		}
		if attempt == 3 {
			return nil, connector.Errorf(connector.Transient, "The URL of Amazon report document %s kept expiring before it could be read.", doc)
		}
	}
	return parseVendorSales(data)
}

type vendorAmount struct {
	Amount       json.Number `json:"amount"`
	CurrencyCode string      `json:"currencyCode"`
}

// parseVendorSales reads a vendor sales document's salesByAsin. A
// document that only explains why it is empty (errorDetails) is an error.
func parseVendorSales(data []byte) ([]VendorSale, error) {
	var doc struct {
		ErrorDetails string `json:"errorDetails"`
		SalesByAsin  []struct {
			StartDate       string        `json:"startDate"`
			ASIN            string        `json:"asin"`
			CustomerReturns int64         `json:"customerReturns"`
			OrderedRevenue  *vendorAmount `json:"orderedRevenue"`
			OrderedUnits    int64         `json:"orderedUnits"`
			ShippedRevenue  *vendorAmount `json:"shippedRevenue"`
			ShippedUnits    int64         `json:"shippedUnits"`
		} `json:"salesByAsin"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, &connector.Error{Kind: connector.Transient, Message: "Amazon sent a malformed vendor sales report.", Err: err}
	}
	if doc.ErrorDetails != "" {
		return nil, connector.Errorf(connector.Permanent, "Amazon could not build the vendor sales report: %s", doc.ErrorDetails)
	}
	out := make([]VendorSale, 0, len(doc.SalesByAsin))
	for _, r := range doc.SalesByAsin {
		day, err := time.Parse("2006-01-02", r.StartDate)
		if err != nil || r.ASIN == "" {
			return nil, connector.Errorf(connector.Permanent, "Amazon's vendor sales report has a line without day or ASIN (%q, %q).", r.StartDate, r.ASIN)
		}
		s := VendorSale{Day: day, ASIN: r.ASIN, OrderedUnits: r.OrderedUnits, ShippedUnits: r.ShippedUnits, CustomerReturns: r.CustomerReturns}
		for _, m := range []struct {
			a   *vendorAmount
			dst *int64
		}{{r.OrderedRevenue, &s.OrderedRevenue}, {r.ShippedRevenue, &s.ShippedRevenue}} {
			if m.a == nil || m.a.Amount == "" {
				continue
			}
			cur := strings.ToUpper(m.a.CurrencyCode)
			if s.Currency != "" && cur != s.Currency {
				return nil, connector.Errorf(connector.Permanent, "Amazon's vendor sales report mixes %s and %s for %s.", s.Currency, cur, r.ASIN)
			}
			s.Currency = cur
			v, err := ingest.ParseAmount(m.a.Amount.String(), cur)
			if err != nil {
				return nil, connector.Errorf(connector.Permanent, "Amazon's vendor sales report has amount %q for %s: %v", m.a.Amount, r.ASIN, err)
			}
			*m.dst = v
		}
		out = append(out, s)
	}
	return out, nil
}

// phaseVendor is the one phase of a vendor pass: report windows.
const phaseVendor = "vendor"

// vendorRestate is how far back each vendor pass reads again: Amazon
// restates recent days of sell-through.
const vendorRestate = 7 * 24 * time.Hour

// VendorSource is a connector.Source over a Vendor Central account: its
// orders stream is the daily sell-through by ASIN, one orderless total per
// day (keyed "VC-<day>-<program>", a line per ASIN), read again over the
// last week at every sync.
type VendorSource struct {
	c   *Client
	opt VendorOptions
}

// Vendor returns the Vendor Central source of the client's account.
func (c *Client) Vendor(opt VendorOptions) *VendorSource {
	opt.DistributorView = cmpOr(strings.ToUpper(opt.DistributorView), ViewManufacturing)
	opt.SellingProgram = cmpOr(strings.ToUpper(opt.SellingProgram), ProgramRetail)
	return &VendorSource{c: c, opt: opt}
}

// Test checks the credentials and names the account.
func (v *VendorSource) Test(ctx context.Context) (connector.Account, error) {
	acc, err := v.c.Test(ctx)
	acc.Name = strings.Replace(acc.Name, "Amazon Seller Central", "Amazon Vendor Central", 1)
	return acc, err
}

// Products lists nothing: sell-through lines create (unmapped) products
// by ASIN, matched to the catalog like imported sales.
func (v *VendorSource) Products(ctx context.Context, q connector.Query) (connector.Page[connector.Product], error) {
	return connector.Page[connector.Product]{}, nil
}

// Orders reads one report window (30 days) of sell-through per page.
func (v *VendorSource) Orders(ctx context.Context, q connector.Query) (connector.Page[connector.Order], error) {
	var t *pageToken
	if q.Page == "" {
		until := v.c.now().UTC().Add(-settle).Truncate(time.Second)
		// Up to yesterday: today's figures are not final.
		from := until.Add(-v.c.cfg.History)
		if !q.Since.IsZero() {
			from = q.Since.Add(-vendorRestate)
		}
		t = &pageToken{Phase: phaseVendor, Until: until, From: from.Truncate(24 * time.Hour)}
	} else {
		var err error
		if t, err = decodeToken(q.Page); err != nil {
			return connector.Page[connector.Order]{}, err
		}
	}
	last := t.Until.Truncate(24*time.Hour).AddDate(0, 0, -1)
	if t.From.After(last) {
		return connector.Page[connector.Order]{}, nil
	}
	end := earliest(t.From.AddDate(0, 0, vendorWindow-1), last)
	sales, err := v.c.vendorReportPage(ctx, t, end, v.opt)
	if err != nil {
		return connector.Page[connector.Order]{}, err
	}
	page := connector.Page[connector.Order]{Items: v.orders(ctx, sales, t.Until)}
	if t.Report == "" && !t.From.After(last) || t.Report != "" {
		page.Next = t.encode()
	}
	return page, nil
}

// vendorReportPage moves a vendor pass on by one step: it creates the
// window's report, polls it for a while, and returns its lines when done
// (advancing t to the next window).
func (c *Client) vendorReportPage(ctx context.Context, t *pageToken, end time.Time, opt VendorOptions) ([]VendorSale, error) {
	ids, err := c.marketIDs(ctx)
	if err != nil {
		return nil, err
	}
	if t.Report == "" {
		body := map[string]any{"reportType": VendorSalesReport, "marketplaceIds": ids[:1],
			"dataStartTime": t.From.Format("2006-01-02"), "dataEndTime": end.Format("2006-01-02"),
			"reportOptions": map[string]string{"reportPeriod": "DAY", "distributorView": opt.DistributorView, "sellingProgram": opt.SellingProgram}}
		var created struct {
			ReportID string `json:"reportId"`
		}
		if err := c.call(ctx, "createReport", http.MethodPost, "/reports/"+ReportsAPIVersion+"/reports", nil, body, &created); err != nil {
			return nil, err
		}
		t.Report, t.Doc, t.Polls = created.ReportID, "", 0
	}
	deadline := c.now().Add(c.cfg.ReportWait)
	for t.Doc == "" {
		var rep struct {
			ProcessingStatus string `json:"processingStatus"`
			ReportDocumentID string `json:"reportDocumentId"`
		}
		if err := c.call(ctx, "getReport", http.MethodGet, "/reports/"+ReportsAPIVersion+"/reports/"+t.Report, nil, nil, &rep); err != nil {
			return nil, err
		}
		t.Polls++
		switch rep.ProcessingStatus {
		case "DONE":
			t.Doc = rep.ReportDocumentID
			continue
		case "CANCELLED":
			t.From, t.Report, t.Polls = end.AddDate(0, 0, 1), "", 0
			return nil, nil
		case "FATAL":
			t.Report = ""
			return nil, connector.Errorf(connector.Transient, "Amazon failed to build a vendor sales report; it will be requested again.")
		}
		if !c.now().Add(c.cfg.ReportPoll).Before(deadline) {
			return nil, nil
		}
		if err := sleep(ctx, c.cfg.ReportPoll); err != nil {
			return nil, err
		}
	}
	var data []byte
	for attempt := 1; ; attempt++ {
		var meta struct {
			URL                  string `json:"url"`
			CompressionAlgorithm string `json:"compressionAlgorithm"`
		}
		if err := c.call(ctx, "getReportDocument", http.MethodGet, "/reports/"+ReportsAPIVersion+"/documents/"+t.Doc, nil, nil, &meta); err != nil {
			return nil, err
		}
		var expired bool
		if data, expired, err = c.download(ctx, meta.URL, meta.CompressionAlgorithm); err != nil {
			return nil, err
		}
		if !expired {
			break
		}
		if attempt == 3 {
			return nil, connector.Errorf(connector.Transient, "The URL of Amazon report document %s kept expiring before it could be read.", t.Doc)
		}
	}
	sales, err := parseVendorSales(data)
	if err != nil {
		return nil, err
	}
	t.From, t.Report, t.Doc, t.Polls = end.AddDate(0, 0, 1), "", "", 0
	return sales, nil
}

// orders turns sell-through lines into one orderless total per day: gross
// and units are what customers ordered (MANUFACTURING view) or what
// shipped (SOURCING), net the same (returns are already deducted).
func (v *VendorSource) orders(ctx context.Context, sales []VendorSale, version time.Time) []connector.Order {
	var market Marketplace
	if ms, err := v.c.participations(ctx); err == nil && len(ms) > 0 {
		market = ms[0]
	}
	var out []connector.Order
	index := map[string]int{}
	for _, s := range sales {
		id := "VC-" + s.Day.Format("2006-01-02") + "-" + v.opt.SellingProgram
		i, ok := index[id]
		if !ok {
			i = len(out)
			index[id] = i
			out = append(out, connector.Order{ExternalID: id, Name: "Vendor Central " + s.Day.Format("2006-01-02"), CreatedAt: s.Day,
				ProcessedAt: s.Day, UpdatedAt: version, Currency: cmpOr(s.Currency, market.Currency), Country: market.Country,
				Channel: strings.TrimSpace(market.Name + " Vendor"), Orderless: true})
		}
		units, revenue := s.OrderedUnits, s.OrderedRevenue
		if v.opt.DistributorView == ViewSourcing {
			units, revenue = s.ShippedUnits, s.ShippedRevenue
		}
		l := connector.OrderLine{ExternalID: s.ASIN, ProductExternalID: s.ASIN, ProductShared: true, Name: s.ASIN, Quantity: units, Gross: revenue, Net: revenue}
		if units > 0 {
			l.UnitPrice = revenue / units
		}
		out[i].Lines = append(out[i].Lines, l)
	}
	return out
}
