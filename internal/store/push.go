package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/phantomos/phantomos"
)

// APIKeyScope returns the scope of key id of publisher pub
// (phantomos.ScopeFull or phantomos.ScopeIngest).
func (s *Store) APIKeyScope(ctx context.Context, pub phantomos.PublisherID, id string) (string, error) {
	var scope string
	err := s.db.QueryRowContext(ctx, `SELECT scope FROM api_keys WHERE publisher_id = $1 AND id = $2`, pub, id).Scan(&scope)
	if err != nil {
		return "", notFound(err, "API key")
	}
	return scope, nil
}

// SetAPIKeyScope sets the scope of key id of publisher pub.
func (s *Store) SetAPIKeyScope(ctx context.Context, pub phantomos.PublisherID, id, scope string) error {
	if scope != phantomos.ScopeFull && scope != phantomos.ScopeIngest {
		return phantomos.Errorf(phantomos.EINVALID, "Scope must be %q or %q.", phantomos.ScopeFull, phantomos.ScopeIngest)
	}
	res, err := s.exec(ctx, `UPDATE api_keys SET scope = $3, updated_at = $4 WHERE publisher_id = $1 AND id = $2`,
		pub, id, scope, s.nowUTC())
	if err != nil {
		return fmt.Errorf("store: api key scope: %w", err)
	}
	return affected(res, "API key")
}

// CustomConnector returns the id of publisher pub's custom source named
// name, creating it on first use. A name already taken by a connector of
// another type is EINVALID: pushes never write into a store's or a file's
// connector.
func (s *Store) CustomConnector(ctx context.Context, pub phantomos.PublisherID, name string) (string, error) {
	now := s.nowUTC()
	if _, err := s.exec(ctx, `INSERT INTO connectors (id, publisher_id, type, name, status, created_at, updated_at)
		VALUES ($1, $2, 'custom', $3, 'active', $4, $4) ON CONFLICT (publisher_id, name) DO NOTHING`, phantomos.NewID(), pub, name, now); err != nil {
		return "", fmt.Errorf("store: custom connector %q: %w", name, err)
	}
	var id, typ string
	if err := s.db.QueryRowContext(ctx, `SELECT id, type FROM connectors WHERE publisher_id = $1 AND name = $2`, pub, name).Scan(&id, &typ); err != nil {
		return "", fmt.Errorf("store: custom connector %q: %w", name, err)
	}
	if typ != "custom" {
		return "", phantomos.Errorf(phantomos.EINVALID, "The source name %q is used by a %s connector; push under another name.", name, typ)
	}
	return id, nil
}

// FindCustomConnector returns the id of publisher pub's custom source named
// name; ENOTFOUND when there is none.
func (s *Store) FindCustomConnector(ctx context.Context, pub phantomos.PublisherID, name string) (string, error) {
	var id string
	err := s.db.QueryRowContext(ctx, `SELECT id FROM connectors WHERE publisher_id = $1 AND name = $2 AND type = 'custom'`, pub, name).Scan(&id)
	if err != nil {
		return "", notFound(err, "Source")
	}
	return id, nil
}

// StoredPush is the recorded outcome of a push sent with an idempotency key.
type StoredPush struct {
	Route       string
	BodySHA256  string
	Running     bool
	Status      int
	ContentType string
	Response    []byte
	CreatedAt   time.Time
}

