package store_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// TestOAuthNonces: a nonce is consumed once (also by racing callbacks, and
// by a second Store on the same database, as another replica would be),
// not after it expires, and only by its publisher; only its hash is stored.
func TestOAuthNonces(t *testing.T) {
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		t.Run(string(d), func(t *testing.T) { testOAuthNonces(t, storetest.URL(t, d)) })
	}
}

func testOAuthNonces(t *testing.T, url string) {
	ctx := context.Background()
	open := func() *store.Store {
		s, err := store.Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		if _, err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := open()
	a := newFixture(t, s, "alpha")
	b := newFixture(t, s, "beta")
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	s.SetClock(func() time.Time { return now })

	if err := s.PutOAuthNonce(ctx, a.pub.ID, "nonce-1", now.Add(15*time.Minute)); err != nil {
		t.Fatal(err)
	}
	var stored string
	if err := s.DB().QueryRowContext(ctx, `SELECT nonce_hash FROM oauth_states WHERE publisher_id = $1`, a.pub.ID).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if stored == "nonce-1" || len(stored) != 64 {
		t.Errorf("stored nonce %q, want its SHA-256", stored)
	}
	if ok, err := s.ConsumeOAuthNonce(ctx, b.pub.ID, "nonce-1"); ok || err != nil {
		t.Errorf("B consumed A's nonce: %v, %v", ok, err)
	}
	if ok, err := s.ConsumeOAuthNonce(ctx, a.pub.ID, "nonce-1"); !ok || err != nil {
		t.Errorf("first use: %v, %v", ok, err)
	}
	if ok, err := s.ConsumeOAuthNonce(ctx, a.pub.ID, "nonce-1"); ok || err != nil {
		t.Errorf("second use: %v, %v", ok, err)
	}
	if ok, _ := s.ConsumeOAuthNonce(ctx, a.pub.ID, "never-issued"); ok {
		t.Error("unknown nonce accepted")
	}

	// Expired: refused, and removed.
	s.PutOAuthNonce(ctx, a.pub.ID, "nonce-2", now.Add(time.Minute))
	now = now.Add(2 * time.Minute)
	if ok, _ := s.ConsumeOAuthNonce(ctx, a.pub.ID, "nonce-2"); ok {
		t.Error("expired nonce accepted")
	}
	// Starting another install drops the publisher's expired nonces.
	s.PutOAuthNonce(ctx, a.pub.ID, "nonce-3", now.Add(-time.Second))
	s.PutOAuthNonce(ctx, a.pub.ID, "nonce-4", now.Add(time.Minute))
	var n int
	s.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM oauth_states WHERE publisher_id = $1`, a.pub.ID).Scan(&n)
	if n != 1 {
		t.Errorf("%d nonces kept, want 1 (the live one)", n)
	}

	// Racing callbacks, half through a second handle on the database:
	// exactly one wins.
	other := open()
	other.SetClock(func() time.Time { return now })
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := s
			if i%2 == 1 {
				st = other
			}
			ok, err := st.ConsumeOAuthNonce(ctx, a.pub.ID, "nonce-4")
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if wins != 1 {
		t.Errorf("%d callbacks consumed the same nonce, want 1", wins)
	}
}

// TestConnectorAccounts: the account a connector reaches is saved with its
// test report, found per publisher by account, and listed across
// publishers only while the connector holds credentials.
func TestConnectorAccounts(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := newFixture(t, s, "alpha")
		b := newFixture(t, s, "beta")
		const shop = "nova-merch.myshopify.com"
		ca := &phantomos.Connector{Type: phantomos.ConnectorShopify, Name: "Nova"}
		cb := &phantomos.Connector{Type: phantomos.ConnectorShopify, Name: "Nova too"}
		for _, x := range []struct {
			pub phantomos.PublisherID
			c   *phantomos.Connector
		}{{a.pub.ID, ca}, {b.pub.ID, cb}} {
			if err := s.CreateConnector(ctx, x.pub, x.c); err != nil {
				t.Fatal(err)
			}
			if err := s.SaveConnectorAccount(ctx, x.pub, x.c.ID, store.ConnectorAccount{External: shop}); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.ConnectorAccount(ctx, a.pub.ID, ca.ID)
		if err != nil || got.External != shop || string(got.Info) != "{}" {
			t.Errorf("account before a test = %+v, %v", got, err)
		}
		info := json.RawMessage(`{"name":"Nova Merch","currency":"EUR"}`)
		if err := s.SaveConnectorAccount(ctx, a.pub.ID, ca.ID, store.ConnectorAccount{External: shop, Info: info}); err != nil {
			t.Fatal(err)
		}
		// A nil Info keeps the report.
		if err := s.SaveConnectorAccount(ctx, a.pub.ID, ca.ID, store.ConnectorAccount{External: shop}); err != nil {
			t.Fatal(err)
		}
		got, _ = s.ConnectorAccount(ctx, a.pub.ID, ca.ID)
		var gotInfo, wantInfo map[string]any
		json.Unmarshal(got.Info, &gotInfo)
		json.Unmarshal(info, &wantInfo)
		if diff := cmp.Diff(wantInfo, gotInfo); diff != "" {
			t.Errorf("account info (-want +got):\n%s", diff)
		}
		if err := s.SaveConnectorAccount(ctx, a.pub.ID, ca.ID, store.ConnectorAccount{External: shop, Info: json.RawMessage(`{bad`)}); err == nil {
			t.Error("invalid JSON accepted")
		}

		if c, err := s.ConnectorByAccount(ctx, a.pub.ID, phantomos.ConnectorShopify, shop); err != nil || c.ID != ca.ID {
			t.Errorf("ConnectorByAccount as A = %+v, %v", c, err)
		}
		if _, err := s.ConnectorByAccount(ctx, a.pub.ID, phantomos.ConnectorShopify, "other.myshopify.com"); phantomos.ErrorCode(err) != phantomos.ENOTFOUND {
			t.Errorf("unknown account: %v", err)
		}
		// Tenant isolation.
		if _, err := s.ConnectorAccount(ctx, b.pub.ID, ca.ID); phantomos.ErrorCode(err) != phantomos.ENOTFOUND {
			t.Errorf("ConnectorAccount as B: %v", err)
		}
		if err := s.SaveConnectorAccount(ctx, b.pub.ID, ca.ID, store.ConnectorAccount{External: "x"}); phantomos.ErrorCode(err) != phantomos.ENOTFOUND {
			t.Errorf("SaveConnectorAccount as B: %v", err)
		}
		if c, err := s.ConnectorByAccount(ctx, b.pub.ID, phantomos.ConnectorShopify, shop); err != nil || c.ID != cb.ID {
			t.Errorf("ConnectorByAccount as B = %+v, %v", c, err)
		}

		// Across publishers, only connectors holding credentials.
		if refs, err := s.ConnectorsByAccount(ctx, phantomos.ConnectorShopify, shop); err != nil || len(refs) != 0 {
			t.Errorf("without credentials: %v, %v", refs, err)
		}
		s.SaveConnectorCredentials(ctx, a.pub.ID, ca.ID, []byte{1}, "k")
		s.SaveConnectorCredentials(ctx, b.pub.ID, cb.ID, []byte{2}, "k")
		refs, err := s.ConnectorsByAccount(ctx, phantomos.ConnectorShopify, shop)
		if err != nil || len(refs) != 2 {
			t.Fatalf("ConnectorsByAccount = %v, %v", refs, err)
		}
		s.DisconnectConnector(ctx, b.pub.ID, cb.ID)
		refs, _ = s.ConnectorsByAccount(ctx, phantomos.ConnectorShopify, shop)
		if want := []store.ConnectorRef{{PublisherID: a.pub.ID, ConnectorID: ca.ID}}; !cmp.Equal(want, refs) {
			t.Errorf("after B disconnects: %v, want %v", refs, want)
		}
		if refs, _ := s.ConnectorsByAccount(ctx, phantomos.ConnectorShopify, ""); len(refs) != 0 {
			t.Errorf("empty account matched %v", refs)
		}

		// Totals count what a connector brought in, per publisher.
		var wantLines int64
		s.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM sales WHERE connector_id = $1`, a.conn.ID).Scan(&wantLines)
		if p, l, err := s.ConnectorTotals(ctx, a.pub.ID, a.conn.ID); err != nil || p != int64(len(a.products)) || l != wantLines {
			t.Errorf("ConnectorTotals of the fixture's files = %d products, %d lines, %v; want %d, %d", p, l, err, len(a.products), wantLines)
		}
		if p, l, err := s.ConnectorTotals(ctx, b.pub.ID, a.conn.ID); err != nil || p != 0 || l != 0 {
			t.Errorf("ConnectorTotals of A's connector as B = %d, %d, %v", p, l, err)
		}
	})
}
