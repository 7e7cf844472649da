package connector

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/secret"
	"github.com/phantomos/phantomos/internal/store"
)

// CredentialStore keeps sealed credentials. *store.Store implements it.
type CredentialStore interface {
	SaveConnectorCredentials(ctx context.Context, pub phantomos.PublisherID, id string, ciphertext []byte, keyID string) error
	ConnectorCredentials(ctx context.Context, pub phantomos.PublisherID, id string) ([]byte, string, error)
	ConnectorCredentialsVersion(ctx context.Context, pub phantomos.PublisherID, id string) ([]byte, string, int64, error)
	ClaimCredentialRefresh(ctx context.Context, pub phantomos.PublisherID, id string, version int64, until time.Time) (bool, error)
	ReleaseCredentialRefresh(ctx context.Context, pub phantomos.PublisherID, id string, version int64) error
	SwapConnectorCredentials(ctx context.Context, pub phantomos.PublisherID, id string, version int64, ciphertext []byte, keyID string) (bool, error)
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

// LoadVersion is Load that also returns the version of the credentials,
// for SwapCredentials.
func (v *Vault) LoadVersion(ctx context.Context, t Target, creds any) (int64, error) {
	ct, keyID, version, err := v.store.ConnectorCredentialsVersion(ctx, t.Publisher, t.ConnectorID)
	if err != nil {
		return 0, err
	}
	plain, err := v.keys.OpenFor(ct, keyID, associated(t.Publisher, t.ConnectorID))
	if err != nil {
		return 0, fmt.Errorf("connector: credentials of %s: %w", t.ConnectorID, err)
	}
	defer clear(plain)
	if err := json.Unmarshal(plain, creds); err != nil {
		return 0, fmt.Errorf("connector: decode credentials of %s: %w", t.ConnectorID, err)
	}
	return version, nil
}

// ClaimRefresh takes the lease to refresh the credentials of t at version
// until until; see store.ClaimCredentialRefresh.
func (v *Vault) ClaimRefresh(ctx context.Context, t Target, version int64, until time.Time) (bool, error) {
	return v.store.ClaimCredentialRefresh(ctx, t.Publisher, t.ConnectorID, version, until)
}

// ReleaseRefresh gives the lease on version back after a failed refresh.
func (v *Vault) ReleaseRefresh(ctx context.Context, t Target, version int64) error {
	return v.store.ReleaseCredentialRefresh(ctx, t.Publisher, t.ConnectorID, version)
}

// SwapCredentials seals creds and stores them for t if its credentials are
// still at version, leaving the connector's status alone; see
// store.SwapConnectorCredentials.
func (v *Vault) SwapCredentials(ctx context.Context, t Target, version int64, creds any) (bool, error) {
	plain, err := json.Marshal(creds)
	if err != nil {
		return false, fmt.Errorf("connector: encode credentials: %w", err)
	}
	ct, keyID, err := v.keys.SealFor(plain, associated(t.Publisher, t.ConnectorID))
	clear(plain)
	if err != nil {
		return false, err
	}
	return v.store.SwapConnectorCredentials(ctx, t.Publisher, t.ConnectorID, version, ct, keyID)
}

// Seal seals creds bound to label (not a connector: e.g. a pending
// install), returning the ciphertext and key id.
func (v *Vault) Seal(label string, creds any) ([]byte, string, error) {
	plain, err := json.Marshal(creds)
	if err != nil {
		return nil, "", fmt.Errorf("connector: encode credentials: %w", err)
	}
	defer clear(plain)
	return v.keys.SealFor(plain, []byte("phantomos sealed\x00"+label))
}

// Open opens what Seal sealed under label into creds (a pointer).
func (v *Vault) Open(label string, ct []byte, keyID string, creds any) error {
	plain, err := v.keys.OpenFor(ct, keyID, []byte("phantomos sealed\x00"+label))
	if err != nil {
		return fmt.Errorf("connector: open sealed credentials: %w", err)
	}
	defer clear(plain)
	if err := json.Unmarshal(plain, creds); err != nil {
		return fmt.Errorf("connector: decode sealed credentials: %w", err)
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
