package woocommerce_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/connector"
	"github.com/phantomos/phantomos/internal/connector/platform"
	"github.com/phantomos/phantomos/internal/connector/woocommerce"
	"github.com/phantomos/phantomos/internal/connector/woocommerce/wootest"
	"github.com/phantomos/phantomos/internal/secret"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

func livePlatform(t *testing.T) platform.Platform {
	t.Helper()
	reg, err := platform.Open([]platform.Registration{woocommerce.Registration}, platform.Config{})
	if err != nil {
		t.Fatal(err)
	}
	p, ok := reg.Get(woocommerce.Type)
	if !ok {
		t.Fatal("woocommerce is not live")
	}
	return p
}

func TestPlatformCredentialsForm(t *testing.T) {
	p := livePlatform(t)
	ctx := context.Background()
	key, sec := "ck_"+strings.Repeat("a1", 20), "cs_"+strings.Repeat("b2", 20)
	cr, err := p.Credentials(ctx, nil, woocommerce.MethodKeys, url.Values{"url": {"Shop.Example.com/"}, "consumer_key": {key}, "consumer_secret": {" " + sec}})
	if err != nil {
		t.Fatal(err)
	}
	c := cr.(woocommerce.Credentials)
	if c.Account() != "https://shop.example.com" || c.ConsumerSecret != sec || len(c.WebhookSecret) < 32 {
		t.Errorf("credentials %+v", c)
	}
	raw := `{"url":"https://shop.example.com","consumer_key":"` + key + `","consumer_secret":"` + sec + `"}`
	if d, err := p.Decode([]byte(raw)); err != nil || d.Account() != "https://shop.example.com" {
		t.Errorf("decode: %+v, %v", d, err)
	}
	for name, tc := range map[string]struct {
		form url.Values
		want string
	}{
		"no address":    {url.Values{"consumer_key": {key}, "consumer_secret": {sec}}, "Store address is required"},
		"plain http":    {url.Values{"url": {"http://shop.example.com"}, "consumer_key": {key}, "consumer_secret": {sec}}, "plain http"},
		"secret as key": {url.Values{"url": {"shop.example.com"}, "consumer_key": {sec}, "consumer_secret": {sec}}, "consumer key should start with ck_"},
		"long key":      {url.Values{"url": {"shop.example.com"}, "consumer_key": {"ck_" + strings.Repeat("a", 200)}, "consumer_secret": {sec}}, "too long"},
	} {
		_, err := p.Credentials(ctx, nil, woocommerce.MethodKeys, tc.form)
		if phantomos.ErrorCode(err) != phantomos.EINVALID || !strings.Contains(phantomos.ErrorMessage(err), tc.want) {
			t.Errorf("%s: %v, want EINVALID with %q", name, err, tc.want)
		}
	}
}

// host is the part of platform.Host the WooCommerce platform uses.
type host struct {
	platform.Host
	vault  *connector.Vault
	target connector.Target
	store  string
	apply  func(ctx context.Context, t connector.Target, b connector.Batch) error
	base   string
	pl     platform.Platform
}

// FetchLater does at once what the server's job does later: it reads the
// delivery's orders through the platform and applies them.
func (h *host) FetchLater(ctx context.Context, t connector.Target, d platform.Delivery) error {
	b, err := h.pl.(platform.Fetcher).Fetch(ctx, h, t, d)
	if err != nil {
		return err
	}
	return h.apply(ctx, t, b)
}

func (h *host) Vault() *connector.Vault { return h.vault }
func (h *host) Logger() *slog.Logger    { return quiet }
func (h *host) WebhookBase() string     { return h.base }
func (h *host) Apply(ctx context.Context, t connector.Target, b connector.Batch) error {
	return h.apply(ctx, t, b)
}
func (h *host) Connectors(ctx context.Context, typ, account string, all bool) ([]connector.Target, error) {
	if typ == woocommerce.Type && account == h.store {
		return []connector.Target{h.target}, nil
	}
	return nil, nil
}

// TestPlatformEndToEnd: through the registry's contract, a pasted key is
// preflighted, stored sealed, opened for a sync, subscribed (webhooks
// created at the server's address) and deliveries reach the store. On
// both engines.
func TestPlatformEndToEnd(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		h := newHarness(t, s, phantomos.RefundOnOrderDate)
		seed(h.srv, 12)
		p := livePlatform(t)
		keys, _ := secret.Parse("k1:" + secret.Generate())
		hs := &host{vault: connector.NewVault(keys, s), target: h.target, store: h.srv.URL, pl: p,
			apply: func(ctx context.Context, t connector.Target, b connector.Batch) error {
				_, err := h.engine.Apply(ctx, t, b)
				return err
			}}
		mux := http.NewServeMux()
		for _, rt := range woocommerce.Registration.Routes {
			mux.HandleFunc(rt.Method+" "+rt.Path, func(w http.ResponseWriter, r *http.Request) {
				if err := rt.Handle(p, hs, w, r); err != nil {
					http.Error(w, err.Error(), http.StatusInternalServerError)
				}
			})
		}
		app := httptest.NewServer(mux)
		defer app.Close()
		hs.base = app.URL

		cr, err := p.Credentials(ctx, hs, woocommerce.MethodKeys, url.Values{"url": {h.srv.URL}, "consumer_key": {h.srv.Key}, "consumer_secret": {h.srv.Secret}})
		if err != nil {
			t.Fatal(err)
		}
		bad := cr.(woocommerce.Credentials)
		bad.ConsumerSecret = "cs_" + strings.Repeat("9", 40)
		if err := p.Preflight(ctx, bad); connector.KindOf(err) != connector.Auth {
			t.Errorf("preflight with a wrong secret: %v", err)
		}
		if err := p.Preflight(ctx, cr); err != nil {
			t.Fatal(err)
		}
		if err := hs.vault.Save(ctx, h.target, cr); err != nil {
			t.Fatal(err)
		}
		src, err := p.Open(ctx, hs, h.target)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.(platform.Subscriber).Subscribe(ctx, hs, h.target, src); err != nil {
			t.Fatal(err)
		}
		if hooks := h.srv.Hooks(); len(hooks) != 3 || !strings.HasPrefix(hooks[0].DeliveryURL, app.URL+"/webhooks/woocommerce?connector=") {
			t.Fatalf("hooks %+v", hooks)
		}
		if _, err := h.engine.Sync(ctx, h.target, src, connector.SyncOptions{}); err != nil {
			t.Fatal(err)
		}
		h.checkTotals(t, "after the first sync")
		h.srv.UpdateOrder(1001, day0.AddDate(0, 1, 0), func(o *wootest.Order) { o.Status = "cancelled" })
		if st, err := h.srv.Deliver(ctx, woocommerce.TopicOrderUpdated, 1001); err != nil || st != http.StatusOK {
			t.Fatalf("delivery: %d, %v", st, err)
		}
		h.checkTotals(t, "after a webhook")
	})
}
