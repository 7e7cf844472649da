package woocommerce_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/connector"
	"github.com/phantomos/phantomos/internal/connector/woocommerce"
	"github.com/phantomos/phantomos/internal/connector/woocommerce/wootest"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// TestWebhooks: valid deliveries write the order as the store has it;
// forged ones are refused; replayed and late ones change nothing; a
// deleted order goes; a hook WooCommerce disabled is re-created by the
// next sync. On both engines.
func TestWebhooks(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		h := newHarness(t, s, phantomos.RefundOnOrderDate)
		seed(h.srv, 20)
		h.sync(t, connector.SyncOptions{})
		hooks := h.srv.Hooks()
		if len(hooks) != 3 {
			t.Fatalf("hooks after the first sync: %+v", hooks)
		}
		for _, hk := range hooks {
			if hk.Status != "active" || hk.DeliveryURL != h.hookURL() || hk.Secret != h.secret {
				t.Errorf("hook %+v", hk)
			}
		}
		deliver := func(topic string, id int64, want int) {
			t.Helper()
			st, err := h.srv.Deliver(ctx, topic, id)
			if err != nil || st != want {
				t.Fatalf("deliver %s %d: %d, %v; want %d", topic, id, st, err, want)
			}
		}

		// Valid: a new order arrives before any sync.
		at := day0.Add(50 * 24 * time.Hour)
		h.srv.AddOrder(wootest.Order{ID: 6000, Status: "processing", Created: at, Paid: at, Country: "FR",
			Lines: []wootest.Line{{ID: 60001, ProductID: 12, SKU: "MUG", Name: "Mug", Quantity: 4, Subtotal: 6000, Total: 5400, Tax: 1080}}})
		deliver(woocommerce.TopicOrderCreated, 6000, http.StatusOK)
		h.checkTotals(t, "after order.created")
		// Replayed: the same delivery again.
		deliver(woocommerce.TopicOrderCreated, 6000, http.StatusOK)
		h.checkTotals(t, "after a replayed order.created")

		// Forged: the order changes in the store, and a delivery signed with
		// another secret is refused, so nothing is written.
		old, _ := json.Marshal(map[string]any{"id": 6000})
		h.srv.UpdateOrder(6000, at.Add(time.Hour), func(o *wootest.Order) { o.Status = "cancelled" })
		if st, err := h.srv.DeliverRaw(ctx, woocommerce.TopicOrderUpdated, old, "not-the-secret"); err != nil || st != http.StatusUnauthorized {
			t.Fatalf("forged delivery: %d, %v", st, err)
		}
		if got, want := h.stored(t).Orders, h.srv.Totals().Orders+1; got != want {
			t.Errorf("after a forged delivery: %d orders stored, want %d (the cancelled order still there)", got, want)
		}
		// Late: an old payload, validly signed, arrives after the change: the
		// order is read as the store has it now.
		deliver(woocommerce.TopicOrderUpdated, 6000, http.StatusOK)
		h.checkTotals(t, "after order.updated")
		h.srv.UpdateOrder(6000, at.Add(2*time.Hour), func(o *wootest.Order) { o.Status = "completed" })
		deliver(woocommerce.TopicOrderUpdated, 6000, http.StatusOK)
		lateBody, _ := json.Marshal(map[string]any{"id": 6000, "status": "cancelled", "date_modified_gmt": "2026-04-21T11:00:00"})
		if st, err := h.srv.DeliverRaw(ctx, woocommerce.TopicOrderUpdated, lateBody, h.secret); err != nil || st != http.StatusOK {
			t.Fatalf("late delivery: %d, %v", st, err)
		}
		h.checkTotals(t, "after a late order.updated")

		// Deleted for good.
		h.srv.DeleteOrder(1002)
		deliver(woocommerce.TopicOrderDeleted, 1002, http.StatusOK)
		h.checkTotals(t, "after order.deleted")

		// WooCommerce's ping, and deliveries to an unknown connector.
		for _, c := range []struct {
			path, body, sig string
			want            int
		}{
			{h.hookURL(), "webhook_id=12", "", http.StatusOK},
			{h.hooks.URL + woocommerce.WebhookPath + "nope", `{"id":1001}`, woocommerce.Sign([]byte(`{"id":1001}`), h.secret), http.StatusUnauthorized},
			{h.hookURL(), `{"id":1001}`, "", http.StatusUnauthorized},
			{h.hookURL(), `{"nothing":1}`, woocommerce.Sign([]byte(`{"nothing":1}`), h.secret), http.StatusBadRequest},
		} {
			req, _ := http.NewRequest(http.MethodPost, c.path, strings.NewReader(c.body))
			req.Header.Set(woocommerce.HeaderTopic, woocommerce.TopicOrderUpdated)
			if c.sig != "" {
				req.Header.Set(woocommerce.HeaderSignature, c.sig)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != c.want {
				t.Errorf("POST %s %q: %d, want %d", c.path, c.body, resp.StatusCode, c.want)
			}
		}

		// Failing deliveries disable the hook; the next sync re-creates it.
		h.failHooks = true
		for range 6 {
			deliver(woocommerce.TopicOrderUpdated, 1001, http.StatusInternalServerError)
		}
		h.failHooks = false
		disabled := 0
		for _, hk := range h.srv.Hooks() {
			if hk.Status == "disabled" {
				disabled++
			}
		}
		if disabled != 1 {
			t.Fatalf("disabled hooks: %d, want 1 (%+v)", disabled, h.srv.Hooks())
		}
		res := h.sync(t, connector.SyncOptions{})
		if len(res.Notices) != 1 || !strings.Contains(res.Notices[0], "re-created") {
			t.Errorf("notices: %q", res.Notices)
		}
		active := 0
		for _, hk := range h.srv.Hooks() {
			if hk.Status != "active" {
				t.Errorf("hook left %s: %+v", hk.Status, hk)
			}
			active++
		}
		if active != 3 {
			t.Errorf("%d hooks after re-creation, want 3", active)
		}
		h.srv.UpdateOrder(1001, at.Add(3*time.Hour), func(o *wootest.Order) { o.Status = "refunded" })
		deliver(woocommerce.TopicOrderUpdated, 1001, http.StatusOK)
		h.checkTotals(t, "after the hook was re-created")
	})
}

