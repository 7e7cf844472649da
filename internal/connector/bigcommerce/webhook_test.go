package bigcommerce_test

import (
	"context"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/phantomos/phantomos/internal/connector"
	"github.com/phantomos/phantomos/internal/connector/bigcommerce"
	"github.com/phantomos/phantomos/internal/connector/bigcommerce/bctest"
	"github.com/phantomos/phantomos/internal/connector/platform"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// hooks serves the webhook endpoint for h's connector, whose hook token is
// token, and returns the destination to register.
func (h *harness) hooks(t *testing.T, token string) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("POST "+bigcommerce.WebhookPath, &bigcommerce.WebhookHandler{
		Targets: func(ctx context.Context, hash string) ([]bigcommerce.WebhookTarget, error) {
			if hash != h.srv.StoreHash() {
				return nil, nil
			}
			return []bigcommerce.WebhookTarget{{Target: h.target, StoreHash: hash, Token: token}}, nil
		},
		// Done at once here, deduplicated in the database as the server's
		// FetchLater does; the server stores it as a job instead.
		Enqueue: func(ctx context.Context, tg connector.Target, d platform.Delivery) error {
			fresh, err := h.s.ClaimDelivery(ctx, tg.Publisher, tg.ConnectorID, d.Key, time.Hour)
			if err != nil || !fresh {
				return err
			}
			b, err := bigcommerce.FetchOrders(ctx, h.client(t, 250), d.Orders)
			if err == nil {
				_, err = h.engine.Apply(ctx, tg, b)
			}
			if err != nil {
				h.s.ReleaseDelivery(ctx, tg.Publisher, tg.ConnectorID, d.Key)
			}
			return err
		},
		Logger: quiet,
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL + bigcommerce.WebhookPath
}

// post sends r and returns the status.
func post(t *testing.T, r *http.Request) int {
	t.Helper()
	if r == nil {
		t.Fatal("no active hook would deliver this event")
	}
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestWebhooks(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s, bctest.Options{TaxRate: 10})
		ctx := context.Background()
		token := bigcommerce.NewWebhookToken()
		dest := h.hooks(t, token)
		if rep, err := h.client(t, 250).EnsureHooks(ctx, dest, token); err != nil || rep.Created != 1 {
			t.Fatalf("ensure hooks: %+v, %v", rep, err)
		}
		o := h.srv.AddOrder(bctest.Order{Country: "US", Lines: []bctest.Line{{Name: "Mug", SKU: "MUG", Quantity: 2, Price: 1500}}})
		created := h.srv.WebhookBody("store/order/created", o.ID)
		if got := post(t, h.srv.WebhookRequest(dest, created)); got != http.StatusOK {
			t.Fatalf("valid delivery: %d", got)
		}
		if got := h.stored(t); got.Orders != 1 || got.Net != 3000 {
			t.Fatalf("after the created webhook: %+v", got)
		}

		// Replayed: the same event (same hash) is applied once.
		reads := h.srv.Requests("/v2/orders/" + strconv.FormatInt(o.ID, 10))
		if got := post(t, h.srv.WebhookRequest(dest, created)); got != http.StatusOK {
			t.Fatalf("replayed delivery: %d", got)
		}
		if n := h.srv.Requests("/v2/orders/"+strconv.FormatInt(o.ID, 10)) - reads; n != 0 {
			t.Errorf("a replayed delivery read the order again (%d requests)", n)
		}
		// Replayed to another replica (its own handler, the same
		// database): applied once all the same.
		replica := h.hooks(t, token)
		if got := post(t, forged(replica, created, token)); got != http.StatusOK {
			t.Fatalf("replayed to another replica: %d", got)
		}
		if n := h.srv.Requests("/v2/orders/"+strconv.FormatInt(o.ID, 10)) - reads; n != 0 {
			t.Errorf("a delivery replayed to another replica read the order again (%d requests)", n)
		}

		// Forged: no token, a wrong token, another store's producer.
		h.srv.Advance(time.Minute)
		other := h.srv.AddOrder(bctest.Order{Country: "US", Lines: []bctest.Line{{Name: "Cap", SKU: "CAP", Quantity: 1, Price: 2500}}})
		body := h.srv.WebhookBody("store/order/created", other.ID)
		for name, r := range map[string]*http.Request{
			"no token":    forged(dest, body, ""),
			"wrong token": forged(dest, body, bigcommerce.NewWebhookToken()),
			"other store": forged(dest, []byte(strings.Replace(string(body), "stores/"+h.srv.StoreHash(), "stores/zzz999", 1)), token),
		} {
			if got := post(t, r); got != http.StatusUnauthorized {
				t.Errorf("%s: status %d, want 401", name, got)
			}
		}
		if got := h.stored(t); got.Orders != 1 {
			t.Errorf("a forged delivery was applied: %+v", got)
		}
		if got := post(t, forged(dest, []byte(`{"scope":`), token)); got != http.StatusBadRequest {
			t.Errorf("malformed body: %d", got)
		}

		// Late: the created event of an order already refunded arrives
		// after the refund's; the order is read as it is now.
		h.srv.Advance(time.Minute)
		h.srv.AddRefund(o.ID, bctest.Refund{Items: []bctest.RefundItem{{Type: "PRODUCT", ItemID: o.Lines[0].ID, Quantity: 1}}})
		h.srv.Advance(time.Second)
		if got := post(t, h.srv.WebhookRequest(dest, h.srv.WebhookBody("store/order/refund/created", o.ID))); got != http.StatusOK {
			t.Fatalf("refund delivery: %d", got)
		}
		if got := post(t, h.srv.WebhookRequest(dest, h.srv.WebhookBody("store/order/created", other.ID))); got != http.StatusOK {
			t.Fatalf("late delivery: %d", got)
		}
		lateOld := forged(dest, created, token)
		lateOld.Header.Set(bigcommerce.HeaderHookToken, token)
		if got := post(t, lateOld); got != http.StatusOK {
			t.Fatalf("late replay: %d", got)
		}
		h.check(t, 10)

		// Archived: the order goes.
		h.srv.Advance(time.Minute)
		h.srv.UpdateOrder(other.ID, func(o *bctest.Order) { o.Deleted = true })
		if got := post(t, h.srv.WebhookRequest(dest, h.srv.WebhookBody("store/order/archived", other.ID))); got != http.StatusOK {
			t.Fatalf("archived delivery: %d", got)
		}
		h.check(t, 10)

		// A transient failure reading the order is answered 500 (BigCommerce
		// retries) and not remembered as applied.
		h.srv.Advance(time.Minute)
		third := h.srv.AddOrder(bctest.Order{Country: "US", Lines: []bctest.Line{{Name: "Pin", SKU: "PIN", Quantity: 3, Price: 500}}})
		ev := h.srv.WebhookBody("store/order/created", third.ID)
		h.srv.Fail(503)
		if got := post(t, h.srv.WebhookRequest(dest, ev)); got != http.StatusInternalServerError {
			t.Errorf("delivery during an outage: %d, want 500", got)
		}
		if got := post(t, h.srv.WebhookRequest(dest, ev)); got != http.StatusOK {
			t.Errorf("retried delivery: %d", got)
		}
		h.check(t, 10)

		// And a sync afterwards agrees.
		h.sync(t, ctx, h.client(t, 250))
		h.check(t, 10)
	})
}

