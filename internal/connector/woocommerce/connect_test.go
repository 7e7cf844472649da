package woocommerce_test

import (
	"context"
	"strings"
	"testing"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/connector"
	"github.com/phantomos/phantomos/internal/connector/woocommerce"
	"github.com/phantomos/phantomos/internal/secret"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// TestConnectSealsCredentials: pasted credentials are tested, then stored
// sealed (the secret never in clear) with a webhook secret; wrong ones are
// refused and leave nothing stored. On both engines.
func TestConnectSealsCredentials(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		h := newHarness(t, s, phantomos.RefundOnOrderDate)
		keys, err := secret.Parse("k1:" + secret.Generate())
		if err != nil {
			t.Fatal(err)
		}
		vault := connector.NewVault(keys, s)
		bad := woocommerce.Credentials{URL: h.srv.URL, ConsumerKey: h.srv.Key, ConsumerSecret: "cs_" + strings.Repeat("0", 40)}
		if _, err := woocommerce.Connect(ctx, h.engine, vault, h.target, bad, woocommerce.Config{Logger: quiet}); connector.KindOf(err) != connector.Auth {
			t.Fatalf("wrong secret: %v", err)
		}
		if raw, _, err := s.ConnectorCredentials(ctx, h.target.Publisher, h.target.ConnectorID); err == nil && len(raw) > 0 {
			t.Errorf("wrong credentials were stored")
		}
		good := woocommerce.Credentials{URL: h.srv.URL + "/", ConsumerKey: h.srv.Key, ConsumerSecret: h.srv.Secret}
		acc, err := woocommerce.Connect(ctx, h.engine, vault, h.target, good, woocommerce.Config{Logger: quiet})
		if err != nil || acc.Currency != "USD" {
			t.Fatalf("connect: %+v, %v", acc, err)
		}
		raw, _, err := s.ConnectorCredentials(ctx, h.target.Publisher, h.target.ConnectorID)
		if err != nil || strings.Contains(string(raw), h.srv.Secret) || strings.Contains(string(raw), h.srv.Key) {
			t.Fatalf("stored credentials in clear or missing: %v", err)
		}
		c, cr, err := woocommerce.Open(ctx, vault, h.target, woocommerce.Config{Logger: quiet})
		if err != nil || cr.ConsumerSecret != h.srv.Secret || len(cr.WebhookSecret) < 32 || cr.URL != h.srv.URL {
			t.Fatalf("open: %+v, %v", cr, err)
		}
		if _, err := c.Test(ctx); err != nil {
			t.Error(err)
		}
		conn, err := s.Connector(ctx, h.target.Publisher, h.target.ConnectorID)
		if err != nil || conn.Status != store.ConnectorActive {
			t.Errorf("connector after connect: %+v, %v", conn, err)
		}
	})
}
