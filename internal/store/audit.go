package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
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
	// TargetName and ActorName are filled by AuditLog when Target or the
	// actor is an object of the publisher (an asset, an API key, …): its
	// current name, or the name the entry's details recorded when it is
	// gone. Empty when Target already reads as a name (an email, a file).
	TargetName string
	ActorName  string
	IP         string
	At         time.Time
	Details    map[string]any
}

// Audit appends an entry to publisher pub's audit log. The log has no
// update or delete method: it is append-only.
func (s *Store) Audit(ctx context.Context, pub phantomos.PublisherID, e AuditEntry) error {
	details, err := json.Marshal(e.Details)
	if err != nil || e.Details == nil {
		details = []byte("{}")
	}
	_, err = s.exec(ctx, `INSERT INTO audit_log (id, publisher_id, actor_id, actor, action, target, ip, at, details)
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
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: audit log: %w", err)
	}
	if err := s.nameAuditEntries(ctx, pub, out); err != nil {
		return nil, err
	}
	return out, nil
}

// apiKeyActor prefixes the actor of an entry made with an API key.
const apiKeyActor = "api key "

// auditNameSources are the tables whose ids audit entries name, and the
// column people know each row by.
var auditNameSources = []struct{ table, kind, column string }{
	{"game_ips", "game IP", "name"}, {"ip_assets", "asset", "name"}, {"products", "product", "name"},
	{"connectors", "connector", "name"}, {"api_keys", "API key", "name"}, {"invitations", "invitation", "email"},
	{"ai_insights", "insight", "title"}, {"users", "user", "email"},
}

// nameAuditEntries fills the TargetName and ActorName of entries whose
// target or API-key actor is an id, so the log reads as names rather than
// UUIDs. One statement per kind of object, each bounded by the page size.
func (s *Store) nameAuditEntries(ctx context.Context, pub phantomos.PublisherID, entries []AuditEntry) error {
	var ids []any
	seen := map[string]bool{}
	add := func(id string) {
		if phantomos.ValidID(id) && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	for _, e := range entries {
		add(e.Target)
		add(strings.TrimPrefix(e.Actor, apiKeyActor))
	}
	names := map[string]string{}
	for start := 0; start < len(ids); start += lookupChunk {
		chunk := ids[start:min(start+lookupChunk, len(ids))]
		for _, src := range auditNameSources {
			rows, err := s.db.QueryContext(ctx, `SELECT CAST(id AS TEXT), `+src.column+` FROM `+src.table+`
				WHERE publisher_id = $1 AND id IN (`+inList(2, len(chunk))+`)`, append([]any{pub}, chunk...)...)
			if err != nil {
				return fmt.Errorf("store: audit log names: %w", err)
			}
			for rows.Next() {
				var id, name string
				if err := rows.Scan(&id, &name); err != nil {
					rows.Close()
					return fmt.Errorf("store: audit log names: %w", err)
				}
				names[id] = src.kind + " “" + name + "”"
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return fmt.Errorf("store: audit log names: %w", err)
			}
		}
	}
	for i := range entries {
		e := &entries[i]
		if phantomos.ValidID(e.Target) {
			e.TargetName = names[e.Target]
			if n, ok := e.Details["name"].(string); ok && e.TargetName == "" {
				e.TargetName = "“" + n + "”"
			}
		}
		if id, ok := strings.CutPrefix(e.Actor, apiKeyActor); ok && phantomos.ValidID(id) {
			e.ActorName = names[id]
		}
	}
	return nil
}
