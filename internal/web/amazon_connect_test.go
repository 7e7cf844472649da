package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/connector"
	"github.com/phantomos/phantomos/internal/connector/amazon"
	"github.com/phantomos/phantomos/internal/connector/amazon/amazontest"
	"github.com/phantomos/phantomos/internal/connector/platform"
	"github.com/phantomos/phantomos/internal/secret"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// amazonSeller fills the fake seller with shipped orders over the last
// weeks, one cancelled and one pending, and returns what a sync must
// store: its lines and net (cancelled and pending orders are not sales).
func amazonSeller(fake *amazontest.Server, n int) (lines, net int64) {
	now := fake.Now()
	for i := range n {
		at := now.Add(-time.Duration(10+i*13) * time.Hour)
		o := amazontest.Order{ID: fmt.Sprintf("111-%07d-%07d", i, 4242+i), Marketplace: "ATVPDKIKX0DER", Created: at, Updated: at.Add(time.Hour),
			Status: "SHIPPED", FulfilledBy: "AMAZON", Country: "US", State: "WA",
			Items: []amazontest.Item{{ID: fmt.Sprint(i), SKU: "NOVA-FIG-01", ASIN: "B0NOVA0001", Title: "Nova Figure", Qty: int64(1 + i%2), Price: 2999, Tax: 300}}}
		switch i % 7 {
		case 3:
			o.Status = "CANCELLED"
		case 5:
			o.Status = "PENDING"
		default:
			lines++
			net += 2999 * int64(1+i%2)
		}
		fake.Put(o)
	}
	return lines, net
}

// newAmazon is a server whose Amazon platform has a public application
// (a draft) registered with the fake, and a fake seller with orders.
func newAmazon(t *testing.T, s *store.Store) (*shop, *amazontest.Server) {
	t.Helper()
	fake := amazontest.New(t, amazontest.Options{Draft: true, ReportPolls: -1, Start: time.Now().UTC()})
	keys, err := secret.Parse(secret.Generate())
	if err != nil {
		t.Fatal(err)
	}
	h := &shop{t: t, s: s, a: newTenant(t, s, "alpha"), keys: keys}
	h.srv, h.ts = newTestServer(t, s)
	h.wantLines, h.wantNet = amazonSeller(fake, 20)
	p := amazon.NewPlatform(amazon.PlatformOptions{BaseURL: fake.URL, TokenURL: fake.TokenURL(), ConsentURL: fake.URL,
		ApplicationID: fake.ApplicationID(), ClientID: fake.ClientID(), ClientSecret: fake.ClientSecret(), Draft: true})
	h.opts = ConnectorOptions{Platforms: testPlatforms(t, p),
		Engine: connector.Config{Lookback: -1, BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, Rate: 1000, Burst: 100}}
	h.srv.EnableConnectors(keys, h.opts)
	startJobs(t, h.srv, s)
	h.admin = cookie(t, s, h.a.users[phantomos.RoleAdmin])
	return h, fake
}

// authorize posts the wizard's "Authorize with Amazon" form as user and
// returns the consent URL it redirects to.
func (h *shop) authorize(fake *amazontest.Server, user *http.Cookie, form url.Values) string {
	h.t.Helper()
	resp, body := h.send(http.MethodPost, "/connectors/amazon/authorize", form, user)
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, fake.URL+"/apps/authorize/consent?") {
		h.t.Fatalf("authorize: %d %s\n%.500s", resp.StatusCode, loc, body)
	}
	return loc
}

// approve is the seller confirming on the fake's consent page; it returns
// the callback path and query.
func (h *shop) approve(fake *amazontest.Server, consent string) string {
	h.t.Helper()
	back, err := fake.Approve(consent)
	if err != nil {
		h.t.Fatalf("consent page refused %s: %v", consent, err)
	}
	if !strings.HasPrefix(back, h.ts.URL+"/connectors/amazon/callback?") {
		h.t.Fatalf("consent sends the browser to %s", back)
	}
	return strings.TrimPrefix(back, h.ts.URL)
}

