package web

import (
	"context"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// TestOrganizationRefundBooking: the owner chooses on which day refunds
// reduce revenue; the figures follow at once, the change is audited, and a
// form without the field keeps the choice.
func TestOrganizationRefundBooking(t *testing.T) {
	s := storetest.New(t, store.SQLite)
	ctx := context.Background()
	a := newTenant(t, s, "alpha")
	_, ts := newTestServer(t, s)
	owner := cookie(t, s, a.users[phantomos.RoleOwner])
	c := &phantomos.Connector{Type: phantomos.ConnectorCSV, Name: "feed"}
	if err := s.CreateConnector(ctx, a.pub.ID, c); err != nil {
		t.Fatal(err)
	}
	_, err := s.Import(ctx, a.pub.ID, store.ImportSpec{Kind: store.ImportSales, ConnectorID: c.ID}, func(w *store.ImportWriter) error {
		return w.WriteSales(ctx, []store.SaleRow{{Line: 1, OrderID: "1", LineID: "1", SKU: "MUG", Name: "Mug", Quantity: 1, Currency: "USD",
			OrderDate: time.Date(2025, 3, 30, 12, 0, 0, 0, time.UTC), Gross: 5000, Refunded: 2000, RefundedAt: time.Date(2025, 4, 2, 12, 0, 0, 0, time.UTC)}})
	})
	if err != nil {
		t.Fatal(err)
	}
	april := func() int64 {
		sum, err := s.Summary(ctx, a.pub.ID, "2025-04-01", "2025-04-30")
		if err != nil {
			t.Fatal(err)
		}
		return sum.Net
	}
	save := func(extra url.Values) (int, string) {
		form := url.Values{"name": {a.pub.Name}, "slug": {a.pub.Slug}, "reporting_currency": {"USD"}, "timezone": {"UTC"},
			"attribution_model": {"equal"}, "include_refunds": {"on"}, "include_discounts": {"on"}}
		for k, v := range extra {
			form[k] = v
		}
		req, _ := http.NewRequest(http.MethodPost, ts.URL+"/settings/organization", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", ts.URL)
		req.AddCookie(owner)
		return do(t, req)
	}
	booking := func() string {
		p, err := s.Publisher(ctx, a.pub.ID)
		if err != nil {
			t.Fatal(err)
		}
		return p.Settings.RefundBooking
	}

	if got := april(); got != 0 {
		t.Fatalf("April net %d on the order date, want 0", got)
	}
	st, page := save(url.Values{"refund_booking": {"refund_date"}})
	if st != http.StatusOK || !strings.Contains(page, "Saved.") || !strings.Contains(page, `<option value="refund_date" selected>`) {
		t.Fatalf("save: %d\n%s", st, page)
	}
	if booking() != phantomos.RefundOnRefundDate || april() != -2000 {
		t.Errorf("after choosing the refund date: booking %q, April net %d, want -2000", booking(), april())
	}
	entries, err := s.AuditLog(ctx, a.pub.ID, time.Time{}, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) == 0 || entries[0].Action != "organization.update" || !reflect.DeepEqual(entries[0].Details["refund_booking"], []any{"order_date", "refund_date"}) {
		t.Errorf("audit: %+v", entries)
	}
	// A form without the field (an older page) keeps the booking.
	if st, _ := save(nil); st != http.StatusOK || booking() != phantomos.RefundOnRefundDate {
		t.Errorf("save without refund_booking: %d, booking %q", st, booking())
	}
	if st, page := save(url.Values{"refund_booking": {"payout_date"}}); st != http.StatusUnprocessableEntity || !strings.Contains(page, "Refund booking") {
		t.Errorf("an unknown booking: %d", st)
	}
	if st, _ := save(url.Values{"refund_booking": {"order_date"}}); st != http.StatusOK || booking() != phantomos.RefundOnOrderDate || april() != 0 {
		t.Errorf("back to the order date: %d, booking %q, April net %d", st, booking(), april())
	}
}
