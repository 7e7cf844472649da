package shopify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/connector"
	"github.com/phantomos/phantomos/internal/connector/platform"
)

// Scopes are the access scopes the public app requests: products and
// orders, read only. Orders older than 60 days also need read_all_orders,
// which Shopify grants to an app on request (Partner Dashboard); once
// granted, add it with App.Scopes.
const Scopes = "read_products,read_orders"

// ScopeAllOrders unlocks order history beyond 60 days.
const ScopeAllOrders = "read_all_orders"

// maxRequestAge bounds the age of a signed install or callback request
// (its timestamp parameter), so a captured URL cannot be replayed later.
const maxRequestAge = time.Hour

// NonceStore keeps the nonces of pending installs so that each state is
// used once. Across replicas and restarts it must be shared: *store.Store
// implements it over the database. Nonces belong to the publisher whose
// install they are.
type NonceStore interface {
	// PutOAuthNonce records nonce until expires.
	PutOAuthNonce(ctx context.Context, pub phantomos.PublisherID, nonce string, expires time.Time) error
	// ConsumeOAuthNonce removes nonce and reports whether it was there and
	// live; of concurrent calls with one nonce, at most one gets true.
	ConsumeOAuthNonce(ctx context.Context, pub phantomos.PublisherID, nonce string) (bool, error)
}

// MemoryNonces is a NonceStore for one process (tests, single-binary
// tools).
type MemoryNonces struct {
	mu     sync.Mutex
	nonces map[string]time.Time
	now    func() time.Time
}

// NewMemoryNonces returns an empty store.
func NewMemoryNonces() *MemoryNonces {
	return &MemoryNonces{nonces: map[string]time.Time{}, now: time.Now}
}

// PutOAuthNonce implements NonceStore.
func (m *MemoryNonces) PutOAuthNonce(_ context.Context, pub phantomos.PublisherID, nonce string, expires time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	for n, exp := range m.nonces { // drop expired ones; the map stays small
		if now.After(exp) {
			delete(m.nonces, n)
		}
	}
	m.nonces[string(pub)+"\x00"+nonce] = expires
	return nil
}

// ConsumeOAuthNonce implements NonceStore.
func (m *MemoryNonces) ConsumeOAuthNonce(_ context.Context, pub phantomos.PublisherID, nonce string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	key := string(pub) + "\x00" + nonce
	exp, ok := m.nonces[key]
	delete(m.nonces, key)
	return ok && !m.now().After(exp), nil
}

// App is the public Shopify app PhantomOS installs as.
type App struct {
	ClientID     string // SHOPIFY_CLIENT_ID
	ClientSecret string // SHOPIFY_CLIENT_SECRET; verifies OAuth requests and webhooks
	// RedirectURL is the callback, e.g. https://app.example/connectors/shopify/callback;
	// it must be listed in the app's allowed redirection URLs.
	RedirectURL string
	// Scopes defaults to Scopes.
	Scopes string
	// StateKey signs the state parameter (32 random bytes; a server secret
	// distinct from the client secret).
	StateKey []byte
	Nonces   NonceStore
	// BaseURL replaces https://{shop} for the token exchange (tests).
	BaseURL    string
	HTTPClient *http.Client
	Now        func() time.Time
}

func (a *App) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

func (a *App) scopes() string {
	if a.Scopes != "" {
		return a.Scopes
	}
	return Scopes
}

// State is what an install carries through Shopify and back: who started
// it, for which connector and shop. It is signed and single use; it
// travels as a platform.OAuthState whose Data is the shop.
type State struct {
	Publisher   phantomos.PublisherID `json:"p"`
	ConnectorID string                `json:"c,omitempty"`
	UserID      string                `json:"u,omitempty"`
	Shop        string                `json:"s"`
	Nonce       string                `json:"n"`
	Expires     int64                 `json:"e"` // Unix seconds
}

