package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/connector"
	"github.com/phantomos/phantomos/internal/connector/platform"
	"github.com/phantomos/phantomos/internal/connector/shopify"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// TestHostConnectAs: a platform that receives credentials on a request
// that is not the person's browser (keys posted to a callback) connects
// them for the publisher and user its state names, only while that user
// may still manage connectors.
func TestHostConnectAs(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		h := newShop(t, s, false, "")
		p, ok := h.srv.platform(shopify.Type)
		if !ok {
			t.Fatal("shopify not configured")
		}
		cr, err := shopify.CustomAppCredentials(h.fake.Shop(), h.fake.IssueToken("read_products,read_orders"), "")
		if err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest(http.MethodPost, "/connectors/shopify/callback", nil)
		analyst := h.a.users[phantomos.RoleAnalyst]
		if _, err := h.srv.host().ConnectAs(req, h.a.pub.ID, analyst.ID, p, cr, ""); phantomos.ErrorCode(err) != phantomos.EFORBIDDEN {
			t.Errorf("connect as an analyst: %v, want EFORBIDDEN", err)
		}
		if _, err := h.srv.host().ConnectAs(req, h.a.pub.ID, "no-such-user", p, cr, ""); err == nil {
			t.Error("connect as an unknown user succeeded")
		}
		if n := len(h.connectors()); n != 0 {
			t.Fatalf("refused connections left %d connectors", n)
		}
		admin := h.a.users[phantomos.RoleAdmin]
		c, err := h.srv.host().ConnectAs(req, h.a.pub.ID, admin.ID, p, cr, "")
		if err != nil {
			t.Fatal(err)
		}
		if run := h.waitSync(c.ID, 1); run.State != store.SyncSucceeded {
			t.Fatalf("first sync: %+v", run)
		}
		h.check(c.ID)
		entries, err := s.AuditLog(context.Background(), h.a.pub.ID, time.Now().Add(time.Hour), 100)
		var set []store.AuditEntry
		for _, e := range entries {
			if e.Action == "connector.credentials_set" {
				set = append(set, e)
			}
		}
		if err != nil || len(set) != 1 || set[0].ActorID != admin.ID {
			t.Errorf("audit of the connection: %+v, %v", set, err)
		}
	})
}

// telling is a configured platform that records Disconnect calls.
type telling struct {
	platform.Platform
	told atomic.Int32
}

func (p *telling) Disconnect(ctx context.Context, h platform.Host, t connector.Target) error {
	p.told.Add(1)
	return nil
}

// TestDisconnecterIsTold: disconnecting a connector tells a platform that
// implements platform.Disconnecter, then wipes the credentials.
func TestDisconnecterIsTold(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		h := newShop(t, s, false, "")
		tp := &telling{Platform: shopify.NewPlatform(shopify.Options{BaseURL: h.fake.URL})}
		opts := h.opts
		opts.Platforms = testPlatforms(t, tp)
		h.srv.EnableConnectors(h.keys, opts)
		id := h.connectWithToken(url.Values{"shop": {h.fake.Shop()}, "token": {h.fake.IssueToken("read_products,read_orders")}})
		h.waitSync(id, 1)
		if resp, _ := h.send(http.MethodPost, "/connectors/"+id+"/disconnect", url.Values{}, nil); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("disconnect: %d", resp.StatusCode)
		}
		if tp.told.Load() != 1 {
			t.Errorf("the platform was told %d times", tp.told.Load())
		}
		if c, _ := s.Connector(context.Background(), h.a.pub.ID, id); c.Status != store.ConnectorDisconnected {
			t.Errorf("status after disconnect: %s", c.Status)
		}
	})
}
