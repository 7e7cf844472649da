package web

import (
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/phantomos/phantomos/internal/connector/shopify"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// TestConnectUnreachableStore: connecting a store that never answers gives
// the form back with a clear message once the short connect deadline has
// passed, and leaves no connector behind; a store that refuses the token
// does the same. Both engines.
func TestConnectUnreachableStore(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		h := newShop(t, s, false, "")
		// A server that accepts connections and never answers.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				t.Cleanup(func() { c.Close() })
			}
		}()
		for _, tc := range []struct {
			name, baseURL, token, want string
		}{
			{"silent", "http://" + ln.Addr().String(), h.fake.IssueToken(""), "did not answer within 300ms"},
			{"refused", h.fake.URL, "shpat_00000000000000000000000000000000", "Nothing was saved."},
		} {
			opts := h.opts
			opts.Platforms, opts.ConnectTimeout = testPlatforms(t, shopify.NewPlatform(shopify.Options{BaseURL: tc.baseURL})), 300*time.Millisecond
			h.srv.EnableConnectors(h.keys, opts)
			resp, body := h.send(http.MethodPost, "/connectors/shopify", url.Values{"shop": {h.fake.Shop()}, "token": {tc.token}}, nil)
			if resp.StatusCode == http.StatusSeeOther || !strings.Contains(body, tc.want) {
				t.Errorf("%s: %d %s, want the form with %q\n%.400s", tc.name, resp.StatusCode, resp.Header.Get("Location"), tc.want, body)
			}
			if cs := h.connectors(); len(cs) != 0 {
				t.Errorf("%s: a failed connection left %d connectors", tc.name, len(cs))
			}
		}
	})
}
