package shopify

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/connector/platform"
)

func TestRegistrationReadsItsEnvironment(t *testing.T) {
	env := func(m map[string]string) platform.Config {
		return platform.Config{Getenv: func(k string) string { return m[k] }}
	}
	reg, err := platform.Open([]platform.Registration{Registration}, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	p, _ := reg.Get(Type)
	if _, ok := p.Info().MethodByID(ModeOAuth); ok {
		t.Error("the app's install is offered without an app")
	}
	reg, err = platform.Open([]platform.Registration{Registration}, env(map[string]string{EnvClientID: "id", EnvClientSecret: "secret", EnvBaseURL: "http://127.0.0.1:9"}))
	if err != nil {
		t.Fatal(err)
	}
	p, _ = reg.Get(Type)
	if m, ok := p.Info().MethodByID(ModeOAuth); !ok || m.Action != installPath || !m.Primary {
		t.Errorf("the app's install is not offered: %+v", p.Info().Methods)
	}
	if fa := p.Info().FormAction; len(fa) != 2 || fa[1] != "http://127.0.0.1:9" {
		t.Errorf("form-action %v", fa)
	}
	for _, bad := range []map[string]string{{EnvClientID: "id"}, {EnvClientSecret: "s"}, {EnvBaseURL: "ftp://x"}, {EnvBaseURL: "/relative"}} {
		if _, err := platform.Open([]platform.Registration{Registration}, env(bad)); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

func TestCredentialsFormIsValidated(t *testing.T) {
	p := NewPlatform(Options{})
	ctx := context.Background()
	cr, err := p.Credentials(ctx, nil, ModeCustom, url.Values{"shop": {"Nova"}, "token": {"shpat_0123456789abcdef0123"}, "api_secret": {" s "}})
	if err != nil {
		t.Fatal(err)
	}
	if c := cr.(Credentials); c.Shop != "nova.myshopify.com" || c.Account() != c.Shop || c.WebhookSecret != "s" || c.Mode != ModeCustom {
		t.Errorf("credentials %+v", c)
	}
	for name, tc := range map[string]struct {
		method string
		form   url.Values
		want   string
	}{
		"no shop":       {ModeCustom, url.Values{"token": {"shpat_0123456789abcdef0123"}}, "Store address is required"},
		"long shop":     {ModeCustom, url.Values{"shop": {strings.Repeat("a", 256)}, "token": {"x"}}, "Store address is too long"},
		"short token":   {ModeCustom, url.Values{"shop": {"nova"}, "token": {"shpat_1"}}, "looks incomplete"},
		"no client id":  {ModeClientCredentials, url.Values{"shop": {"nova"}, "client_secret": {"secret-secret"}}, "Client ID is required"},
		"long secret":   {ModeClientCredentials, url.Values{"shop": {"nova"}, "client_id": {"id-123456"}, "client_secret": {strings.Repeat("s", 201)}}, "Client secret is too long"},
		"foreign store": {ModeCustom, url.Values{"shop": {"evil.example.com"}, "token": {"shpat_0123456789abcdef0123"}}, "myshopify.com"},
	} {
		_, err := p.Credentials(ctx, nil, tc.method, tc.form)
		if phantomos.ErrorCode(err) != phantomos.EINVALID || !strings.Contains(phantomos.ErrorMessage(err), tc.want) {
			t.Errorf("%s: %v, want EINVALID %q", name, err, tc.want)
		}
	}
	raw := []byte(`{"shop":"nova.myshopify.com","access_token":"t","mode":"custom"}`)
	if d, err := p.Decode(raw); err != nil || d.Account() != "nova.myshopify.com" {
		t.Errorf("Decode = %v, %v", d, err)
	}
}
