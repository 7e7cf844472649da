package amazon_test

import (
	"context"
	"net/url"
	"strings"
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

// TestPlatformApplicationSettings: the public application is configured
// by its three settings together (a half-configured one is refused at
// start, naming them), AMAZON_APP_DRAFT is a boolean, and only a draft's
// consent URL asks for version=beta.
func TestPlatformApplicationSettings(t *testing.T) {
	open := func(env map[string]string) error {
		_, err := platform.Open([]platform.Registration{amazon.Registration}, platform.Config{Getenv: func(k string) string { return env[k] }, Logger: quiet})
		return err
	}
	app := map[string]string{amazon.EnvApplicationID: "amzn1.sp.solution.x", amazon.EnvClientID: "amzn1.application-oa2-client.x", amazon.EnvClientSecret: "s"}
	if err := open(app); err != nil {
		t.Errorf("a complete application: %v", err)
	}
	for name, tc := range map[string]struct {
		drop, set, value, want string
	}{
		"no secret":      {drop: amazon.EnvClientSecret, want: amazon.EnvClientSecret},
		"no client":      {drop: amazon.EnvClientID, want: amazon.EnvClientID},
		"no application": {drop: amazon.EnvApplicationID, want: amazon.EnvApplicationID},
		"bad app id":     {set: amazon.EnvApplicationID, value: "my-app", want: "not an SP-API application id"},
		"bad draft":      {set: amazon.EnvDraft, value: "maybe", want: amazon.EnvDraft},
		"bad consent":    {set: amazon.EnvConsentURL, value: "ftp://x", want: amazon.EnvConsentURL},
	} {
		env := map[string]string{}
		for k, v := range app {
			env[k] = v
		}
		delete(env, tc.drop)
		if tc.set != "" {
			env[tc.set] = tc.value
		}
		if err := open(env); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want it to name %q", name, err, tc.want)
		}
	}
	for _, draft := range []bool{false, true} {
		a := amazon.App{ApplicationID: "amzn1.sp.solution.x", RedirectURI: "https://app.example/connectors/amazon/callback", Draft: draft}
		u, err := url.Parse(a.ConsentURL("EU", false, "st"))
		if err != nil || u.Host != "sellercentral-europe.amazon.com" || u.Path != "/apps/authorize/consent" {
			t.Fatalf("consent URL %v, %v", u, err)
		}
		q := u.Query()
		if q.Get("application_id") != "amzn1.sp.solution.x" || q.Get("state") != "st" || q.Has("version") != draft || draft && q.Get("version") != "beta" {
			t.Errorf("draft %v: consent query %v", draft, q)
		}
	}
}
