package woocommerce

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/connector"
)

// KeyFlow is the store's key-generation flow: the user is sent to
// {store}/wc-auth/v1/authorize, approves access, and WooCommerce POSTs the
// new key and secret as JSON to our callback URL, then sends the user back
// to the return URL. The flow's user_id carries a sealed state naming the
// publisher, the user, the connector, the store and a single-use nonce,
// so that a callback is accepted only for a flow PhantomOS started, within
// its lifetime, once.
type KeyFlow struct {
	AppName string
	// Sealer seals the state: the server's credential vault.
	Sealer Sealer
	// TTL is how long a started flow may complete (30 minutes).
	TTL time.Duration
	Now func() time.Time
}

// Sealer seals and opens values bound to a label; *connector.Vault
// implements it.
type Sealer interface {
	Seal(label string, v any) ([]byte, string, error)
	Open(label string, ct []byte, keyID string, v any) error
}

// stateLabel binds a sealed state to this flow.
const stateLabel = "woocommerce key flow"

// KeyState is what a flow's user_id carries.
type KeyState struct {
	Publisher   phantomos.PublisherID `json:"p"`
	User        string                `json:"s,omitempty"` // who started it
	ConnectorID string                `json:"c,omitempty"` // when reconnecting
	URL         string                `json:"u"`           // the store's site root
	Nonce       string                `json:"n,omitempty"` // single use (platform.NonceStore)
	Expires     int64                 `json:"e"`           // unix seconds
}

func (f *KeyFlow) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

// TTLOrDefault is how long a flow may take.
func (f *KeyFlow) TTLOrDefault() time.Duration {
	if f.TTL > 0 {
		return f.TTL
	}
	return 30 * time.Minute
}

// AuthorizeURL returns where to send the user to approve a key for the
// store at storeURL. WooCommerce requires an https callback URL.
func (f *KeyFlow) AuthorizeURL(storeURL string, st KeyState, returnURL, callbackURL string) (string, error) {
	base, err := NormalizeURL(storeURL)
	if err != nil {
		return "", err
	}
	st.URL, st.Expires = base, f.now().Add(f.TTLOrDefault()).Unix()
	state, err := f.seal(st)
	if err != nil {
		return "", err
	}
	q := url.Values{"app_name": {f.AppName}, "scope": {"read_write"}, "user_id": {state},
		"return_url": {returnURL}, "callback_url": {callbackURL}}
	return base + "/wc-auth/v1/authorize?" + q.Encode(), nil
}

// Scope is asked read_write: PhantomOS reads orders and products and
// manages its own webhooks (creating a webhook needs write access).

// seal returns the state as "keyid.ciphertext" (base64url: WooCommerce's
// sanitising of user_id leaves it alone).
func (f *KeyFlow) seal(st KeyState) (string, error) {
	if f.Sealer == nil {
		return "", fmt.Errorf("woocommerce: key flow without a sealer")
	}
	ct, keyID, err := f.Sealer.Seal(stateLabel, st)
	if err != nil {
		return "", fmt.Errorf("woocommerce: seal key flow state: %w", err)
	}
	return keyID + "." + base64.RawURLEncoding.EncodeToString(ct), nil
}

// maxState bounds a state read back.
const maxState = 2048

// OpenState checks a user_id that a callback or return carries: sealed by
// us and not expired.
func (f *KeyFlow) OpenState(s string) (KeyState, error) {
	var st KeyState
	refused := phantomos.Errorf(phantomos.EUNAUTHORIZED, "The store's answer does not belong to a connection PhantomOS started.")
	i := strings.LastIndexByte(s, '.')
	if i <= 0 || len(s) > maxState || f.Sealer == nil {
		return st, refused
	}
	ct, err := base64.RawURLEncoding.DecodeString(s[i+1:])
	if err != nil || f.Sealer.Open(stateLabel, ct, s[:i], &st) != nil {
		return st, refused
	}
	if f.now().Unix() > st.Expires {
		return st, phantomos.Errorf(phantomos.EUNAUTHORIZED, "The connection took too long; start it again.")
	}
	return st, nil
}

// KeyCallback is the JSON WooCommerce POSTs to the callback URL.
type KeyCallback struct {
	KeyID          json.Number `json:"key_id"`
	UserID         string      `json:"user_id"`
	ConsumerKey    string      `json:"consumer_key"`
	ConsumerSecret string      `json:"consumer_secret"`
	KeyPermissions string      `json:"key_permissions"`
}

// ReadCallback reads the POSTed keys, checks the state in user_id and
// returns the credentials for the store the flow started with. The keys
// still need a Test against the store before they are saved.
func (f *KeyFlow) ReadCallback(body io.Reader) (Credentials, KeyState, error) {
	var cb KeyCallback
	raw, err := io.ReadAll(io.LimitReader(body, 64<<10))
	if err != nil {
		return Credentials{}, KeyState{}, fmt.Errorf("woocommerce: read callback: %w", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	// user_id comes back as sent, but some versions send numbers as numbers.
	var loose map[string]any
	if err := dec.Decode(&loose); err != nil {
		return Credentials{}, KeyState{}, phantomos.Errorf(phantomos.EINVALID, "The store's key message is not JSON.")
	}
	if err := json.Unmarshal(raw, &struct {
		KeyID          *json.Number `json:"key_id"`
		ConsumerKey    *string      `json:"consumer_key"`
		ConsumerSecret *string      `json:"consumer_secret"`
		KeyPermissions *string      `json:"key_permissions"`
	}{&cb.KeyID, &cb.ConsumerKey, &cb.ConsumerSecret, &cb.KeyPermissions}); err != nil {
		return Credentials{}, KeyState{}, phantomos.Errorf(phantomos.EINVALID, "The store's key message is not readable.")
	}
	switch v := loose["user_id"].(type) {
	case string:
		cb.UserID = v
	case json.Number:
		cb.UserID = v.String()
	}
	st, err := f.OpenState(cb.UserID)
	if err != nil {
		return Credentials{}, KeyState{}, err
	}
	cr := Credentials{URL: st.URL, ConsumerKey: cb.ConsumerKey, ConsumerSecret: cb.ConsumerSecret, KeyPermissions: cb.KeyPermissions}
	if err := cr.Validate(); err != nil {
		return Credentials{}, KeyState{}, phantomos.Errorf(phantomos.EINVALID, "%s", connector.UserMessage(err))
	}
	switch cb.KeyPermissions {
	case "read", "read_write", "write", "":
	default:
		return Credentials{}, KeyState{}, phantomos.Errorf(phantomos.EINVALID, "Unknown key permissions %q.", clip(cb.KeyPermissions, 20))
	}
	return cr, st, nil
}

// ReturnSucceeded reads the return URL's query: WooCommerce adds success=1
// (or 0 when the user refused) and the user_id.
func ReturnSucceeded(q url.Values) bool {
	ok, _ := strconv.ParseBool(q.Get("success"))
	return ok
}
