package bigcommerce_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/connector"
	"github.com/phantomos/phantomos/internal/connector/bigcommerce"
	"github.com/phantomos/phantomos/internal/connector/bigcommerce/bctest"
	"github.com/phantomos/phantomos/internal/connector/platform"
	"github.com/phantomos/phantomos/internal/secret"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// host is the server as the platform sees it, over a real store and
// engine; it records parked installs and uninstalls.
type host struct {
	h           *harness
	vault       *connector.Vault
	webhookBase string
	parked      []platform.Credentials
	uninstalled []connector.Target
	pl          platform.Platform
}

// FetchLater does at once what the server's job does later: it reads the
// delivery's orders through the platform and applies them.
func (x *host) FetchLater(ctx context.Context, t connector.Target, d platform.Delivery) error {
	b, err := x.pl.(platform.Fetcher).Fetch(ctx, x, t, d)
	if err != nil {
		return err
	}
	return x.Apply(ctx, t, b)
}

func (x *host) Vault() *connector.Vault          { return x.vault }
func (x *host) Logger() *slog.Logger             { return quiet }
func (x *host) Now() time.Time                   { return x.h.srv.Now() }
func (x *host) Nonces() platform.NonceStore      { return x.h.s }
func (x *host) Replays() platform.ReplayStore    { return x.h.s }
func (x *host) PublicURL(r *http.Request) string { return "https://app.example" }
func (x *host) WebhookBase() string              { return x.webhookBase }
func (x *host) Connect(w http.ResponseWriter, r *http.Request, p platform.Platform, cr platform.Credentials, id string) error {
	return errors.New("not used")
}
func (x *host) ConnectAs(r *http.Request, pub phantomos.PublisherID, userID string, p platform.Platform, cr platform.Credentials, id string) (*phantomos.Connector, error) {
	return nil, errors.New("not used")
}
func (x *host) ConnectFailed(w http.ResponseWriter, r *http.Request, p platform.Platform, err error) error {
	return err
}
func (x *host) ConnectorFor(ctx context.Context, pub phantomos.PublisherID, p platform.Platform, account, id string) (*phantomos.Connector, error) {
	return nil, phantomos.Errorf(phantomos.ENOTFOUND, "none")
}
func (x *host) Park(w http.ResponseWriter, r *http.Request, p platform.Platform, cr platform.Credentials) error {
	x.parked = append(x.parked, cr)
	w.WriteHeader(http.StatusSeeOther)
	return nil
}
func (x *host) Connectors(ctx context.Context, typ, account string, all bool) ([]connector.Target, error) {
	if typ != bigcommerce.Type || account != x.h.srv.StoreHash() {
		return nil, nil
	}
	return []connector.Target{x.h.target}, nil
}
func (x *host) Account(ctx context.Context, t connector.Target) (connector.Account, error) {
	return connector.Account{Currency: "USD"}, nil
}
func (x *host) Apply(ctx context.Context, t connector.Target, b connector.Batch) error {
	_, err := x.h.engine.Apply(ctx, t, b)
	return err
}
func (x *host) Uninstalled(ctx context.Context, t connector.Target, actor string) error {
	x.uninstalled = append(x.uninstalled, t)
	return nil
}
func (x *host) Erase(ctx context.Context, t connector.Target) (store.Erased, error) {
	return store.Erased{}, errors.New("not used")
}
func (x *host) Audit(ctx context.Context, pub phantomos.PublisherID, e store.AuditEntry) error {
	return nil
}
func (x *host) AuditRequest(r *http.Request, pub phantomos.PublisherID, action, target string, details map[string]any) {
}

// route returns an http.Handler serving the platform's route method path.
func route(t *testing.T, p platform.Platform, x *host, method, path string) http.Handler {
	t.Helper()
	x.pl = p
	for _, rt := range bigcommerce.Registration.Routes {
		if rt.Method == method && rt.Path == path {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if err := rt.Handle(p, x, w, r); err != nil {
					status := http.StatusInternalServerError
					switch phantomos.ErrorCode(err) {
					case phantomos.EUNAUTHORIZED:
						status = http.StatusUnauthorized
					case phantomos.EINVALID:
						status = http.StatusBadRequest
					}
					http.Error(w, err.Error(), status)
				}
			})
		}
	}
	t.Fatalf("no route %s %s", method, path)
	return nil
}