// ClaimPush claims idempotency key key of publisher pub for a push of route
// whose body hashes to bodyHash. When the key is new (or its record is
// older than retention, or a running claim older than abandonAfter was
// left by a process that died), it is claimed and ClaimPush returns nil,
// true. Otherwise it returns the stored record and false; the caller
// compares the route and hash and replays or refuses.
func (s *Store) ClaimPush(ctx context.Context, pub phantomos.PublisherID, key, route, bodyHash string, retention, abandonAfter time.Duration) (*StoredPush, bool, error) {
	now := s.nowUTC()
	var p *StoredPush
	claimed := false
	// One transaction, in the store's write turn: on SQLite a claim then
	// waits for a running import to commit instead of polling the file's
	// lock (pushes are written while other pushes claim their keys).
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if s.dialect == Postgres {
			// The claim commits without waiting for the disk: lost in a
			// crash, it leaves nothing behind that it guards (the push's
			// rows and answer commit later, durably, and their commit
			// makes every earlier record of the log durable, the claim's
			// included), and a retry then claims the key again. Eight
			// clients each waited for a flush before their batch could
			// join the next group.
			if _, err := tx.ExecContext(ctx, `SET LOCAL synchronous_commit = off`); err != nil {
				return err
			}
		}
		// Expired records of this key go first, so that the insert below can
		// claim the key again; a dead claim is taken over the same way.
		if _, err := tx.ExecContext(ctx, `DELETE FROM push_requests WHERE publisher_id = $1 AND idem_key = $2
			AND (created_at < $3 OR (state = 'running' AND created_at < $4))`, pub, key, now.Add(-retention), now.Add(-abandonAfter)); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO push_requests (publisher_id, idem_key, route, body_sha256, state, created_at)
			VALUES ($1, $2, $3, $4, 'running', $5) ON CONFLICT (publisher_id, idem_key) DO NOTHING`, pub, key, route, bodyHash, now)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 1 {
			claimed = true
			return nil
		}
		var state, resp string
		p = &StoredPush{}
		err = tx.QueryRowContext(ctx, `SELECT route, body_sha256, state, status, content_type, response, created_at
			FROM push_requests WHERE publisher_id = $1 AND idem_key = $2`, pub, key).
			Scan(&p.Route, &p.BodySHA256, &state, &p.Status, &p.ContentType, &resp, &p.CreatedAt)
		if errors.Is(err, sql.ErrNoRows) {
			// Released between the insert and this read: the caller retries.
			return phantomos.Errorf(phantomos.ECONFLICT, "A request with this Idempotency-Key is in progress; retry shortly.")
		}
		if err != nil {
			return err
		}
		p.Running = state == "running"
		p.Response = []byte(resp)
		return nil
	})
	if err != nil {
		if phantomos.ErrorCode(err) == phantomos.ECONFLICT {
			return nil, false, err
		}
		return nil, false, fmt.Errorf("store: claim push: %w", err)
	}
	if claimed {
		return nil, true, nil
	}
	return p, false, nil
}

// FinishPush stores the response of a claimed push.
func (s *Store) FinishPush(ctx context.Context, pub phantomos.PublisherID, key string, status int, contentType string, body []byte) error {
	return finishPush(ctx, inTurn{s}, pub, key, status, contentType, body)
}

// FinishPush stores the response of a claimed push in the import's
// transaction, so that the push's rows and its answer to a retry commit
// together.
func (w *ImportWriter) FinishPush(ctx context.Context, key string, status int, contentType string, body []byte) error {
	return finishPush(ctx, w.tx, w.pub, key, status, contentType, body)
}

func finishPush(ctx context.Context, db ingestExecer, pub phantomos.PublisherID, key string, status int, contentType string, body []byte) error {
	_, err := db.ExecContext(ctx, `UPDATE push_requests SET state = 'done', status = $3, content_type = $4, response = $5
		WHERE publisher_id = $1 AND idem_key = $2`, pub, key, status, contentType, string(body))
	if err != nil {
		return fmt.Errorf("store: finish push: %w", err)
	}
	return nil
}

// ReleasePush forgets a claimed push that failed for a reason of ours (an
// internal error), so that a retry with the same key runs again.
func (s *Store) ReleasePush(ctx context.Context, pub phantomos.PublisherID, key string) error {
	if _, err := s.exec(ctx, `DELETE FROM push_requests WHERE publisher_id = $1 AND idem_key = $2 AND state = 'running'`, pub, key); err != nil {
		return fmt.Errorf("store: release push: %w", err)
	}
	return nil
}

// PushRejection is one refused row of a push, as the connector page shows it.
type PushRejection struct {
	Index  int    `json:"index"`
	Line   int    `json:"line"` // -1 when the error is about the order or product as a whole
	Field  string `json:"field"`
	Value  string `json:"value"`
	Reason string `json:"reason"`
}

// PushLog is one push received by a custom source.
type PushLog struct {
	ConnectorID string
	Kind        string // "orders", "products" or "delete"
	Status      int    // the HTTP status answered
	Orders      int64
	Lines       int64
	Failed      int64
	Rejected    []PushRejection // at most a few
}

// maxLoggedRejections bounds the rejected rows kept per push.
const maxLoggedRejections = 10

// LogPush records a push of publisher pub.
func (s *Store) LogPush(ctx context.Context, pub phantomos.PublisherID, l PushLog) error {
	return logPush(ctx, inTurn{s}, pub, s.nowUTC(), l)
}

// LogPush records a push in the import's transaction that writes it.
func (w *ImportWriter) LogPush(ctx context.Context, l PushLog) error {
	return logPush(ctx, w.tx, w.pub, w.s.nowUTC(), l)
}

func logPush(ctx context.Context, db ingestExecer, pub phantomos.PublisherID, now time.Time, l PushLog) error {
	rej := l.Rejected
	if len(rej) > maxLoggedRejections {
		rej = rej[:maxLoggedRejections]
	}
	if rej == nil {
		rej = []PushRejection{}
	}
	b, err := json.Marshal(rej)
	if err != nil {
		return fmt.Errorf("store: log push: %w", err)
	}
	_, err = db.ExecContext(ctx, `INSERT INTO push_log (id, publisher_id, connector_id, kind, received_at, status, orders, lines, failed, rejected)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, phantomos.NewID(), pub, l.ConnectorID, l.Kind, now, l.Status, l.Orders, l.Lines, l.Failed, string(b))
	if err != nil {
		return fmt.Errorf("store: log push: %w", err)
	}
	return nil
}

