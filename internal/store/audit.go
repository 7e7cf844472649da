package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/phantomos/phantomos"
)

// AuditEntry is one line of the append-only audit log.
type AuditEntry struct {
	ID      string
	ActorID string
	Actor   string // email or "api key <prefix>"
	Action  string // e.g. "auth.login", "invitation.create"
	Target  string
	IP      string
	At      time.Time
	Details map[string]any
}

// Audit appends an entry to publisher pub's audit log. The log has no
// update or delete method: it is append-only.
func (s *Store) Audit(ctx context.Context, pub phantomos.PublisherID, e AuditEntry) error {
	details, err := json.Marshal(e.Details)
	if err != nil || e.Details == nil {
		details = []byte("{}")
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO audit_log (id, publisher_id, actor_id, actor, action, target, ip, at, details)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		phantomos.NewID(), pub, nullID(e.ActorID), e.Actor, e.Action, e.Target, e.IP, s.nowUTC(), string(details))
	if err != nil {
		return fmt.Errorf("store: audit %s: %w", e.Action, err)
	}
	return nil
}

// AuditLog returns up to limit entries of publisher pub, newest first,
// older than before when it is not zero (for paging).
func (s *Store) AuditLog(ctx context.Context, pub phantomos.PublisherID, before time.Time, limit int) ([]AuditEntry, error) {
	if before.IsZero() {
		before = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, COALESCE(CAST(actor_id AS TEXT), ''), actor, action, target, ip, at, details
		FROM audit_log WHERE publisher_id = $1 AND at < $2 ORDER BY at DESC, id DESC LIMIT $3`, pub, before.UTC(), limit)
	if err != nil {
		return nil, fmt.Errorf("store: audit log: %w", err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var details string
		if err := rows.Scan(&e.ID, &e.ActorID, &e.Actor, &e.Action, &e.Target, &e.IP, &e.At, &details); err != nil {
			return nil, fmt.Errorf("store: audit log: %w", err)
		}
		json.Unmarshal([]byte(details), &e.Details)
		out = append(out, e)
	}
	return out, rows.Err()
}
