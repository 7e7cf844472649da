// Package platform is the contract between the commerce platforms
// PhantomOS connects live (each in its own package under
// internal/connector) and the rest of the server: the web pages, the
// wizard, the webhooks, the schedule and the configuration know platforms
// only through it, never by name.
//
// # Adding a platform
//
// A platform is three things:
//
//  1. Its package, internal/connector/<name>, which exports a
//     Registration: its type (the value stored in connectors.type), the
//     name and blurb of its wizard card, the environment variables it
//     reads, New (which builds the configured Platform, validating that
//     configuration) and the static list of HTTP routes it adds (OAuth
//     install and callback, webhook endpoints), each under
//     /connectors/<type>/ or /webhooks/<type>.
//  2. Its fake server, internal/connector/<name>/<name>test, which follows
//     the platform's documented wire format (auth flows, pagination, rate
//     limits, errors), for its tests and the web and browser tests.
//  3. One line in internal/connector/platforms (the registration list).
//
// Nothing else changes: the wizard shows its card and its connect step
// (Info.Methods, rendered from the fields it declares), POST
// /connectors/<type> hands the form to Platform.Credentials, the server
// stores what that returns sealed (connector.Vault), runs Preflight for a
// new store, tests the connection through the engine and enqueues the
// first sync. Syncs (manual, scheduled every Info.SyncEvery, queued jobs)
// call Open for a connector.Source. A platform that receives webhooks
// implements Subscriber (called after a connection, before each sync) and
// declares its webhook route; inside its handlers it reaches the server
// only through Host (connect, including for a callback that is not the
// person's browser, apply a batch, store a delivery that names orders for
// a job to read them from the platform (FetchLater; the platform then
// implements Fetcher, and the request never calls the store), mark an
// uninstall, erase, audit, find
// the connectors of an account, park an install until it is claimed at
// /connectors/claim, OAuth nonces, replay guards, the public URL, the
// vault). Nothing that must hold across replicas lives in a platform's
// memory: the server is stateless, so nonces, webhook deduplication and
// signed-request ids go through Host to the database. A platform
// that must tell the store when a connector is disconnected implements
// Disconnecter.
//
// Connectors of a type that is registered but not configured on a server
// stay listed with their data; they do not sync until it is configured.
//
// A test (internal/connector/platforms/names_test.go) fails when code
// outside the platform packages and the registration list names a
// platform.
package platform

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/connector"
	"github.com/phantomos/phantomos/internal/store"
)

// DefaultSyncEvery is how often an active connector syncs on its own when
// its platform does not say.
const DefaultSyncEvery = 6 * time.Hour

// Registration declares a platform. Its package exports one; the
// registration list (internal/connector/platforms) names it once.
type Registration struct {
	// Type is the connector type stored for its connectors, lower case
	// ([a-z0-9]+); it is also the path segment of its routes.
	Type string
	// Name and Blurb are its card on the wizard's first step.
	Name, Blurb string
	// Env lists the environment variables New reads, for `phantomos help`.
	Env []EnvVar
	// New builds the configured platform from cfg, or says what is wrong
	// with its configuration. Nil: the platform is not live yet, and its
	// card says "coming soon".
	New func(cfg Config) (Platform, error)
	// Routes are the HTTP routes the platform adds. They are served only
	// when the platform is configured (else 404).
	Routes []Route
}

// Live reports whether the platform can be connected (it has New).
func (r Registration) Live() bool { return r.New != nil }

// EnvVar is an environment variable a platform reads.
type EnvVar struct {
	Name, Help string
}

// Config is what New gets.
type Config struct {
	// Getenv reads the environment (os.Getenv; tests pass a map's).
	Getenv func(string) string
	Logger *slog.Logger
}

// Route is one HTTP route of a platform. Path is under
// /connectors/<type>/ or is /webhooks/<type>[/…]; the server checks it.
type Route struct {
	Method, Path string
	// Public routes are reached without signing in (OAuth callbacks,
	// webhooks) and must check their caller themselves (signatures, signed
	// state); the others need the right to manage connectors.
	Public bool
	// Handle serves the route with the configured platform p (the value
	// New returned) and the server h. An error is shown as the server
	// shows handler errors (its code picks the status).
	Handle func(p Platform, h Host, w http.ResponseWriter, r *http.Request) error
}

