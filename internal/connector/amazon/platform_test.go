package amazon_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/connector/amazon"
	"github.com/phantomos/phantomos/internal/connector/amazon/amazontest"
	"github.com/phantomos/phantomos/internal/connector/platform"
)

// host is the part of the server the connect form needs.
type host struct {
	platform.Host
	now time.Time
}

func (h host) Now() time.Time { return h.now }

// TestPlatformConnectForm: the wizard's forms (seller and vendor) become
// credentials that pass the preflight against the fake; bad input is
// EINVALID naming the field; refused credentials fail the preflight.
func TestPlatformConnectForm(t *testing.T) {
	srv := amazontest.New(t, amazontest.Options{})
	reg, err := platform.Open([]platform.Registration{amazon.Registration}, platform.Config{Getenv: func(k string) string {
		return map[string]string{amazon.EnvBaseURL: srv.URL, amazon.EnvTokenURL: srv.TokenURL()}[k]
	}, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	p, ok := reg.Get(amazon.Type)
	if !ok || len(p.Info().Methods) != 2 {
		t.Fatalf("amazon platform %v %+v", ok, p)
	}
	ctx := context.Background()
	h := host{now: srv.Now()}
	form := url.Values{"seller_id": {"A1SELLER"}, "region": {"na"}, "client_id": {srv.ClientID()}, "client_secret": {srv.ClientSecret()},
		"refresh_token": {srv.IssueRefreshToken()}}
	for _, method := range []string{amazon.ModeSelfAuthorized, amazon.ModeVendor} {
		cr, err := p.Credentials(ctx, h, method, form)
		if err != nil {
			t.Fatalf("%s: %v", method, err)
		}
		want := "NA:A1SELLER"
		if method == amazon.ModeVendor {
			want += ":vendor"
		}
		if cr.Account() != want {
			t.Errorf("%s: account %q, want %q", method, cr.Account(), want)
		}
		if err := p.Preflight(ctx, cr); err != nil {
			t.Errorf("%s: preflight: %v", method, err)
		}
		raw, _ := cr.(amazon.Credentials)
		if raw.AuthorizedAt != srv.Now() {
			t.Errorf("%s: authorized at %v", method, raw.AuthorizedAt)
		}
	}
	bad := url.Values{}
	for k, v := range form {
		bad[k] = v
	}
	bad.Set("region", "XX")
	if _, err := p.Credentials(ctx, h, amazon.ModeSelfAuthorized, bad); phantomos.ErrorCode(err) != phantomos.EINVALID {
		t.Errorf("region XX: %v", err)
	}
	bad.Del("region")
	if _, err := p.Credentials(ctx, h, amazon.ModeSelfAuthorized, bad); phantomos.ErrorCode(err) != phantomos.EINVALID {
		t.Errorf("no region: %v", err)
	}
	form.Set("refresh_token", "Atzr|revoked")
	cr, err := p.Credentials(ctx, h, amazon.ModeSelfAuthorized, form)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Preflight(ctx, cr); phantomos.ErrorCode(err) != phantomos.EINVALID {
		t.Errorf("unknown refresh token: preflight %v, want EINVALID", err)
	}
}
