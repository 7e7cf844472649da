package shopify_test

import (
	"context"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/connector"
	"github.com/phantomos/phantomos/internal/connector/shopify"
	"github.com/phantomos/phantomos/internal/connector/shopify/shopifytest"
	"github.com/phantomos/phantomos/internal/store"
)

// webhookServer serves webhooks the way the app does: one endpoint, the
// connector found by the delivery's shop.
func webhookServer(t *testing.T, h *harness) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("POST "+shopify.WebhookPath, &shopify.WebhookHandler{
		Targets: func(ctx context.Context, shop string) ([]shopify.WebhookTarget, error) {
			c, err := h.store.Connector(ctx, h.target.Publisher, h.target.ConnectorID)
			if err != nil || shop != h.srv.Shop() || c.Status == store.ConnectorDisconnected {
				return nil, err
			}
			return []shopify.WebhookTarget{{Target: h.target, Shop: shop, Secrets: []string{h.srv.ClientSecret()}, Currency: h.srv.Currency()}}, nil
		},
		AppSecrets: []string{h.srv.ClientSecret()},
		Apply: func(ctx context.Context, tg connector.Target, b connector.Batch) error {
			_, err := h.engine.Apply(ctx, tg, b)
			return err
		},
		Uninstalled: func(ctx context.Context, tg connector.Target) error {
			return h.store.DisconnectConnector(ctx, tg.Publisher, tg.ConnectorID)
		},
		Logger: quiet,
	})
	ws := httptest.NewServer(mux)
	t.Cleanup(ws.Close)
	return ws
}

func deliver(t *testing.T, h *harness, topic string, body []byte) {
	t.Helper()
	statuses, err := h.srv.Deliver(topic, body)
	if err != nil || len(statuses) != 1 || statuses[0] != http.StatusOK {
		t.Fatalf("deliver %s: %v, %v", topic, statuses, err)
	}
}