// AuthorizeURL starts an install of the app on shop for st: it records a
// fresh nonce and returns the URL of Shopify's consent screen. The offline
// access mode (no grant_options) gives a token that outlives the session.
// The state is signed and single use (platform.IssueState).
func (a *App) AuthorizeURL(ctx context.Context, shop string, st State) (string, error) {
	if !ValidShop(shop) {
		return "", phantomos.Errorf(phantomos.EINVALID, "%q is not a myshopify.com store address.", shop)
	}
	if len(a.StateKey) < 32 || a.ClientID == "" || a.ClientSecret == "" || a.Nonces == nil {
		return "", errors.New("shopify: app is not configured (client id, secret, state key, nonce store)")
	}
	state, err := platform.IssueState(ctx, a.Nonces, a.StateKey, a.now(),
		platform.OAuthState{Publisher: st.Publisher, UserID: st.UserID, ConnectorID: st.ConnectorID, Data: shop})
	if err != nil {
		return "", fmt.Errorf("shopify: %w", err)
	}
	q := url.Values{}
	q.Set("client_id", a.ClientID)
	q.Set("scope", a.scopes())
	q.Set("redirect_uri", a.RedirectURL)
	q.Set("state", state)
	return a.shopURL(shop) + "/admin/oauth/authorize?" + q.Encode(), nil
}

func (a *App) shopURL(shop string) string {
	if a.BaseURL != "" {
		return strings.TrimSuffix(a.BaseURL, "/")
	}
	return "https://" + shop
}

// installFlow names the install in messages.
const installFlow = "Shopify install"

// openState checks the signature and expiry of a state and consumes its
// nonce, so that it works once (platform.OpenState).
func (a *App) openState(ctx context.Context, s string) (State, error) {
	os, err := platform.OpenState(ctx, a.Nonces, a.StateKey, a.now(), installFlow, s)
	if err != nil {
		return State{}, err
	}
	return State{Publisher: os.Publisher, ConnectorID: os.ConnectorID, UserID: os.UserID, Shop: os.Data, Nonce: os.Nonce, Expires: os.Expires}, nil
}

// CheckActor reports whether the signed-in person a may finish the install
// of st (platform.OAuthState.CheckActor).
func (st State) CheckActor(a *phantomos.Actor) error {
	return platform.OAuthState{Publisher: st.Publisher, UserID: st.UserID}.CheckActor(a, installFlow)
}

// QueryHMAC returns the hex HMAC-SHA256 Shopify puts in the hmac parameter
// of install and callback requests: over the parameters except hmac and
// signature, sorted by name, as name=value joined by &, with '%' and '&'
// (and '=' in names) percent-escaped; a repeated parameter becomes
// name=["a", "b"].
func QueryHMAC(q url.Values, secret string) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		if k != "hmac" && k != "signature" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	escK := strings.NewReplacer("%", "%25", "&", "%26", "=", "%3D")
	escV := strings.NewReplacer("%", "%25", "&", "%26")
	var parts []string
	for _, k := range keys {
		vs := q[k]
		v := ""
		if len(vs) == 1 {
			v = vs[0]
		} else {
			quoted := make([]string, len(vs))
			for i, x := range vs {
				quoted[i] = strconv.Quote(x)
			}
			v = "[" + strings.Join(quoted, ", ") + "]"
		}
		parts = append(parts, escK.Replace(k)+"="+escV.Replace(v))
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(strings.Join(parts, "&")))
	return hex.EncodeToString(m.Sum(nil))
}

// VerifyRequest checks a request Shopify signed (the install request from
// the app listing, the OAuth callback): the hmac parameter, a valid
// *.myshopify.com shop and a recent timestamp. It returns the shop.
func (a *App) VerifyRequest(q url.Values) (string, error) {
	got, err := hex.DecodeString(q.Get("hmac"))
	want, _ := hex.DecodeString(QueryHMAC(q, a.ClientSecret))
	if err != nil || a.ClientSecret == "" || !hmac.Equal(got, want) {
		return "", phantomos.Errorf(phantomos.EUNAUTHORIZED, "The request does not carry a valid Shopify signature.")
	}
	shop := q.Get("shop")
	if !ValidShop(shop) {
		return "", phantomos.Errorf(phantomos.EUNAUTHORIZED, "The shop %q is not a myshopify.com store.", shop)
	}
	ts, err := strconv.ParseInt(q.Get("timestamp"), 10, 64)
	if err != nil {
		return "", phantomos.Errorf(phantomos.EUNAUTHORIZED, "The Shopify request has no timestamp.")
	}
	if age := a.now().Sub(time.Unix(ts, 0)); age > maxRequestAge || age < -5*time.Minute {
		return "", phantomos.Errorf(phantomos.EUNAUTHORIZED, "The Shopify request has expired. Start connecting again.")
	}
	return shop, nil
}