// TestKeyFlow: the store's key-generation flow POSTs working keys to our
// callback for a flow we started; a tampered or expired state is refused
// and WooCommerce drops the key.
func TestKeyFlow(t *testing.T) {
	srv := wootest.New()
	defer srv.Close()
	now := time.Date(2026, 12, 6, 18, 0, 0, 0, time.UTC)
	flow := &woocommerce.KeyFlow{AppName: "PhantomOS", Secret: bytes.Repeat([]byte("k"), 32), Now: func() time.Time { return now }}
	var got []woocommerce.Credentials
	var states []woocommerce.KeyState
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cr, st, err := flow.ReadCallback(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		got, states = append(got, cr), append(states, st)
	}))
	defer cb.Close()
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	start := func(authURL string) (*http.Response, error) {
		resp, err := noFollow.Get(authURL)
		if resp != nil {
			resp.Body.Close()
		}
		return resp, err
	}
	u, err := flow.AuthorizeURL(srv.URL, woocommerce.KeyState{Publisher: "pub1", ConnectorID: "c1"}, "https://app.example/return", cb.URL+"/callback")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := start(u)
	if err != nil || resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize: %v %v", resp, err)
	}
	ret, _ := url.Parse(resp.Header.Get("Location"))
	if !woocommerce.ReturnSucceeded(ret.Query()) {
		t.Errorf("return URL %s", ret)
	}
	if len(got) != 1 || states[0].Publisher != "pub1" || states[0].ConnectorID != "c1" || got[0].URL != srv.URL || got[0].KeyPermissions != "read_write" {
		t.Fatalf("callback got %+v %+v", got, states)
	}
	c, err := woocommerce.FromCredentials(got[0], woocommerce.Config{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if acc, err := c.Test(context.Background()); err != nil || acc.Currency != "USD" || acc.Name != "Nova Merch" {
		t.Errorf("test with the generated key: %+v, %v", acc, err)
	}

	// A tampered state: the callback refuses, WooCommerce reports an error.
	q, _ := url.Parse(u)
	v := q.Query()
	v.Set("user_id", strings.Replace(v.Get("user_id"), "c1", "c2", 1)+"x")
	q.RawQuery = v.Encode()
	if resp, err := start(q.String()); err != nil || resp.StatusCode != http.StatusBadGateway {
		t.Errorf("tampered state: %v %v", resp, err)
	}
	// An expired one likewise.
	now = now.Add(time.Hour)
	if resp, err := start(u); err != nil || resp.StatusCode != http.StatusBadGateway {
		t.Errorf("expired state: %v %v", resp, err)
	}
	if len(got) != 1 {
		t.Errorf("callbacks accepted: %d, want 1", len(got))
	}
	// A plain-http store is refused before the user leaves.
	if _, err := flow.AuthorizeURL("http://shop.example.com", woocommerce.KeyState{}, "https://app.example/r", "https://app.example/c"); err == nil {
		t.Error("plain http store accepted")
	}
}
