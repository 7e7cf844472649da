package shopify_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/connector/shopify"
	"github.com/phantomos/phantomos/internal/connector/shopify/shopifytest"
)

// The examples of Shopify's OAuth documentation.
func TestQueryHMACMatchesShopifyExamples(t *testing.T) {
	for _, c := range []struct{ query, hmac string }{
		{"code=0907a61c0c8d55e99db179b68161bc00&hmac=4712bf92ffc2917d15a2f5a273e39f0116667419aa4b6ac0b3baaf26fa3c4d20&shop=some-shop.myshopify.com&timestamp=1337178173",
			"4712bf92ffc2917d15a2f5a273e39f0116667419aa4b6ac0b3baaf26fa3c4d20"},
		{"code=0907a61c0c8d55e99db179b68161bc00&hmac=700e2dadb827fcc8609e9d5ce208b2e9cdaab9df07390d2cbca10d7c328fc4bf&shop=some-shop.myshopify.com&state=0.6784241404160823&timestamp=1337178173",
			"700e2dadb827fcc8609e9d5ce208b2e9cdaab9df07390d2cbca10d7c328fc4bf"},
	} {
		q, _ := url.ParseQuery(c.query)
		if got := shopify.QueryHMAC(q, "hush"); got != c.hmac {
			t.Errorf("QueryHMAC(%s) = %s, want %s", c.query, got, c.hmac)
		}
	}
}

func newApp(srv *shopifytest.Server) *shopify.App {
	return &shopify.App{
		ClientID: srv.ClientID(), ClientSecret: srv.ClientSecret(), RedirectURL: "https://phantomos.example/connectors/shopify/callback",
		StateKey: []byte("0123456789abcdef0123456789abcdef"), Nonces: shopify.NewMemoryNonces(), BaseURL: srv.URL,
	}
}

// consent follows the authorize URL to the fake's consent screen, which
// approves and redirects back; it returns the callback query.
func consent(t *testing.T, authorize string) url.Values {
	t.Helper()
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Get(authorize)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize: %s", resp.Status)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || !strings.HasPrefix(loc.String(), "https://phantomos.example/connectors/shopify/callback?") {
		t.Fatalf("redirect to %v", loc)
	}
	return loc.Query()
}

