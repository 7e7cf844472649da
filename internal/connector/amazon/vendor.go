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