// TestPlatform goes through the registration the way the server does: a
// connect form with an API account, preflight, sealed credentials, open,
// subscribe (hook created with the connector's token), a sync, a webhook
// through the declared route, and the app's callbacks.
func TestPlatform(t *testing.T) {
	if err := platform.Check([]platform.Registration{bigcommerce.Registration}); err != nil {
		t.Fatal(err)
	}
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s, bctest.Options{})
		ctx := context.Background()
		env := map[string]string{bigcommerce.EnvClientID: h.srv.ClientID(), bigcommerce.EnvClientSecret: h.srv.ClientSecret(), bigcommerce.EnvBaseURL: h.srv.URL}
		p, err := bigcommerce.Registration.New(platform.Config{Getenv: func(k string) string { return env[k] }, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		keys, _ := secret.Parse(secret.Generate())
		x := &host{h: h, vault: connector.NewVault(keys, s)}
		hooks := httptest.NewServer(route(t, p, x, http.MethodPost, bigcommerce.WebhookPath))
		defer hooks.Close()
		x.webhookBase = hooks.URL

		// Connect with an API account.
		if _, err := p.Credentials(ctx, x, bigcommerce.ModeAPIAccount, url.Values{"store_hash": {"nope nope"}, "token": {h.token}}); phantomos.ErrorCode(err) != phantomos.EINVALID {
			t.Errorf("bad store hash: %v", err)
		}
		cr, err := p.Credentials(ctx, x, bigcommerce.ModeAPIAccount, url.Values{"store_hash": {"https://api.bigcommerce.com/stores/" + h.srv.StoreHash() + "/v3/"}, "token": {h.token}})
		if err != nil || cr.Account() != h.srv.StoreHash() {
			t.Fatalf("credentials: %v, %v", cr, err)
		}
		if err := p.Preflight(ctx, cr); err != nil {
			t.Fatal(err)
		}
		bad, _ := bigcommerce.APIAccountCredentials(h.srv.StoreHash(), "0123456789abcdefXXXX")
		if err := p.Preflight(ctx, bad); phantomos.ErrorCode(err) != phantomos.EINVALID || !strings.Contains(phantomos.ErrorMessage(err), "reconnect") && !strings.Contains(phantomos.ErrorMessage(err), "Reconnect") {
			t.Errorf("preflight with a wrong token: %v", err)
		}
		if err := x.vault.Save(ctx, h.target, cr); err != nil {
			t.Fatal(err)
		}
		src, err := p.Open(ctx, x, h.target)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.(platform.Subscriber).Subscribe(ctx, x, h.target, src); err != nil {
			t.Fatal(err)
		}
		if hs := h.srv.Hooks(); len(hs) != 1 || !hs[0].IsActive || hs[0].Destination != hooks.URL+bigcommerce.WebhookPath {
			t.Fatalf("hooks after subscribe: %+v", hs)
		}
		o := h.srv.AddOrder(bctest.Order{Country: "US", Lines: []bctest.Line{{Name: "Mug", SKU: "MUG", Quantity: 2, Price: 1200}}})
		if got := post(t, h.srv.WebhookRequest(hooks.URL+bigcommerce.WebhookPath, h.srv.WebhookBody("store/order/created", o.ID))); got != http.StatusOK {
			t.Fatalf("webhook through the route: %d", got)
		}
		if got := h.stored(t); got.Orders != 1 {
			t.Fatalf("after the webhook: %+v", got)
		}
		h.sync(t, ctx, src)
		h.check(t, 0)

		// The app: an install is parked for whoever signs in and claims it.
		rec := httptest.NewRecorder()
		q := url.Values{"code": {h.srv.Authorize(allScopes)}, "scope": {allScopes}, "context": {"stores/" + h.srv.StoreHash()}}
		route(t, p, x, http.MethodGet, "/connectors/bigcommerce/auth").ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/connectors/bigcommerce/auth?"+q.Encode(), nil))
		if len(x.parked) != 1 || x.parked[0].Account() != h.srv.StoreHash() {
			t.Fatalf("auth callback: status %d, parked %v", rec.Code, x.parked)
		}
		// Store the app's credentials on the connector; then uninstall.
		if err := x.vault.Save(ctx, h.target, x.parked[0]); err != nil {
			t.Fatal(err)
		}
		forged := h.srv.SignedPayload("wrong", h.srv.Now().Add(time.Hour))
		rec = httptest.NewRecorder()
		route(t, p, x, http.MethodGet, "/connectors/bigcommerce/uninstall").ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/connectors/bigcommerce/uninstall?signed_payload_jwt="+forged, nil))
		if rec.Code != http.StatusUnauthorized || len(x.uninstalled) != 0 {
			t.Fatalf("forged uninstall: %d, %v", rec.Code, x.uninstalled)
		}
		rec = httptest.NewRecorder()
		good := h.srv.SignedPayload(h.srv.ClientSecret(), h.srv.Now().Add(time.Hour))
		route(t, p, x, http.MethodGet, "/connectors/bigcommerce/uninstall").ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/connectors/bigcommerce/uninstall?signed_payload_jwt="+good, nil))
		if len(x.uninstalled) != 1 || x.uninstalled[0] != h.target {
			t.Fatalf("uninstall: %d, %v", rec.Code, x.uninstalled)
		}
		rec = httptest.NewRecorder()
		route(t, p, x, http.MethodGet, "/connectors/bigcommerce/load").ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/connectors/bigcommerce/load?signed_payload_jwt="+h.srv.SignedPayload(h.srv.ClientSecret(), h.srv.Now().Add(time.Hour)), nil))
		if rec.Code != http.StatusSeeOther {
			t.Errorf("load: %d", rec.Code)
		}
	})
}
