package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/phantomos/phantomos"
)

// This file holds what connector syncs keep beside the data: encrypted
// credentials, status, the sync cursor and the history of sync runs. The
// store never sees plaintext credentials; it keeps the ciphertext and the
// id of the key that sealed it (see internal/secret).

// Connector statuses.
const (
	ConnectorPending      = "pending"
	ConnectorActive       = "active"
	ConnectorError        = "error"
	ConnectorDisconnected = "disconnected"
)

// Sync run states.
const (
	SyncRunning   = "running"
	SyncSucceeded = "succeeded"
	SyncFailed    = "failed"
	SyncCancelled = "cancelled"
)

// interruptedMessage is the error of a run left "running" by a process that
// stopped mid-sync.
const interruptedMessage = "Interrupted: the server stopped during this sync. The next sync resumed from its last checkpoint."

// SyncCounts are the record counts of a sync run. Seen counts records read
// from the source; the others count what writing them did.
type SyncCounts struct {
	Seen     int64
	Inserted int64
	Updated  int64
	Skipped  int64 // unchanged
	Failed   int64
}

// Add adds o to c.
func (c *SyncCounts) Add(o SyncCounts) {
	c.Seen += o.Seen
	c.Inserted += o.Inserted
	c.Updated += o.Updated
	c.Skipped += o.Skipped
	c.Failed += o.Failed
}

// SyncRun is one sync of a connector.
type SyncRun struct {
	ID          string
	ConnectorID string
	State       string // SyncRunning, SyncSucceeded, SyncFailed or SyncCancelled
	StartedAt   time.Time
	FinishedAt  *time.Time
	Counts      SyncCounts
	Error       string
}

// Duration is how long the run took, or has taken so far when now is after
// its start and it is still running.
func (r *SyncRun) Duration(now time.Time) time.Duration {
	if r.FinishedAt != nil {
		return r.FinishedAt.Sub(r.StartedAt)
	}
	return now.Sub(r.StartedAt)
}

// Connector returns connector id of publisher pub.
func (s *Store) Connector(ctx context.Context, pub phantomos.PublisherID, id string) (*phantomos.Connector, error) {
	if !phantomos.ValidID(id) {
		return nil, phantomos.Errorf(phantomos.ENOTFOUND, "Connector not found.")
	}
	var c phantomos.Connector
	var last sql.NullTime
	err := s.db.QueryRowContext(ctx, `SELECT id, publisher_id, type, name, status, last_sync_at, last_error, created_at
		FROM connectors WHERE publisher_id = $1 AND id = $2`, pub, id).
		Scan(&c.ID, &c.PublisherID, &c.Type, &c.Name, &c.Status, &last, &c.LastError, &c.CreatedAt)
	if err != nil {
		if e := notFound(err, "Connector"); e != err {
			return nil, e
		}
		return nil, fmt.Errorf("store: connector %s: %w", id, err)
	}
	c.LastSyncAt = timePtr(last)
	return &c, nil
}

// SaveConnectorCredentials stores the sealed credentials of connector id
// of publisher pub and the id of the key that sealed them. New credentials
// are untested: the connector becomes pending, with no error, until a test
// or sync succeeds.
func (s *Store) SaveConnectorCredentials(ctx context.Context, pub phantomos.PublisherID, id string, ciphertext []byte, keyID string) error {
	if !phantomos.ValidID(id) {
		return phantomos.Errorf(phantomos.ENOTFOUND, "Connector not found.")
	}
	if len(ciphertext) == 0 || keyID == "" {
		return fmt.Errorf("store: connector %s credentials: empty ciphertext or key id", id)
	}
	res, err := s.exec(ctx, `UPDATE connectors SET credentials = $3, credentials_key_id = $4, status = $5, last_error = '', updated_at = $6,
		credentials_version = credentials_version + 1, credentials_lease_until = NULL
		WHERE publisher_id = $1 AND id = $2`, pub, id, ciphertext, keyID, ConnectorPending, s.nowUTC())
	if err != nil {
		return fmt.Errorf("store: connector %s credentials: %w", id, err)
	}
	return affected(res, "Connector")
}

