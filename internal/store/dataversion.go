package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/phantomos/phantomos"
)

// bumpDataVersion records, inside the caller's transaction, that data the
// publisher's analytics read has changed. Call it from every write that
// changes sales, rollups, products, mappings, assets or analytics settings:
// caches keyed by the data version rely on it.
func bumpDataVersion(ctx context.Context, tx execer, pub phantomos.PublisherID) error {
	if _, err := tx.ExecContext(ctx, `UPDATE publishers SET data_version = data_version + 1 WHERE id = $1`, string(pub)); err != nil {
		return fmt.Errorf("store: data version of %s: %w", pub, err)
	}
	return nil
}

// DataVersion returns the publisher's data version: it changes whenever
// data its analytics read changes, and only then.
func (s *Store) DataVersion(ctx context.Context, pub phantomos.PublisherID) (int64, error) {
	var v int64
	err := s.db.QueryRowContext(ctx, `SELECT data_version FROM publishers WHERE id = $1`, string(pub)).Scan(&v)
	if err != nil {
		return 0, notFound(err, "Publisher")
	}
	return v, nil
}

// PublisherVersion returns the publisher with the given id and its data
// version, read together in one primary-key lookup: the start of every
// analytics request, whose cached answers are keyed by both.
func (s *Store) PublisherVersion(ctx context.Context, id phantomos.PublisherID) (*phantomos.Publisher, int64, error) {
	var v int64
	row := s.db.QueryRowContext(ctx, `SELECT `+publisherColumns+`, data_version FROM publishers WHERE id = $1`, id)
	p, err := scanPublisher(versionRow{row, &v})
	if err != nil {
		return nil, 0, notFound(err, "Publisher")
	}
	return p, v, nil
}

// versionRow scans the publisher's columns and then its data version.
type versionRow struct {
	row     *sql.Row
	version *int64
}

func (r versionRow) Scan(dest ...any) error { return r.row.Scan(append(dest, r.version)...) }

// bumpDataVersionKeepingFilters is bumpDataVersion for a write that
// changes nothing the filter rollups are built from (the sales, and each
// product's category, game IP and assets): filter rollups that were current
// before it stay current (their stamp moves with the version). Renaming a
// game IP, saving the tagger's suggestions or creating an asset must not
// send every filtered question back to the lines until the next rebuild.
//
// The stamp moves only when it equalled the version before this bump,
// read after the bump has locked the publisher's row on PostgreSQL: an
// import's filter delta and a rebuild's copy of this publisher wait for
// that lock or for the stamp's row, so each sees the other's stamp.
func bumpDataVersionKeepingFilters(ctx context.Context, tx execer, pub phantomos.PublisherID) error {
	if err := bumpDataVersion(ctx, tx, pub); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE filter_rollup_state SET data_version = data_version + 1
		WHERE publisher_id = $1 AND data_version = (SELECT data_version - 1 FROM publishers WHERE id = $1)`, string(pub)); err != nil {
		return fmt.Errorf("store: filter rollups of %s: %w", pub, err)
	}
	return nil
}
