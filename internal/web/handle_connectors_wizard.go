package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/connector/shopify"
	"github.com/phantomos/phantomos/internal/store"
)

// The connect wizard: choose a platform (/connectors/new), connect the
// store (/connectors/new/shopify: the public app's OAuth install, or a
// custom app's access token), then /connectors/{id}/setup shows the
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

var platformCards = []platformCard{
	{phantomos.ConnectorShopify, "Shopify", "Products, orders and refunds through the Admin API, kept current all day.", "/connectors/new/shopify"},
	{phantomos.ConnectorAmazon, "Amazon", "Seller Central orders through the Selling Partner API. Until then, import its order reports from Products.", ""},
	{phantomos.ConnectorWooCommerce, "WooCommerce", "Orders and products through the WooCommerce REST API. Until then, import its exports from Products.", ""},
	{phantomos.ConnectorBigCommerce, "BigCommerce", "Orders and catalog through the BigCommerce API. Until then, import its exports from Products.", ""},
	{phantomos.ConnectorCustom, "Custom API", "Push products and sales from your own systems. Until then, use the import API.", ""},
}

type wizardPage struct {
	Step      int
	Steps     []wizardStep
	Platforms []platformCard
	Enabled   bool // credentials can be stored
	Webhooks  bool // stores send their updates as they happen
	// Connect step.
	App       bool           // the public app is configured: offer its install
	Reconnect *connectorView // the connector being reconnected, nil for a new one
	Shop      string
	Error     string
	// Test and first sync.
	Connector      *connectorView
	Run            *store.SyncRun
	First          bool // the connector's first sync
	Running        bool
	Done           bool
	Failed         bool
	Products, Sold int64 // what PhantomOS holds from the store once done
}

func (s *Server) renderWizard(w http.ResponseWriter, r *http.Request, status int, p wizardPage) error {
	p.Enabled = s.conn != nil
	p.Webhooks = s.webhooksOn()
	p.App = s.conn != nil && s.conn.app != nil
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
	if p.Step == stepConnect && p.App {
		allowShopifyForms(w, s.conn.opts.ShopifyBaseURL)
	}
	data := s.pageData(r, title, "connectors")
	data.Data = p
	return s.render(w, status, "connector_wizard", data)
}

// allowShopifyForms lets the page's forms lead to Shopify: the install
// form posts here and is redirected to the store's consent screen, and
// browsers hold redirects after a form submission to the page's
// form-action policy.
func allowShopifyForms(w http.ResponseWriter, baseURL string) {
	allow := "form-action 'self' https://*.myshopify.com"
	if u, err := url.Parse(baseURL); err == nil && u.Host != "" {
		allow += " " + u.Scheme + "://" + u.Host
	}
	h := w.Header()
	h.Set("Content-Security-Policy", strings.Replace(h.Get("Content-Security-Policy"), "form-action 'self'", allow, 1))
}

func (s *Server) handleConnectorNew(w http.ResponseWriter, r *http.Request) error {
	return s.renderWizard(w, r, http.StatusOK, wizardPage{Step: stepPlatform, Platforms: platformCards})
}

func (s *Server) handleConnectorNewShopify(w http.ResponseWriter, r *http.Request) error {
	return s.renderWizard(w, r, http.StatusOK, wizardPage{Step: stepConnect, Shop: r.URL.Query().Get("shop")})
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
	if c.Type != phantomos.ConnectorShopify {
		return phantomos.Errorf(phantomos.EINVALID, "%s cannot be reconnected.", c.Name)
	}
	v, err := s.connectorView(r.Context(), c, s.now())
	if err != nil {
		return err
	}
	return s.renderWizard(w, r, http.StatusOK, wizardPage{Step: stepConnect, Reconnect: v, Shop: v.Shop})
}