// TestAmazonConsentFlow goes through Seller Central's website
// authorization workflow against the fake: the wizard's form sends the
// browser to the consent page with the application id, a state and
// version=beta (a draft application); the callback's code is exchanged for
// a refresh token, stored sealed, the connection tested and the first sync
// stores exactly the fake seller's sales. A replayed, forged, expired or
// someone else's callback is refused without connecting anything, as is a
// code Amazon does not accept; authorizing again reconnects the same
// connector.
func TestAmazonConsentFlow(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		h, fake := newAmazon(t, s)
		region := url.Values{"region": {"na"}}

		resp, page := h.send(http.MethodGet, "/connectors/new/amazon", nil, nil)
		if !strings.Contains(page, `action="/connectors/amazon/authorize"`) || !strings.Contains(page, `id="authorize-amazon"`) {
			t.Fatalf("the connect step lacks Authorize with Amazon:\n%.3000s", page)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' "+fake.URL) {
			t.Errorf("the authorize form cannot lead to Seller Central under CSP %q", csp)
		}
		if resp, page := h.send(http.MethodPost, "/connectors/amazon/authorize", url.Values{"region": {"XX"}}, nil); resp.StatusCode != http.StatusUnprocessableEntity ||
			!strings.Contains(page, "Region must be NA, EU or FE") {
			t.Errorf("region XX: %d", resp.StatusCode)
		}

		consent := h.authorize(fake, nil, region)
		u, _ := url.Parse(consent)
		q := u.Query()
		if q.Get("application_id") != fake.ApplicationID() || q.Get("version") != "beta" || q.Get("state") == "" ||
			q.Get("redirect_uri") != h.ts.URL+"/connectors/amazon/callback" {
			t.Errorf("consent URL %s", consent)
		}
		callback := h.approve(fake, consent)

		// Forged: the state's signature changed, or a state made up.
		cb, _ := url.Parse(callback)
		cq := cb.Query()
		forged := url.Values{}
		for k, v := range cq {
			forged[k] = v
		}
		st := cq.Get("state")
		forged.Set("state", st[:len(st)-2]+map[bool]string{true: "AA", false: "BB"}[!strings.HasSuffix(st, "AA")])
		for name, bad := range map[string]string{"changed signature": forged.Encode(), "no state": strings.Replace(cb.RawQuery, "state=", "x=", 1)} {
			resp, page := h.send(http.MethodGet, cb.Path+"?"+bad, nil, nil)
			if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, "not valid or was already used") {
				t.Errorf("%s: %d", name, resp.StatusCode)
			}
		}
		if n := len(h.connectors()); n != 0 {
			t.Fatalf("refused callbacks stored %d connectors", n)
		}

		// The genuine callback (the forgeries did not use it up).
		resp, page = h.send(http.MethodGet, callback, nil, nil)
		loc := resp.Header.Get("Location")
		if resp.StatusCode != http.StatusSeeOther || !strings.HasSuffix(loc, "/setup") {
			t.Fatalf("callback: %d %s\n%.800s", resp.StatusCode, loc, page)
		}
		id := strings.TrimSuffix(strings.TrimPrefix(loc, "/connectors/"), "/setup")
		if run := h.waitSync(id, 1); run.State != store.SyncSucceeded {
			t.Fatalf("first sync after consent: %+v", run)
		}
		h.check(id)
		target := connector.Target{Publisher: h.a.pub.ID, ConnectorID: id}
		var cr amazon.Credentials
		if err := h.srv.conn.vault.Load(ctx, target, &cr); err != nil || cr.SellingPartnerID != fake.SellerID() || cr.Region != "NA" ||
			!strings.HasPrefix(cr.RefreshToken, "Atzr|") || cr.ClientID != fake.ClientID() || cr.Kind != "" {
			t.Errorf("stored credentials: %+v, %v", cr, err)
		}
		if ct, _, err := s.ConnectorCredentials(ctx, h.a.pub.ID, id); err != nil || strings.Contains(string(ct), cr.RefreshToken) {
			t.Errorf("credentials not sealed (%v)", err)
		}
		if _, page := h.send(http.MethodGet, "/connectors/"+id+"/setup", nil, nil); !strings.Contains(page, "Amazon Seller Central NA: Amazon.com") {
			t.Errorf("the connection test does not show the region and marketplaces:\n%.2000s", page)
		}

		// Replayed.
		if resp, page := h.send(http.MethodGet, callback, nil, nil); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, "not valid or was already used") {
			t.Errorf("replayed callback: %d", resp.StatusCode)
		}
		// Reached by another member of the organization.
		other := h.approve(fake, h.authorize(fake, nil, region))
		if resp, page := h.send(http.MethodGet, other, nil, cookie(t, s, h.a.users[phantomos.RoleOwner])); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, "started by someone else") {
			t.Errorf("callback as another user: %d", resp.StatusCode)
		}
		// By a member of another organization: the state's publisher is
		// not theirs.
		b := newTenant(t, s, "beta")
		stranger := h.approve(fake, h.authorize(fake, nil, region))
		if resp, _ := h.send(http.MethodGet, stranger, nil, cookie(t, s, b.users[phantomos.RoleAdmin])); resp.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("callback as another organization's admin: %d", resp.StatusCode)
		}
		if list, _ := s.Connectors(ctx, b.pub.ID); len(list) != 0 {
			t.Errorf("the other organization got %d connectors", len(list))
		}
		// An analyst cannot finish one (nor start one).
		if resp, _ := h.send(http.MethodPost, "/connectors/amazon/authorize", region, cookie(t, s, h.a.users[phantomos.RoleAnalyst])); resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusForbidden {
			t.Errorf("analyst authorize: %d", resp.StatusCode)
		}
		// Expired: the seller took longer than the state allows.
		late := h.approve(fake, h.authorize(fake, nil, region))
		h.srv.SetClock(func() time.Time { return time.Now().Add(platform.StateTTL + time.Minute) })
		if resp, page := h.send(http.MethodGet, late, nil, nil); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, "took too long") {
			t.Errorf("expired state: %d", resp.StatusCode)
		}
		h.srv.SetClock(time.Now)
		// A code Amazon refuses (used already, or made up).
		bogus, _ := url.Parse(h.approve(fake, h.authorize(fake, nil, region)))
		bq := bogus.Query()
		bq.Set("spapi_oauth_code", "ANmadeUpCode")
		if resp, page := h.send(http.MethodGet, bogus.Path+"?"+bq.Encode(), nil, nil); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, "Amazon") {
			t.Errorf("refused code: %d", resp.StatusCode)
		}
		if list := h.connectors(); len(list) != 1 {
			t.Errorf("%d connectors after refused callbacks, want 1", len(list))
		}

		// Authorizing again from the connector's Reconnect: the same
		// connector gets the new token.
		if _, page := h.send(http.MethodGet, "/connectors/"+id+"/reconnect", nil, nil); !strings.Contains(page, `name="connector" value="`+id+`"`) {
			t.Errorf("reconnect page does not carry the connector into the authorize form")
		}
		again := h.approve(fake, h.authorize(fake, nil, url.Values{"region": {"NA"}, "connector": {id}}))
		resp, page = h.send(http.MethodGet, again, nil, nil)
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != "/connectors/"+id+"/setup" {
			t.Fatalf("reconnect callback: %d %s\n%.500s", resp.StatusCode, loc, page)
		}
		h.waitSync(id, 2)
		var cr2 amazon.Credentials
		if err := h.srv.conn.vault.Load(ctx, target, &cr2); err != nil || cr2.RefreshToken == cr.RefreshToken {
			t.Errorf("reconnect kept the old token (%v)", err)
		}
		if list := h.connectors(); len(list) != 1 {
			t.Errorf("%d connectors after reconnecting, want 1", len(list))
		}
		h.check(id)
	})
}

