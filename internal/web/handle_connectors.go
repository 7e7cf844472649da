package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/connector"
	"github.com/phantomos/phantomos/internal/connector/platform"
	"github.com/phantomos/phantomos/internal/jobs"
	"github.com/phantomos/phantomos/internal/secret"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/worker"
)

// ConnectorOptions configure the connectors of a server.
type ConnectorOptions struct {
	// BaseURL is the public address (PHANTOMOS_BASE_URL). When it is https,
	// connected stores are subscribed to webhooks under BaseURL/webhooks/;
	// it is also the address of OAuth callbacks (else the request's).
	BaseURL string
	// Platforms are the configured platforms (platform.Open over
	// platforms.All()); nil: every live platform with an empty
	// configuration.
	Platforms *platform.Registry
	// Engine tunes the sync engine; its Logger defaults to the server's.
	Engine connector.Config
	// ConnectTimeout bounds the first test of a new store's credentials
	// (0: 15 seconds), made once and before anything is stored.
	ConnectTimeout time.Duration
}

// connectors is what syncing needs: the credential keyring, the vault
// over it, the engine and the configured platforms. Without a keyring
// connectors cannot be added.
type connectors struct {
	keys   *secret.Keyring
	vault  *connector.Vault
	engine *connector.Engine
	opts   ConnectorOptions
}

// EnableConnectors lets the server store credentials sealed with keys,
// sync stores of the configured platforms and receive their webhooks. The
// vault and the engine are the worker's.
func (s *Server) EnableConnectors(keys *secret.Keyring, opts ConnectorOptions) {
	s.work.EnableConnectors(keys, worker.ConnectorOptions{BaseURL: opts.BaseURL, Platforms: opts.Platforms, Engine: opts.Engine})
	s.platforms = s.work.Platforms()
	s.conn = &connectors{keys: keys, vault: s.work.Vault(), engine: s.work.Engine(), opts: opts}
}

// platform returns the configured platform of connector type typ.
func (s *Server) platform(typ string) (platform.Platform, bool) { return s.platforms.Get(typ) }

// connectorView is a connector as the pages and the API show it.
type connectorView struct {
	*phantomos.Connector
	Platform string            // the platform's name, "" for connectors of no platform
	Shop     string            // the account it reaches (e.g. a shop's domain)
	Account  connector.Account // what the last connection test reported
	Latest   *store.SyncRun    // the newest sync run, nil before the first
	// NextSync is when the schedule syncs it next, nil when it will not
	// (not active); NextSyncText says it for people.
	NextSync     *time.Time
	NextSyncText string
	// Pull is the settings of a custom source that pulls a file; nil for
	// other connectors. A failed pull is fixed on the source's page (pull
	// again, or change the URL or credential), never by reconnecting.
	Pull *store.PullSource
}

// Running reports whether a sync is in progress.
func (v *connectorView) Running() bool { return v.Latest != nil && v.Latest.State == store.SyncRunning }

// NeedsReconnect reports whether the user must connect the store again:
// its credentials were refused, or wiped.
// Only a platform's connector can be reconnected; a custom source has no
// connection to make again.
func (v *connectorView) NeedsReconnect() bool {
	return v.Platform != "" && (v.Status == store.ConnectorError || v.Status == store.ConnectorDisconnected)
}

// PullFailed reports whether the last pull of a pull source failed.
func (v *connectorView) PullFailed() bool {
	return v.Pull != nil && v.Pull.LastOutcome == store.PullFailed
}

func (s *Server) connectorView(ctx context.Context, c *phantomos.Connector, now time.Time) (*connectorView, error) {
	v := &connectorView{Connector: c}
	if p, ok := s.platform(c.Type); ok {
		v.Platform = p.Info().Name
	}
	acc, err := s.store.ConnectorAccount(ctx, c.PublisherID, c.ID)
	if err != nil {
		return nil, err
	}
	v.Shop = acc.External
	if len(acc.Info) > 0 {
		// An unreadable report only costs the shop details on the page.
		_ = json.Unmarshal(acc.Info, &v.Account)
	}
	runs, err := s.store.SyncRuns(ctx, c.PublisherID, c.ID, 1)
	if err != nil {
		return nil, err
	}
	if len(runs) > 0 {
		v.Latest = runs[0]
	}
	v.NextSync, v.NextSyncText = s.nextSync(c, now)
	if c.Type == phantomos.ConnectorCustom {
		p, err := s.store.PullSource(ctx, c.PublisherID, c.ID)
		switch {
		case err == nil:
			v.Pull = p
			v.NextSync, v.NextSyncText = nextPull(p, now)
		case phantomos.ErrorCode(err) == phantomos.ENOTFOUND:
			v.NextSyncText = "receives pushes"
		default:
			return nil, err
		}
	}
	return v, nil
}