// Callback completes an install: it verifies the callback (see
// VerifyCallback) and exchanges the code for an offline access token. The
// returned state says whose install it was; the caller checks it against
// the signed-in user before storing the credentials. Callers that must
// check the state before the code is spent use VerifyCallback and
// Exchange.
func (a *App) Callback(ctx context.Context, q url.Values) (Credentials, State, error) {
	st, err := a.VerifyCallback(ctx, q)
	if err != nil {
		return Credentials{}, st, err
	}
	cr, err := a.Exchange(ctx, st.Shop, q.Get("code"))
	return cr, st, err
}

// VerifyCallback checks an OAuth callback request: its hmac, shop and
// timestamp (VerifyRequest), the signature and expiry of its state, and
// that the state's nonce is still pending, which it consumes, so that a
// callback works once. The shop must be the one the install started for,
// and the request must carry a code. It returns the state.
func (a *App) VerifyCallback(ctx context.Context, q url.Values) (State, error) {
	shop, err := a.VerifyRequest(q)
	if err != nil {
		return State{}, err
	}
	st, err := a.openState(ctx, q.Get("state"))
	if err != nil {
		return st, err
	}
	if st.Shop != shop {
		return st, phantomos.Errorf(phantomos.EUNAUTHORIZED, "Shopify answered for %s, but the install was started for %s.", shop, st.Shop)
	}
	if q.Get("code") == "" {
		return st, phantomos.Errorf(phantomos.EINVALID, "Shopify did not send an authorization code; the install was probably declined.")
	}
	return st, nil
}

// Exchange trades an authorization code for an expiring offline access
// token (expiring=1: an hour, with a refresh token, as Shopify requires
// of public apps) and checks that the granted scopes cover what the
// connector reads.
func (a *App) Exchange(ctx context.Context, shop, code string) (Credentials, error) {
	form := url.Values{"client_id": {a.ClientID}, "client_secret": {a.ClientSecret}, "code": {code}, "expiring": {"1"}}
	tr, err := tokenRequest(ctx, a.HTTPClient, a.BaseURL, shop, form, "finish the install")
	if err != nil {
		if ce, ok := errors.AsType[*connector.Error](err); ok && ce.Kind == connector.Auth {
			ce.Message = "Shopify refused to finish the install: the authorization code is invalid or was already used. Start connecting again."
		}
		return Credentials{}, err
	}
	granted := strings.Split(tr.Scope, ",")
	for _, need := range strings.Split(a.scopes(), ",") {
		if !slices.Contains(granted, need) && !slices.Contains(granted, "write_"+strings.TrimPrefix(need, "read_")) {
			return Credentials{}, &connector.Error{Kind: connector.Auth, Message: fmt.Sprintf("The store granted %q but PhantomOS needs %s.", tr.Scope, a.scopes())}
		}
	}
	cr := Credentials{Shop: shop, Mode: ModeOAuth}
	tr.apply(&cr, a.now())
	return cr, nil
}

// CustomAppCredentials validates what a merchant pastes for a legacy
// custom app (created in the store admin before Shopify stopped allowing
// new ones on 2026-01-01; existing ones keep working), with the
// read_products and read_orders Admin API scopes: the store address, the
// Admin API access token (shpat_…, which does not expire) and, for
// webhooks, the API secret key. Test the result with a Client before
// saving it.
func CustomAppCredentials(shopInput, token, apiSecret string) (Credentials, error) {
	shop, err := NormalizeShop(shopInput)
	if err != nil {
		return Credentials{}, phantomos.Errorf(phantomos.EINVALID, "%s", err.Error())
	}
	token = strings.TrimSpace(token)
	if len(token) < 20 || strings.ContainsAny(token, " \t\r\n") {
		return Credentials{}, phantomos.Errorf(phantomos.EINVALID, "The Admin API access token looks incomplete: copy the whole token (it starts with shpat_).")
	}
	return Credentials{Shop: shop, AccessToken: token, Mode: ModeCustom, WebhookSecret: strings.TrimSpace(apiSecret)}, nil
}