// PushStats sums up the pushes a custom source received.
type PushStats struct {
	Pushes     int64
	LastPush   *time.Time
	Refused    int64 // pushes answered with a 4xx
	FailedRows int64 // rows refused, over all pushes
	Recent     []PushRejection
}

// PushStats returns the push statistics of connector id of publisher pub,
// with the rejected rows of its latest pushes (at most limit).
func (s *Store) PushStats(ctx context.Context, pub phantomos.PublisherID, id string, limit int) (*PushStats, error) {
	var st PushStats
	var last sql.NullTime
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*), COUNT(*) FILTER (WHERE status >= 400), COALESCE(SUM(failed), 0)
		FROM push_log WHERE publisher_id = $1 AND connector_id = $2`, pub, id).Scan(&st.Pushes, &st.Refused, &st.FailedRows)
	if err != nil {
		return nil, fmt.Errorf("store: push stats: %w", err)
	}
	err = s.db.QueryRowContext(ctx, `SELECT received_at FROM push_log WHERE publisher_id = $1 AND connector_id = $2
		ORDER BY received_at DESC LIMIT 1`, pub, id).Scan(&last)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: push stats: %w", err)
	}
	st.LastPush = timePtr(last)
	rows, err := s.db.QueryContext(ctx, `SELECT rejected FROM push_log WHERE publisher_id = $1 AND connector_id = $2 AND failed > 0
		ORDER BY received_at DESC LIMIT $3`, pub, id, limit)
	if err != nil {
		return nil, fmt.Errorf("store: push stats: %w", err)
	}
	defer rows.Close()
	for rows.Next() && len(st.Recent) < limit {
		var js string
		if err := rows.Scan(&js); err != nil {
			return nil, fmt.Errorf("store: push stats: %w", err)
		}
		var rej []PushRejection
		if err := json.Unmarshal([]byte(js), &rej); err != nil {
			return nil, fmt.Errorf("store: push stats: %w", err)
		}
		st.Recent = append(st.Recent, rej[:min(len(rej), limit-len(st.Recent))]...)
	}
	return &st, rows.Err()
}

// DeleteOrder removes every stored line of order orderID of the import's
// connector (a tombstone) and returns how many were removed; the days they
// were on are refreshed when the import commits, so the rollups stay exact.
func (w *ImportWriter) DeleteOrder(ctx context.Context, orderID string) (int64, error) {
	if err := w.flushFresh(ctx); err != nil {
		return 0, err
	}
	if err := w.recordGone(ctx, []string{orderID}); err != nil {
		return 0, fmt.Errorf("delete order %s: %w", orderID, err)
	}
	rows, err := w.tx.QueryContext(ctx, `DELETE FROM sales WHERE publisher_id = $1 AND connector_id = $2 AND external_order_id = $3
		RETURNING day, refund_day`, w.pub, w.connectorID, orderID)
	if err != nil {
		return 0, fmt.Errorf("delete order %s: %w", orderID, err)
	}
	defer rows.Close()
	var n int64
	var days [][2]any
	for rows.Next() {
		var day, refundDay any
		if err := rows.Scan(&day, &refundDay); err != nil {
			return 0, fmt.Errorf("delete order %s: %w", orderID, err)
		}
		days = append(days, [2]any{day, refundDay})
		n++
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("delete order %s: %w", orderID, err)
	}
	rows.Close()
	for _, d := range days {
		if err := w.recompute(d[0], d[1]); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// APIKeyScopes returns the scope of every live key of publisher pub by id.
func (s *Store) APIKeyScopes(ctx context.Context, pub phantomos.PublisherID) (map[string]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, scope FROM api_keys WHERE publisher_id = $1 AND revoked_at IS NULL`, pub)
	if err != nil {
		return nil, fmt.Errorf("store: api key scopes: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var id, scope string
		if err := rows.Scan(&id, &scope); err != nil {
			return nil, fmt.Errorf("store: api key scopes: %w", err)
		}
		out[id] = scope
	}
	return out, rows.Err()
}

// maxStaleOrders bounds the stale order ids a report keeps: a push holds
// at most 1,000 orders.
const maxStaleOrders = 1000
