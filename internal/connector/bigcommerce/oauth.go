package bigcommerce

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/connector"
	"github.com/phantomos/phantomos/internal/connector/platform"
)

// LoginBase is BigCommerce's login service, which exchanges codes.
const LoginBase = "https://login.bigcommerce.com"

// Scopes are the OAuth scopes the app needs, all read only.
var Scopes = []string{"store_v2_orders_read_only", "store_v2_products_read_only", "store_v2_information_read_only"}

// jwtLeeway tolerates clock skew on a signed payload's exp and nbf.
const jwtLeeway = time.Minute

// App is the BigCommerce app PhantomOS installs as. A merchant installs
// it from the BigCommerce control panel; BigCommerce then calls the auth
// callback (code, scope, context), and later the load callback each time
// the app is opened and the uninstall callback when it is removed, those
// two with a signed_payload_jwt.
type App struct {
	ClientID     string // BIGCOMMERCE_CLIENT_ID
	ClientSecret string // BIGCOMMERCE_CLIENT_SECRET; signs the JWTs
	// RedirectURL is the auth callback as registered with the app, e.g.
	// https://app.example/connectors/bigcommerce/auth; the token exchange
	// must repeat it.
	RedirectURL string
	// LoginURL replaces LoginBase (tests).
	LoginURL   string
	HTTPClient *http.Client
	Now        func() time.Time
	// JTIs, when set, makes each signed payload work once.
	JTIs JTIStore
}

// JTIStore remembers the ids (jti) of signed payloads already used.
type JTIStore interface {
	// ConsumeJTI records jti for ttl and reports whether it was new.
	ConsumeJTI(ctx context.Context, jti string, ttl time.Duration) (bool, error)
}

// StoreJTIs is a JTIStore in the database, shared by every replica, so a
// payload replayed to another replica or after a restart is refused.
type StoreJTIs struct{ Store platform.ReplayStore }

// maxJTITTL bounds how long an id is kept (signed payloads live minutes).
const maxJTITTL = 7 * 24 * time.Hour

// ConsumeJTI implements JTIStore.
func (j StoreJTIs) ConsumeJTI(ctx context.Context, jti string, ttl time.Duration) (bool, error) {
	return j.Store.ConsumeSignedID(ctx, Type, jti, min(ttl, maxJTITTL))
}

func (a *App) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// storeHashOf reads "stores/{hash}", the context and sub of BigCommerce.
func storeHashOf(context string) (string, bool) {
	h, ok := strings.CutPrefix(context, "stores/")
	return h, ok && ValidStoreHash(h)
}

type tokenResponse struct {
	AccessToken string `json:"access_token"`
	Scope       string `json:"scope"`
	Context     string `json:"context"`
	User        struct {
		Email string `json:"email"`
	} `json:"user"`
}