func TestOAuthInstallFlow(t *testing.T) {
	srv := shopifytest.New(t, shopifytest.Options{})
	app := newApp(srv)
	ctx := context.Background()

	// The merchant installs from the app listing: a signed request.
	shop, err := app.VerifyRequest(srv.InstallQuery())
	if err != nil || shop != srv.Shop() {
		t.Fatalf("install request: %q, %v", shop, err)
	}
	st := shopify.State{Publisher: "pub-1", ConnectorID: "conn-1", UserID: "user-1"}
	authorize, err := app.AuthorizeURL(ctx, shop, st)
	if err != nil {
		t.Fatal(err)
	}
	au, _ := url.Parse(authorize)
	if au.Path != "/admin/oauth/authorize" || au.Query().Get("scope") != "read_products,read_orders" ||
		au.Query().Get("client_id") != srv.ClientID() || au.Query().Get("redirect_uri") != app.RedirectURL {
		t.Errorf("authorize URL = %s", authorize)
	}
	cb := consent(t, authorize)
	creds, got, err := app.Callback(ctx, cb)
	if err != nil {
		t.Fatal(err)
	}
	if got.Publisher != "pub-1" || got.ConnectorID != "conn-1" || got.UserID != "user-1" || got.Shop != srv.Shop() {
		t.Errorf("state = %+v", got)
	}
	if creds.Shop != srv.Shop() || creds.Mode != shopify.ModeOAuth || creds.Scopes != "read_products,read_orders" || creds.AccessToken == "" {
		t.Errorf("credentials = %+v", creds)
	}
	// The token works.
	c, err := shopify.FromCredentials(creds, shopify.Config{BaseURL: srv.URL, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if acc, err := c.Test(ctx); err != nil || acc.Domain != srv.Shop() {
		t.Errorf("Test with the installed token: %+v, %v", acc, err)
	}

	// The same callback again: the state is single use.
	if _, _, err := app.Callback(ctx, cb); phantomos.ErrorCode(err) != phantomos.EUNAUTHORIZED {
		t.Errorf("reused state: %v", err)
	}
}

func TestOAuthCallbackRefusals(t *testing.T) {
	srv := shopifytest.New(t, shopifytest.Options{})
	ctx := context.Background()
	fresh := func(app *shopify.App) url.Values {
		u, err := app.AuthorizeURL(ctx, srv.Shop(), shopify.State{Publisher: "pub-1"})
		if err != nil {
			t.Fatal(err)
		}
		return consent(t, u)
	}
	cases := map[string]func(app *shopify.App, q url.Values) url.Values{
		"tampered hmac": func(_ *shopify.App, q url.Values) url.Values {
			h := []byte(q.Get("hmac"))
			h[0] ^= 1
			q.Set("hmac", string(h))
			return q
		},
		"missing hmac": func(_ *shopify.App, q url.Values) url.Values { q.Del("hmac"); return q },
		"tampered code": func(_ *shopify.App, q url.Values) url.Values {
			q.Set("code", "other")
			return q
		},
		"non-myshopify shop, signed": func(_ *shopify.App, q url.Values) url.Values {
			q.Set("shop", "evil.example.com")
			return srv.SignQuery(q)
		},
		"another shop than the state's": func(_ *shopify.App, q url.Values) url.Values {
			q.Set("shop", "other-shop.myshopify.com")
			return srv.SignQuery(q)
		},
		"stale timestamp": func(_ *shopify.App, q url.Values) url.Values {
			q.Set("timestamp", strconv.FormatInt(time.Now().Add(-2*time.Hour).Unix(), 10))
			return srv.SignQuery(q)
		},
		"forged state": func(_ *shopify.App, q url.Values) url.Values {
			st := q.Get("state")
			payload, sig, _ := strings.Cut(st, ".")
			q.Set("state", payload+"x."+sig)
			return srv.SignQuery(q)
		},
		"state from another server key": func(_ *shopify.App, q url.Values) url.Values {
			other := newApp(srv)
			other.StateKey = []byte("ffffffffffffffffffffffffffffffff")
			u, _ := other.AuthorizeURL(ctx, srv.Shop(), shopify.State{Publisher: "pub-1"})
			pu, _ := url.Parse(u)
			q.Set("state", pu.Query().Get("state"))
			return srv.SignQuery(q)
		},
	}
	for name, tamper := range cases {
		t.Run(name, func(t *testing.T) {
			app := newApp(srv)
			q := tamper(app, fresh(app))
			if _, _, err := app.Callback(ctx, q); err == nil {
				t.Fatal("callback accepted")
			} else if code := phantomos.ErrorCode(err); code != phantomos.EUNAUTHORIZED && code != phantomos.EINVALID && !strings.Contains(err.Error(), "authorization code") {
				t.Errorf("error = %v", err)
			}
		})
	}

	// An expired state.
	app := newApp(srv)
	q := fresh(app)
	app.Now = func() time.Time { return time.Now().Add(20 * time.Minute) }
	if _, _, err := app.Callback(ctx, srv.SignQuery(withTimestamp(q, app.Now()))); err == nil || !strings.Contains(phantomos.ErrorMessage(err), "too long") {
		t.Errorf("expired state: %v", err)
	}

	// A code can be exchanged once.
	app = newApp(srv)
	q = fresh(app)
	if _, err := app.Exchange(ctx, srv.Shop(), q.Get("code")); err != nil {
		t.Fatal(err)
	}
	if _, err := app.Exchange(ctx, srv.Shop(), q.Get("code")); err == nil {
		t.Error("a code was exchanged twice")
	}

	// Authorize refuses hosts that are not shops.
	for _, shop := range []string{"evil.example", "shop.myshopify.com.evil.example", "UPPER.myshopify.com", ""} {
		if _, err := newApp(srv).AuthorizeURL(ctx, shop, shopify.State{}); phantomos.ErrorCode(err) != phantomos.EINVALID {
			t.Errorf("AuthorizeURL(%q): %v", shop, err)
		}
	}
	// The install request must be signed, too.
	iq := srv.InstallQuery()
	iq.Set("shop", "another.myshopify.com")
	if _, err := newApp(srv).VerifyRequest(iq); phantomos.ErrorCode(err) != phantomos.EUNAUTHORIZED {
		t.Errorf("unsigned install: %v", err)
	}
}

func withTimestamp(q url.Values, t time.Time) url.Values {
	q.Set("timestamp", strconv.FormatInt(t.Unix(), 10))
	return q
}

func TestCustomAppCredentials(t *testing.T) {
	cr, err := shopify.CustomAppCredentials("https://Nova.myshopify.com/admin", " shpat_0123456789abcdef0123 ", "secret")
	if err != nil || cr.Shop != "nova.myshopify.com" || cr.AccessToken != "shpat_0123456789abcdef0123" || cr.Mode != shopify.ModeCustom || cr.WebhookSecret != "secret" {
		t.Errorf("custom credentials = %+v, %v", cr, err)
	}
	if _, err := shopify.CustomAppCredentials("nova.example.com", "shpat_0123456789abcdef0123", ""); phantomos.ErrorCode(err) != phantomos.EINVALID {
		t.Errorf("bad shop: %v", err)
	}
	if _, err := shopify.CustomAppCredentials("nova", "shpat_12", ""); phantomos.ErrorCode(err) != phantomos.EINVALID {
		t.Errorf("short token: %v", err)
	}
}

func TestMemoryNoncesExpire(t *testing.T) {
	n := shopify.NewMemoryNonces()
	ctx := context.Background()
	n.PutOAuthNonce(ctx, "p1", "a", time.Now().Add(time.Minute))
	n.PutOAuthNonce(ctx, "p1", "b", time.Now().Add(-time.Second))
	if ok, _ := n.ConsumeOAuthNonce(ctx, "p1", "b"); ok {
		t.Error("expired nonce consumed")
	}
	if ok, _ := n.ConsumeOAuthNonce(ctx, "p2", "a"); ok {
		t.Error("another publisher consumed the nonce")
	}
	if ok, _ := n.ConsumeOAuthNonce(ctx, "p1", "a"); !ok {
		t.Error("live nonce refused")
	}
	if ok, _ := n.ConsumeOAuthNonce(ctx, "p1", "a"); ok {
		t.Error("nonce consumed twice")
	}
}
