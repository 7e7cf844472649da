package amazon

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/phantomos/phantomos/internal/connector"
)

// TokenURL is Login with Amazon's token endpoint, the same in every region.
const TokenURL = "https://api.amazon.com/auth/o2/token"

// tokenMargin renews an access token this long before it expires, so a
// request never leaves with a token about to lapse.
const tokenMargin = 5 * time.Minute

// TokenCache holds LWA access tokens (valid for an hour) by app and
// refresh token, so that every sync and test of a connector within the
// hour shares one. It is safe for concurrent use; a refresh in progress is
// waited for rather than repeated.
type TokenCache struct {
	mu     sync.Mutex
	tokens map[[32]byte]*cachedToken
}

type cachedToken struct {
	mu      sync.Mutex // held while refreshing
	token   string
	expires time.Time
}

// NewTokenCache returns an empty cache.
func NewTokenCache() *TokenCache { return &TokenCache{tokens: map[[32]byte]*cachedToken{}} }

func (tc *TokenCache) entry(cred *Credentials) *cachedToken {
	key := sha256.Sum256([]byte(cred.ClientID + "\x00" + cred.RefreshToken))
	tc.mu.Lock()
	defer tc.mu.Unlock()
	e, ok := tc.tokens[key]
	if !ok {
		e = &cachedToken{}
		tc.tokens[key] = e
	}
	return e
}

// forget drops the cached access token of cred.
func (tc *TokenCache) forget(cred *Credentials) {
	e := tc.entry(cred)
	e.mu.Lock()
	e.token, e.expires = "", time.Time{}
	e.mu.Unlock()
}

// tokenResponse is LWA's answer to a token request.
type tokenResponse struct {
	AccessToken      string `json:"access_token"`
	RefreshToken     string `json:"refresh_token"`
	TokenType        string `json:"token_type"`
	ExpiresIn        int64  `json:"expires_in"`
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
}

// accessToken returns a valid access token, from the cache or renewed.
func (c *Client) accessToken(ctx context.Context) (string, error) {
	e := c.tokens.entry(&c.cfg.Credentials)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.token != "" && c.now().Before(e.expires.Add(-tokenMargin)) {
		return e.token, nil
	}
	cred := c.cfg.Credentials
	tr, err := requestToken(ctx, c.http, c.tokenURL, url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {cred.RefreshToken},
		"client_id": {cred.ClientID}, "client_secret": {cred.ClientSecret},
	})
	if err != nil {
		return "", err
	}
	e.token = tr.AccessToken
	e.expires = c.now().Add(time.Duration(tr.ExpiresIn) * time.Second)
	return e.token, nil
}

// requestToken posts a token request to LWA and classifies its failures:
// invalid_grant (a revoked or expired authorization) and invalid_client
// need the user; 5xx and 429 are retried.
func requestToken(ctx context.Context, hc *http.Client, tokenURL string, form url.Values) (*tokenResponse, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("amazon: token request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded;charset=UTF-8")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("amazon: token request: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("amazon: token response: %w", err)
	}
	var tr tokenResponse
	jerr := json.Unmarshal(data, &tr)
	if resp.StatusCode/100 != 2 {
		e := connector.HTTPError("Login with Amazon", resp.StatusCode, resp.Header)
		switch {
		case tr.Error == "invalid_grant":
			e.Kind = connector.Auth
			e.Message = "Amazon no longer accepts the authorization (it was revoked or has expired). Reconnect the account."
		case tr.Error == "invalid_client" || tr.Error == "unauthorized_client":
			e.Kind = connector.Auth
			e.Message = "Login with Amazon refused the app's client id or secret. Check them and reconnect."
		case resp.StatusCode == http.StatusBadRequest:
			e.Kind = connector.Permanent
		}
		e.Err = fmt.Errorf("amazon: token: %d %s %s", resp.StatusCode, tr.Error, tr.ErrorDescription)
		return nil, e
	}
	if jerr != nil || tr.AccessToken == "" {
		return nil, &connector.Error{Kind: connector.Transient, Message: "Login with Amazon sent a malformed token response.", Err: jerr}
	}
	if tr.ExpiresIn <= 0 {
		tr.ExpiresIn = 3600
	}
	return &tr, nil
}

// App is a registered SP-API application: its id (for the consent page),
// its LWA client credentials, and where the consent page sends sellers
// back.
type App struct {
	ApplicationID string
	ClientID      string
	ClientSecret  string
	RedirectURI   string
	// Draft apps must ask for version=beta on the consent page.
	Draft bool
	// TokenURL overrides the LWA token endpoint (tests).
	TokenURL string
	// ConsentHost overrides the Seller/Vendor Central host (tests).
	ConsentHost string
}

// ConsentURL returns the Seller Central (vendor: Vendor Central) page
// where a seller of region authorizes the app; it comes back to
// RedirectURI with state, selling_partner_id and spapi_oauth_code.
func (a *App) ConsentURL(region string, vendor bool, state string) string {
	host := a.ConsentHost
	if host == "" {
		host = ConsentHost(region, vendor)
	}
	q := url.Values{"application_id": {a.ApplicationID}, "state": {state}, "redirect_uri": {a.RedirectURI}}
	if a.Draft {
		q.Set("version", "beta")
	}
	return strings.TrimRight(host, "/") + "/apps/authorize/consent?" + q.Encode()
}

// Exchange trades the spapi_oauth_code of a consent (valid five minutes)
// for the seller's refresh token, returned as credentials for region.
func (a *App) Exchange(ctx context.Context, hc *http.Client, region, code, sellingPartnerID string, now time.Time) (Credentials, error) {
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	tokenURL := a.TokenURL
	if tokenURL == "" {
		tokenURL = TokenURL
	}
	if strings.TrimSpace(code) == "" {
		return Credentials{}, connector.Errorf(connector.Permanent, "Amazon sent no authorization code.")
	}
	tr, err := requestToken(ctx, hc, tokenURL, url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {a.RedirectURI},
		"client_id": {a.ClientID}, "client_secret": {a.ClientSecret},
	})
	if err != nil {
		return Credentials{}, err
	}
	cred := Credentials{Region: strings.ToUpper(region), ClientID: a.ClientID, ClientSecret: a.ClientSecret,
		RefreshToken: tr.RefreshToken, SellingPartnerID: sellingPartnerID, AuthorizedAt: now.UTC()}
	if err := cred.Validate(); err != nil {
		return Credentials{}, err
	}
	return cred, nil
}
