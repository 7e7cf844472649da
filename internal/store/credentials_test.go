package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// TestCredentialRefreshLease: one refresher at a time holds the lease on a
// credentials version; a swap succeeds only on the version read, leaves
// the status alone and frees the lease; any other write of the
// credentials moves the version on; another tenant's connector is not
// found.
func TestCredentialRefreshLease(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := newFixture(t, s, "alpha")
		b := newFixture(t, s, "beta")
		c := &phantomos.Connector{Type: phantomos.ConnectorShopify, Name: "Shop"}
		if err := s.CreateConnector(ctx, a.pub.ID, c); err != nil {
			t.Fatal(err)
		}
		if err := s.SaveConnectorCredentials(ctx, a.pub.ID, c.ID, []byte("v1"), "k1"); err != nil {
			t.Fatal(err)
		}
		if err := s.SetConnectorStatus(ctx, a.pub.ID, c.ID, store.ConnectorActive, ""); err != nil {
			t.Fatal(err)
		}
		ct, _, v, err := s.ConnectorCredentialsVersion(ctx, a.pub.ID, c.ID)
		if err != nil || string(ct) != "v1" {
			t.Fatalf("read: %q %v", ct, err)
		}
		if _, _, _, err := s.ConnectorCredentialsVersion(ctx, b.pub.ID, c.ID); phantomos.ErrorCode(err) != phantomos.ENOTFOUND {
			t.Errorf("another tenant's credentials: %v", err)
		}
		until := time.Now().Add(time.Minute)
		if ok, err := s.ClaimCredentialRefresh(ctx, b.pub.ID, c.ID, v, until); ok || err != nil {
			t.Errorf("another tenant took the lease: %v %v", ok, err)
		}
		if ok, _ := s.ClaimCredentialRefresh(ctx, a.pub.ID, c.ID, v, until); !ok {
			t.Fatal("first claim refused")
		}
		if ok, _ := s.ClaimCredentialRefresh(ctx, a.pub.ID, c.ID, v, until); ok {
			t.Error("second claim of a live lease granted")
		}
		if ok, _ := s.SwapConnectorCredentials(ctx, a.pub.ID, c.ID, v+1, []byte("x"), "k1"); ok {
			t.Error("swap on a version never read")
		}
		if ok, err := s.SwapConnectorCredentials(ctx, a.pub.ID, c.ID, v, []byte("v2"), "k2"); !ok || err != nil {
			t.Fatalf("swap: %v %v", ok, err)
		}
		if ok, _ := s.SwapConnectorCredentials(ctx, a.pub.ID, c.ID, v, []byte("v3"), "k2"); ok {
			t.Error("a second swap on the same version succeeded: one refresh would overwrite another")
		}
		ct, key, v2, _ := s.ConnectorCredentialsVersion(ctx, a.pub.ID, c.ID)
		if string(ct) != "v2" || key != "k2" || v2 != v+1 {
			t.Errorf("after swap: %q %q version %d, want v2 k2 %d", ct, key, v2, v+1)
		}
		if got, _ := s.Connector(ctx, a.pub.ID, c.ID); got.Status != store.ConnectorActive {
			t.Errorf("a refresh changed the status to %s", got.Status)
		}
		// The swap freed the lease; a failed refresh frees it too.
		if ok, _ := s.ClaimCredentialRefresh(ctx, a.pub.ID, c.ID, v2, until); !ok {
			t.Error("lease not free after the swap")
		}
		if err := s.ReleaseCredentialRefresh(ctx, a.pub.ID, c.ID, v2); err != nil {
			t.Fatal(err)
		}
		if ok, _ := s.ClaimCredentialRefresh(ctx, a.pub.ID, c.ID, v2, time.Now().Add(-time.Second)); !ok {
			t.Error("lease not free after release")
		}
		// A lapsed lease (its holder died) can be taken over.
		if ok, _ := s.ClaimCredentialRefresh(ctx, a.pub.ID, c.ID, v2, until); !ok {
			t.Error("a lapsed lease was not taken over")
		}
		// Reconnecting writes new credentials: the refresher's version is stale.
		if err := s.SaveConnectorCredentials(ctx, a.pub.ID, c.ID, []byte("new"), "k3"); err != nil {
			t.Fatal(err)
		}
		if ok, _ := s.SwapConnectorCredentials(ctx, a.pub.ID, c.ID, v2, []byte("late"), "k2"); ok {
			t.Error("a refresh overwrote credentials saved after it read them")
		}
	})
}

// TestPendingInstalls: a parked install is found by its token only, is
// claimed once, and not after it expires.
func TestPendingInstalls(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		tok := strings.Repeat("a", 43)
		p := store.PendingInstall{Platform: "shopify", Account: "nova.myshopify.com", Ciphertext: []byte("sealed"), KeyID: "k1", ExpiresAt: time.Now().Add(time.Hour)}
		if err := s.ParkInstall(ctx, tok, p); err != nil {
			t.Fatal(err)
		}
		if _, acc, err := s.PendingInstallAccount(ctx, tok); err != nil || acc != p.Account {
			t.Errorf("peek: %q %v", acc, err)
		}
		if _, err := s.ClaimInstall(ctx, strings.Repeat("b", 43)); phantomos.ErrorCode(err) != phantomos.ENOTFOUND {
			t.Errorf("claim with another token: %v", err)
		}
		got, err := s.ClaimInstall(ctx, tok)
		if err != nil || string(got.Ciphertext) != "sealed" || got.Account != p.Account {
			t.Fatalf("claim: %+v %v", got, err)
		}
		if _, err := s.ClaimInstall(ctx, tok); phantomos.ErrorCode(err) != phantomos.ENOTFOUND {
			t.Errorf("second claim: %v", err)
		}
		old := strings.Repeat("c", 43)
		p.ExpiresAt = time.Now().Add(-time.Minute)
		if err := s.ParkInstall(ctx, old, p); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ClaimInstall(ctx, old); phantomos.ErrorCode(err) != phantomos.ENOTFOUND {
			t.Errorf("claim of an expired install: %v", err)
		}
		if err := s.ParkInstall(ctx, "short", p); err == nil {
			t.Error("a short token was accepted")
		}
	})
}
