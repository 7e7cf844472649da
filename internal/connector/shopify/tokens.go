package shopify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/connector"
)

// Expiring offline tokens (required of public apps from 2027-01-01) last an
// hour and come with a refresh token that Shopify replaces at every use;
// Dev Dashboard apps get day-long tokens from the client-credentials grant
// and ask again when one expires. Either way the stored credentials change
// while syncs and webhooks run, possibly in several processes at once:
// StoredTokens renews them through the database so that one process spends
// a refresh token and the others pick up its result.

// refreshMargin is how long before its expiry a token is renewed, so that
// a request never leaves with a token about to lapse.
const refreshMargin = 5 * time.Minute

// refreshLease bounds how long one process may hold the right to refresh
// (the token request's timeout and then some); a process that died holding
// it delays the others by at most this.
const refreshLease = 45 * time.Second

// errNotRenewable marks a refused token that no grant can replace (a
// legacy custom-app token, a non-expiring offline token): the caller
// reports Shopify's own refusal.
var errNotRenewable = errors.New("shopify: token cannot be renewed")

// tokenTimeout bounds a token request.
const tokenTimeout = 30 * time.Second

// TokenSource gives a Client its access token.
type TokenSource interface {
	// Token returns a token good for a request now.
	Token(ctx context.Context) (string, error)
	// Refresh returns a token other than stale, which Shopify refused.
	Refresh(ctx context.Context, stale string) (string, error)
}

// CredentialVault keeps a connector's sealed credentials with a version
// and a refresh lease; *connector.Vault implements it over the database.
type CredentialVault interface {
	LoadVersion(ctx context.Context, t connector.Target, creds any) (int64, error)
	ClaimRefresh(ctx context.Context, t connector.Target, version int64, until time.Time) (bool, error)
	ReleaseRefresh(ctx context.Context, t connector.Target, version int64) error
	SwapCredentials(ctx context.Context, t connector.Target, version int64, creds any) (bool, error)
}

// StoredTokens is the TokenSource of a connector whose credentials live in
// a CredentialVault. It renews expiring tokens before they lapse and when
// Shopify refuses one; of concurrent renewals, in this process or others,
// one requests a token and the rest wait for it and re-read. A refresh
// token that Shopify refuses (revoked, expired) is a connector.Auth error,
// which puts the connector in its error state with Reconnect.
type StoredTokens struct {
	Vault  CredentialVault
	Target connector.Target
	// App renews expiring offline tokens of the public app; without it
	// they cannot be renewed.
	App *App
	// BaseURL replaces https://{shop} for client-credentials requests
	// (tests); HTTPClient makes them.
	BaseURL    string
	HTTPClient *http.Client
	Now        func() time.Time
	// Poll is how often a process waiting for another's renewal re-reads
	// the credentials (100 ms).
	Poll time.Duration

	mu  sync.Mutex
	cur *Credentials
}

func (s *StoredTokens) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// renewable reports whether cr's token can be renewed without the merchant.
func renewable(cr *Credentials) bool {
	switch cr.Mode {
	case ModeOAuth:
		return cr.RefreshToken != ""
	case ModeClientCredentials:
		return cr.ClientID != "" && cr.ClientSecret != ""
	}
	return false
}

// stale reports whether cr's token should be renewed before use at now.
func stale(cr *Credentials, now time.Time) bool {
	return renewable(cr) && !cr.ExpiresAt.IsZero() && !now.Before(cr.ExpiresAt.Add(-refreshMargin))
}

// Token implements TokenSource.
func (s *StoredTokens) Token(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur == nil {
		var cr Credentials
		if _, err := s.Vault.LoadVersion(ctx, s.Target, &cr); err != nil {
			return "", err
		}
		s.cur = &cr
	}
	if stale(s.cur, s.now()) {
		return s.renew(ctx, s.cur.AccessToken)
	}
	return s.cur.AccessToken, nil
}

// Refresh implements TokenSource.
func (s *StoredTokens) Refresh(ctx context.Context, refused string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.renew(ctx, refused)
}

