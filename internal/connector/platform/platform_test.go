package platform

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/connector"
)

func noop(Platform, Host, http.ResponseWriter, *http.Request) error { return nil }

type fakePlatform struct{ typ string }

func (f fakePlatform) Info() Info { return Info{Type: f.typ, Name: f.typ} }
func (fakePlatform) Credentials(context.Context, Host, string, url.Values) (Credentials, error) {
	return nil, nil
}
func (fakePlatform) Decode([]byte) (Credentials, error)           { return nil, nil }
func (fakePlatform) Preflight(context.Context, Credentials) error { return nil }
func (fakePlatform) Open(context.Context, Host, connector.Target) (connector.Source, error) {
	return nil, nil
}

func TestCheckRefusesBadRegistrations(t *testing.T) {
	live := func(Config) (Platform, error) { return fakePlatform{"abc"}, nil }
	good := Registration{Type: "abc", Name: "Abc", Blurb: "b", New: live,
		Routes: []Route{{Method: "GET", Path: "/connectors/abc/callback", Public: true, Handle: noop}, {Method: "POST", Path: "/webhooks/abc", Handle: noop}}}
	if err := Check([]Registration{good, {Type: "soon", Name: "Soon", Blurb: "later"}}); err != nil {
		t.Fatalf("good registrations refused: %v", err)
	}
	for name, tc := range map[string]struct {
		regs []Registration
		want string
	}{
		"bad type":       {[]Registration{{Type: "Ab-c", Name: "x", Blurb: "x"}}, "lower-case"},
		"twice":          {[]Registration{good, good}, "registered twice"},
		"no name":        {[]Registration{{Type: "x", Blurb: "x"}}, "name and a blurb"},
		"foreign route":  {[]Registration{{Type: "x", Name: "x", Blurb: "x", New: live, Routes: []Route{{Method: "GET", Path: "/connectors/abc/cb", Handle: noop}}}}, "not under"},
		"bare prefix":    {[]Registration{{Type: "x", Name: "x", Blurb: "x", New: live, Routes: []Route{{Method: "GET", Path: "/connectors/x/", Handle: noop}}}}, "not under"},
		"method":         {[]Registration{{Type: "x", Name: "x", Blurb: "x", New: live, Routes: []Route{{Method: "PUT", Path: "/webhooks/x", Handle: noop}}}}, "only GET and POST"},
		"no handler":     {[]Registration{{Type: "x", Name: "x", Blurb: "x", New: live, Routes: []Route{{Method: "POST", Path: "/webhooks/x"}}}}, "no handler"},
		"routes, no New": {[]Registration{{Type: "x", Name: "x", Blurb: "x", Routes: []Route{{Method: "POST", Path: "/webhooks/x", Handle: noop}}}}, "no New"},
		"route twice":    {[]Registration{{Type: "x", Name: "x", Blurb: "x", New: live, Routes: []Route{{Method: "POST", Path: "/webhooks/x", Handle: noop}, {Method: "POST", Path: "/webhooks/x", Handle: noop}}}}, "declared twice"},
	} {
		err := Check(tc.regs)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Check = %v, want %q", name, err, tc.want)
		}
	}
}

func TestOpenBuildsLivePlatformsOnly(t *testing.T) {
	built := 0
	regs := []Registration{
		{Type: "abc", Name: "Abc", Blurb: "b", New: func(cfg Config) (Platform, error) {
			built++
			if cfg.Getenv("ABC_KEY") != "k" {
				t.Errorf("Getenv not passed through")
			}
			return fakePlatform{"abc"}, nil
		}},
		{Type: "soon", Name: "Soon", Blurb: "later"},
	}
	reg, err := Open(regs, Config{Getenv: func(k string) string { return map[string]string{"ABC_KEY": "k"}[k] }})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := reg.Get("abc"); !ok || built != 1 {
		t.Errorf("abc not configured (built %d)", built)
	}
	if _, ok := reg.Get("soon"); ok {
		t.Error("a coming-soon platform is configured")
	}
	if len(reg.Registrations()) != 2 {
		t.Errorf("%d registrations", len(reg.Registrations()))
	}
	regs[0].New = func(Config) (Platform, error) { return nil, phantomos.Errorf(phantomos.EINVALID, "ABC_KEY is missing") }
	if _, err := Open(regs, Config{}); err == nil || !strings.Contains(err.Error(), "Abc: ") || !strings.Contains(err.Error(), "ABC_KEY is missing") {
		t.Errorf("a misconfigured platform: %v", err)
	}
	var none *Registry
	if _, ok := none.Get("abc"); ok {
		t.Error("nil registry has platforms")
	}
}

func TestMethodValuesBoundsAndNamesFields(t *testing.T) {
	m := Method{Fields: []Field{{Name: "shop", Label: "Store address", Required: true, MaxLen: 10}, {Name: "secret", Label: "Secret"}}}
	v, err := m.Values(url.Values{"shop": {"  nova  "}})
	if err != nil || v["shop"] != "nova" || v["secret"] != "" {
		t.Fatalf("Values = %v, %v", v, err)
	}
	if _, err := m.Values(url.Values{}); phantomos.ErrorCode(err) != phantomos.EINVALID || !strings.Contains(phantomos.ErrorMessage(err), "Store address is required") {
		t.Errorf("missing field: %v", err)
	}
	if _, err := m.Values(url.Values{"shop": {strings.Repeat("a", 11)}}); !strings.Contains(phantomos.ErrorMessage(err), "Store address is too long") {
		t.Errorf("long field: %v", err)
	}
	if _, err := m.Values(url.Values{"shop": {"a"}, "secret": {strings.Repeat("s", DefaultMaxLen+1)}}); !strings.Contains(phantomos.ErrorMessage(err), "Secret is too long") {
		t.Errorf("default bound: %v", err)
	}
}
