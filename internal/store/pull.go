package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/phantomos/phantomos"
)

// Outcomes of a scheduled pull.
const (
	PullImported  = "imported"  // the file changed and was imported
	PullUnchanged = "unchanged" // same ETag or same content: nothing to do
	PullFailed    = "failed"    // the URL or the file failed; LastError says why
)

// PullSource is a custom source that fetches a file from a URL on a
// schedule (its credential, if any, is sealed in the connector's
// credentials).
type PullSource struct {
	ConnectorID   string
	Name          string // the connector's
	URL           string
	Kind          string // ImportSales or ImportProducts
	Format        string // auto, csv or json
	Auth          string // none, header or basic
	EveryMinutes  int
	ETag          string // of the last file imported
	ContentSHA256 string // of the last file imported
	CheckedAt     *time.Time
	ChangedAt     *time.Time
	LastOutcome   string // "", PullImported, PullUnchanged or PullFailed
	LastError     string
	CreatedAt     time.Time
}

// Due reports whether the schedule should pull p at now.
func (p *PullSource) Due(now time.Time) bool {
	return p.CheckedAt == nil || !now.Before(p.CheckedAt.Add(time.Duration(p.EveryMinutes)*time.Minute))
}

// CreatePullSource creates a custom connector named name for publisher pub
// and its pull settings p, in one transaction, and returns the connector's
// id. A name already taken is EINVALID. The connector is pending until its
// first pull succeeds.
func (s *Store) CreatePullSource(ctx context.Context, pub phantomos.PublisherID, name string, p PullSource) (string, error) {
	id := phantomos.NewID()
	now := s.nowUTC()
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM connectors WHERE publisher_id = $1 AND name = $2`, pub, name).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return phantomos.Errorf(phantomos.EINVALID, "A connector named %q exists already; choose another name.", name)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO connectors (id, publisher_id, type, name, status, created_at, updated_at)
			VALUES ($1, $2, 'custom', $3, $4, $5, $5)`, id, pub, name, ConnectorPending, now); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO pull_sources (connector_id, publisher_id, url, kind, format, auth, every_minutes, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)`, id, pub, p.URL, p.Kind, p.Format, p.Auth, p.EveryMinutes, now)
		return err
	})
	if err != nil {
		if phantomos.ErrorCode(err) == phantomos.EINVALID {
			return "", err
		}
		return "", fmt.Errorf("store: create pull source: %w", err)
	}
	return id, nil
}

const pullColumns = `p.connector_id, c.name, p.url, p.kind, p.format, p.auth, p.every_minutes, p.etag, p.content_sha256,
	p.checked_at, p.changed_at, p.last_outcome, p.last_error, p.created_at`

func scanPull(sc interface{ Scan(...any) error }) (*PullSource, error) {
	var p PullSource
	var checked, changed sql.NullTime
	if err := sc.Scan(&p.ConnectorID, &p.Name, &p.URL, &p.Kind, &p.Format, &p.Auth, &p.EveryMinutes, &p.ETag, &p.ContentSHA256,
		&checked, &changed, &p.LastOutcome, &p.LastError, &p.CreatedAt); err != nil {
		return nil, err
	}
	p.CheckedAt, p.ChangedAt = timePtr(checked), timePtr(changed)
	return &p, nil
}

// PullSource returns the pull settings of connector id of publisher pub;
// ENOTFOUND when it is not a pull source.
func (s *Store) PullSource(ctx context.Context, pub phantomos.PublisherID, id string) (*PullSource, error) {
	if !phantomos.ValidID(id) {
		return nil, phantomos.Errorf(phantomos.ENOTFOUND, "Pull source not found.")
	}
	p, err := scanPull(s.db.QueryRowContext(ctx, `SELECT `+pullColumns+` FROM pull_sources p
		JOIN connectors c ON c.id = p.connector_id AND c.publisher_id = p.publisher_id
		WHERE p.publisher_id = $1 AND p.connector_id = $2`, pub, id))
	if err != nil {
		if e := notFound(err, "Pull source"); e != err {
			return nil, e
		}
		return nil, fmt.Errorf("store: pull source %s: %w", id, err)
	}
	return p, nil
}

// maxPullSources bounds the pull sources of one publisher listed at once.
const maxPullSources = 1000

// PullSources returns the pull sources of publisher pub, oldest first.
func (s *Store) PullSources(ctx context.Context, pub phantomos.PublisherID) ([]*PullSource, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+pullColumns+` FROM pull_sources p
		JOIN connectors c ON c.id = p.connector_id AND c.publisher_id = p.publisher_id
		WHERE p.publisher_id = $1 AND c.status <> $2 ORDER BY p.created_at, p.connector_id LIMIT $3`, pub, ConnectorDisconnected, maxPullSources)
	if err != nil {
		return nil, fmt.Errorf("store: pull sources: %w", err)
	}
	defer rows.Close()
	var out []*PullSource
	for rows.Next() {
		p, err := scanPull(rows)
		if err != nil {
			return nil, fmt.Errorf("store: pull sources: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// PullRecord is what one pull did.
type PullRecord struct {
	Outcome string // PullImported, PullUnchanged or PullFailed
	// ETag and ContentSHA256 of the file now imported (PullImported), or
	// the ETag the server now gives an unchanged file; ignored when the
	// pull failed, so that the next pull tries the file again.
	ETag          string
	ContentSHA256 string
	Error         string
}

// RecordPull records the outcome of a pull of connector id of publisher
// pub at now, and sets the connector's status: active, or error with the
// reason.
func (s *Store) RecordPull(ctx context.Context, pub phantomos.PublisherID, id string, r PullRecord) error {
	now := s.nowUTC()
	return s.tx(ctx, func(tx *sql.Tx) error {
		var res sql.Result
		var err error
		switch r.Outcome {
		case PullImported:
			res, err = tx.ExecContext(ctx, `UPDATE pull_sources SET etag = $3, content_sha256 = $4, checked_at = $5, changed_at = $5,
				last_outcome = $6, last_error = '', updated_at = $5 WHERE publisher_id = $1 AND connector_id = $2`,
				pub, id, r.ETag, r.ContentSHA256, now, r.Outcome)
		case PullUnchanged:
			res, err = tx.ExecContext(ctx, `UPDATE pull_sources SET etag = CASE WHEN $3 = '' THEN etag ELSE $3 END, checked_at = $4,
				last_outcome = $5, last_error = '', updated_at = $4 WHERE publisher_id = $1 AND connector_id = $2`,
				pub, id, r.ETag, now, r.Outcome)
		case PullFailed:
			res, err = tx.ExecContext(ctx, `UPDATE pull_sources SET checked_at = $3, last_outcome = $4, last_error = $5, updated_at = $3
				WHERE publisher_id = $1 AND connector_id = $2`, pub, id, now, r.Outcome, r.Error)
		default:
			return fmt.Errorf("store: pull outcome %q is not valid", r.Outcome)
		}
		if err != nil {
			return fmt.Errorf("store: record pull: %w", err)
		}
		if err := affected(res, "Pull source"); err != nil {
			return err
		}
		status, msg := ConnectorActive, ""
		if r.Outcome == PullFailed {
			status, msg = ConnectorError, r.Error
		}
		_, err = tx.ExecContext(ctx, `UPDATE connectors SET status = $3, last_error = $4, last_sync_at = $5, updated_at = $5
			WHERE publisher_id = $1 AND id = $2`, pub, id, status, msg, now)
		return err
	})
}

// DeletePullSource removes pull source id of publisher pub and its
// connector, which must have written nothing yet (a source whose creation
// could not finish).
func (s *Store) DeletePullSource(ctx context.Context, pub phantomos.PublisherID, id string) error {
	_, err := s.exec(ctx, `DELETE FROM connectors WHERE publisher_id = $1 AND id = $2 AND type = 'custom'
		AND NOT EXISTS (SELECT 1 FROM sales WHERE sales.publisher_id = $1 AND sales.connector_id = $2)
		AND NOT EXISTS (SELECT 1 FROM products WHERE products.publisher_id = $1 AND products.connector_id = $2)`, pub, id)
	if err != nil {
		return fmt.Errorf("store: delete pull source: %w", err)
	}
	return nil
}

// UpdatePullSource changes the URL, format, credential kind and period of
// pull source id of publisher pub (its name, kind and data stay). The
// ETag and hash of the last file are forgotten, so that the next pull
// fetches and imports the file at the new address even if it equals the
// last one: importing it again changes nothing that is already stored.
func (s *Store) UpdatePullSource(ctx context.Context, pub phantomos.PublisherID, id string, p PullSource) error {
	if !phantomos.ValidID(id) {
		return phantomos.Errorf(phantomos.ENOTFOUND, "Pull source not found.")
	}
	res, err := s.exec(ctx, `UPDATE pull_sources SET url = $3, format = $4, auth = $5, every_minutes = $6, etag = '', content_sha256 = '',
		updated_at = $7 WHERE publisher_id = $1 AND connector_id = $2`, pub, id, p.URL, p.Format, p.Auth, p.EveryMinutes, s.nowUTC())
	if err != nil {
		return fmt.Errorf("store: update pull source: %w", err)
	}
	return affected(res, "Pull source")
}
