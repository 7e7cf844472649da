package web

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/connector"
	"github.com/phantomos/phantomos/internal/connector/shopify"
	"github.com/phantomos/phantomos/internal/secret"
	"github.com/phantomos/phantomos/internal/store"
)

// connectors is what syncing needs: the credential keyring, the vault
// over it and the engine. Without a keyring connectors cannot be added.
type connectors struct {
	keys   *secret.Keyring
	vault  *connector.Vault
	engine *connector.Engine
	// shopifyBaseURL replaces https://{shop} (tests against the fake).
	shopifyBaseURL string
}

// EnableConnectors lets the server store credentials sealed with keys and
// sync stores. shopifyBaseURL is empty in production.
func (s *Server) EnableConnectors(keys *secret.Keyring, shopifyBaseURL string) {
	s.conn = &connectors{
		keys:           keys,
		vault:          connector.NewVault(keys, s.store),
		engine:         connector.NewEngine(&connector.StoreSink{Store: s.store}, s.store, connector.Config{Logger: s.logger}),
		shopifyBaseURL: shopifyBaseURL,
	}
}

type connectorsPage struct {
	Connectors []*phantomos.Connector
	CanManage  bool
	Enabled    bool
	Error      string
	Shop       string
}

func (s *Server) renderConnectors(w http.ResponseWriter, r *http.Request, status int, p connectorsPage) error {
	a := phantomos.ActorFrom(r.Context())
	var err error
	if p.Connectors, err = s.store.Connectors(r.Context(), a.PublisherID); err != nil {
		return err
	}
	p.CanManage = a.Role.Can(phantomos.PermConnectors)
	p.Enabled = s.conn != nil
	data := s.pageData(r, "Connectors", "connectors")
	data.Data = p
	return s.render(w, status, "connectors", data)
}

func (s *Server) handleConnectors(w http.ResponseWriter, r *http.Request) error {
	return s.renderConnectors(w, r, http.StatusOK, connectorsPage{})
}

func (s *Server) shopifyClient(cr shopify.Credentials) (*shopify.Client, error) {
	return shopify.FromCredentials(cr, shopify.Config{BaseURL: s.conn.shopifyBaseURL, Logger: s.logger})
}

// handleConnectShopify connects a store with a custom app's Admin API
// access token: the credentials are sealed and stored, the connection is
// tested, and the first sync starts in the background.
func (s *Server) handleConnectShopify(w http.ResponseWriter, r *http.Request) error {
	a := phantomos.ActorFrom(r.Context())
	shop := strings.TrimSpace(r.PostFormValue("shop"))
	fail := func(status int, msg string) error {
		return s.renderConnectors(w, r, status, connectorsPage{Error: msg, Shop: shop})
	}
	if s.conn == nil {
		return fail(http.StatusConflict, "Credential encryption is not configured on this server (PHANTOMOS_SECRET_KEY).")
	}
	cr, err := shopify.CustomAppCredentials(shop, r.PostFormValue("token"), "")
	if err != nil {
		return formError(err, fail)
	}
	src, err := s.shopifyClient(cr)
	if err != nil {
		return formError(err, fail)
	}
	c := &phantomos.Connector{Type: phantomos.ConnectorShopify, Name: cr.Shop}
	if err := s.store.CreateConnector(r.Context(), a.PublisherID, c); err != nil {
		return formError(err, fail)
	}
	t := connector.Target{Publisher: a.PublisherID, ConnectorID: c.ID}
	if err := s.conn.vault.Save(r.Context(), t, cr); err != nil {
		return err
	}
	s.audit(r, a.PublisherID, "connector.credentials_set", cr.Shop, map[string]any{"type": "shopify", "mode": cr.Mode})
	if _, err := s.conn.engine.Test(r.Context(), t, src); err != nil {
		// The connector stays, in error, with the reason on its page.
		http.Redirect(w, r, "/connectors/"+c.ID, http.StatusSeeOther)
		return nil
	}
	s.startSync(t, src)
	http.Redirect(w, r, "/connectors/"+c.ID, http.StatusSeeOther)
	return nil
}

// startSync runs a sync in the background. It is safe to stop the process
// at any point: pages and cursors are committed together, and the next
// sync resumes from the last commit.
func (s *Server) startSync(t connector.Target, src connector.Source) {
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 6*time.Hour)
		defer cancel()
		if _, err := s.conn.engine.Sync(ctx, t, src, connector.SyncOptions{}); err != nil {
			s.logger.Warn("sync", "publisher", t.Publisher, "connector", t.ConnectorID, "err", err)
		}
	}()
}

type connectorPage struct {
	Connector *phantomos.Connector
	Runs      []*store.SyncRun
	Running   bool
	CanManage bool
}

func (s *Server) handleConnector(w http.ResponseWriter, r *http.Request) error {
	a := phantomos.ActorFrom(r.Context())
	c, err := s.store.Connector(r.Context(), a.PublisherID, r.PathValue("id"))
	if err != nil {
		return err
	}
	runs, err := s.store.SyncRuns(r.Context(), a.PublisherID, c.ID, 20)
	if err != nil {
		return err
	}
	p := connectorPage{Connector: c, Runs: runs, CanManage: a.Role.Can(phantomos.PermConnectors)}
	if len(runs) > 0 && runs[0].State == "running" {
		p.Running = true
		// Live progress without JavaScript: the page reloads itself.
		w.Header().Set("Refresh", "2")
	}
	data := s.pageData(r, c.Name, "connectors")
	data.Data = p
	return s.render(w, http.StatusOK, "connector", data)
}

func (s *Server) handleConnectorSync(w http.ResponseWriter, r *http.Request) error {
	a := phantomos.ActorFrom(r.Context())
	c, err := s.store.Connector(r.Context(), a.PublisherID, r.PathValue("id"))
	if err != nil {
		return err
	}
	if s.conn == nil || c.Type != phantomos.ConnectorShopify {
		return phantomos.Errorf(phantomos.EINVALID, "This connector cannot sync.")
	}
	t := connector.Target{Publisher: a.PublisherID, ConnectorID: c.ID}
	var cr shopify.Credentials
	if err := s.conn.vault.Load(r.Context(), t, &cr); err != nil {
		return phantomos.Errorf(phantomos.EINVALID, "This connector has no credentials: connect the store again.")
	}
	src, err := s.shopifyClient(cr)
	if err != nil {
		return err
	}
	s.startSync(t, src)
	s.audit(r, a.PublisherID, "connector.sync", c.Name, nil)
	http.Redirect(w, r, "/connectors/"+c.ID, http.StatusSeeOther)
	return nil
}

// handleConnectorDisconnect wipes the credentials and the cursor; the data
// synced so far stays.
func (s *Server) handleConnectorDisconnect(w http.ResponseWriter, r *http.Request) error {
	a := phantomos.ActorFrom(r.Context())
	c, err := s.store.Connector(r.Context(), a.PublisherID, r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := s.store.DisconnectConnector(r.Context(), a.PublisherID, c.ID); err != nil {
		return err
	}
	s.audit(r, a.PublisherID, "connector.disconnect", c.Name, nil)
	http.Redirect(w, r, "/connectors/"+c.ID, http.StatusSeeOther)
	return nil
}