func forged(dest string, body []byte, token string) *http.Request {
	r, _ := http.NewRequest(http.MethodPost, dest, strings.NewReader(string(body)))
	r.Header.Set("Content-Type", "application/json")
	if token != "" {
		r.Header.Set(bigcommerce.HeaderHookToken, token)
	}
	return r
}

// TestHooksReactivated: BigCommerce deactivates a hook after failed
// deliveries; EnsureHooks switches it back on, and events flow again.
func TestHooksReactivated(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s, bctest.Options{})
		seed(h.srv, 5, rand.New(rand.NewPCG(21, 22)))
		ctx := context.Background()
		token := bigcommerce.NewWebhookToken()
		dest := h.hooks(t, token)
		c := h.client(t, 250)
		if rep, err := c.EnsureHooks(ctx, dest, token); err != nil || rep.Created != 1 {
			t.Fatalf("first ensure: %+v, %v", rep, err)
		}
		if rep, err := c.EnsureHooks(ctx, dest, token); err != nil || rep != (bigcommerce.HookReport{}) {
			t.Fatalf("second ensure changed something: %+v, %v", rep, err)
		}
		h.srv.DeactivateHooks()
		o := h.srv.AddOrder(bctest.Order{Country: "US", Lines: []bctest.Line{{Name: "Mug", SKU: "MUG", Quantity: 1, Price: 900}}})
		if h.srv.WebhookRequest(dest, h.srv.WebhookBody("store/order/created", o.ID)) != nil {
			t.Fatal("a deactivated hook still delivers")
		}
		if rep, err := c.EnsureHooks(ctx, dest, token); err != nil || rep.Reactivated != 1 {
			t.Fatalf("ensure after deactivation: %+v, %v", rep, err)
		}
		if got := post(t, h.srv.WebhookRequest(dest, h.srv.WebhookBody("store/order/updated", o.ID))); got != http.StatusOK {
			t.Fatalf("delivery after reactivation: %d", got)
		}
		if n := len(h.srv.Hooks()); n != 1 {
			t.Errorf("%d hooks; want one", n)
		}
		if got := h.stored(t); got.Orders != 1 {
			t.Errorf("after the webhook: %+v", got)
		}
		h.sync(t, ctx, c) // the sync reads what the hook missed
		h.check(t, 0)
	})
}
