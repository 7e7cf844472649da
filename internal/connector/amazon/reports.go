package amazon

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/phantomos/phantomos/internal/connector"
	"github.com/phantomos/phantomos/internal/ingest"
)

// ReportsAPIVersion is the Reports API version the client calls.
const ReportsAPIVersion = "2021-06-30"

// OrdersReport is the report the backfill asks for: every order item, by
// last update, as the "All Orders" flat file the importer reads.
const OrdersReport = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL"

// maxDocument bounds a report document (uncompressed).
const maxDocument = 256 << 20

// reportChunk is how many orders of a document one page writes.
const reportChunk = 500

// reportDoc is a downloaded and parsed report document.
type reportDoc struct {
	id     string
	orders []connector.Order
}

// reportPage moves the backfill on: it creates the report of the current
// window, waits for it (handing back an empty page when it takes long, so
// the wait resumes after a restart), and writes its orders chunk by chunk.
func (c *Client) reportPage(ctx context.Context, t *pageToken) ([]connector.Order, error) {
	if t.Report == "" {
		if !t.From.Before(t.Until) {
			// History is read; the orders phase catches what changed
			// while the reports were built (reports lag behind a little).
			t.Phase, t.After, t.From = phaseOrders, t.Until.Add(-time.Hour), time.Time{}
			return nil, nil
		}
		ids, err := c.marketIDs(ctx)
		if err != nil {
			return nil, err
		}
		end := earliest(t.From.Add(reportWindow), t.Until)
		var resp struct {
			ReportID string `json:"reportId"`
		}
		body := map[string]any{"reportType": OrdersReport, "marketplaceIds": ids,
			"dataStartTime": t.From.UTC().Format(time.RFC3339), "dataEndTime": end.UTC().Format(time.RFC3339)}
		if err := c.call(ctx, "createReport", http.MethodPost, "/reports/"+ReportsAPIVersion+"/reports", nil, body, &resp); err != nil {
			return nil, err
		}
		if resp.ReportID == "" {
			return nil, connector.Errorf(connector.Transient, "Amazon accepted a report request without a report id.")
		}
		t.Report, t.Doc, t.Offset, t.Polls = resp.ReportID, "", 0, 0
	}
	if t.Doc == "" {
		deadline := c.now().Add(c.cfg.ReportWait)
		for {
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
			case "CANCELLED":
				// Amazon cancels a report that has no data: the window had
				// no orders.
				c.nextWindow(t)
				return nil, nil
			case "FATAL":
				report := t.Report
				t.Report = ""
				return nil, connector.Errorf(connector.Transient, "Amazon failed to build order report %s; it will be requested again.", report)
			}
			if t.Doc != "" {
				break
			}
			if !c.now().Add(c.cfg.ReportPoll).Before(deadline) {
				return nil, nil // commit where we stand; poll again next page
			}
			if err := sleep(ctx, c.cfg.ReportPoll); err != nil {
				return nil, err
			}
		}
	}
	doc, err := c.document(ctx, t.Doc)
	if err != nil {
		return nil, err
	}
	from := min(t.Offset, len(doc.orders))
	to := min(from+reportChunk, len(doc.orders))
	var out []connector.Order
	for _, o := range doc.orders[from:to] {
		if !o.UpdatedAt.After(t.Until) {
			out = append(out, o)
		}
	}
	t.Offset = to
	if to == len(doc.orders) {
		c.nextWindow(t)
	}
	return out, nil
}

func (c *Client) nextWindow(t *pageToken) {
	t.From = earliest(t.From.Add(reportWindow), t.Until)
	t.Report, t.Doc, t.Offset, t.Polls = "", "", 0, 0
}

// document returns report document id downloaded and parsed, from the
// client's cache when it is the last one read.
func (c *Client) document(ctx context.Context, id string) (*reportDoc, error) {
	c.mu.Lock()
	d := c.doc
	c.mu.Unlock()
	if d != nil && d.id == id {
		return d, nil
	}
	var data []byte
	// The document's URL expires within minutes: one that has expired by
	// the time it is read is asked for again.
	for attempt := 1; ; attempt++ {
		var meta struct {
			URL                  string `json:"url"`
			CompressionAlgorithm string `json:"compressionAlgorithm"`
		}
		if err := c.call(ctx, "getReportDocument", http.MethodGet, "/reports/"+ReportsAPIVersion+"/documents/"+id, nil, nil, &meta); err != nil {
			return nil, err
		}
		var expired bool
		var err error
		data, expired, err = c.download(ctx, meta.URL, meta.CompressionAlgorithm)
		if err != nil {
			return nil, err
		}
		if !expired {
			break
		}
		if attempt == 3 {
			return nil, connector.Errorf(connector.Transient, "The URL of Amazon report document %s kept expiring before it could be read.", id)
		}
		c.log.Info("amazon report document URL expired; asking for a new one", "document", id)
	}
	orders, err := parseReport(data)
	if err != nil {
		return nil, err
	}
	d = &reportDoc{id: id, orders: orders}
	c.mu.Lock()
	c.doc = d
	c.mu.Unlock()
	return d, nil
}

