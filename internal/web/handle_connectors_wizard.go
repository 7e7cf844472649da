package web

import (
	"net/http"
	"strings"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/connector/platform"
	"github.com/phantomos/phantomos/internal/store"
)

// The connect wizard: choose a platform (/connectors/new), connect the
// store (/connectors/new/<type>: the platform's connect methods, from
// platform.Info), then /connectors/{id}/setup shows the
// connection test and the first sync's live progress. Reconnecting a
// connector (/connectors/{id}/reconnect) enters at the second step and
// keeps the connector, its data and its cursor.

// Wizard steps.
const (
	stepPlatform = iota + 1
	stepConnect
	stepTest
	stepSync
)

var wizardStepNames = []string{"Platform", "Connect", "Test", "First sync"}

type wizardStep struct {
	N     int
	Name  string
	State string // done, current, failed or todo
	Href  string // where going back to it leads, if anywhere
}

func wizardSteps(current int, failed bool) []wizardStep {
	out := make([]wizardStep, len(wizardStepNames))
	for i, name := range wizardStepNames {
		st := wizardStep{N: i + 1, Name: name, State: "todo"}
		switch {
		case st.N < current:
			st.State = "done"
		case st.N == current && failed:
			st.State = "failed"
		case st.N == current:
			st.State = "current"
		}
		out[i] = st
	}
	return out
}

// platformCard is one platform on the wizard's first step.
type platformCard struct {
	Type, Name, Blurb string
	Href              string // "" while coming soon
}

// platformCards are the registered platforms, in the registration list's
// order (those not configured here say "coming soon"), and custom sources.
func (s *Server) platformCards() []platformCard {
	var out []platformCard
	for _, reg := range s.platforms.Registrations() {
		c := platformCard{Type: reg.Type, Name: reg.Name, Blurb: reg.Blurb}
		if _, ok := s.platform(reg.Type); ok {
			c.Href = "/connectors/new/" + reg.Type
		}
		out = append(out, c)
	}
	return append(out, platformCard{phantomos.ConnectorCustom, "Custom source",
		"Your own systems: pull a CSV or JSON file on a schedule, or push orders through the API with an ingest key.",
		"/connectors/new/pull"})
}

type wizardPage struct {
	Step      int
	Steps     []wizardStep
	Platforms []platformCard
	Enabled   bool // credentials can be stored
	Webhooks  bool // stores send their updates as they happen
	// Connect step: the platform's ways of connecting.
	Platform  platform.Info
	Reconnect *connectorView // the connector being reconnected, nil for a new one
	Shop      string         // the account, when known
	Error     string
	// Test and first sync.
	Connector *connectorView
	Run       *store.SyncRun
	First     bool // the connector's first sync
	Running   bool
	// Queued: the sync is enqueued and no worker has started it yet.
	Queued         bool
	Done           bool
	Failed         bool
	Products, Sold int64 // what PhantomOS holds from the store once done
}

func (s *Server) renderWizard(w http.ResponseWriter, r *http.Request, status int, p wizardPage) error {
	p.Enabled = s.conn != nil
	p.Webhooks = s.webhooksOn()
	p.Steps = wizardSteps(p.Step, p.Failed)
	if p.Step == stepConnect && p.Reconnect == nil {
		p.Steps[0].Href = "/connectors/new"
	}
	title := "Connect a store"
	if p.Reconnect != nil {
		title = "Reconnect " + p.Reconnect.Name
	} else if p.Connector != nil {
		title = p.Connector.Name
	}
	if p.Step == stepConnect && len(p.Platform.FormAction) > 0 {
		allowForms(w, p.Platform.FormAction)
	}
	if p.Connector != nil && p.Platform.Type == "" {
		if pl, ok := s.platform(p.Connector.Type); ok {
			p.Platform = pl.Info()
		}
	}
	data := s.pageData(r, title, "connectors")
	data.Data = p
	return s.render(w, status, "connector_wizard", data)
}

// allowForms lets the page's forms lead to origins: a platform's install
// form posts here and is redirected to the store's consent screen, and
// browsers hold redirects after a form submission to the page's
// form-action policy.
func allowForms(w http.ResponseWriter, origins []string) {
	allow := "form-action 'self' " + strings.Join(origins, " ")
	h := w.Header()
	h.Set("Content-Security-Policy", strings.Replace(h.Get("Content-Security-Policy"), "form-action 'self'", allow, 1))
}

func (s *Server) handleConnectorNew(w http.ResponseWriter, r *http.Request) error {
	return s.renderWizard(w, r, http.StatusOK, wizardPage{Step: stepPlatform, Platforms: s.platformCards()})
}

// configured returns the configured platform typ, ENOTFOUND when there is
// none.
func (s *Server) configured(typ string) (platform.Platform, error) {
	p, ok := s.platform(typ)
	if !ok {
		return nil, phantomos.Errorf(phantomos.ENOTFOUND, "This platform cannot be connected on this server.")
	}
	return p, nil
}

// handleConnectorNewPlatform is the connect step of platform typ.
func (s *Server) handleConnectorNewPlatform(typ string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p, err := s.configured(typ)
		if err != nil {
			return err
		}
		shop := r.URL.Query().Get("shop")
		if len(shop) > platform.DefaultMaxLen {
			shop = ""
		}
		return s.renderWizard(w, r, http.StatusOK, wizardPage{Step: stepConnect, Platform: p.Info(), Shop: shop})
	}
}

