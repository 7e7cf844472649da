package worker

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/connector"
	"github.com/phantomos/phantomos/internal/connector/platform"
	"github.com/phantomos/phantomos/internal/store"
)

// host is the worker as the platform packages see it when a job opens a
// source or subscribes a store (platform.Host). What only a person's
// request can do (connecting a store, the wizard's pages) is refused: no
// job reaches it.
type host struct{ w *Worker }

// Host returns the worker as platform packages see it.
func (w *Worker) Host() platform.Host { return host{w} }

var _ platform.Host = host{}

// errRequestOnly is what a job gets for what needs a person's request.
var errRequestOnly = phantomos.Errorf(phantomos.EINTERNAL, "worker: connecting a store needs a person's request, not a background job")

func (h host) Vault() *connector.Vault        { return h.w.Vault() }
func (h host) Logger() *slog.Logger           { return h.w.logger }
func (h host) Now() time.Time                 { return h.w.now() }
func (h host) Nonces() platform.NonceStore    { return h.w.store }
func (h host) Replays() platform.ReplayStore  { return h.w.store }
func (h host) PublicURL(*http.Request) string { return strings.TrimSuffix(h.w.cfg.BaseURL, "/") }

func (h host) WebhookBase() string {
	if !h.w.WebhooksOn() {
		return ""
	}
	return h.w.conn.opts.BaseURL
}

func (h host) Connect(http.ResponseWriter, *http.Request, platform.Platform, platform.Credentials, string) error {
	return errRequestOnly
}

func (h host) ConnectAs(*http.Request, phantomos.PublisherID, string, platform.Platform, platform.Credentials, string) (*phantomos.Connector, error) {
	return nil, errRequestOnly
}

func (h host) ConnectFailed(http.ResponseWriter, *http.Request, platform.Platform, error) error {
	return errRequestOnly
}

func (h host) ConnectorFor(context.Context, phantomos.PublisherID, platform.Platform, string, string) (*phantomos.Connector, error) {
	return nil, errRequestOnly
}

func (h host) Park(http.ResponseWriter, *http.Request, platform.Platform, platform.Credentials) error {
	return errRequestOnly
}

func (h host) Connectors(ctx context.Context, typ, account string, all bool) ([]connector.Target, error) {
	find := h.w.store.ConnectorsByAccount
	if all {
		find = h.w.store.ConnectorsOfAccount
	}
	refs, err := find(ctx, typ, account)
	if err != nil {
		return nil, err
	}
	out := make([]connector.Target, len(refs))
	for i, ref := range refs {
		out[i] = connector.Target{Publisher: ref.PublisherID, ConnectorID: ref.ConnectorID}
	}
	return out, nil
}

// Account is what the last connection test of t found, empty if it was
// never recorded (or is unreadable).
func (h host) Account(ctx context.Context, t connector.Target) (connector.Account, error) {
	var info connector.Account
	acc, err := h.w.store.ConnectorAccount(ctx, t.Publisher, t.ConnectorID)
	if err != nil {
		return info, err
	}
	if len(acc.Info) > 0 && json.Unmarshal(acc.Info, &info) != nil {
		return connector.Account{}, nil
	}
	return info, nil
}

func (h host) Apply(ctx context.Context, t connector.Target, b connector.Batch) error {
	if h.w.conn == nil {
		return phantomos.Errorf(phantomos.ECONFLICT, "Connectors are not enabled (PHANTOMOS_SECRET_KEY).")
	}
	_, err := h.w.conn.engine.Apply(ctx, t, b)
	return err
}

func (h host) FetchLater(ctx context.Context, t connector.Target, d platform.Delivery) error {
	return h.w.FetchLater(ctx, t, d)
}

// Uninstalled disconnects t, whose store removed the app: its token is
// dead. Its credentials are wiped; the data synced so far stays.
func (h host) Uninstalled(ctx context.Context, t connector.Target, actor string) error {
	if err := h.w.store.DisconnectConnector(ctx, t.Publisher, t.ConnectorID); err != nil {
		return err
	}
	c, err := h.w.store.Connector(ctx, t.Publisher, t.ConnectorID)
	if err != nil {
		return err
	}
	if err := h.w.store.Audit(ctx, t.Publisher, store.AuditEntry{Actor: actor, Action: "connector.uninstalled", Target: c.Name}); err != nil {
		h.w.logger.Error("audit", "action", "connector.uninstalled", "err", err)
	}
	return nil
}

func (h host) Erase(ctx context.Context, t connector.Target) (store.Erased, error) {
	return h.w.store.EraseConnector(ctx, t.Publisher, t.ConnectorID)
}

func (h host) Audit(ctx context.Context, pub phantomos.PublisherID, e store.AuditEntry) error {
	return h.w.store.Audit(ctx, pub, e)
}

// AuditRequest records the entry without a request's user and address:
// a job acts for nobody in particular.
func (h host) AuditRequest(r *http.Request, pub phantomos.PublisherID, action, target string, details map[string]any) {
	ctx := context.Background()
	if r != nil {
		ctx = r.Context()
	}
	if err := h.w.store.Audit(ctx, pub, store.AuditEntry{Actor: "background job", Action: action, Target: target, Details: details}); err != nil {
		h.w.logger.Error("audit", "action", action, "err", err)
	}
}