// ConnectorCredentials returns the sealed credentials of connector id of
// publisher pub and the id of their key. A connector without credentials
// (never connected, or disconnected) is EINVALID with a message that says
// to connect it.
func (s *Store) ConnectorCredentials(ctx context.Context, pub phantomos.PublisherID, id string) ([]byte, string, error) {
	if !phantomos.ValidID(id) {
		return nil, "", phantomos.Errorf(phantomos.ENOTFOUND, "Connector not found.")
	}
	var ct []byte
	var keyID string
	err := s.db.QueryRowContext(ctx, `SELECT credentials, credentials_key_id FROM connectors WHERE publisher_id = $1 AND id = $2`, pub, id).
		Scan(&ct, &keyID)
	if err != nil {
		if e := notFound(err, "Connector"); e != err {
			return nil, "", e
		}
		return nil, "", fmt.Errorf("store: connector %s credentials: %w", id, err)
	}
	if len(ct) == 0 {
		return nil, "", phantomos.Errorf(phantomos.EINVALID, "The connector has no credentials: connect it first.")
	}
	return ct, keyID, nil
}

// DisconnectConnector wipes the credentials of connector id of publisher
// pub, marks it disconnected and resets its cursor, so that reconnecting
// (possibly to another store) starts with a full, idempotent sync. The data
// it synced stays.
func (s *Store) DisconnectConnector(ctx context.Context, pub phantomos.PublisherID, id string) error {
	if !phantomos.ValidID(id) {
		return phantomos.Errorf(phantomos.ENOTFOUND, "Connector not found.")
	}
	res, err := s.exec(ctx, `UPDATE connectors SET credentials = NULL, credentials_key_id = '', status = $3,
		cursor = '{}', last_error = '', updated_at = $4, credentials_version = credentials_version + 1, credentials_lease_until = NULL
		WHERE publisher_id = $1 AND id = $2`, pub, id, ConnectorDisconnected, s.nowUTC())
	if err != nil {
		return fmt.Errorf("store: disconnect connector %s: %w", id, err)
	}
	return affected(res, "Connector")
}

// SetConnectorStatus sets the status of connector id of publisher pub and
// the error shown beside it ("" clears it).
func (s *Store) SetConnectorStatus(ctx context.Context, pub phantomos.PublisherID, id, status, lastError string) error {
	switch status {
	case ConnectorPending, ConnectorActive, ConnectorError, ConnectorDisconnected:
	default:
		return fmt.Errorf("store: connector status %q is not valid", status)
	}
	if !phantomos.ValidID(id) {
		return phantomos.Errorf(phantomos.ENOTFOUND, "Connector not found.")
	}
	res, err := s.exec(ctx, `UPDATE connectors SET status = $3, last_error = $4, updated_at = $5 WHERE publisher_id = $1 AND id = $2`,
		pub, id, status, lastError, s.nowUTC())
	if err != nil {
		return fmt.Errorf("store: connector %s status: %w", id, err)
	}
	return affected(res, "Connector")
}

// ConnectorCursor returns the sync cursor of connector id of publisher pub:
// JSON that only the connector framework interprets ("{}" before the first
// sync).
func (s *Store) ConnectorCursor(ctx context.Context, pub phantomos.PublisherID, id string) ([]byte, error) {
	if !phantomos.ValidID(id) {
		return nil, phantomos.Errorf(phantomos.ENOTFOUND, "Connector not found.")
	}
	var cur string
	err := s.db.QueryRowContext(ctx, `SELECT CAST(cursor AS TEXT) FROM connectors WHERE publisher_id = $1 AND id = $2`, pub, id).Scan(&cur)
	if err != nil {
		if e := notFound(err, "Connector"); e != err {
			return nil, e
		}
		return nil, fmt.Errorf("store: connector %s cursor: %w", id, err)
	}
	return []byte(cur), nil
}

