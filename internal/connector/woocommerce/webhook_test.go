package woocommerce_test

import (
	"context"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/connector"
	"github.com/phantomos/phantomos/internal/connector/woocommerce"
	"github.com/phantomos/phantomos/internal/connector/woocommerce/wootest"
	"github.com/phantomos/phantomos/internal/secret"
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

// TestKeyFlow: the store's key-generation flow — its grant page, then
// Approve — POSTs working keys to our callback for a flow we started; a
// tampered or expired state is refused and WooCommerce drops the key;
// Deny returns without a key.
func TestKeyFlow(t *testing.T) {
	srv := wootest.New()
	defer srv.Close()
	now := time.Date(2026, 12, 6, 18, 0, 0, 0, time.UTC)
	keys, err := secret.Parse("k1:" + secret.Generate())
	if err != nil {
		t.Fatal(err)
	}
	flow := &woocommerce.KeyFlow{AppName: "PhantomOS", Sealer: connector.NewVault(keys, nil), Now: func() time.Time { return now }}
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
	u, err := flow.AuthorizeURL(srv.URL, woocommerce.KeyState{Publisher: "pub1", ConnectorID: "c1"}, "https://app.example/return", cb.URL+"/callback")
	if err != nil {
		t.Fatal(err)
	}
	resp := grant(t, u, "wc-auth-approve")
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("approve: %d", resp.StatusCode)
	}
	ret, _ := url.Parse(resp.Header.Get("Location"))
	if !woocommerce.ReturnSucceeded(ret.Query()) || ret.Host != "app.example" || ret.Query().Get("user_id") == "" {
		t.Errorf("return URL %s", ret)
	}
	if len(got) != 1 || states[0].Publisher != "pub1" || states[0].ConnectorID != "c1" || got[0].URL != srv.URL || got[0].KeyPermissions != "read_write" {
		t.Fatalf("callback got %+v %+v", got, states)
	}
	if st, err := flow.OpenState(ret.Query().Get("user_id")); err != nil || st.Publisher != "pub1" {
		t.Errorf("the return's state: %+v, %v", st, err)
	}
	c, err := woocommerce.FromCredentials(got[0], woocommerce.Config{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if acc, err := c.Test(context.Background()); err != nil || acc.Currency != "USD" || acc.Name != "Nova Merch" {
		t.Errorf("test with the generated key: %+v, %v", acc, err)
	}

	// A tampered state: the callback refuses, WooCommerce drops the key
	// and shows an error.
	q, _ := url.Parse(u)
	v := q.Query()
	v.Set("user_id", v.Get("user_id")[:len(v.Get("user_id"))-2]+"AA")
	q.RawQuery = v.Encode()
	if resp := grant(t, q.String(), "wc-auth-approve"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("tampered state: %d", resp.StatusCode)
	}
	// Deny: back to the return URL with success=0 and no key.
	if ret, _ := url.Parse(grantLink(t, u, "wc-auth-deny")); woocommerce.ReturnSucceeded(ret.Query()) || ret.Query().Get("success") != "0" || ret.Host != "app.example" {
		t.Errorf("deny: %s", ret)
	}
	// An expired state likewise.
	now = now.Add(time.Hour)
	if resp := grant(t, u, "wc-auth-approve"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("expired state: %d", resp.StatusCode)
	}
	if len(got) != 1 || srv.Keys() != 1 {
		t.Errorf("callbacks accepted: %d, keys kept by the store: %d; want 1 and 1", len(got), srv.Keys())
	}
	// A plain-http store is refused before the user leaves.
	if _, err := flow.AuthorizeURL("http://shop.example.com", woocommerce.KeyState{}, "https://app.example/r", "https://app.example/c"); err == nil {
		t.Error("plain http store accepted")
	}
	// The store refuses a plain-http callback (other than on this machine).
	v = url.Values{"app_name": {"x"}, "scope": {"read"}, "user_id": {"1"}, "return_url": {"https://app.example/r"}, "callback_url": {"http://app.example/c"}}
	if resp, err := http.Get(srv.URL + "/wc-auth/v1/authorize?" + v.Encode()); err != nil || resp.StatusCode != http.StatusBadRequest {
		t.Errorf("plain-http callback: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
}

// grant opens the store's grant page at authURL, follows its link with id
// (wc-auth-approve) and returns that answer, unfollowed.
func grant(t *testing.T, authURL, id string) *http.Response {
	t.Helper()
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(grantLink(t, authURL, id))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// grantLink returns the link with id (wc-auth-approve or wc-auth-deny) of
// the store's grant page at authURL.
func grantLink(t *testing.T, authURL, id string) string {
	t.Helper()
	resp, err := http.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("grant page: %d %s", resp.StatusCode, page)
	}
	m := regexp.MustCompile(`<a href="([^"]+)"[^>]*id="` + id + `"`).FindSubmatch(page)
	if m == nil {
		t.Fatalf("grant page has no %s link:\n%s", id, page)
	}
	return html.UnescapeString(string(m[1]))
}