// TestAmazonConsentNeedsAnApplication: without a public application the
// wizard offers self-authorization only, and the consent routes say what
// to configure.
func TestAmazonConsentNeedsAnApplication(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		fake := amazontest.New(t, amazontest.Options{})
		keys, err := secret.Parse(secret.Generate())
		if err != nil {
			t.Fatal(err)
		}
		h := &shop{t: t, s: s, a: newTenant(t, s, "alpha"), keys: keys}
		h.srv, h.ts = newTestServer(t, s)
		h.srv.EnableConnectors(keys, ConnectorOptions{Platforms: testPlatforms(t, amazon.NewPlatform(amazon.PlatformOptions{BaseURL: fake.URL, TokenURL: fake.TokenURL()}))})
		h.admin = cookie(t, s, h.a.users[phantomos.RoleAdmin])
		_, page := h.send(http.MethodGet, "/connectors/new/amazon", nil, nil)
		if strings.Contains(page, "/connectors/amazon/authorize") || !strings.Contains(page, `id="connect-amazon"`) || !strings.Contains(page, `id="connect-amazon-vendor"`) {
			t.Errorf("without an application the connect step should offer the two self-authorization forms only")
		}
		resp, page := h.send(http.MethodPost, "/connectors/amazon/authorize", url.Values{"region": {"NA"}}, nil)
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, amazon.EnvApplicationID) {
			t.Errorf("authorize without an application: %d", resp.StatusCode)
		}
	})
}