// SaveConnectorCursor replaces the sync cursor of connector id of publisher
// pub. Syncs save the cursor in the transaction that writes the page it
// follows (ImportWriter.SaveConnectorCursor); this is for resets.
func (s *Store) SaveConnectorCursor(ctx context.Context, pub phantomos.PublisherID, id string, cursor []byte) error {
	return saveCursor(ctx, inTurn{s}, pub, id, cursor, s.nowUTC())
}

// SaveConnectorCursor saves the cursor of connector connectorID inside the
// import's transaction, so that it commits together with the rows written
// before it, or not at all.
func (w *ImportWriter) SaveConnectorCursor(ctx context.Context, connectorID string, cursor []byte) error {
	return saveCursor(ctx, w.tx, w.pub, connectorID, cursor, w.now)
}

func saveCursor(ctx context.Context, db execer, pub phantomos.PublisherID, id string, cursor []byte, now time.Time) error {
	if !phantomos.ValidID(id) {
		return phantomos.Errorf(phantomos.ENOTFOUND, "Connector not found.")
	}
	cursor = bytes.TrimSpace(cursor)
	if len(cursor) == 0 {
		cursor = []byte("{}")
	}
	if !json.Valid(cursor) {
		return fmt.Errorf("store: connector %s cursor is not valid JSON", id)
	}
	res, err := db.ExecContext(ctx, `UPDATE connectors SET cursor = $3, updated_at = $4 WHERE publisher_id = $1 AND id = $2`,
		pub, id, string(cursor), now)
	if err != nil {
		return fmt.Errorf("store: connector %s cursor: %w", id, err)
	}
	if res == nil { // the pgx path reports no result
		return nil
	}
	return affected(res, "Connector")
}

// StartSyncRun records the start of a sync of connector connectorID of
// publisher pub. Runs of the connector still marked running were left by a
// process that stopped mid-sync (a single sync per connector runs at a
// time, which the job queue guarantees): they are closed as failed with a
// message that says so. A disconnected connector cannot sync.
func (s *Store) StartSyncRun(ctx context.Context, pub phantomos.PublisherID, connectorID string) (*SyncRun, error) {
	if !phantomos.ValidID(connectorID) {
		return nil, phantomos.Errorf(phantomos.ENOTFOUND, "Connector not found.")
	}
	now := s.nowUTC()
	run := &SyncRun{ID: phantomos.NewID(), ConnectorID: connectorID, State: SyncRunning, StartedAt: now}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var status string
		err := tx.QueryRowContext(ctx, `SELECT status FROM connectors WHERE publisher_id = $1 AND id = $2`, pub, connectorID).Scan(&status)
		if err != nil {
			return notFound(err, "Connector")
		}
		if status == ConnectorDisconnected {
			return phantomos.Errorf(phantomos.EINVALID, "The connector is disconnected: reconnect it before syncing.")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE sync_runs SET state = $3, finished_at = $4, error = $5, updated_at = $4
			WHERE publisher_id = $1 AND connector_id = $2 AND state = $6`,
			pub, connectorID, SyncFailed, now, interruptedMessage, SyncRunning); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO sync_runs (id, publisher_id, connector_id, state, started_at, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $5, $5)`, run.ID, pub, connectorID, SyncRunning, now)
		return err
	})
	if err != nil {
		if phantomos.ErrorCode(err) != phantomos.EINTERNAL {
			return nil, err
		}
		return nil, fmt.Errorf("store: start sync run: %w", err)
	}
	return run, nil
}

// UpdateSyncRun records the progress of a running sync.
func (s *Store) UpdateSyncRun(ctx context.Context, pub phantomos.PublisherID, runID string, c SyncCounts) error {
	if !phantomos.ValidID(runID) {
		return phantomos.Errorf(phantomos.ENOTFOUND, "Sync run not found.")
	}
	res, err := s.exec(ctx, `UPDATE sync_runs SET seen = $3, inserted = $4, updated = $5, skipped = $6, failed = $7, updated_at = $8
		WHERE publisher_id = $1 AND id = $2 AND state = $9`,
		pub, runID, c.Seen, c.Inserted, c.Updated, c.Skipped, c.Failed, s.nowUTC(), SyncRunning)
	if err != nil {
		return fmt.Errorf("store: update sync run: %w", err)
	}
	return affected(res, "Running sync run")
}

