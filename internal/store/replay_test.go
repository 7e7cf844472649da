package store_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// TestReplayGuards: a webhook delivery is claimed once per connector —
// also by racing replicas (a second Store on the same database) — until
// it expires or is released, and independently of another tenant's
// claims; a signed request's id is consumed once, likewise. Only hashes
// are stored. On both engines.
func TestReplayGuards(t *testing.T) {
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		t.Run(string(d), func(t *testing.T) { testReplayGuards(t, storetest.URL(t, d)) })
	}
}

func testReplayGuards(t *testing.T, url string) {
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
	s, replica := open(), open()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	s.SetClock(clock)
	replica.SetClock(clock)
	a := newFixture(t, s, "alpha")
	b := newFixture(t, s, "beta")
	conn := func(pub phantomos.PublisherID) string {
		c := &phantomos.Connector{Type: "custom", Name: "Store"}
		if err := s.CreateConnector(ctx, pub, c); err != nil {
			t.Fatal(err)
		}
		return c.ID
	}
	ca, cb := conn(a.pub.ID), conn(b.pub.ID)

	claim := func(st *store.Store, pub phantomos.PublisherID, c, key string) bool {
		t.Helper()
		ok, err := st.ClaimDelivery(ctx, pub, c, key, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !claim(s, a.pub.ID, ca, "event-1") {
		t.Fatal("first claim refused")
	}
	if claim(replica, a.pub.ID, ca, "event-1") {
		t.Error("the same delivery claimed again on another replica")
	}
	if !claim(s, b.pub.ID, cb, "event-1") {
		t.Error("B's delivery with the same key was refused because of A's")
	}
	var stored string
	if err := s.DB().QueryRowContext(ctx, `SELECT key_hash FROM webhook_deliveries WHERE publisher_id = $1`, a.pub.ID).Scan(&stored); err != nil || len(stored) != 64 {
		t.Errorf("stored key %q (%v), want its SHA-256", stored, err)
	}
	// B releasing its own claim leaves A's.
	if err := s.ReleaseDelivery(ctx, b.pub.ID, ca, "event-1"); err != nil {
		t.Fatal(err)
	}
	if claim(s, a.pub.ID, ca, "event-1") {
		t.Error("B released A's claim")
	}
	// Released after a failure: the retry is claimed.
	if err := replica.ReleaseDelivery(ctx, a.pub.ID, ca, "event-1"); err != nil {
		t.Fatal(err)
	}
	if !claim(s, a.pub.ID, ca, "event-1") {
		t.Error("a released delivery cannot be claimed again")
	}
	// Expired: claimed again.
	now = now.Add(2 * time.Hour)
	if !claim(replica, a.pub.ID, ca, "event-1") {
		t.Error("an expired claim still blocks")
	}
	// Racing replicas: one wins.
	var wins atomic.Int32
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			st := s
			if i%2 == 1 {
				st = replica
			}
			if ok, err := st.ClaimDelivery(ctx, a.pub.ID, ca, "event-race", time.Hour); err == nil && ok {
				wins.Add(1)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Errorf("%d racing claims won, want 1", wins.Load())
	}
	if _, err := s.ClaimDelivery(ctx, a.pub.ID, ca, "k", 0); err == nil {
		t.Error("a zero lifetime accepted")
	}

	// Signed request ids.
	consume := func(st *store.Store, issuer, id string) bool {
		t.Helper()
		ok, err := st.ConsumeSignedID(ctx, issuer, id, 10*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !consume(s, "platform-a", "jti-1") || consume(replica, "platform-a", "jti-1") {
		t.Error("a signed request id is not consumed exactly once")
	}
	if !consume(s, "platform-b", "jti-1") {
		t.Error("another issuer's id with the same value was refused")
	}
	now = now.Add(11 * time.Minute)
	if !consume(replica, "platform-a", "jti-1") {
		t.Error("an expired id still blocks")
	}
	var n int
	s.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM signed_request_ids`).Scan(&n)
	if n != 1 {
		t.Errorf("%d ids kept, want 1 (the expired ones are dropped)", n)
	}
}