// nextSync is when the schedule will sync c: its platform's interval
// after its last sync, or at the next tick when that is past; never unless
// c is an active connector of a configured platform.
func (s *Server) nextSync(c *phantomos.Connector, now time.Time) (*time.Time, string) {
	p, ok := s.platform(c.Type)
	if !ok {
		return nil, "—"
	}
	switch c.Status {
	case store.ConnectorError, store.ConnectorDisconnected:
		return nil, "paused until reconnected"
	case store.ConnectorPending:
		return nil, "after the connection test"
	}
	if c.LastSyncAt == nil {
		return &now, "due now"
	}
	next := c.LastSyncAt.Add(p.Info().Every())
	if !next.After(now) {
		return &now, "due now"
	}
	return &next, "in " + roughDuration(next.Sub(now))
}

// nextPull is when the schedule pulls p next: a period after its last
// pull, failed or not (a failed pull is tried again on schedule).
func nextPull(p *store.PullSource, now time.Time) (*time.Time, string) {
	if p.CheckedAt == nil {
		return &now, "due now"
	}
	next := p.CheckedAt.Add(time.Duration(p.EveryMinutes) * time.Minute)
	if !next.After(now) {
		return &now, "due now"
	}
	return &next, "in " + roughDuration(next.Sub(now))
}

// roughDuration says d in hours and minutes: "5 h 12 min", "8 min".
func roughDuration(d time.Duration) string {
	m := int(d.Round(time.Minute) / time.Minute)
	switch {
	case m < 1:
		return "less than a minute"
	case m < 60:
		return fmt.Sprintf("%d min", m)
	case m%60 == 0:
		return fmt.Sprintf("%d h", m/60)
	}
	return fmt.Sprintf("%d h %d min", m/60, m%60)
}

type connectorsPage struct {
	Connectors []*connectorView
	CanManage  bool
	Every      string // how often active stores sync
	Webhooks   bool   // stores send their updates as they happen
}

func (s *Server) handleConnectors(w http.ResponseWriter, r *http.Request) error {
	a := phantomos.ActorFrom(r.Context())
	list, err := s.store.Connectors(r.Context(), a.PublisherID)
	if err != nil {
		return err
	}
	p := connectorsPage{CanManage: a.Role.Can(phantomos.PermConnectors),
		Every: fmt.Sprintf("%d hours", int(platform.DefaultSyncEvery/time.Hour)), Webhooks: s.webhooksOn()}
	now := s.now()
	for _, c := range list {
		v, err := s.connectorView(r.Context(), c, now)
		if err != nil {
			return err
		}
		p.Connectors = append(p.Connectors, v)
	}
	data := s.pageData(r, "Connectors", "connectors")
	data.Data = p
	return s.render(w, http.StatusOK, "connectors", data)
}

// SetJobs gives the server the queue its handlers enqueue background
// work to.
func (s *Server) SetJobs(q *jobs.Queue) { s.jobs = q; s.work.SetJobs(q) }

type connectorPage struct {
	Connector *connectorView
	Runs      []runView
	Running   bool
	// Queued: a sync is enqueued and no worker has started it yet.
	Queued    bool
	CanManage bool
}

// runView is a sync run in the history table.
type runView struct {
	*store.SyncRun
	Took string
}

// tookText says how long a run took (so far): "42 s", "3 min 5 s".
func tookText(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d < time.Second:
		return "< 1 s"
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%d min %d s", int(d/time.Minute), int(d%time.Minute/time.Second))
	}
	return roughDuration(d)
}