// renew returns a token other than old that is not stale, renewing the
// stored credentials unless another process already did. s.mu is held.
func (s *StoredTokens) renew(ctx context.Context, old string) (string, error) {
	poll := s.Poll
	if poll <= 0 {
		poll = 100 * time.Millisecond
	}
	deadline := time.Now().Add(refreshLease + tokenTimeout)
	for {
		var cr Credentials
		version, err := s.Vault.LoadVersion(ctx, s.Target, &cr)
		if err != nil {
			return "", err
		}
		if cr.AccessToken != old && !stale(&cr, s.now()) {
			s.cur = &cr // renewed meanwhile, by another process or a reconnect
			return cr.AccessToken, nil
		}
		if !renewable(&cr) {
			s.cur = &cr
			return "", &connector.Error{Kind: connector.Auth,
				Message: "Shopify no longer accepts this store's access token: reconnect the store.", Err: errNotRenewable}
		}
		ok, err := s.Vault.ClaimRefresh(ctx, s.Target, version, time.Now().Add(refreshLease))
		if err != nil {
			return "", err
		}
		if !ok {
			// Another process is renewing: wait for its result, never
			// spending the refresh token it is spending.
			if time.Now().After(deadline) {
				return "", &connector.Error{Kind: connector.Transient, Message: "Renewing the Shopify access token is taking too long."}
			}
			t := time.NewTimer(poll)
			select {
			case <-ctx.Done():
				t.Stop()
				return "", ctx.Err()
			case <-t.C:
			}
			continue
		}
		next, err := s.request(ctx, cr)
		if err != nil {
			// Whatever happened, let the next attempt start at once. A
			// refused refresh token stays refused: the error is Auth.
			if rerr := s.Vault.ReleaseRefresh(context.WithoutCancel(ctx), s.Target, version); rerr != nil {
				err = errors.Join(err, rerr)
			}
			return "", err
		}
		swapped, err := s.Vault.SwapCredentials(context.WithoutCancel(ctx), s.Target, version, next)
		if err != nil {
			return "", err
		}
		if !swapped {
			continue // reconnected or disconnected meanwhile: read again
		}
		s.cur = &next
		return next.AccessToken, nil
	}
}

// request asks Shopify for a new token for cr.
func (s *StoredTokens) request(ctx context.Context, cr Credentials) (Credentials, error) {
	switch cr.Mode {
	case ModeOAuth:
		if s.App == nil {
			return cr, &connector.Error{Kind: connector.Auth, Message: "This store was connected through the PhantomOS app, which is not configured on this server (SHOPIFY_CLIENT_ID, SHOPIFY_CLIENT_SECRET)."}
		}
		return s.App.Refresh(ctx, cr)
	case ModeClientCredentials:
		return RequestClientToken(ctx, cr, s.BaseURL, s.HTTPClient, s.now())
	}
	return cr, &connector.Error{Kind: connector.Auth, Message: "Shopify no longer accepts this store's access token: reconnect the store."}
}

// tokenResponse is the token endpoint's answer to every grant.
type tokenResponse struct {
	AccessToken           string `json:"access_token"`
	Scope                 string `json:"scope"`
	ExpiresIn             int64  `json:"expires_in"`
	RefreshToken          string `json:"refresh_token"`
	RefreshTokenExpiresIn int64  `json:"refresh_token_expires_in"`
}

// apply writes a token response into cr, as received at now.
func (tr tokenResponse) apply(cr *Credentials, now time.Time) {
	cr.AccessToken = tr.AccessToken
	if tr.Scope != "" {
		cr.Scopes = tr.Scope
	}
	cr.ExpiresAt = time.Time{}
	if tr.ExpiresIn > 0 {
		cr.ExpiresAt = now.Add(time.Duration(tr.ExpiresIn) * time.Second).UTC()
	}
	if tr.RefreshToken != "" {
		cr.RefreshToken = tr.RefreshToken
		cr.RefreshExpiresAt = time.Time{}
		if tr.RefreshTokenExpiresIn > 0 {
			cr.RefreshExpiresAt = now.Add(time.Duration(tr.RefreshTokenExpiresIn) * time.Second).UTC()
		}
	}
}