// Platform is a configured platform.
type Platform interface {
	// Info describes it for the pages.
	Info() Info
	// Credentials validates a submitted connect form (method is its
	// "method" field, one of Info().Methods) and returns the credentials
	// to store. Invalid input is EINVALID naming the field.
	Credentials(ctx context.Context, h Host, method string, form url.Values) (Credentials, error)
	// Decode reads credentials as they were stored (JSON).
	Decode(raw []byte) (Credentials, error)
	// Preflight tries credentials once before anything is stored, within
	// ctx's deadline and without retries: an unreachable store or refused
	// credentials get an answer at once.
	Preflight(ctx context.Context, cr Credentials) error
	// Open returns the sync source of connector t, whose credentials are in
	// h.Vault().
	Open(ctx context.Context, h Host, t connector.Target) (connector.Source, error)
}

// Credentials are what a connector of a platform stores, sealed. They are
// encoded as JSON.
type Credentials interface {
	// Account is the store's key on its platform (a shop's domain, a store
	// hash): one connector per account and publisher, and webhooks find
	// their connectors by it.
	Account() string
}

// Namer is implemented by credentials whose account key is not what
// people call the account (an Amazon merchant token): AccountName names a
// connector created for them.
type Namer interface {
	AccountName() string
}

// Subscriber is implemented by platforms that push changes: Subscribe
// (re-)creates the subscriptions of connector t (platforms drop hooks
// whose deliveries fail). It is called after a connection and before each
// sync, only when h.WebhookBase() is not empty. Failures are logged.
type Subscriber interface {
	Subscribe(ctx context.Context, h Host, t connector.Target, src connector.Source) error
}

// Delivery is a verified webhook delivery that names records without
// carrying them as they are now (payloads may be thin, late, repeated or
// out of order): a job reads them from the platform (Fetcher).
type Delivery struct {
	// Key identifies the delivery (the platform's delivery id or event
	// hash; empty: none): a delivery received twice is fetched once.
	Key string `json:"key,omitempty"`
	// Orders are the platform's ids of the orders it names.
	Orders []string `json:"orders"`
}

// MaxDeliveryOrders bounds the orders of one Delivery.
const MaxDeliveryOrders = 100

// Fetcher is implemented by platforms whose webhooks go through
// Host.FetchLater: Fetch reads the orders d names from the platform, as
// they are now (a gone order comes Removed), for connector t. It runs in
// a job, never in a request. An error of connector kind Auth or Permanent
// ends the job with its reason (another attempt cannot mend it; the next
// sync reports it and reads the order); other errors are retried with
// backoff.
type Fetcher interface {
	Fetch(ctx context.Context, h Host, t connector.Target, d Delivery) (connector.Batch, error)
}

// Disconnecter is implemented by platforms that must tell the store when
// a connector is disconnected (remove its webhooks, revoke a token). It is
// called, best effort, before the credentials are wiped.
type Disconnecter interface {
	Disconnect(ctx context.Context, h Host, t connector.Target) error
}

// Info describes a platform for the pages.
type Info struct {
	Type, Name string
	// Account names what Credentials.Account is for people ("Store
	// address").
	Account string
	// Methods are the ways to connect a store, shown in order on the
	// wizard's connect step.
	Methods []Method
	// FormAction lists the origins (beyond this server) the connect forms
	// lead to, for the page's Content-Security-Policy form-action (an
	// OAuth consent screen a form redirects to).
	FormAction []string
	// SyncEvery is how often its active connectors sync on their own
	// (0: DefaultSyncEvery).
	SyncEvery time.Duration
	// Reading says what a running sync does ("Reading products, orders and
	// refunds from …").
	Reading string
	// Pushes says that the platform sends its updates as they happen when
	// webhooks are on.
	Pushes bool
}

// Every is i.SyncEvery or the default.
func (i Info) Every() time.Duration {
	if i.SyncEvery > 0 {
		return i.SyncEvery
	}
	return DefaultSyncEvery
}

// Method is one way of connecting on the wizard's connect step: a form
// posting to Action (POST /connectors/<type> hands it to
// Platform.Credentials with its method; another action is a Route of the
// platform, such as an OAuth install).
type Method struct {
	ID       string // the form's "method" value
	Section  string // the id of its section on the page
	Title    string
	Badge    string        // e.g. "recommended"
	Intro    template.HTML // trusted text of the platform package
	Steps    []template.HTML
	Hint     template.HTML // below the form
	Action   string
	Fields   []Field
	Submit   string
	ButtonID string // the submit button's id
	Primary  bool   // the recommended method
}

// Field is one input of a connect form.
type Field struct {
	Name, Label, Hint, Placeholder string
	// Type is the input type: text (default) or password.
	Type     string
	Required bool
	// MaxLen bounds the value (0: 512).
	MaxLen int
	// Account marks the field holding the account: it is filled in, and
	// read-only, when reconnecting a store.
	Account bool
}

// DefaultMaxLen bounds a form field whose Field.MaxLen is 0.
const DefaultMaxLen = 512