// Exchange completes an install from the auth callback's query: it
// checks code, scope and context, trades the code for the store's
// permanent access token at the login service, and checks the granted
// scopes cover Scopes. The code works once.
func (a *App) Exchange(ctx context.Context, q url.Values) (Credentials, error) {
	code, scope, storeContext := q.Get("code"), q.Get("scope"), q.Get("context")
	hash, ok := storeHashOf(storeContext)
	if code == "" || !ok || len(code) > 512 || len(scope) > 2048 {
		return Credentials{}, phantomos.Errorf(phantomos.EINVALID, "The BigCommerce install callback lacks its code or store context. Install the app again from the BigCommerce control panel.")
	}
	if a.ClientID == "" || a.ClientSecret == "" || a.RedirectURL == "" {
		return Credentials{}, errors.New("bigcommerce: app is not configured (client id, secret, redirect URL)")
	}
	body, _ := json.Marshal(map[string]string{"client_id": a.ClientID, "client_secret": a.ClientSecret, "code": code, "scope": scope,
		"grant_type": "authorization_code", "redirect_uri": a.RedirectURL, "context": storeContext})
	base := LoginBase
	if a.LoginURL != "" {
		base = strings.TrimSuffix(a.LoginURL, "/")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/oauth2/token", bytes.NewReader(body))
	if err != nil {
		return Credentials{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	hc := a.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return Credentials{}, &connector.Error{Kind: connector.Transient, Message: "BigCommerce's login service could not be reached; install the app again.", Err: err}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return Credentials{}, &connector.Error{Kind: connector.Transient, Message: "BigCommerce's answer was cut off; install the app again.", Err: err}
	}
	if resp.StatusCode != http.StatusOK {
		e := connector.HTTPError(Platform, resp.StatusCode, resp.Header)
		if resp.StatusCode >= 400 && resp.StatusCode < 500 {
			e.Kind = connector.Auth
			e.Message = "BigCommerce refused to finish the install: the authorization code is invalid or was already used. Install the app again."
		}
		e.Err = fmt.Errorf("bigcommerce: token exchange: %s: %s", resp.Status, snippet(raw))
		return Credentials{}, e
	}
	var tr tokenResponse
	if err := json.Unmarshal(raw, &tr); err != nil || tr.AccessToken == "" {
		return Credentials{}, &connector.Error{Kind: connector.Permanent, Message: "BigCommerce's token answer was not understood.", Err: fmt.Errorf("bigcommerce: token exchange: %v", err)}
	}
	if tr.Context != "" && tr.Context != storeContext {
		return Credentials{}, &connector.Error{Kind: connector.Auth, Message: "BigCommerce answered for another store than the install's."}
	}
	granted := strings.Fields(tr.Scope)
	for _, need := range Scopes {
		if !slices.Contains(granted, need) && !slices.Contains(granted, strings.TrimSuffix(need, "_read_only")) {
			return Credentials{}, &connector.Error{Kind: connector.Auth, Message: fmt.Sprintf("The store granted %q but PhantomOS needs %s.", tr.Scope, strings.Join(Scopes, " "))}
		}
	}
	return Credentials{StoreHash: hash, AccessToken: tr.AccessToken, Scopes: tr.Scope, Mode: ModeOAuth, UserEmail: tr.User.Email}, nil
}

// SignedPayload is the verified content of a signed_payload_jwt.
type SignedPayload struct {
	StoreHash  string
	UserID     int64
	UserEmail  string
	OwnerEmail string
	URL        string // the path the control panel asked the app to show
	JTI        string
	IssuedAt   time.Time
	Expires    time.Time
}

type jwtClaims struct {
	Aud  any    `json:"aud"`
	Iss  string `json:"iss"`
	Iat  int64  `json:"iat"`
	Nbf  int64  `json:"nbf"`
	Exp  int64  `json:"exp"`
	JTI  string `json:"jti"`
	Sub  string `json:"sub"`
	URL  string `json:"url"`
	User struct {
		ID    int64  `json:"id"`
		Email string `json:"email"`
	} `json:"user"`
	Owner struct {
		Email string `json:"email"`
	} `json:"owner"`
}

// VerifySignedPayload checks a signed_payload_jwt of the load or
// uninstall callback: an HS256 JWT (no other algorithm is accepted)
// signed with the client secret, for this app (aud), from BigCommerce
// (iss "bc"), within its validity (nbf, exp, a minute of leeway), naming
// a store (sub "stores/{hash}"), and, with JTIs set, not used before.
// Anything else is EUNAUTHORIZED.
func (a *App) VerifySignedPayload(ctx context.Context, token string) (SignedPayload, error) {
	var p SignedPayload
	bad := phantomos.Errorf(phantomos.EUNAUTHORIZED, "The BigCommerce request is not validly signed.")
	if a.ClientSecret == "" || len(token) > 8192 {
		return p, bad
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return p, bad
	}
	hdr, err1 := base64.RawURLEncoding.DecodeString(parts[0])
	body, err2 := base64.RawURLEncoding.DecodeString(parts[1])
	sig, err3 := base64.RawURLEncoding.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil {
		return p, bad
	}
	var h struct {
		Alg string `json:"alg"`
	}
	if json.Unmarshal(hdr, &h) != nil || h.Alg != "HS256" {
		return p, bad
	}
	m := hmac.New(sha256.New, []byte(a.ClientSecret))
	m.Write([]byte(parts[0] + "." + parts[1]))
	if !hmac.Equal(m.Sum(nil), sig) {
		return p, bad
	}
	var c jwtClaims
	if json.Unmarshal(body, &c) != nil {
		return p, bad
	}
	if !audience(c.Aud, a.ClientID) || c.Iss != "bc" {
		return p, bad
	}
	now := a.now()
	if c.Exp == 0 || now.After(time.Unix(c.Exp, 0).Add(jwtLeeway)) {
		return p, phantomos.Errorf(phantomos.EUNAUTHORIZED, "The BigCommerce request has expired. Open the app again from the BigCommerce control panel.")
	}
	if c.Nbf != 0 && now.Add(jwtLeeway).Before(time.Unix(c.Nbf, 0)) {
		return p, bad
	}
	hash, ok := storeHashOf(c.Sub)
	if !ok {
		return p, bad
	}
	p = SignedPayload{StoreHash: hash, UserID: c.User.ID, UserEmail: c.User.Email, OwnerEmail: c.Owner.Email, URL: c.URL, JTI: c.JTI,
		IssuedAt: time.Unix(c.Iat, 0).UTC(), Expires: time.Unix(c.Exp, 0).UTC()}
	if a.JTIs != nil {
		if c.JTI == "" {
			return SignedPayload{}, bad
		}
		// Kept until the payload has expired for good (its leeway included).
		fresh, err := a.JTIs.ConsumeJTI(ctx, c.JTI, p.Expires.Sub(now)+jwtLeeway)
		if err != nil {
			return SignedPayload{}, fmt.Errorf("bigcommerce: consume jti: %w", err)
		}
		if !fresh {
			return SignedPayload{}, phantomos.Errorf(phantomos.EUNAUTHORIZED, "This BigCommerce request was already used. Open the app again from the BigCommerce control panel.")
		}
	}
	return p, nil
}

// audience reports whether aud (a string or a list) names clientID.
func audience(aud any, clientID string) bool {
	if clientID == "" {
		return false
	}
	switch v := aud.(type) {
	case string:
		return hmac.Equal([]byte(v), []byte(clientID))
	case []any:
		for _, x := range v {
			if s, ok := x.(string); ok && s == clientID {
				return true
			}
		}
	}
	return false
}

// Load verifies the load callback's query (signed_payload_jwt).
func (a *App) Load(ctx context.Context, q url.Values) (SignedPayload, error) {
	return a.VerifySignedPayload(ctx, q.Get("signed_payload_jwt"))
}

// Uninstall verifies the uninstall callback's query: the store's token is
// dead from then on, and its connectors go to the error state.
func (a *App) Uninstall(ctx context.Context, q url.Values) (SignedPayload, error) {
	return a.VerifySignedPayload(ctx, q.Get("signed_payload_jwt"))
}