// tokenRequest posts form to shop's token endpoint (base replaces
// https://{shop}) and decodes the answer. what names the request in
// messages. A 400 or 401 means the grant or the client was refused, which
// only the merchant can fix: a connector.Auth error.
func tokenRequest(ctx context.Context, hc *http.Client, base, shop string, form url.Values, what string) (tokenResponse, error) {
	var tr tokenResponse
	if base == "" {
		base = "https://" + shop
	}
	ctx, cancel := context.WithTimeout(ctx, tokenTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(base, "/")+"/admin/oauth/access_token", strings.NewReader(form.Encode()))
	if err != nil {
		return tr, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "PhantomOS")
	if hc == nil {
		hc = &http.Client{Timeout: tokenTimeout}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return tr, &connector.Error{Kind: connector.Transient, Message: fmt.Sprintf("Shopify could not be reached to %s.", what), Err: err}
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		var oe struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		_ = json.Unmarshal(raw, &oe)
		e := connector.HTTPError(Platform, resp.StatusCode, resp.Header)
		e.Err = fmt.Errorf("shopify: %s: %s", what, snippet(raw))
		if resp.StatusCode == http.StatusBadRequest || resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
			e.Kind = connector.Auth
			e.Message = fmt.Sprintf("Shopify refused to %s (%s): reconnect the store.", what, strings.TrimSpace(oe.Error+" "+oe.Description))
		}
		return tr, e
	}
	if err := json.Unmarshal(raw, &tr); err != nil || tr.AccessToken == "" {
		return tr, &connector.Error{Kind: connector.Transient, Message: "Shopify sent a malformed token response.", Err: err}
	}
	return tr, nil
}

// Refresh exchanges cr's refresh token for a new expiring access token and
// its replacement refresh token. A revoked or expired refresh token is a
// connector.Auth error: the merchant must reconnect.
func (a *App) Refresh(ctx context.Context, cr Credentials) (Credentials, error) {
	if cr.RefreshToken == "" {
		return cr, &connector.Error{Kind: connector.Auth, Message: "This store's access token cannot be renewed: reconnect the store."}
	}
	if !cr.RefreshExpiresAt.IsZero() && !a.now().Before(cr.RefreshExpiresAt) {
		return cr, &connector.Error{Kind: connector.Auth, Message: "This store's authorization expired after months without use: reconnect the store."}
	}
	form := url.Values{"client_id": {a.ClientID}, "client_secret": {a.ClientSecret},
		"grant_type": {"refresh_token"}, "refresh_token": {cr.RefreshToken}}
	tr, err := tokenRequest(ctx, a.HTTPClient, a.BaseURL, cr.Shop, form, "renew the store's access token")
	if err != nil {
		return cr, err
	}
	tr.apply(&cr, a.now())
	return cr, nil
}

// ClientCredentials validates what a merchant enters for a Dev Dashboard
// app installed on their store (Dev Dashboard → the app → Settings): the
// store address, the client ID and the client secret. RequestClientToken
// then gets its first token.
func ClientCredentials(shopInput, clientID, clientSecret string) (Credentials, error) {
	shop, err := NormalizeShop(shopInput)
	if err != nil {
		return Credentials{}, phantomos.Errorf(phantomos.EINVALID, "%s", err.Error())
	}
	clientID, clientSecret = strings.TrimSpace(clientID), strings.TrimSpace(clientSecret)
	if len(clientID) < 8 || len(clientID) > 200 || strings.ContainsAny(clientID, " \t\r\n") {
		return Credentials{}, phantomos.Errorf(phantomos.EINVALID, "The client ID looks incomplete: copy it from the app's Settings in the Dev Dashboard.")
	}
	if len(clientSecret) < 8 || len(clientSecret) > 200 || strings.ContainsAny(clientSecret, " \t\r\n") {
		return Credentials{}, phantomos.Errorf(phantomos.EINVALID, "The client secret looks incomplete: copy it from the app's Settings in the Dev Dashboard.")
	}
	return Credentials{Shop: shop, Mode: ModeClientCredentials, ClientID: clientID, ClientSecret: clientSecret,
		WebhookSecret: clientSecret}, nil
}

// RequestClientToken gets a token for cr (ModeClientCredentials) with the
// client-credentials grant, as of now. base replaces https://{shop}.
func RequestClientToken(ctx context.Context, cr Credentials, base string, hc *http.Client, now time.Time) (Credentials, error) {
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {cr.ClientID}, "client_secret": {cr.ClientSecret}}
	tr, err := tokenRequest(ctx, hc, base, cr.Shop, form, "issue an access token for the app")
	if err != nil {
		return cr, err
	}
	tr.apply(&cr, now)
	return cr, nil
}