// Values returns the trimmed values of m's fields from form, checking that
// required ones are there and that none is longer than its bound. Errors
// are EINVALID and name the field.
func (m Method) Values(form url.Values) (map[string]string, error) {
	out := make(map[string]string, len(m.Fields))
	for _, f := range m.Fields {
		v := strings.TrimSpace(form.Get(f.Name))
		max := f.MaxLen
		if max <= 0 {
			max = DefaultMaxLen
		}
		switch {
		case v == "" && f.Required:
			return nil, phantomos.Errorf(phantomos.EINVALID, "%s is required.", f.Label)
		case len(v) > max:
			return nil, phantomos.Errorf(phantomos.EINVALID, "%s is too long (at most %d characters).", f.Label, max)
		}
		out[f.Name] = v
	}
	return out, nil
}

// MethodByID returns the method of i with id.
func (i Info) MethodByID(id string) (Method, bool) {
	for _, m := range i.Methods {
		if m.ID == id {
			return m, true
		}
	}
	return Method{}, false
}

// Host is what the server offers platforms; the web layer implements it,
// so platform packages never import it.
type Host interface {
	// Vault seals and opens connector credentials.
	Vault() *connector.Vault
	Logger() *slog.Logger
	Now() time.Time
	// Nonces keeps single-use OAuth state nonces, shared by every replica.
	Nonces() NonceStore
	// Replays remembers, for every replica and across restarts, the
	// webhook deliveries already applied and the signed requests already
	// accepted.
	Replays() ReplayStore
	// PublicURL is the server's public address, without a trailing slash.
	PublicURL(r *http.Request) string
	// WebhookBase is the public https address webhooks are delivered to,
	// "" when this server does not receive them.
	WebhookBase() string
	// Connect stores cr on the signed-in publisher's connector of its
	// account (reconnectID when given; created when new), tests it,
	// subscribes it and starts a sync, then sends the browser to the
	// wizard's setup step. It runs Preflight first for a new store.
	// Nothing is written to w when it fails.
	Connect(w http.ResponseWriter, r *http.Request, p Platform, cr Credentials, reconnectID string) error
	// ConnectAs is Connect for a request that is not the person's browser
	// (a platform posting keys to a callback): the credentials go to
	// publisher pub as connected by user userID, who must still be a
	// member allowed to manage connectors. It returns the connector and
	// writes nothing to a response.
	ConnectAs(r *http.Request, pub phantomos.PublisherID, userID string, p Platform, cr Credentials, reconnectID string) (*phantomos.Connector, error)
	// ConnectFailed shows the connect step again with err.
	ConnectFailed(w http.ResponseWriter, r *http.Request, p Platform, err error) error
	// ConnectorFor checks that reconnectID is a connector of p's type for
	// account (or finds the publisher's connector of account) without
	// changing anything; ENOTFOUND when there is none.
	ConnectorFor(ctx context.Context, pub phantomos.PublisherID, p Platform, account, reconnectID string) (*phantomos.Connector, error)
	// Park keeps cr, sealed, for an install started from the platform
	// before anyone signed in, and sends the browser to sign in and claim
	// it for their organization.
	Park(w http.ResponseWriter, r *http.Request, p Platform, cr Credentials) error
	// Connectors lists the connectors of any publisher whose account on
	// platform typ is account: those holding credentials, or, with all,
	// also disconnected ones (erasure requests).
	Connectors(ctx context.Context, typ, account string, all bool) ([]connector.Target, error)
	// Account is what the last connection test of t found.
	Account(ctx context.Context, t connector.Target) (connector.Account, error)
	// Apply writes a pushed batch for t, idempotently.
	Apply(ctx context.Context, t connector.Target, b connector.Batch) error
	// FetchLater stores delivery d of connector t as a job and returns at
	// once, so that a webhook is answered fast: a worker then reads what d
	// names from the platform (the platform's Fetcher) and writes it,
	// retried with backoff. A delivery whose key was already stored, by
	// any replica, is not stored again. The platform of t must implement
	// Fetcher.
	FetchLater(ctx context.Context, t connector.Target, d Delivery) error
	// Uninstalled disconnects t, whose store removed the app (its
	// credentials are wiped; its data stays), recording it as by actor.
	Uninstalled(ctx context.Context, t connector.Target, actor string) error
	// Erase deletes t with everything it brought.
	Erase(ctx context.Context, t connector.Target) (store.Erased, error)
	// Audit records an entry for pub.
	Audit(ctx context.Context, pub phantomos.PublisherID, e store.AuditEntry) error
	// AuditRequest records an entry by the request's signed-in user.
	AuditRequest(r *http.Request, pub phantomos.PublisherID, action, target string, details map[string]any)
}