func TestWebhooksAppliedIdempotently(t *testing.T) {
	h := newHarness(t, shopifytest.Options{})
	seed(h.srv, 6, rand.New(rand.NewPCG(21, 22)))
	ws := webhookServer(t, h)
	ctx := context.Background()
	c := h.client(t, shopify.Config{})
	uri := ws.URL + shopify.WebhookPath
	if n, err := c.RegisterWebhooks(ctx, uri, shopify.WebhookTopics); err != nil || n != 5 {
		t.Fatalf("registering: %d, %v", n, err)
	}
	if n, err := c.RegisterWebhooks(ctx, uri, shopify.WebhookTopics); err != nil || n != 0 {
		t.Fatalf("registering again: %d created, %v", n, err)
	}
	if subs := h.srv.Subscriptions(); len(subs) != 5 || subs[0].Topic != "ORDERS_CREATE" || subs[0].URI != uri {
		t.Fatalf("subscriptions = %+v", subs)
	}
	// Shopify drops subscriptions after failed deliveries: the check of
	// the next sync re-creates them.
	h.srv.DropSubscriptions()
	if n, err := c.RegisterWebhooks(ctx, uri, shopify.WebhookTopics); err != nil || n != 5 || len(h.srv.Subscriptions()) != 5 {
		t.Fatalf("after Shopify dropped them: %d created, %v; subscriptions %+v", n, err, h.srv.Subscriptions())
	}

	orders := h.srv.Orders()
	deliver(t, h, shopify.TopicOrdersCreate, h.srv.OrderPayload(orders[0].ID))
	deliver(t, h, shopify.TopicOrdersCreate, h.srv.OrderPayload(orders[0].ID)) // redelivery
	if n := len(h.sink.Sales(h.target)); n != len(orders[0].Lines) {
		t.Fatalf("after two deliveries of one order: %d lines, want %d", n, len(orders[0].Lines))
	}
	// A refund arrives as orders/updated.
	o := h.srv.AddRefund(orders[0].ID, shopifytest.Refund{Lines: []shopifytest.RefundLine{{LineItemID: orders[0].Lines[0].ID, Quantity: 1, Subtotal: "4.00"}}})
	deliver(t, h, shopify.TopicOrdersUpdated, h.srv.OrderPayload(o.ID))
	if s := h.sink.Sales(h.target); s[0].Refunded < 400 {
		t.Errorf("refund not applied: %+v", s[0])
	}
	p := h.srv.UpdateProduct(h.srv.Products()[0].ID, func(p *shopifytest.Product) { p.Title = "Nova Figure (Deluxe)" })
	deliver(t, h, shopify.TopicProductsUpdate, h.srv.ProductPayload(p.ID))
	if got := h.sink.Products(h.target); len(got) != 1 || got[0].Name != "Nova Figure (Deluxe)" || got[0].Currency != "USD" || got[0].Price != 1000 {
		t.Errorf("products after webhook = %+v", got)
	}

	// Webhooks and the sync write identical records: a sync afterwards
	// inserts the rest and changes nothing the webhooks wrote.
	res := h.sync(t, c, connector.SyncOptions{})
	if res.Counts.Updated != 0 {
		t.Errorf("sync after webhooks updated %d records: webhook and sync records differ", res.Counts.Updated)
	}
	h.checkMatches(t)

	// Forged and tampered deliveries are refused; one for a shop no
	// connector reaches is ignored when the app signed it, and refused
	// like any forgery otherwise.
	body := h.srv.OrderPayload(orders[1].ID)
	send := func(r *http.Request) int {
		r.RequestURI = ""
		u := *r.URL
		r.URL = &u
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	tampered := h.srv.WebhookRequest(uri, shopify.TopicOrdersCreate, body, "")
	tampered.Body = http.NoBody
	tampered.ContentLength = 0
	forged := h.srv.WebhookRequest(uri, shopify.TopicOrdersCreate, body, "not-the-secret")
	foreign := h.srv.WebhookRequest(uri, shopify.TopicOrdersCreate, body, "")
	foreign.Header.Set(shopify.HeaderShopDomain, "other.myshopify.com")
	foreignForged := h.srv.WebhookRequest(uri, shopify.TopicOrdersCreate, body, "not-the-secret")
	foreignForged.Header.Set(shopify.HeaderShopDomain, "other.myshopify.com")
	malformed := h.srv.WebhookRequest(uri, shopify.TopicOrdersCreate, []byte(`{"id":`), "")
	before := len(h.sink.Sales(h.target))
	for name, c := range map[string]struct {
		r    *http.Request
		want int
	}{
		"tampered body": {tampered, 401}, "wrong secret": {forged, 401}, "unknown shop": {foreign, 200},
		"unknown shop, wrong secret": {foreignForged, 401}, "malformed body": {malformed, 400},
	} {
		if got := send(c.r); got != c.want {
			t.Errorf("%s: status %d, want %d", name, got, c.want)
		}
	}
	if after := len(h.sink.Sales(h.target)); after != before {
		t.Errorf("refused webhooks wrote %d lines", after-before)
	}

	// app/uninstalled disconnects the connector and wipes its credentials.
	if err := h.store.SaveConnectorCredentials(ctx, h.target.Publisher, h.target.ConnectorID, []byte("sealed"), "k1"); err != nil {
		t.Fatal(err)
	}
	deliver(t, h, shopify.TopicAppUninstalled, []byte(`{"id":1,"name":"Phantom Merch","domain":"phantom-merch.myshopify.com"}`))
	conn, _ := h.store.Connector(ctx, h.target.Publisher, h.target.ConnectorID)
	if conn.Status != store.ConnectorDisconnected {
		t.Errorf("after app/uninstalled: status %q", conn.Status)
	}
	if _, _, err := h.store.ConnectorCredentials(ctx, h.target.Publisher, h.target.ConnectorID); phantomos.ErrorCode(err) != phantomos.EINVALID {
		t.Errorf("credentials after uninstall: %v", err)
	}
}

func TestParseWebhook(t *testing.T) {
	srv := shopifytest.New(t, shopifytest.Options{Currency: "JPY"})
	p := srv.AddProduct(shopifytest.Product{Title: "Mug", Tags: []string{"a", "b"}, Variants: []shopifytest.Variant{{SKU: "M", Price: "1200"}, {SKU: "M2", Price: "900"}}})
	r := srv.WebhookRequest("/hook", shopify.TopicProductsUpdate, srv.ProductPayload(p.ID), "custom-secret")
	tg := shopify.WebhookTarget{Shop: srv.Shop(), Secrets: []string{"old-secret", "custom-secret"}, Currency: "JPY"}
	wh, err := shopify.ParseWebhook(r, tg)
	if err != nil {
		t.Fatal(err)
	}
	got := wh.Batch.Products[0]
	if wh.Topic != shopify.TopicProductsUpdate || wh.Shop != srv.Shop() || wh.ID == "" || got.Price != 900 || got.Currency != "JPY" ||
		got.SKU != "M" || strings.Join(got.Tags, "|") != "a|b" {
		t.Errorf("webhook = %+v, product %+v", wh, got)
	}
	// Without the shop's currency a product's prices cannot be read: the
	// webhook is ignored, for the next sync to bring the product.
	r = srv.WebhookRequest("/hook", shopify.TopicProductsUpdate, srv.ProductPayload(p.ID), "custom-secret")
	if wh, err := shopify.ParseWebhook(r, shopify.WebhookTarget{Shop: srv.Shop(), Secrets: []string{"custom-secret"}}); err != nil || !wh.Ignored || len(wh.Batch.Products) != 0 {
		t.Errorf("product webhook without a currency: %+v, %v", wh, err)
	}
	// Unknown topics are verified, then ignored.
	r = srv.WebhookRequest("/hook", "customers/create", []byte(`{"id":1}`), "custom-secret")
	if wh, err := shopify.ParseWebhook(r, tg); err != nil || !wh.Ignored {
		t.Errorf("other topic: %+v, %v", wh, err)
	}
	// A verified but broken body is invalid.
	r = srv.WebhookRequest("/hook", shopify.TopicOrdersCreate, []byte(`{"id":`), "custom-secret")
	if _, err := shopify.ParseWebhook(r, tg); phantomos.ErrorCode(err) != phantomos.EINVALID {
		t.Errorf("broken body: %v", err)
	}
	if shopify.VerifyWebhook([]byte("x"), "not base64!", "s") || shopify.VerifyWebhook([]byte("x"), shopify.SignWebhook([]byte("x"), "s"), "") {
		t.Error("VerifyWebhook accepted garbage")
	}
}