// handleConnectorReconnect is the connect step for an existing connector:
// new credentials for the same store replace the old ones, and syncing
// resumes where it stopped.
func (s *Server) handleConnectorReconnect(w http.ResponseWriter, r *http.Request) error {
	a := phantomos.ActorFrom(r.Context())
	c, err := s.store.Connector(r.Context(), a.PublisherID, r.PathValue("id"))
	if err != nil {
		return err
	}
	p, ok := s.platform(c.Type)
	if !ok {
		return phantomos.Errorf(phantomos.EINVALID, "%s cannot be reconnected.", c.Name)
	}
	v, err := s.connectorView(r.Context(), c, s.now())
	if err != nil {
		return err
	}
	return s.renderWizard(w, r, http.StatusOK, wizardPage{Step: stepConnect, Platform: p.Info(), Reconnect: v, Shop: v.Shop})
}

// connectFailed re-renders the connect step of p with msg.
func (s *Server) connectFailed(w http.ResponseWriter, r *http.Request, p platform.Platform, status int, msg string) error {
	pg := wizardPage{Step: stepConnect, Platform: p.Info(), Error: msg}
	for _, m := range pg.Platform.Methods {
		for _, f := range m.Fields {
			if f.Account && pg.Shop == "" && len(r.PostFormValue(f.Name)) <= platform.DefaultMaxLen {
				pg.Shop = r.PostFormValue(f.Name)
			}
		}
	}
	if id := r.PostFormValue("connector"); id != "" {
		a := phantomos.ActorFrom(r.Context())
		c, err := s.store.Connector(r.Context(), a.PublisherID, id)
		if err != nil {
			return err
		}
		if pg.Reconnect, err = s.connectorView(r.Context(), c, s.now()); err != nil {
			return err
		}
	}
	return s.renderWizard(w, r, status, pg)
}

// handleConnect connects a store of platform typ with the credentials
// pasted in one of its connect forms (its "method" field says which): the
// platform validates them, then the store is tested, and the wizard
// continues to the first sync.
func (s *Server) handleConnect(typ string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p, err := s.configured(typ)
		if err != nil {
			return err
		}
		fail := func(status int, msg string) error { return s.connectFailed(w, r, p, status, msg) }
		if s.conn == nil {
			return formError(errNoConnectors, fail)
		}
		cr, err := p.Credentials(r.Context(), s.host(), r.PostFormValue("method"), r.PostForm)
		if err != nil {
			return formError(err, fail)
		}
		c, err := s.connectStore(r, p, cr, r.PostFormValue("connector"))
		if err != nil {
			return formError(err, fail)
		}
		http.Redirect(w, r, "/connectors/"+c.ID+"/setup", http.StatusSeeOther)
		return nil
	}
}

// handlePlatformRoute serves a route a platform declared, with the
// configured platform (ENOTFOUND when it is not configured here).
func (s *Server) handlePlatformRoute(typ string, rt platform.Route) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p, err := s.configured(typ)
		if err != nil {
			return err
		}
		return rt.Handle(p, s.host(), w, r)
	}
}

// publicURL is the server's public address: PHANTOMOS_BASE_URL, else the
// one the request came to when publicBase trusts its Host.
func (s *Server) publicURL(r *http.Request) string {
	if s.conn != nil && s.conn.opts.BaseURL != "" {
		return strings.TrimSuffix(s.conn.opts.BaseURL, "/")
	}
	return publicBase(s.cfg.BaseURL, s.cfg.Addr, r)
}

// handleConnectorSetup shows the last steps of the wizard: what the
// connection test found, then the first sync's progress until it is done.
// While the sync runs, the page refreshes itself (or, with JavaScript,
// polls the connector's JSON).
func (s *Server) handleConnectorSetup(w http.ResponseWriter, r *http.Request) error {
	a := phantomos.ActorFrom(r.Context())
	c, err := s.store.Connector(r.Context(), a.PublisherID, r.PathValue("id"))
	if err != nil {
		return err
	}
	v, err := s.connectorView(r.Context(), c, s.now())
	if err != nil {
		return err
	}
	runs, err := s.store.SyncRuns(r.Context(), a.PublisherID, c.ID, 2)
	if err != nil {
		return err
	}
	p := wizardPage{Connector: v, Run: v.Latest, First: len(runs) <= 1}
	queued := false
	if s.jobs != nil && (v.Latest == nil || v.Latest.State != store.SyncRunning) {
		if queued, err = s.jobs.SyncPending(r.Context(), a.PublisherID, c.ID); err != nil {
			return err
		}
	}
	switch {
	case queued && c.Status != store.ConnectorDisconnected:
		// Enqueued, not yet started by a worker: shown as running.
		p.Step, p.Running, p.Queued = stepSync, true, true
	case c.Status == store.ConnectorError || c.Status == store.ConnectorDisconnected ||
		c.Status == store.ConnectorPending && (v.Latest == nil || v.Latest.State != store.SyncRunning):
		p.Step, p.Failed = stepTest, true
	case v.Latest == nil:
		p.Step = stepSync
	default:
		p.Step = stepSync
		switch v.Latest.State {
		case store.SyncRunning:
			p.Running = true
		case store.SyncSucceeded:
			p.Done, p.Step = true, stepSync+1
			if p.Products, p.Sold, err = s.store.ConnectorTotals(r.Context(), a.PublisherID, c.ID); err != nil {
				return err
			}
		default:
			p.Failed = true
		}
	}
	return s.renderWizard(w, r, http.StatusOK, p)
}