// FinishSyncRun closes a sync run with its final state, counts and error
// message (shown to the user; "" for none). A successful run also makes the
// connector active (unless it was disconnected meanwhile), sets its last
// sync time and clears its error; a failed run records its error on the
// connector without changing its status (the engine sets "error" itself
// when the failure needs the user); a cancelled run leaves the connector as
// it is.
func (s *Store) FinishSyncRun(ctx context.Context, pub phantomos.PublisherID, runID, state string, c SyncCounts, message string) error {
	switch state {
	case SyncSucceeded, SyncFailed, SyncCancelled:
	default:
		return fmt.Errorf("store: finish sync run: state %q is not final", state)
	}
	if !phantomos.ValidID(runID) {
		return phantomos.Errorf(phantomos.ENOTFOUND, "Sync run not found.")
	}
	now := s.nowUTC()
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var connectorID string
		err := tx.QueryRowContext(ctx, `UPDATE sync_runs SET state = $3, finished_at = $4, seen = $5, inserted = $6, updated = $7,
			skipped = $8, failed = $9, error = $10, updated_at = $4
			WHERE publisher_id = $1 AND id = $2 RETURNING connector_id`,
			pub, runID, state, now, c.Seen, c.Inserted, c.Updated, c.Skipped, c.Failed, message).Scan(&connectorID)
		if err != nil {
			return notFound(err, "Sync run")
		}
		switch state {
		case SyncSucceeded:
			_, err = tx.ExecContext(ctx, `UPDATE connectors SET last_sync_at = $3, last_error = '', updated_at = $3,
				status = CASE WHEN status = $4 THEN status ELSE $5 END
				WHERE publisher_id = $1 AND id = $2`, pub, connectorID, now, ConnectorDisconnected, ConnectorActive)
		case SyncFailed:
			_, err = tx.ExecContext(ctx, `UPDATE connectors SET last_error = $3, updated_at = $4 WHERE publisher_id = $1 AND id = $2`,
				pub, connectorID, message, now)
		}
		return err
	})
	if err != nil {
		if phantomos.ErrorCode(err) != phantomos.EINTERNAL {
			return err
		}
		return fmt.Errorf("store: finish sync run: %w", err)
	}
	return nil
}

const syncRunColumns = `id, connector_id, state, started_at, finished_at, seen, inserted, updated, skipped, failed, error`

func scanSyncRun(row interface{ Scan(...any) error }) (*SyncRun, error) {
	var r SyncRun
	var fin sql.NullTime
	if err := row.Scan(&r.ID, &r.ConnectorID, &r.State, &r.StartedAt, &fin, &r.Counts.Seen, &r.Counts.Inserted,
		&r.Counts.Updated, &r.Counts.Skipped, &r.Counts.Failed, &r.Error); err != nil {
		return nil, err
	}
	r.FinishedAt = timePtr(fin)
	return &r, nil
}

// SyncRun returns sync run id of publisher pub.
func (s *Store) SyncRun(ctx context.Context, pub phantomos.PublisherID, id string) (*SyncRun, error) {
	if !phantomos.ValidID(id) {
		return nil, phantomos.Errorf(phantomos.ENOTFOUND, "Sync run not found.")
	}
	r, err := scanSyncRun(s.db.QueryRowContext(ctx, `SELECT `+syncRunColumns+` FROM sync_runs WHERE publisher_id = $1 AND id = $2`, pub, id))
	if err != nil {
		if e := notFound(err, "Sync run"); e != err {
			return nil, e
		}
		return nil, fmt.Errorf("store: sync run %s: %w", id, err)
	}
	return r, nil
}