// NonceStore keeps OAuth state nonces; *store.Store implements it.
type NonceStore interface {
	PutOAuthNonce(ctx context.Context, pub phantomos.PublisherID, nonce string, expires time.Time) error
	ConsumeOAuthNonce(ctx context.Context, pub phantomos.PublisherID, nonce string) (bool, error)
}

// ReplayStore keeps what must be handled once whichever replica receives
// it; *store.Store implements it. Lifetimes count from the store's clock.
type ReplayStore interface {
	// ClaimDelivery records delivery key of a connector for ttl and
	// reports whether it is new; ReleaseDelivery forgets it (the delivery
	// failed, and its retry must be applied).
	ClaimDelivery(ctx context.Context, pub phantomos.PublisherID, connectorID, key string, ttl time.Duration) (bool, error)
	ReleaseDelivery(ctx context.Context, pub phantomos.PublisherID, connectorID, key string) error
	// ConsumeSignedID records the id of a signed request from issuer (the
	// platform's type) for ttl and reports whether it was new.
	ConsumeSignedID(ctx context.Context, issuer, id string, ttl time.Duration) (bool, error)
}

var typePattern = regexp.MustCompile(`^[a-z0-9]{1,32}$`)

// Check reports what is wrong with a registration list: a bad or repeated
// type, a missing name, a route outside the platform's paths or repeated.
func Check(regs []Registration) error {
	var errs []error
	types := map[string]bool{}
	routes := map[string]bool{}
	for _, r := range regs {
		if !typePattern.MatchString(r.Type) {
			errs = append(errs, fmt.Errorf("platform %q: the type must be 1-32 lower-case letters and digits", r.Type))
		}
		if types[r.Type] {
			errs = append(errs, fmt.Errorf("platform %q registered twice", r.Type))
		}
		types[r.Type] = true
		if r.Name == "" || r.Blurb == "" {
			errs = append(errs, fmt.Errorf("platform %q: a name and a blurb are required", r.Type))
		}
		if !r.Live() && len(r.Routes) > 0 {
			errs = append(errs, fmt.Errorf("platform %q has routes but no New", r.Type))
		}
		for _, rt := range r.Routes {
			key := rt.Method + " " + rt.Path
			ok := strings.HasPrefix(rt.Path, "/connectors/"+r.Type+"/") && len(rt.Path) > len("/connectors/"+r.Type+"/") ||
				rt.Path == "/webhooks/"+r.Type || strings.HasPrefix(rt.Path, "/webhooks/"+r.Type+"/")
			switch {
			case !ok:
				errs = append(errs, fmt.Errorf("platform %q: route %s is not under /connectors/%s/ or /webhooks/%s", r.Type, key, r.Type, r.Type))
			case rt.Method != http.MethodGet && rt.Method != http.MethodPost:
				errs = append(errs, fmt.Errorf("platform %q: route %s: only GET and POST", r.Type, key))
			case rt.Handle == nil:
				errs = append(errs, fmt.Errorf("platform %q: route %s has no handler", r.Type, key))
			case routes[key]:
				errs = append(errs, fmt.Errorf("platform %q: route %s declared twice", r.Type, key))
			}
			routes[key] = true
		}
	}
	return errors.Join(errs...)
}

// Registry is the configured platforms of a server.
type Registry struct {
	regs []Registration
	live map[string]Platform
}

// Open checks regs and builds each live platform with cfg. A platform
// whose configuration is wrong fails the whole call, naming it.
func Open(regs []Registration, cfg Config) (*Registry, error) {
	if err := Check(regs); err != nil {
		return nil, err
	}
	if cfg.Getenv == nil {
		cfg.Getenv = func(string) string { return "" }
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	reg := &Registry{regs: regs, live: map[string]Platform{}}
	for _, r := range regs {
		if !r.Live() {
			continue
		}
		p, err := r.New(cfg)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", r.Name, err)
		}
		reg.live[r.Type] = p
	}
	return reg, nil
}

// With returns a registry of regs in which the platforms given are the
// configured ones (keyed by their Info().Type): tests configure platforms
// directly, against their fakes.
func With(regs []Registration, ps ...Platform) (*Registry, error) {
	if err := Check(regs); err != nil {
		return nil, err
	}
	reg := &Registry{regs: regs, live: map[string]Platform{}}
	for _, p := range ps {
		reg.live[p.Info().Type] = p
	}
	return reg, nil
}

// Get returns the configured platform of type typ.
func (r *Registry) Get(typ string) (Platform, bool) {
	if r == nil {
		return nil, false
	}
	p, ok := r.live[typ]
	return p, ok
}

// Registrations lists every registration, configured or not, in order.
func (r *Registry) Registrations() []Registration {
	if r == nil {
		return nil
	}
	return r.regs
}
