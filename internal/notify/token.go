package notify

import (
	"encoding/base64"
	"strings"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/secret"
)

// unsubscribeAD binds unsubscribe tokens to their purpose: a token sealed
// for something else does not open as one.
var unsubscribeAD = []byte("phantomos unsubscribe weekly v1")

// UnsubscribeToken returns the token of the weekly digest's unsubscribe
// link of user userID of publisher pub: the pair sealed with AES-GCM
// under the server's keys (internal/secret), so it cannot be guessed or
// forged, and it names no one to whoever reads it. It works without
// signing in and keeps working after a key rotation while the old key is
// kept.
func UnsubscribeToken(keys *secret.Keyring, pub phantomos.PublisherID, userID string) (string, error) {
	ct, keyID, err := keys.SealFor([]byte(string(pub)+"|"+userID), unsubscribeAD)
	if err != nil {
		return "", err
	}
	return keyID + "." + base64.RawURLEncoding.EncodeToString(ct), nil
}

// OpenUnsubscribeToken returns the publisher and user of token.
func OpenUnsubscribeToken(keys *secret.Keyring, token string) (phantomos.PublisherID, string, error) {
	bad := phantomos.Errorf(phantomos.ENOTFOUND, "This unsubscribe link is not valid. Change your notifications in Settings instead.")
	if len(token) > 400 {
		return "", "", bad
	}
	keyID, enc, ok := strings.Cut(token, ".")
	if !ok {
		return "", "", bad
	}
	ct, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil {
		return "", "", bad
	}
	pt, err := keys.OpenFor(ct, keyID, unsubscribeAD)
	if err != nil {
		return "", "", bad
	}
	pub, user, ok := strings.Cut(string(pt), "|")
	if !ok || !phantomos.ValidID(pub) || !phantomos.ValidID(user) {
		return "", "", bad
	}
	return phantomos.PublisherID(pub), user, nil
}