// connectFailed re-renders the connect step with msg.
func (s *Server) connectFailed(w http.ResponseWriter, r *http.Request, status int, msg string) error {
	p := wizardPage{Step: stepConnect, Shop: r.PostFormValue("shop"), Error: msg}
	if id := r.PostFormValue("connector"); id != "" {
		a := phantomos.ActorFrom(r.Context())
		c, err := s.store.Connector(r.Context(), a.PublisherID, id)
		if err != nil {
			return err
		}
		if p.Reconnect, err = s.connectorView(r.Context(), c, s.now()); err != nil {
			return err
		}
	}
	return s.renderWizard(w, r, status, p)
}

// handleConnectShopify connects a store with the credentials pasted: a
// Dev Dashboard app's client ID and secret (method=client_credentials),
// which get a first token at once, or a legacy custom app's Admin API
// access token (and, for webhooks, its API secret key). It then continues
// to the test and first sync.
func (s *Server) handleConnectShopify(w http.ResponseWriter, r *http.Request) error {
	fail := func(status int, msg string) error { return s.connectFailed(w, r, status, msg) }
	if s.conn == nil {
		return formError(errNoConnectors, fail)
	}
	var cr shopify.Credentials
	var err error
	if r.PostFormValue("method") == shopify.ModeClientCredentials {
		cr, err = shopify.ClientCredentials(r.PostFormValue("shop"), r.PostFormValue("client_id"), r.PostFormValue("client_secret"))
		if err == nil {
			cr, err = shopify.RequestClientToken(r.Context(), cr, s.conn.opts.ShopifyBaseURL, nil, s.now())
			err = userError(err)
		}
	} else {
		cr, err = shopify.CustomAppCredentials(r.PostFormValue("shop"), r.PostFormValue("token"), r.PostFormValue("api_secret"))
	}
	if err != nil {
		return formError(err, fail)
	}
	c, err := s.connectShopify(r, cr, r.PostFormValue("connector"))
	if err != nil {
		return formError(err, fail)
	}
	http.Redirect(w, r, "/connectors/"+c.ID+"/setup", http.StatusSeeOther)
	return nil
}

// oauthApp is the public app with this request's callback address.
func (s *Server) oauthApp(r *http.Request) (*shopify.App, error) {
	if s.conn == nil || s.conn.app == nil {
		return nil, phantomos.Errorf(phantomos.ENOTFOUND, "The Shopify app is not configured on this server (SHOPIFY_CLIENT_ID and SHOPIFY_CLIENT_SECRET): connect with a custom app's access token.")
	}
	app := *s.conn.app
	app.RedirectURL = s.publicURL(r) + "/connectors/shopify/callback"
	return &app, nil
}

// publicURL is the server's public address: PHANTOMOS_BASE_URL, else the
// one the request came to when publicBase trusts its Host.
func (s *Server) publicURL(r *http.Request) string {
	if s.conn != nil && s.conn.opts.BaseURL != "" {
		return strings.TrimSuffix(s.conn.opts.BaseURL, "/")
	}
	return publicBase(s.cfg.BaseURL, s.cfg.Addr, r)
}

// handleShopifyInstall starts the OAuth install of the public app on a
// store: the signed, single-use state binds it to the signed-in user, the
// publisher and (when reconnecting) the connector; the browser goes to the
// store's consent screen, which returns to the callback.
func (s *Server) handleShopifyInstall(w http.ResponseWriter, r *http.Request) error {
	fail := func(status int, msg string) error { return s.connectFailed(w, r, status, msg) }
	app, err := s.oauthApp(r)
	if err != nil {
		return formError(err, fail)
	}
	a := phantomos.ActorFrom(r.Context())
	shop, err := shopify.NormalizeShop(r.PostFormValue("shop"))
	if err != nil {
		return fail(http.StatusUnprocessableEntity, err.Error())
	}
	st := shopify.State{Publisher: a.PublisherID, UserID: a.UserID}
	if id := r.PostFormValue("connector"); id != "" {
		c, err := s.shopifyConnector(r.Context(), a.PublisherID, shop, id)
		if err != nil {
			return formError(err, fail)
		}
		st.ConnectorID = c.ID
	}
	return s.redirectToConsent(w, r, app, shop, st)
}

