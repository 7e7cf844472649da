package platform

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/phantomos/phantomos"
)

// StateTTL is how long an OAuth flow may take from the redirect to the
// platform's consent page until its callback.
const StateTTL = 15 * time.Minute

// maxState bounds a state parameter read from a callback.
const maxState = 2048

// OAuthState is what an OAuth flow started on the wizard carries through
// a platform's consent page and back to its callback: who started it, for
// which connector (when reconnecting), and what the platform needs to
// finish (Data: a region, an account kind). It is signed and works once:
// its nonce is kept in the shared NonceStore (every replica sees it) until
// the callback consumes it.
type OAuthState struct {
	Publisher   phantomos.PublisherID `json:"p"`
	UserID      string                `json:"u,omitempty"`
	ConnectorID string                `json:"c,omitempty"`
	Data        string                `json:"d,omitempty"`
	Nonce       string                `json:"n"`
	Expires     int64                 `json:"e"` // Unix seconds
}

// StateKey derives the key that signs the OAuth states of platform typ
// from its app's client secret: every replica derives the same key, it
// differs from the secret (which the platform also knows), and a state
// issued for one platform does not open for another.
func StateKey(typ, clientSecret string) []byte {
	m := hmac.New(sha256.New, []byte(clientSecret))
	m.Write([]byte("phantomos oauth state v1\x00" + typ))
	return m.Sum(nil)
}

// IssueState records a fresh nonce for st's publisher in h's nonce store,
// valid StateTTL from h.Now(), and returns st signed with key: the value
// of the state parameter sent to the platform's consent page.
func IssueState(ctx context.Context, h Host, key []byte, st OAuthState) (string, error) {
	if len(key) < 32 {
		return "", errors.New("platform: state key too short")
	}
	nonce := make([]byte, 16)
	rand.Read(nonce)
	st.Nonce = base64.RawURLEncoding.EncodeToString(nonce)
	exp := h.Now().Add(StateTTL)
	st.Expires = exp.Unix()
	if err := h.Nonces().PutOAuthNonce(ctx, st.Publisher, st.Nonce, exp); err != nil {
		return "", fmt.Errorf("platform: store oauth nonce: %w", err)
	}
	payload, _ := json.Marshal(st)
	return base64.RawURLEncoding.EncodeToString(payload) + "." + base64.RawURLEncoding.EncodeToString(stateMAC(key, payload)), nil
}

func stateMAC(key, payload []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("oauth-state\x00"))
	m.Write(payload)
	return m.Sum(nil)
}

// OpenState checks a state a callback brought back: signed with key,
// unexpired, and its nonce still pending, which it consumes so that the
// state works once. Anything else is EUNAUTHORIZED with a message for the
// person holding the link; name is the platform's name.
func OpenState(ctx context.Context, h Host, key []byte, name, s string) (OAuthState, error) {
	var st OAuthState
	bad := phantomos.Errorf(phantomos.EUNAUTHORIZED, "The %s authorization link is not valid or was already used. Start connecting again.", name)
	p64, s64, ok := strings.Cut(s, ".")
	if !ok || len(s) > maxState || len(key) < 32 {
		return st, bad
	}
	payload, err1 := base64.RawURLEncoding.DecodeString(p64)
	sig, err2 := base64.RawURLEncoding.DecodeString(s64)
	if err1 != nil || err2 != nil || !hmac.Equal(stateMAC(key, payload), sig) {
		return st, bad
	}
	if json.Unmarshal(payload, &st) != nil || st.Nonce == "" || st.Publisher == "" {
		return OAuthState{}, bad
	}
	if h.Now().Unix() > st.Expires {
		return OAuthState{}, phantomos.Errorf(phantomos.EUNAUTHORIZED, "The %s authorization took too long. Start connecting again.", name)
	}
	fresh, err := h.Nonces().ConsumeOAuthNonce(ctx, st.Publisher, st.Nonce)
	if err != nil {
		return OAuthState{}, fmt.Errorf("platform: consume oauth nonce: %w", err)
	}
	if !fresh {
		return OAuthState{}, bad
	}
	return st, nil
}

// CheckActor reports whether the signed-in person a may finish the flow
// of st: signed in, allowed to manage connectors, and the one who started
// it, in the same organization. A callback reached by someone else (a
// link sent to a colleague, or planted on a victim) is refused, so that
// nobody attaches an account to an organization that did not ask for it.
func (st OAuthState) CheckActor(a *phantomos.Actor, name string) error {
	switch {
	case a == nil:
		return phantomos.Errorf(phantomos.EUNAUTHORIZED, "Your session ended during the %s authorization. Sign in and start connecting again.", name)
	case !a.Role.Can(phantomos.PermConnectors):
		return phantomos.Errorf(phantomos.EFORBIDDEN, "Your role (%s) cannot connect stores.", a.Role)
	case st.Publisher != a.PublisherID || st.UserID != a.UserID:
		return phantomos.Errorf(phantomos.EINVALID, "This %s authorization was started by someone else. Start connecting again from Connectors.", name)
	}
	return nil
}