// SyncRuns lists the latest sync runs of connector connectorID of publisher
// pub, newest first; limit <= 0 means 50.
func (s *Store) SyncRuns(ctx context.Context, pub phantomos.PublisherID, connectorID string, limit int) ([]*SyncRun, error) {
	if !phantomos.ValidID(connectorID) {
		return nil, phantomos.Errorf(phantomos.ENOTFOUND, "Connector not found.")
	}
	if limit <= 0 {
		limit = 50
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+syncRunColumns+` FROM sync_runs WHERE publisher_id = $1 AND connector_id = $2
		ORDER BY started_at DESC, id DESC LIMIT $3`, pub, connectorID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: sync runs: %w", err)
	}
	defer rows.Close()
	var out []*SyncRun
	for rows.Next() {
		r, err := scanSyncRun(rows)
		if err != nil {
			return nil, fmt.Errorf("store: sync runs: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// SealedCredentials are one connector's stored credentials, for re-keying.
type SealedCredentials struct {
	PublisherID phantomos.PublisherID
	ConnectorID string
	Ciphertext  []byte
	KeyID       string
}

// RekeyConnectorCredentials re-seals, across all publishers, the connector
// credentials not sealed by currentKeyID: reseal gets each and returns the
// new ciphertext and key id. It is the maintenance step of key rotation
// (`phantomos rotate-key`), not a tenant operation. Each connector is
// updated only if its ciphertext did not change meanwhile. It returns how
// many were re-sealed.
func (s *Store) RekeyConnectorCredentials(ctx context.Context, currentKeyID string, reseal func(SealedCredentials) ([]byte, string, error)) (int, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT publisher_id, id, credentials, credentials_key_id FROM connectors
		WHERE credentials IS NOT NULL AND credentials_key_id <> $1 ORDER BY publisher_id, id`, currentKeyID)
	if err != nil {
		return 0, fmt.Errorf("store: rekey credentials: %w", err)
	}
	var todo []SealedCredentials
	for rows.Next() {
		var c SealedCredentials
		if err := rows.Scan(&c.PublisherID, &c.ConnectorID, &c.Ciphertext, &c.KeyID); err != nil {
			rows.Close()
			return 0, fmt.Errorf("store: rekey credentials: %w", err)
		}
		todo = append(todo, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("store: rekey credentials: %w", err)
	}
	n := 0
	for _, c := range todo {
		ct, keyID, err := reseal(c)
		if err != nil {
			return n, fmt.Errorf("store: rekey credentials of connector %s: %w", c.ConnectorID, err)
		}
		res, err := s.exec(ctx, `UPDATE connectors SET credentials = $3, credentials_key_id = $4, updated_at = $5
			WHERE publisher_id = $1 AND id = $2 AND credentials_key_id = $6 AND credentials = $7`,
			c.PublisherID, c.ConnectorID, ct, keyID, s.nowUTC(), c.KeyID, c.Ciphertext)
		if err != nil {
			return n, fmt.Errorf("store: rekey credentials of connector %s: %w", c.ConnectorID, err)
		}
		if k, _ := res.RowsAffected(); k == 1 {
			n++
		}
	}
	return n, nil
}

// ConnectorAccount is the platform account a connector reaches.
type ConnectorAccount struct {
	// External is the account's key on its platform: a Shopify shop's
	// myshopify.com domain. Webhooks find their connectors by it.
	External string
	// Info is what the last connection test reported (shop name, currency,
	// scopes, …) as JSON that the connector framework writes; "{}" before
	// the first test.
	Info json.RawMessage
}

// SaveConnectorAccount records the account connector id of publisher pub
// reaches. A nil Info keeps the recorded test report.
func (s *Store) SaveConnectorAccount(ctx context.Context, pub phantomos.PublisherID, id string, a ConnectorAccount) error {
	if !phantomos.ValidID(id) {
		return phantomos.Errorf(phantomos.ENOTFOUND, "Connector not found.")
	}
	var res sql.Result
	var err error
	if a.Info == nil {
		res, err = s.exec(ctx, `UPDATE connectors SET external_account = $3, updated_at = $4 WHERE publisher_id = $1 AND id = $2`,
			pub, id, a.External, s.nowUTC())
	} else {
		if !json.Valid(a.Info) {
			return fmt.Errorf("store: connector %s account: not valid JSON", id)
		}
		res, err = s.exec(ctx, `UPDATE connectors SET external_account = $3, account = $4, updated_at = $5 WHERE publisher_id = $1 AND id = $2`,
			pub, id, a.External, string(a.Info), s.nowUTC())
	}
	if err != nil {
		return fmt.Errorf("store: connector %s account: %w", id, err)
	}
	return affected(res, "Connector")
}

// ConnectorAccount returns the account connector id of publisher pub
// reaches.
func (s *Store) ConnectorAccount(ctx context.Context, pub phantomos.PublisherID, id string) (ConnectorAccount, error) {
	if !phantomos.ValidID(id) {
		return ConnectorAccount{}, phantomos.Errorf(phantomos.ENOTFOUND, "Connector not found.")
	}
	var a ConnectorAccount
	var info string
	err := s.db.QueryRowContext(ctx, `SELECT external_account, CAST(account AS TEXT) FROM connectors WHERE publisher_id = $1 AND id = $2`, pub, id).
		Scan(&a.External, &info)
	if err != nil {
		if e := notFound(err, "Connector"); e != err {
			return a, e
		}
		return a, fmt.Errorf("store: connector %s account: %w", id, err)
	}
	a.Info = json.RawMessage(info)
	return a, nil
}

// ConnectorByAccount returns publisher pub's connector of type typ that
// reaches account external (connected, in error or disconnected), so that
// connecting a store again replaces the credentials of its connector
// instead of adding a second one.
func (s *Store) ConnectorByAccount(ctx context.Context, pub phantomos.PublisherID, typ, external string) (*phantomos.Connector, error) {
	var id string
	err := s.db.QueryRowContext(ctx, `SELECT id FROM connectors WHERE publisher_id = $1 AND type = $2 AND external_account = $3
		ORDER BY created_at, id LIMIT 1`, pub, typ, external).Scan(&id)
	if err != nil {
		if e := notFound(err, "Connector"); e != err {
			return nil, e
		}
		return nil, fmt.Errorf("store: connector of %s: %w", external, err)
	}
	return s.Connector(ctx, pub, id)
}

// ConnectorRef names one connector of one publisher.
type ConnectorRef struct {
	PublisherID phantomos.PublisherID
	ConnectorID string
}

// ConnectorsByAccount lists, across publishers, the connectors of type typ
// that reach account external and hold credentials. It serves platform
// webhooks, which name only the account: the caller must authenticate each
// delivery against the credentials of every connector listed before it
// touches that connector's data. It is not a tenant operation.
func (s *Store) ConnectorsByAccount(ctx context.Context, typ, external string) ([]ConnectorRef, error) {
	if external == "" {
		return nil, nil
	}
	rows, err := s.db.QueryContext(ctx, `SELECT publisher_id, id FROM connectors
		WHERE type = $1 AND external_account = $2 AND credentials IS NOT NULL ORDER BY publisher_id, id`, typ, external)
	if err != nil {
		return nil, fmt.Errorf("store: connectors of %s: %w", external, err)
	}
	defer rows.Close()
	var out []ConnectorRef
	for rows.Next() {
		var c ConnectorRef
		if err := rows.Scan(&c.PublisherID, &c.ConnectorID); err != nil {
			return nil, fmt.Errorf("store: connectors of %s: %w", external, err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// ConnectorTotals counts the products and sale lines that connector id of
// publisher pub has brought in.
func (s *Store) ConnectorTotals(ctx context.Context, pub phantomos.PublisherID, id string) (products, lines int64, err error) {
	if !phantomos.ValidID(id) {
		return 0, 0, phantomos.Errorf(phantomos.ENOTFOUND, "Connector not found.")
	}
	err = s.db.QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM products WHERE publisher_id = $1 AND connector_id = $2),
		(SELECT COUNT(*) FROM sales WHERE publisher_id = $1 AND connector_id = $2)`, pub, id).Scan(&products, &lines)
	if err != nil {
		return 0, 0, fmt.Errorf("store: connector %s totals: %w", id, err)
	}
	return products, lines, nil
}
