package web

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/connector"
	"github.com/phantomos/phantomos/internal/connector/shopify"
	"github.com/phantomos/phantomos/internal/store"
)

// handleShopifyWebhook receives every store's Shopify webhooks. It is
// public: each delivery proves where it comes from by its signature, which
// shopify.WebhookHandler checks against the secrets of the connectors of
// the shop it names before anything is written.
func (s *Server) handleShopifyWebhook(w http.ResponseWriter, r *http.Request) error {
	if s.conn == nil {
		return phantomos.Errorf(phantomos.ENOTFOUND, "This server does not receive webhooks.")
	}
	s.conn.webhooks.ServeHTTP(w, r)
	return nil
}

// shopifyWebhookTargets lists the connectors, of any publisher, that hold
// credentials for shop, each with the secrets that sign its webhooks: the
// public app's client secret for stores connected through the app, the
// custom app's API secret key for the others.
func (s *Server) shopifyWebhookTargets(ctx context.Context, shop string) ([]shopify.WebhookTarget, error) {
	refs, err := s.store.ConnectorsByAccount(ctx, phantomos.ConnectorShopify, shop)
	if err != nil {
		return nil, err
	}
	var out []shopify.WebhookTarget
	for _, ref := range refs {
		t := connector.Target{Publisher: ref.PublisherID, ConnectorID: ref.ConnectorID}
		var cr shopify.Credentials
		if err := s.conn.vault.Load(ctx, t, &cr); err != nil {
			s.logger.Warn("shopify webhook: credentials", "publisher", t.Publisher, "connector", t.ConnectorID, "err", err)
			continue
		}
		wt := shopify.WebhookTarget{Target: t, Shop: cr.Shop}
		switch {
		case cr.Mode == shopify.ModeOAuth && s.conn.app != nil:
			wt.Secrets = []string{s.conn.app.ClientSecret}
		case (cr.Mode == shopify.ModeCustom || cr.Mode == shopify.ModeClientCredentials) && cr.WebhookSecret != "":
			wt.Secrets = []string{cr.WebhookSecret}
		default:
			continue // nothing verifies its deliveries
		}
		if wt.Currency, err = s.shopCurrency(ctx, t); err != nil {
			return nil, err
		}
		out = append(out, wt)
	}
	return out, nil
}

// shopCurrency is the currency the last connection test of t found, ""
// if it was never recorded. It makes no request to Shopify: it runs
// before the delivery's signature is checked.
func (s *Server) shopCurrency(ctx context.Context, t connector.Target) (string, error) {
	acc, err := s.store.ConnectorAccount(ctx, t.Publisher, t.ConnectorID)
	if err != nil {
		return "", err
	}
	var info connector.Account
	if len(acc.Info) > 0 && json.Unmarshal(acc.Info, &info) != nil {
		return "", nil
	}
	return info.Currency, nil
}

// shopifyUninstalled handles app/uninstalled: the store removed the app,
// so its token is dead. The connector is disconnected and its credentials
// wiped; the data synced so far stays.
func (s *Server) shopifyUninstalled(ctx context.Context, t connector.Target) error {
	if err := s.store.DisconnectConnector(ctx, t.Publisher, t.ConnectorID); err != nil {
		return err
	}
	c, err := s.store.Connector(ctx, t.Publisher, t.ConnectorID)
	if err != nil {
		return err
	}
	if err := s.store.Audit(ctx, t.Publisher, store.AuditEntry{Actor: "shopify", Action: "connector.uninstalled", Target: c.Name}); err != nil {
		s.logger.Error("audit", "action", "connector.uninstalled", "err", err)
	}
	return nil
}
