package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/config"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// TestExploreAsOwner: with --demo, "Explore as owner" gives each visitor a
// private copy of the demo that they own: they land on its Overview, may
// manage its team, and two visitors never share one. Without --demo the
// route does not exist. Both engines.
func TestExploreAsOwner(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		srv, ts := newTestServer(t, s)
		srv.demoCopySales = 1000
		visit := func() (*http.Client, *http.Response) {
			jar, _ := cookiejar.New(nil)
			c := &http.Client{Jar: jar}
			req, _ := http.NewRequest(http.MethodPost, ts.URL+"/login/demo/copy", strings.NewReader(url.Values{}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", ts.URL)
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return c, resp
		}
		if _, resp := visit(); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("without --demo: %d, want 404", resp.StatusCode)
		}
		srv.cfg = config.Config{Signup: "open", Demo: true}

		var pubs []phantomos.PublisherID
		for range 2 {
			c, resp := visit()
			if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/overview" {
				t.Fatalf("explore as owner: %d at %s", resp.StatusCode, resp.Request.URL.Path)
			}
			resp, err := c.Get(ts.URL + "/api/v1/me")
			if err != nil {
				t.Fatal(err)
			}
			var me struct {
				User struct {
					Role string `json:"role"`
				} `json:"user"`
				Publisher struct {
					ID string `json:"id"`
				} `json:"publisher"`
			}
			err = json.NewDecoder(resp.Body).Decode(&me)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if me.User.Role != string(phantomos.RoleOwner) {
				t.Errorf("the visitor is %q, want owner", me.User.Role)
			}
			pubs = append(pubs, phantomos.PublisherID(me.Publisher.ID))
			if resp, err := c.Get(ts.URL + "/settings/team"); err != nil || resp.StatusCode != http.StatusOK {
				t.Errorf("the owner cannot open the team page: %v %v", resp, err)
			}
		}
		if pubs[0] == pubs[1] || pubs[0] == "" {
			t.Errorf("two visitors got copies %q and %q", pubs[0], pubs[1])
		}
		for _, id := range pubs {
			p, err := s.Publisher(context.Background(), id)
			if err != nil || p.Settings.ExpiresAt == nil {
				t.Errorf("copy %s: %+v, %v", id, p, err)
			}
		}
	})
}