// handleShopifyInstallLink is the app's URL in Shopify: a merchant who
// installs the app from the Shopify admin arrives here with a request
// Shopify signed, signed in to PhantomOS or not. Signed in (with the right
// to manage connectors), the install is bound to them as from the wizard;
// otherwise it goes on without a publisher, and after the callback the
// person signs in or creates an organization and claims the store
// (handleShopifyClaim).
func (s *Server) handleShopifyInstallLink(w http.ResponseWriter, r *http.Request) error {
	app, err := s.oauthApp(r)
	if err != nil {
		return err
	}
	shop, err := app.VerifyRequest(r.URL.Query())
	if err != nil {
		return phantomos.Errorf(phantomos.EINVALID, "%s Start from Connectors → Connect a store.", phantomos.ErrorMessage(err))
	}
	st := shopify.State{}
	if a := phantomos.ActorFrom(r.Context()); a != nil {
		if !a.Role.Can(phantomos.PermConnectors) {
			return phantomos.Errorf(phantomos.EFORBIDDEN, "Your role (%s) cannot connect stores. Ask an owner or admin of your team.", a.Role)
		}
		st.Publisher, st.UserID = a.PublisherID, a.UserID
	}
	return s.redirectToConsent(w, r, app, shop, st)
}

func (s *Server) redirectToConsent(w http.ResponseWriter, r *http.Request, app *shopify.App, shop string, st shopify.State) error {
	u, err := app.AuthorizeURL(r.Context(), shop, st)
	if err != nil {
		return err
	}
	if st.Publisher != "" {
		s.audit(r, st.Publisher, "connector.install_started", shop, map[string]any{"type": "shopify"})
	}
	http.Redirect(w, r, u, http.StatusSeeOther)
	return nil
}

// handleShopifyCallback completes an install: Shopify's signature, the
// state (signed, unexpired, issued to this user of this publisher, and
// consumed here so that it works once) and the shop are verified before
// the code is exchanged for a token. The credentials then go to the
// connector of that store (created for a first install), which is tested
// and starts syncing.
func (s *Server) handleShopifyCallback(w http.ResponseWriter, r *http.Request) error {
	app, err := s.oauthApp(r)
	if err != nil {
		return err
	}
	a := phantomos.ActorFrom(r.Context())
	q := r.URL.Query()
	st, err := app.VerifyCallback(r.Context(), q)
	if err == nil && st.Publisher == "" {
		// Started from Shopify before anyone signed in.
		return s.parkShopifyInstall(w, r, app, st, q.Get("code"))
	}
	if err != nil {
		// A refused callback is a bad link for the person holding it, not a
		// failed sign-in: they are signed in, and start again.
		if code := phantomos.ErrorCode(err); code == phantomos.EUNAUTHORIZED || code == phantomos.EINVALID {
			return phantomos.Errorf(phantomos.EINVALID, "%s", phantomos.ErrorMessage(err))
		}
		return err
	}
	if a == nil {
		return phantomos.Errorf(phantomos.EUNAUTHORIZED, "Your session ended during the Shopify install. Sign in and start connecting again.")
	}
	if !a.Role.Can(phantomos.PermConnectors) {
		return phantomos.Errorf(phantomos.EFORBIDDEN, "Your role (%s) cannot connect stores.", a.Role)
	}
	if st.Publisher != a.PublisherID || st.UserID != a.UserID {
		return phantomos.Errorf(phantomos.EINVALID, "This Shopify install was started by someone else. Start connecting again from Connectors.")
	}
	cr, err := app.Exchange(r.Context(), st.Shop, q.Get("code"))
	if err != nil {
		return userError(err)
	}
	c, err := s.connectShopify(r, cr, st.ConnectorID)
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/connectors/"+c.ID+"/setup", http.StatusSeeOther)
	return nil
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
	switch {
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
