package web

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/connector"
	"github.com/phantomos/phantomos/internal/connector/platform"
	"github.com/phantomos/phantomos/internal/store"
)

// platformHost is the server as the platform packages see it
// (platform.Host): they reach the store, the vault, the engine and the
// wizard only through it.
type platformHost struct{ s *Server }

func (s *Server) host() platform.Host { return platformHost{s} }

var _ platform.Host = platformHost{}

func (h platformHost) Vault() *connector.Vault {
	if h.s.conn == nil {
		return nil
	}
	return h.s.conn.vault
}

func (h platformHost) Logger() *slog.Logger          { return h.s.logger }
func (h platformHost) Now() time.Time                { return h.s.now() }
func (h platformHost) Nonces() platform.NonceStore   { return h.s.store }
func (h platformHost) Replays() platform.ReplayStore { return h.s.store }

func (h platformHost) PublicURL(r *http.Request) string { return h.s.publicURL(r) }

func (h platformHost) WebhookBase() string {
	if !h.s.webhooksOn() {
		return ""
	}
	return h.s.conn.opts.BaseURL
}

func (h platformHost) Connect(w http.ResponseWriter, r *http.Request, p platform.Platform, cr platform.Credentials, reconnectID string) error {
	c, err := h.s.connectStore(r, p, cr, reconnectID)
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/connectors/"+c.ID+"/setup", http.StatusSeeOther)
	return nil
}

func (h platformHost) ConnectAs(r *http.Request, pub phantomos.PublisherID, userID string, p platform.Platform, cr platform.Credentials, reconnectID string) (*phantomos.Connector, error) {
	u, err := h.s.store.User(r.Context(), pub, userID)
	if err != nil {
		return nil, err
	}
	if u.DisabledAt != nil || !u.Role.Can(phantomos.PermConnectors) {
		return nil, phantomos.Errorf(phantomos.EFORBIDDEN, "The person who started connecting this store can no longer connect stores.")
	}
	a := &phantomos.Actor{PublisherID: pub, UserID: u.ID, Role: u.Role, Email: u.Email, Name: u.Name}
	return h.s.connectStore(r.WithContext(phantomos.WithActor(r.Context(), a)), p, cr, reconnectID)
}

func (h platformHost) ConnectFailed(w http.ResponseWriter, r *http.Request, p platform.Platform, err error) error {
	return formError(err, func(status int, msg string) error { return h.s.connectFailed(w, r, p, status, msg) })
}

func (h platformHost) ConnectorFor(ctx context.Context, pub phantomos.PublisherID, p platform.Platform, account, reconnectID string) (*phantomos.Connector, error) {
	return h.s.connectorFor(ctx, pub, p, account, account, reconnectID, false)
}

func (h platformHost) Park(w http.ResponseWriter, r *http.Request, p platform.Platform, cr platform.Credentials) error {
	return h.s.parkInstall(w, r, p, cr)
}

// Connectors and Account read the store as the worker does: the worker's
// host answers them.
func (h platformHost) Connectors(ctx context.Context, typ, account string, all bool) ([]connector.Target, error) {
	return h.s.work.Host().Connectors(ctx, typ, account, all)
}

func (h platformHost) Account(ctx context.Context, t connector.Target) (connector.Account, error) {
	return h.s.work.Host().Account(ctx, t)
}

// Apply stores a verified webhook's batch as a job, so that the request
// answers at once and a worker writes it (retried with backoff when the
// database is busy); without a queue it is written here.
func (h platformHost) Apply(ctx context.Context, t connector.Target, b connector.Batch) error {
	if h.s.conn == nil {
		return errNoConnectors
	}
	if h.s.jobs != nil {
		return h.s.jobs.EnqueueWebhook(ctx, t, b)
	}
	_, err := h.s.conn.engine.Apply(ctx, t, b)
	return err
}

// FetchLater stores a verified delivery that names orders as a job (the
// worker's), so that the request answers at once and a worker reads the
// orders from the platform and writes them.
func (h platformHost) FetchLater(ctx context.Context, t connector.Target, d platform.Delivery) error {
	if h.s.conn == nil {
		return errNoConnectors
	}
	return h.s.work.FetchLater(ctx, t, d)
}

// Uninstalled handles a store that removed the app: its token is dead.
// The connector is disconnected and its credentials wiped; the data synced
// so far stays.
func (h platformHost) Uninstalled(ctx context.Context, t connector.Target, actor string) error {
	if err := h.s.store.DisconnectConnector(ctx, t.Publisher, t.ConnectorID); err != nil {
		return err
	}
	c, err := h.s.store.Connector(ctx, t.Publisher, t.ConnectorID)
	if err != nil {
		return err
	}
	if err := h.s.store.Audit(ctx, t.Publisher, store.AuditEntry{Actor: actor, Action: "connector.uninstalled", Target: c.Name}); err != nil {
		h.s.logger.Error("audit", "action", "connector.uninstalled", "err", err)
	}
	return nil
}

func (h platformHost) Erase(ctx context.Context, t connector.Target) (store.Erased, error) {
	return h.s.store.EraseConnector(ctx, t.Publisher, t.ConnectorID)
}

func (h platformHost) Audit(ctx context.Context, pub phantomos.PublisherID, e store.AuditEntry) error {
	return h.s.store.Audit(ctx, pub, e)
}

func (h platformHost) AuditRequest(r *http.Request, pub phantomos.PublisherID, action, target string, details map[string]any) {
	h.s.audit(r, pub, action, target, details)
}
