package bigcommerce_test

import (
	"bytes"
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/connector"
	"github.com/phantomos/phantomos/internal/connector/bigcommerce"
	"github.com/phantomos/phantomos/internal/connector/bigcommerce/bctest"
	"github.com/phantomos/phantomos/internal/secret"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// newApp is the app of srv; with s, its signed payloads work once, in s.
func newApp(srv *bctest.Server, s *store.Store) *bigcommerce.App {
	app := &bigcommerce.App{ClientID: srv.ClientID(), ClientSecret: srv.ClientSecret(), RedirectURL: "https://app.example/connectors/bigcommerce/auth",
		LoginURL: srv.URL, Now: srv.Now}
	if s != nil {
		app.JTIs = bigcommerce.StoreJTIs{Store: s}
	}
	return app
}

func TestOAuthInstall(t *testing.T) {
	srv := bctest.New(t, bctest.Options{})
	app := newApp(srv, nil)
	ctx := context.Background()
	q := url.Values{"code": {srv.Authorize(allScopes)}, "scope": {allScopes}, "context": {"stores/" + srv.StoreHash()}, "account_uuid": {"x"}}
	cr, err := app.Exchange(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if cr.StoreHash != srv.StoreHash() || cr.Mode != bigcommerce.ModeOAuth || cr.AccessToken == "" || cr.UserEmail == "" {
		t.Fatalf("credentials: %+v", cr)
	}
	c, err := bigcommerce.FromCredentials(cr, bigcommerce.Config{BaseURL: srv.URL, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if acc, err := c.Test(ctx); err != nil || acc.Currency != "USD" {
		t.Fatalf("test with the exchanged token: %+v, %v", acc, err)
	}
	// The code works once.
	if _, err := app.Exchange(ctx, q); connector.KindOf(err) != connector.Auth {
		t.Errorf("second exchange of one code: %v", err)
	}
	for name, q := range map[string]url.Values{
		"no code":     {"scope": {allScopes}, "context": {"stores/" + srv.StoreHash()}},
		"bad context": {"code": {srv.Authorize(allScopes)}, "scope": {allScopes}, "context": {"shops/x"}},
	} {
		if _, err := app.Exchange(ctx, q); phantomos.ErrorCode(err) != phantomos.EINVALID {
			t.Errorf("%s: %v", name, err)
		}
	}
	few := "store_v2_information_read_only"
	if _, err := app.Exchange(ctx, url.Values{"code": {srv.Authorize(few)}, "scope": {few}, "context": {"stores/" + srv.StoreHash()}}); connector.KindOf(err) != connector.Auth {
		t.Errorf("install without the order scope: %v", err)
	}
	wrong := *app
	wrong.ClientSecret = "not-the-secret"
	if _, err := wrong.Exchange(ctx, url.Values{"code": {srv.Authorize(allScopes)}, "scope": {allScopes}, "context": {"stores/" + srv.StoreHash()}}); connector.KindOf(err) != connector.Auth {
		t.Errorf("exchange with a wrong secret: %v", err)
	}
}

// TestSignedPayload: a load or uninstall callback's signed_payload_jwt is
// accepted once — also when replayed to another replica (a second App over
// the same database) — and refused when forged, expired, unsigned, for
// another app, not from BigCommerce, without a store or not yet valid. On
// both engines.
func TestSignedPayload(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) { testSignedPayload(t, s) })
}

func testSignedPayload(t *testing.T, s *store.Store) {
	srv := bctest.New(t, bctest.Options{})
	app, replica := newApp(srv, s), newApp(srv, s)
	ctx := context.Background()
	now := srv.Now()
	valid := srv.SignedPayload(srv.ClientSecret(), now.Add(time.Hour))
	p, err := app.Load(ctx, url.Values{"signed_payload_jwt": {valid}})
	if err != nil || p.StoreHash != srv.StoreHash() || p.UserEmail != "owner@merch.example" {
		t.Fatalf("valid load: %+v, %v", p, err)
	}
	for name, a := range map[string]*bigcommerce.App{"same replica": app, "another replica": replica} {
		if _, err := a.Load(ctx, url.Values{"signed_payload_jwt": {valid}}); phantomos.ErrorCode(err) != phantomos.EUNAUTHORIZED {
			t.Errorf("payload replayed to the %s: %v", name, err)
		}
	}
	claims := func(mod func(map[string]any)) map[string]any {
		c := map[string]any{"aud": srv.ClientID(), "iss": "bc", "iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(),
			"jti": "j-" + strings.Repeat("x", 8), "sub": "stores/" + srv.StoreHash(), "user": map[string]any{"id": 1, "email": "a@b.c"}}
		mod(c)
		return c
	}
	none := func(c map[string]any) string { // alg "none", no signature
		signed := bctest.SignJWT(c, "x")
		parts := strings.Split(signed, ".")
		return "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + parts[1] + "."
	}
	cases := map[string]string{
		"forged":        srv.SignedPayload("another-secret", now.Add(time.Hour)),
		"expired":       srv.SignedPayload(srv.ClientSecret(), now.Add(-2*time.Minute)),
		"alg none":      none(claims(func(map[string]any) {})),
		"other app":     bctest.SignJWT(claims(func(c map[string]any) { c["aud"] = "someone-else"; c["jti"] = "j2" }), srv.ClientSecret()),
		"not bc":        bctest.SignJWT(claims(func(c map[string]any) { c["iss"] = "me"; c["jti"] = "j3" }), srv.ClientSecret()),
		"no store":      bctest.SignJWT(claims(func(c map[string]any) { c["sub"] = "nobody"; c["jti"] = "j4" }), srv.ClientSecret()),
		"not yet valid": bctest.SignJWT(claims(func(c map[string]any) { c["nbf"] = now.Add(time.Hour).Unix(); c["jti"] = "j5" }), srv.ClientSecret()),
		"garbage":       "a.b.c",
		"empty":         "",
	}
	for name, tok := range cases {
		if _, err := app.Uninstall(ctx, url.Values{"signed_payload_jwt": {tok}}); phantomos.ErrorCode(err) != phantomos.EUNAUTHORIZED {
			t.Errorf("%s: %v, want EUNAUTHORIZED", name, err)
		}
	}
	// A list audience naming the app is accepted.
	ok := bctest.SignJWT(claims(func(c map[string]any) { c["aud"] = []string{srv.ClientID()}; c["jti"] = "j6" }), srv.ClientSecret())
	if _, err := app.Uninstall(ctx, url.Values{"signed_payload_jwt": {ok}}); err != nil {
		t.Errorf("list audience: %v", err)
	}
}

func TestAPIAccountCredentials(t *testing.T) {
	for in, want := range map[string]string{
		"abc123de": "abc123de", "https://api.bigcommerce.com/stores/ABC123DE/v3/": "abc123de", "store-abc123de.mybigcommerce.com": "abc123de",
	} {
		cr, err := bigcommerce.APIAccountCredentials(in, "0123456789abcdefghijkl")
		if err != nil || cr.StoreHash != want || cr.Mode != bigcommerce.ModeAPIAccount {
			t.Errorf("%q: %+v, %v", in, cr, err)
		}
	}
	for _, in := range []struct{ store, token string }{{"", "0123456789abcdefghijkl"}, {"my shop", "0123456789abcdefghijkl"}, {"abc123de", "short"}, {"abc123de", "has space 0123456789"}} {
		if _, err := bigcommerce.APIAccountCredentials(in.store, in.token); phantomos.ErrorCode(err) != phantomos.EINVALID {
			t.Errorf("%+v: %v, want EINVALID", in, err)
		}
	}
}

// TestCredentialsSealed: the connector vault stores the token sealed and
// bound to its connector.
func TestCredentialsSealed(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s, bctest.Options{})
		keys, err := secret.Parse(secret.Generate())
		if err != nil {
			t.Fatal(err)
		}
		v := connector.NewVault(keys, s)
		ctx := context.Background()
		in := bigcommerce.Credentials{StoreHash: h.srv.StoreHash(), AccessToken: h.token, Mode: bigcommerce.ModeAPIAccount, WebhookToken: bigcommerce.NewWebhookToken()}
		if err := v.Save(ctx, h.target, in); err != nil {
			t.Fatal(err)
		}
		ct, _, err := s.ConnectorCredentials(ctx, h.target.Publisher, h.target.ConnectorID)
		if err != nil || bytes.Contains(ct, []byte(h.token)) || bytes.Contains(ct, []byte(in.WebhookToken)) {
			t.Fatalf("stored credentials are not sealed (%v)", err)
		}
		var out bigcommerce.Credentials
		if err := v.Load(ctx, h.target, &out); err != nil || out != in {
			t.Fatalf("load: %+v, %v", out, err)
		}
	})
}
