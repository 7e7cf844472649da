package shopifytest

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Token lifetimes the fake grants, as Shopify documents them: an expiring
// offline access token lasts an hour and comes with a refresh token of 90
// days; a client-credentials token lasts a day (86,399 seconds).
const (
	ExpiringTokenTTL = time.Hour
	RefreshTokenTTL  = 90 * 24 * time.Hour
	ClientTokenTTL   = 86399 * time.Second
)

// authState is what the token endpoint keeps beyond the plain tokens map:
// when expiring access tokens expire, the refresh tokens, and counts of the
// grants asked for.
type authState struct {
	expires map[string]time.Time // access token → expiry (absent: never)
	refresh map[string]refreshGrant
	grants  map[string]int // grant type → requests answered
}

type refreshGrant struct {
	scopes  string
	expires time.Time
}

func newAuthState() authState {
	return authState{expires: map[string]time.Time{}, refresh: map[string]refreshGrant{}, grants: map[string]int{}}
}

// tokenValid reports whether token is a live access token. s.mu is held.
func (s *Server) tokenValid(token string) bool {
	if _, ok := s.tokens[token]; !ok {
		return false
	}
	exp, ok := s.auth.expires[token]
	return !ok || time.Now().Before(exp)
}

// ExpireAccessTokens makes every expiring access token expired now, as an
// hour passing does: requests with them get 401 until the app refreshes.
func (s *Server) ExpireAccessTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	past := time.Now().Add(-time.Second)
	for tok := range s.auth.expires {
		s.auth.expires[tok] = past
	}
}

// RevokeRefreshTokens invalidates every refresh token, as uninstalling the
// app or rotating its secret does: refreshes answer invalid_grant.
func (s *Server) RevokeRefreshTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.auth.refresh)
}

// TokenRequests returns how many token requests of grant type were
// answered successfully ("authorization_code", "refresh_token",
// "client_credentials").
func (s *Server) TokenRequests(grant string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.auth.grants[grant]
}

// issueExpiring creates an access token that expires, with a refresh
// token; s.mu is held.
func (s *Server) issueExpiring(scopes string) map[string]any {
	tok := "shpua_" + randomHex(16)
	s.tokens[tok] = scopes
	s.auth.expires[tok] = time.Now().Add(ExpiringTokenTTL)
	rt := "shprt_" + randomHex(16)
	s.auth.refresh[rt] = refreshGrant{scopes: scopes, expires: time.Now().Add(RefreshTokenTTL)}
	return map[string]any{"access_token": tok, "scope": scopes, "expires_in": int(ExpiringTokenTTL / time.Second),
		"refresh_token": rt, "refresh_token_expires_in": int(RefreshTokenTTL / time.Second)}
}

func tokenError(w http.ResponseWriter, status int, code, description string) {
	writeJSON(w, status, map[string]any{"error": code, "error_description": description})
}

// handleAccessToken is POST /admin/oauth/access_token, form-encoded or
// JSON, for three grants:
//   - the authorization code (no grant_type): a code, once, for an offline
//     token; with expiring=1 the token expires after an hour and comes
//     with a refresh token, else it never expires;
//   - grant_type=refresh_token: a refresh token, once (the reply carries
//     its replacement), for a new expiring token;
//   - grant_type=client_credentials: the app's own id and secret for a
//     token of a day, no refresh token (Dev Dashboard apps on their
//     organization's stores).
func (s *Server) handleAccessToken(w http.ResponseWriter, r *http.Request) {
	in := map[string]string{}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		var raw map[string]any
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&raw); err != nil {
			tokenError(w, http.StatusBadRequest, "invalid_request", "The request body is not valid JSON")
			return
		}
		for k, v := range raw {
			switch x := v.(type) {
			case string:
				in[k] = x
			case float64:
				in[k] = strconv.FormatFloat(x, 'f', -1, 64)
			}
		}
	} else {
		if err := r.ParseForm(); err != nil {
			tokenError(w, http.StatusBadRequest, "invalid_request", "The request body is not valid")
			return
		}
		for k := range r.PostForm {
			in[k] = r.PostForm.Get(k)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if in["client_id"] != s.opts.ClientID || in["client_secret"] != s.opts.ClientSecret {
		tokenError(w, http.StatusUnauthorized, "invalid_client", "Client authentication failed: unknown client or wrong secret")
		return
	}
	switch grant := in["grant_type"]; grant {
	case "", "authorization_code":
		scopes, ok := s.codes[in["code"]]
		if !ok {
			tokenError(w, http.StatusBadRequest, "invalid_request", "The authorization code was not found or was already used")
			return
		}
		delete(s.codes, in["code"])
		s.auth.grants["authorization_code"]++
		if in["expiring"] == "1" {
			writeJSON(w, http.StatusOK, s.issueExpiring(scopes))
			return
		}
		tok := "shpua_" + randomHex(16)
		s.tokens[tok] = scopes
		writeJSON(w, http.StatusOK, map[string]any{"access_token": tok, "scope": scopes})
	case "refresh_token":
		g, ok := s.auth.refresh[in["refresh_token"]]
		if !ok || !time.Now().Before(g.expires) {
			tokenError(w, http.StatusBadRequest, "invalid_grant", "The refresh token is invalid, expired, revoked or was already used")
			return
		}
		delete(s.auth.refresh, in["refresh_token"])
		s.auth.grants[grant]++
		writeJSON(w, http.StatusOK, s.issueExpiring(g.scopes))
	case "client_credentials":
		s.auth.grants[grant]++
		tok := "shpat_" + randomHex(16)
		s.tokens[tok] = "read_products,read_orders"
		s.auth.expires[tok] = time.Now().Add(ClientTokenTTL)
		writeJSON(w, http.StatusOK, map[string]any{"access_token": tok, "scope": s.tokens[tok], "expires_in": int(ClientTokenTTL / time.Second)})
	default:
		tokenError(w, http.StatusBadRequest, "unsupported_grant_type", "The grant type is not supported")
	}
}
