package connector

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/secret"
	"github.com/phantomos/phantomos/internal/store"
)

// CredentialStore keeps sealed credentials. *store.Store implements it.
type CredentialStore interface {
	SaveConnectorCredentials(ctx context.Context, pub phantomos.PublisherID, id string, ciphertext []byte, keyID string) error
	ConnectorCredentials(ctx context.Context, pub phantomos.PublisherID, id string) ([]byte, string, error)
}

// Vault seals connector credentials before they are stored and opens them
// for a sync. Credentials are bound to their connector: a ciphertext moved
// to another row does not open.
type Vault struct {
	keys  *secret.Keyring
	store CredentialStore
}

// NewVault returns a vault sealing with keys into s.
func NewVault(keys *secret.Keyring, s CredentialStore) *Vault {
	return &Vault{keys: keys, store: s}
}

// associated binds a ciphertext to its connector.
func associated(pub phantomos.PublisherID, connectorID string) []byte {
	return []byte("phantomos connector credentials\x00" + string(pub) + "\x00" + connectorID)
}

// Save encodes creds as JSON, seals it and stores it for t. The connector
// becomes pending until a test or sync succeeds.
func (v *Vault) Save(ctx context.Context, t Target, creds any) error {
	plain, err := json.Marshal(creds)
	if err != nil {
		return fmt.Errorf("connector: encode credentials: %w", err)
	}
	ct, keyID, err := v.keys.SealFor(plain, associated(t.Publisher, t.ConnectorID))
	clear(plain)
	if err != nil {
		return err
	}
	return v.store.SaveConnectorCredentials(ctx, t.Publisher, t.ConnectorID, ct, keyID)
}

// Load opens the credentials of t into creds (a pointer).
func (v *Vault) Load(ctx context.Context, t Target, creds any) error {
	ct, keyID, err := v.store.ConnectorCredentials(ctx, t.Publisher, t.ConnectorID)
	if err != nil {
		return err
	}
	plain, err := v.keys.OpenFor(ct, keyID, associated(t.Publisher, t.ConnectorID))
	if err != nil {
		return fmt.Errorf("connector: credentials of %s: %w", t.ConnectorID, err)
	}
	defer clear(plain)
	if err := json.Unmarshal(plain, creds); err != nil {
		return fmt.Errorf("connector: decode credentials of %s: %w", t.ConnectorID, err)
	}
	return nil
}

// Rekey re-seals every stored credential under the current key of keys
// (the second step of `phantomos rotate-key`) and returns how many changed.
func Rekey(ctx context.Context, keys *secret.Keyring, s *store.Store) (int, error) {
	return s.RekeyConnectorCredentials(ctx, keys.CurrentID(), func(c store.SealedCredentials) ([]byte, string, error) {
		out, id, _, err := keys.Reseal(c.Ciphertext, c.KeyID, associated(c.PublisherID, c.ConnectorID))
		return out, id, err
	})
}
