package woocommerce

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/phantomos/phantomos/internal/connector"
)

// Connect checks credentials the user pasted (or the key-generation flow
// posted), tests them against the store through the engine (so that the
// connector's status follows), and seals them with a fresh webhook secret
// into the vault. Nothing is stored when the store refuses them. opts
// supplies the HTTP client, logger and webhook URL.
func Connect(ctx context.Context, eng *connector.Engine, vault *connector.Vault, t connector.Target, cr Credentials, opts Config) (connector.Account, error) {
	if err := cr.Validate(); err != nil {
		return connector.Account{}, err
	}
	c, err := FromCredentials(cr, opts)
	if err != nil {
		return connector.Account{}, err
	}
	// The store is asked before anything is stored, then once more through
	// the engine once the credentials are saved (saving makes the
	// connector pending; the engine's test makes it active).
	if acc, err := c.Test(ctx); err != nil {
		return acc, err
	}
	if cr.WebhookSecret == "" {
		var err error
		if cr.WebhookSecret, err = newSecret(); err != nil {
			return connector.Account{}, err
		}
	}
	if err := vault.Save(ctx, t, cr); err != nil {
		return connector.Account{}, err
	}
	return eng.Test(ctx, t, c)
}

// Open returns a client for the sealed credentials of t.
func Open(ctx context.Context, vault *connector.Vault, t connector.Target, opts Config) (*Client, Credentials, error) {
	var cr Credentials
	if err := vault.Load(ctx, t, &cr); err != nil {
		return nil, cr, err
	}
	if cr.URL == "" || cr.ConsumerKey == "" {
		return nil, cr, errors.New("woocommerce: stored credentials are incomplete")
	}
	c, err := FromCredentials(cr, opts)
	return c, cr, err
}

// newSecret returns a fresh webhook secret.
func newSecret() (string, error) {
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("woocommerce: webhook secret: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}