func (s *Server) handleConnector(w http.ResponseWriter, r *http.Request) error {
	a := phantomos.ActorFrom(r.Context())
	c, err := s.store.Connector(r.Context(), a.PublisherID, r.PathValue("id"))
	if err != nil {
		return err
	}
	if c.Type == phantomos.ConnectorCustom {
		return s.handleCustomConnector(w, r, c)
	}
	v, err := s.connectorView(r.Context(), c, s.now())
	if err != nil {
		return err
	}
	runs, err := s.store.SyncRuns(r.Context(), a.PublisherID, c.ID, 20)
	if err != nil {
		return err
	}
	p := connectorPage{Connector: v, Running: v.Running(), CanManage: a.Role.Can(phantomos.PermConnectors)}
	if !p.Running && s.jobs != nil {
		if p.Queued, err = s.jobs.SyncPending(r.Context(), a.PublisherID, c.ID); err != nil {
			return err
		}
	}
	now := s.now()
	for _, run := range runs {
		p.Runs = append(p.Runs, runView{SyncRun: run, Took: tookText(run.Duration(now))})
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
	t := connector.Target{Publisher: a.PublisherID, ConnectorID: c.ID}
	p, src, err := s.work.OpenSource(r.Context(), c)
	if err != nil {
		return err
	}
	// Platforms delete subscriptions whose deliveries keep failing: every
	// sync checks them and re-creates what is missing.
	s.work.Subscribe(r.Context(), p, t, src)
	next := "/connectors/" + c.ID
	if r.PostFormValue("next") == "setup" {
		next += "/setup"
	}
	if err := s.work.BeginSync(r.Context(), t); err != nil {
		if phantomos.ErrorCode(err) == phantomos.ECONFLICT {
			http.Redirect(w, r, next, http.StatusSeeOther)
			return nil
		}
		return err
	}
	s.audit(r, a.PublisherID, "connector.sync", c.Name, nil)
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

// handleConnectorSyncCancel cancels the connector's waiting or running
// sync. What a running one wrote stays; the next sync resumes from it.
func (s *Server) handleConnectorSyncCancel(w http.ResponseWriter, r *http.Request) error {
	a := phantomos.ActorFrom(r.Context())
	c, err := s.store.Connector(r.Context(), a.PublisherID, r.PathValue("id"))
	if err != nil {
		return err
	}
	if s.jobs == nil {
		return phantomos.Errorf(phantomos.EINVALID, "This connector cannot sync.")
	}
	ok, err := s.jobs.CancelSync(r.Context(), a.PublisherID, c.ID)
	if err != nil {
		return err
	}
	if ok {
		s.audit(r, a.PublisherID, "connector.sync_cancel", c.Name, nil)
	}
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
	if p, ok := s.platform(c.Type); ok && s.conn != nil {
		if d, ok := p.(platform.Disconnecter); ok {
			t := connector.Target{Publisher: a.PublisherID, ConnectorID: c.ID}
			if err := d.Disconnect(r.Context(), s.host(), t); err != nil {
				s.logger.Warn("disconnect: the platform was not told", "publisher", t.Publisher, "connector", t.ConnectorID, "err", err)
			}
		}
	}
	if err := s.store.DisconnectConnector(r.Context(), a.PublisherID, c.ID); err != nil {
		return err
	}
	s.audit(r, a.PublisherID, "connector.disconnect", c.Name, nil)
	http.Redirect(w, r, "/connectors/"+c.ID, http.StatusSeeOther)
	return nil
}

// connectStore stores credentials for the store cr reaches: on the
// connector reconnectID when given (the same store), else on the
// publisher's connector of that store, else on a new one. It then tests
// them, records what the test found, subscribes the store to webhooks and
// starts a sync, which resumes from the connector's cursor. It returns the
// connector; a failed test leaves it in error (or pending, when the
// platform could not be reached) with the reason, for the setup page to
// show.
func (s *Server) connectStore(r *http.Request, p platform.Platform, cr platform.Credentials, reconnectID string) (*phantomos.Connector, error) {
	ctx := r.Context()
	a := phantomos.ActorFrom(ctx)
	if s.conn == nil {
		return nil, errNoConnectors
	}
	if reconnectID == "" {
		if err := s.preflight(ctx, p, cr); err != nil {
			return nil, err
		}
	}
	account := cr.Account()
	c, err := s.connectorFor(ctx, a.PublisherID, p, account, reconnectID, true)
	if err != nil {
		return nil, err
	}
	t := connector.Target{Publisher: a.PublisherID, ConnectorID: c.ID}
	if err := s.conn.vault.Save(ctx, t, cr); err != nil {
		return nil, err
	}
	src, err := p.Open(ctx, s.host(), t)
	if err != nil {
		return nil, err
	}
	if err := s.store.SaveConnectorAccount(ctx, a.PublisherID, c.ID, store.ConnectorAccount{External: account}); err != nil {
		return nil, err
	}
	details := map[string]any{"type": c.Type}
	if m, ok := cr.(interface{ ConnectMode() string }); ok {
		details["mode"] = m.ConnectMode()
	}
	s.audit(r, a.PublisherID, "connector.credentials_set", account, details)
	acc, err := s.conn.engine.Test(ctx, t, src)
	if err != nil {
		if connector.KindOf(err) != connector.Auth {
			// Engine.Test records only failures that need the user; any other
			// still says why the store is not syncing yet.
			if serr := s.store.SetConnectorStatus(ctx, a.PublisherID, c.ID, store.ConnectorPending, connector.UserMessage(err)); serr != nil {
				return nil, serr
			}
		}
		s.logger.Info("connection test failed", "publisher", a.PublisherID, "connector", c.ID, "err", err)
		return c, nil
	}
	info, _ := json.Marshal(acc)
	if err := s.store.SaveConnectorAccount(ctx, a.PublisherID, c.ID, store.ConnectorAccount{External: account, Info: info}); err != nil {
		return nil, err
	}
	s.work.Subscribe(ctx, p, t, src)
	if err := s.work.BeginSync(ctx, t); err != nil && phantomos.ErrorCode(err) != phantomos.ECONFLICT {
		return nil, err
	}
	return c, nil
}

// preflight tries the credentials of a store about to be connected once,
// within a short deadline and without the engine's retries, before
// anything is stored: a store that cannot be reached, or that refuses the
// credentials, gets a clear answer at once and leaves no connector behind.
func (s *Server) preflight(ctx context.Context, p platform.Platform, cr platform.Credentials) error {
	timeout := s.conn.opts.ConnectTimeout
	if timeout <= 0 {
		timeout = 15 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := p.Preflight(ctx, cr); err != nil {
		s.logger.Info("connection test failed", "account", cr.Account(), "err", err)
		if ctx.Err() != nil {
			return phantomos.Errorf(phantomos.EINVALID, "%s did not answer within %s. Check the store's address, and that this server can reach the internet; nothing was saved.", cr.Account(), timeout)
		}
		if code := phantomos.ErrorCode(err); code == phantomos.EINVALID {
			return phantomos.Errorf(phantomos.EINVALID, "%s Nothing was saved.", phantomos.ErrorMessage(err))
		}
		return phantomos.Errorf(phantomos.EINVALID, "%s Nothing was saved.", connector.UserMessage(err))
	}
	return nil
}

// connectorFor returns the connector that credentials for account go to:
// reconnectID (checked to be of p and account), else the publisher's
// connector of account, else, with create, a new one.
func (s *Server) connectorFor(ctx context.Context, pub phantomos.PublisherID, p platform.Platform, account, reconnectID string, create bool) (*phantomos.Connector, error) {
	info := p.Info()
	if reconnectID != "" {
		c, err := s.store.Connector(ctx, pub, reconnectID)
		if err != nil {
			return nil, err
		}
		acc, err := s.store.ConnectorAccount(ctx, pub, c.ID)
		if err != nil {
			return nil, err
		}
		if c.Type != info.Type {
			return nil, phantomos.Errorf(phantomos.EINVALID, "%s is not a %s connector.", c.Name, info.Name)
		}
		if acc.External != "" && acc.External != account {
			return nil, phantomos.Errorf(phantomos.EINVALID, "This connector syncs %s; connect %s as a new store instead, so their data stays apart.", acc.External, account)
		}
		return c, nil
	}
	c, err := s.store.ConnectorByAccount(ctx, pub, info.Type, account)
	if !create || err == nil || phantomos.ErrorCode(err) != phantomos.ENOTFOUND {
		return c, err
	}
	c = &phantomos.Connector{Type: info.Type, Name: account}
	if err := s.store.CreateConnector(ctx, pub, c); err != nil {
		return nil, err
	}
	return c, nil
}

// webhooksOn reports whether connected stores are subscribed to webhooks:
// the server has a public https address to receive them.
func (s *Server) webhooksOn() bool {
	return s.conn != nil && strings.HasPrefix(s.conn.opts.BaseURL, "https://")
}

// errNoConnectors is returned when the server cannot store credentials.
var errNoConnectors = phantomos.Errorf(phantomos.ECONFLICT, "Credential encryption is not configured on this server (PHANTOMOS_SECRET_KEY), so stores cannot be connected.")
