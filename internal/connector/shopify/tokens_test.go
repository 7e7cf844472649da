package shopify_test

import (
	"context"
	"testing"
	"time"

	"github.com/phantomos/phantomos/internal/connector"
	"github.com/phantomos/phantomos/internal/connector/shopify"
	"github.com/phantomos/phantomos/internal/connector/shopify/shopifytest"
)

// TestAppRefresh: client credentials get a day-long token, a wrong secret
// an Auth error; an unknown (used, revoked) or lapsed refresh token is an
// Auth error (the connector then waits for Reconnect), and a lapsed one is
// not even sent.
func TestAppRefresh(t *testing.T) {
	srv := shopifytest.New(t, shopifytest.Options{})
	now := time.Now()
	app := &shopify.App{ClientID: srv.ClientID(), ClientSecret: srv.ClientSecret(), BaseURL: srv.URL, Now: func() time.Time { return now }}
	ctx := context.Background()

	// A Dev Dashboard app's token: a day, no refresh token.
	cr, err := shopify.RequestClientToken(ctx, shopify.Credentials{Shop: srv.Shop(), Mode: shopify.ModeClientCredentials,
		ClientID: srv.ClientID(), ClientSecret: srv.ClientSecret()}, srv.URL, nil, now)
	if err != nil || cr.AccessToken == "" || cr.ExpiresAt.Sub(now) != shopifytest.ClientTokenTTL {
		t.Fatalf("client credentials: %+v %v", cr, err)
	}
	if _, err := shopify.RequestClientToken(ctx, shopify.Credentials{Shop: srv.Shop(), ClientID: srv.ClientID(), ClientSecret: "wrong"}, srv.URL, nil, now); connector.KindOf(err) != connector.Auth {
		t.Errorf("client credentials with a wrong secret: %v, want an Auth error", err)
	}

	if _, err := app.Refresh(ctx, shopify.Credentials{Shop: srv.Shop(), Mode: shopify.ModeOAuth, RefreshToken: "shprt_unknown"}); connector.KindOf(err) != connector.Auth {
		t.Errorf("unknown refresh token: %v, want an Auth error", err)
	}
	lapsed := shopify.Credentials{Shop: srv.Shop(), Mode: shopify.ModeOAuth, RefreshToken: "shprt_x", RefreshExpiresAt: now.Add(-time.Minute)}
	before := srv.TokenRequests("refresh_token")
	if _, err := app.Refresh(ctx, lapsed); connector.KindOf(err) != connector.Auth {
		t.Errorf("lapsed refresh token: %v, want an Auth error", err)
	}
	if srv.TokenRequests("refresh_token") != before {
		t.Errorf("a lapsed refresh token was sent to Shopify")
	}
}