// download reads a report document from its pre-signed URL, unzipping it
// when Amazon says it is GZIP. An expired URL (403) reports expired.
func (c *Client) download(ctx context.Context, url, compression string) ([]byte, bool, error) {
	if !strings.HasPrefix(url, "https://") && !strings.HasPrefix(url, "http://") {
		return nil, false, connector.Errorf(connector.Permanent, "Amazon gave a report document without a URL.")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, false, fmt.Errorf("amazon: report document: %w", err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, false, fmt.Errorf("amazon: report document: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusBadRequest {
		return nil, true, nil
	}
	if resp.StatusCode/100 != 2 {
		return nil, false, connector.HTTPError(Platform, resp.StatusCode, resp.Header)
	}
	var r io.Reader = resp.Body
	if strings.EqualFold(compression, "GZIP") {
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			return nil, false, &connector.Error{Kind: connector.Transient, Message: "An Amazon report document is not valid gzip.", Err: err}
		}
		defer zr.Close()
		r = zr
	}
	data, err := io.ReadAll(io.LimitReader(r, maxDocument+1))
	if err != nil {
		return nil, false, &connector.Error{Kind: connector.Transient, Message: "An Amazon report document was cut off.", Err: err}
	}
	if len(data) > maxDocument {
		return nil, false, connector.Errorf(connector.Permanent, "An Amazon report document is larger than %d MiB.", maxDocument>>20)
	}
	return data, false, nil
}

// parseReport reads an "All Orders" document with the importer's Amazon
// flat-file parser and groups its lines into orders. Orders that have no
// price yet (pending: every item without a price) are left for the orders
// phase, which reads them once they ship. A row the parser refuses fails
// the page: a backfill that silently drops sales would be wrong.
func parseReport(data []byte) ([]connector.Order, error) {
	var (
		orders []connector.Order
		index  = map[string]int{}
		bad    *ingest.RowError
	)
	_, err := ingest.ParseSales(bytes.NewReader(data), ingest.FormatAmazon, ingest.Config{}, ingest.Sink[ingest.Sale]{
		Record: func(s ingest.Sale) error {
			i, ok := index[s.OrderID]
			if !ok {
				i = len(orders)
				index[s.OrderID] = i
				orders = append(orders, connector.Order{ExternalID: s.OrderID, Name: s.OrderID, CreatedAt: s.OrderDate, ProcessedAt: s.OrderDate,
					UpdatedAt: s.UpdatedAt, Currency: s.Currency, Country: s.Country, Region: s.Region, Channel: s.Channel})
			}
			o := &orders[i]
			if s.UpdatedAt.After(o.UpdatedAt) {
				o.UpdatedAt = s.UpdatedAt
			}
			if s.Removed {
				// Cancelled: the parser's verdict, as for an imported file.
				o.Removed, o.Lines = true, nil
				return nil
			}
			if o.Removed {
				return nil
			}
			o.Lines = append(o.Lines, connector.OrderLine{ExternalID: s.LineID, ProductExternalID: s.ProductID, ProductShared: s.SharedProductID, SKU: s.SKU, Name: s.Name,
				Quantity: s.Quantity, UnitPrice: s.UnitPrice, Gross: s.Gross, Discount: s.Discount, Net: s.Gross - s.Discount,
				Tax: s.Tax, Shipping: s.Shipping})
			return nil
		},
		Reject: func(e ingest.RowError, rows int64) {
			if bad == nil {
				bad = &e
			}
		},
	})
	if err != nil {
		return nil, connector.Errorf(connector.Permanent, "Amazon's order report could not be read: %v", err)
	}
	if bad != nil {
		return nil, connector.Errorf(connector.Permanent, "Amazon's order report has a row the importer refuses : %v", bad)
	}
	out := orders[:0]
	for _, o := range orders {
		if m, ok := marketplaceByChannel(o.Channel); ok && o.Country == "" {
			// As for API orders: the marketplace's country when the
			// shipping address is not shown.
			o.Country = m.Country
		}
		if o.Removed || !pending(&o) {
			out = append(out, o)
		}
	}
	return out, nil
}

// pending reports an order with units but no price at all: Amazon prices
// an order's items when it ships.
func pending(o *connector.Order) bool {
	for _, l := range o.Lines {
		if l.Quantity == 0 || l.Gross != 0 {
			return false
		}
	}
	return len(o.Lines) > 0
}
