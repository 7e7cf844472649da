package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/phantomos/phantomos"
)

// Credentials that expire are refreshed in place by whichever process
// needs them first. Every write of a connector's credentials bumps its
// credentials_version; a refresher claims a short lease on the version it
// read (ClaimCredentialRefresh), spends the refresh token, and stores the
// result only if the version is unchanged (SwapConnectorCredentials). The
// others see the lease, wait, and read the new credentials: a refresh
// token, which platforms may accept once, is spent by one process only.

// ConnectorCredentialsVersion is ConnectorCredentials plus the version of
// the credentials, for a later SwapConnectorCredentials.
func (s *Store) ConnectorCredentialsVersion(ctx context.Context, pub phantomos.PublisherID, id string) ([]byte, string, int64, error) {
	if !phantomos.ValidID(id) {
		return nil, "", 0, phantomos.Errorf(phantomos.ENOTFOUND, "Connector not found.")
	}
	var ct []byte
	var keyID string
	var version int64
	err := s.db.QueryRowContext(ctx, `SELECT credentials, credentials_key_id, credentials_version FROM connectors WHERE publisher_id = $1 AND id = $2`, pub, id).
		Scan(&ct, &keyID, &version)
	if err != nil {
		if e := notFound(err, "Connector"); e != err {
			return nil, "", 0, e
		}
		return nil, "", 0, fmt.Errorf("store: connector %s credentials: %w", id, err)
	}
	if len(ct) == 0 {
		return nil, "", 0, phantomos.Errorf(phantomos.EINVALID, "The connector has no credentials: connect it first.")
	}
	return ct, keyID, version, nil
}

// ClaimCredentialRefresh takes the refresh lease of connector id until
// until, if its credentials are still at version and no live lease is
// held. It reports whether this caller holds the lease.
func (s *Store) ClaimCredentialRefresh(ctx context.Context, pub phantomos.PublisherID, id string, version int64, until time.Time) (bool, error) {
	now := s.nowUTC()
	res, err := s.exec(ctx, `UPDATE connectors SET credentials_lease_until = $4
		WHERE publisher_id = $1 AND id = $2 AND credentials_version = $3
		AND (credentials_lease_until IS NULL OR credentials_lease_until < $5)`, pub, id, version, until.UTC(), now)
	if err != nil {
		return false, fmt.Errorf("store: connector %s refresh lease: %w", id, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// ReleaseCredentialRefresh gives up the refresh lease taken on version (a
// refresh that failed), so another process may try at once.
func (s *Store) ReleaseCredentialRefresh(ctx context.Context, pub phantomos.PublisherID, id string, version int64) error {
	_, err := s.exec(ctx, `UPDATE connectors SET credentials_lease_until = NULL
		WHERE publisher_id = $1 AND id = $2 AND credentials_version = $3`, pub, id, version)
	if err != nil {
		return fmt.Errorf("store: connector %s refresh lease: %w", id, err)
	}
	return nil
}

// SwapConnectorCredentials stores refreshed credentials of connector id if
// its credentials are still at version (compare-and-swap), releasing the
// refresh lease. Unlike SaveConnectorCredentials it leaves the status
// alone: the connection is the same, only its token changed. It reports
// whether the swap happened; false means someone else wrote meanwhile
// (another refresh, a reconnect, a disconnect), and the caller re-reads.
func (s *Store) SwapConnectorCredentials(ctx context.Context, pub phantomos.PublisherID, id string, version int64, ciphertext []byte, keyID string) (bool, error) {
	if len(ciphertext) == 0 || keyID == "" {
		return false, fmt.Errorf("store: connector %s credentials: empty ciphertext or key id", id)
	}
	res, err := s.exec(ctx, `UPDATE connectors SET credentials = $4, credentials_key_id = $5, updated_at = $6,
		credentials_version = credentials_version + 1, credentials_lease_until = NULL
		WHERE publisher_id = $1 AND id = $2 AND credentials_version = $3 AND credentials IS NOT NULL`,
		pub, id, version, ciphertext, keyID, s.nowUTC())
	if err != nil {
		return false, fmt.Errorf("store: connector %s credentials: %w", id, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// PendingInstall is an install started from a platform before anyone
// signed in to PhantomOS: sealed credentials for an account (a shop),
// waiting to be claimed by the person who installed.
type PendingInstall struct {
	Platform   string // e.g. shopify
	Account    string // e.g. the shop's myshopify.com domain
	Ciphertext []byte
	KeyID      string
	ExpiresAt  time.Time
}

// InstallTokenHash is how a pending install's token is stored.
func InstallTokenHash(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// ParkInstall keeps p until p.ExpiresAt, found by the hash of token, and
// drops the pending installs that expired.
func (s *Store) ParkInstall(ctx context.Context, token string, p PendingInstall) error {
	if len(token) < 32 || len(p.Ciphertext) == 0 || p.KeyID == "" || p.Platform == "" || p.Account == "" {
		return errors.New("store: park install: incomplete")
	}
	now := s.nowUTC()
	if _, err := s.exec(ctx, `DELETE FROM pending_installs WHERE expires_at < $1`, now); err != nil {
		return fmt.Errorf("store: park install: %w", err)
	}
	_, err := s.exec(ctx, `INSERT INTO pending_installs (token_hash, platform, account, credentials, credentials_key_id, expires_at, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, InstallTokenHash(token), p.Platform, p.Account, p.Ciphertext, p.KeyID, p.ExpiresAt.UTC(), now)
	if err != nil {
		return fmt.Errorf("store: park install: %w", err)
	}
	return nil
}

// ClaimInstall removes and returns the live pending install of token. Of
// concurrent claims of one token at most one succeeds; the others, and a
// claim of an expired or unknown token, get ENOTFOUND.
func (s *Store) ClaimInstall(ctx context.Context, token string) (PendingInstall, error) {
	var p PendingInstall
	err := s.writeRow(ctx, `DELETE FROM pending_installs WHERE token_hash = $1
		RETURNING platform, account, credentials, credentials_key_id, expires_at`, InstallTokenHash(token)).
		Scan(&p.Platform, &p.Account, &p.Ciphertext, &p.KeyID, &p.ExpiresAt)
	if errors.Is(err, sql.ErrNoRows) {
		return p, phantomos.Errorf(phantomos.ENOTFOUND, "The store installation was not found or has expired: install the app again from the store's side.")
	}
	if err != nil {
		return p, fmt.Errorf("store: claim install: %w", err)
	}
	if !p.ExpiresAt.After(s.nowUTC()) {
		return p, phantomos.Errorf(phantomos.ENOTFOUND, "The store installation has expired: install the app again from the store's side.")
	}
	return p, nil
}

// PendingInstallAccount returns the platform and account of the live
// pending install of token, without claiming it (for the page that asks
// to confirm). An expired or unknown token is ENOTFOUND.
func (s *Store) PendingInstallAccount(ctx context.Context, token string) (platform, account string, err error) {
	err = s.db.QueryRowContext(ctx, `SELECT platform, account FROM pending_installs WHERE token_hash = $1 AND expires_at > $2`,
		InstallTokenHash(token), s.nowUTC()).Scan(&platform, &account)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", phantomos.Errorf(phantomos.ENOTFOUND, "The store installation was not found or has expired: install the app again from the store's side.")
	}
	if err != nil {
		return "", "", fmt.Errorf("store: pending install: %w", err)
	}
	return platform, account, nil
}
