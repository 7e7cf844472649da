package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/phantomos/phantomos"
)

const publisherColumns = `id, name, slug, logo, website, subscription_tier, reporting_currency, timezone, settings, created_at, updated_at`

func scanPublisher(row interface{ Scan(...any) error }) (*phantomos.Publisher, error) {
	var p phantomos.Publisher
	var settings string
	if err := row.Scan(&p.ID, &p.Name, &p.Slug, &p.Logo, &p.Website, &p.SubscriptionTier,
		&p.ReportingCurrency, &p.Timezone, &settings, &p.CreatedAt, &p.UpdatedAt); err != nil {
		return nil, err
	}
	p.Settings = phantomos.DefaultSettings()
	if err := json.Unmarshal([]byte(settings), &p.Settings); err != nil {
		return nil, fmt.Errorf("publisher %s settings: %w", p.ID, err)
	}
	return &p, nil
}

// CreatePublisher stores a new publisher, filling in its id, defaults and
// timestamps. A taken slug is ECONFLICT.
func (s *Store) CreatePublisher(ctx context.Context, p *phantomos.Publisher) error {
	if p.ID == "" {
		p.ID = phantomos.PublisherID(phantomos.NewID())
	}
	if p.SubscriptionTier == "" {
		p.SubscriptionTier = "starter"
	}
	if p.ReportingCurrency == "" {
		p.ReportingCurrency = "USD"
	}
	if p.Timezone == "" {
		p.Timezone = "UTC"
	}
	if p.Settings.AttributionModel == "" {
		p.Settings = phantomos.DefaultSettings()
	}
	if err := p.Validate(); err != nil {
		return err
	}
	settings, _ := json.Marshal(p.Settings)
	p.CreatedAt = s.nowUTC()
	p.UpdatedAt = p.CreatedAt
	_, err := s.exec(ctx, `INSERT INTO publishers (`+publisherColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		p.ID, p.Name, p.Slug, p.Logo, p.Website, p.SubscriptionTier, p.ReportingCurrency, p.Timezone,
		string(settings), p.CreatedAt, p.UpdatedAt)
	if isUniqueViolation(err) {
		return phantomos.Errorf(phantomos.ECONFLICT, "The slug %q is already taken.", p.Slug)
	}
	if err != nil {
		return fmt.Errorf("store: create publisher: %w", err)
	}
	return nil
}

// Publisher returns the publisher with the given id.
func (s *Store) Publisher(ctx context.Context, id phantomos.PublisherID) (*phantomos.Publisher, error) {
	p, err := scanPublisher(s.db.QueryRowContext(ctx, `SELECT `+publisherColumns+` FROM publishers WHERE id = $1`, id))
	if err != nil {
		return nil, notFound(err, "Publisher")
	}
	return p, nil
}

// PublisherBySlug returns the publisher with the given slug.
func (s *Store) PublisherBySlug(ctx context.Context, slug string) (*phantomos.Publisher, error) {
	p, err := scanPublisher(s.db.QueryRowContext(ctx, `SELECT `+publisherColumns+` FROM publishers WHERE slug = $1`, slug))
	if err != nil {
		return nil, notFound(err, fmt.Sprintf("Publisher %q", slug))
	}
	return p, nil
}

// publisherDataTables are the tenant tables DeletePublisher empties itself
// before deleting the publisher: the big ones, which the cascade would be
// slow on, and on PostgreSQL sales and the rollups, which have no foreign
// key to publishers (migration 00048). The other tables follow by cascade.
var publisherDataTables = append(append(append([]string{}, rollupTables...), filterRollupTables...),
	"sales", "product_assets", "products")

// DeletePublisher removes a publisher and all its data.
func (s *Store) DeletePublisher(ctx context.Context, id phantomos.PublisherID) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		for _, table := range publisherDataTables {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE publisher_id = $1`, id); err != nil {
				return fmt.Errorf("store: delete publisher %s: %s: %w", id, table, err)
			}
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM publishers WHERE id = $1`, id)
		if err != nil {
			return fmt.Errorf("store: delete publisher %s: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return phantomos.Errorf(phantomos.ENOTFOUND, "Publisher not found.")
		}
		return nil
	})
}

// UpdatePublisher stores the editable fields of p (name, slug, logo,
// website, reporting currency, time zone, settings). The subscription tier
// is not editable here.
func (s *Store) UpdatePublisher(ctx context.Context, p *phantomos.Publisher) error {
	if err := p.Validate(); err != nil {
		return err
	}
	switch p.Settings.AttributionModel {
	case phantomos.AttributionPrimary, phantomos.AttributionEqual, phantomos.AttributionWeighted:
	default:
		return phantomos.Errorf(phantomos.EINVALID, "Attribution model %q must be primary, equal or weighted.", p.Settings.AttributionModel)
	}
	switch p.Settings.RefundBooking {
	case "", phantomos.RefundOnOrderDate, phantomos.RefundOnRefundDate:
	default:
		return phantomos.Errorf(phantomos.EINVALID, "Refund booking %q must be %s or %s.", p.Settings.RefundBooking, phantomos.RefundOnOrderDate, phantomos.RefundOnRefundDate)
	}
	settings, _ := json.Marshal(p.Settings)
	p.UpdatedAt = s.nowUTC()
	return s.tx(ctx, func(tx *sql.Tx) error {
		// A new refund booking rebuilds the rollups in this transaction, so
		// no page sees the new booking with the old figures.
		refundDate, err := refundDateBooking(ctx, tx, s.dialect, p.ID)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE publishers SET name = $2, slug = $3, logo = $4, website = $5, reporting_currency = $6,
			timezone = $7, settings = $8, updated_at = $9 WHERE id = $1`,
			p.ID, p.Name, p.Slug, p.Logo, p.Website, p.ReportingCurrency, p.Timezone, string(settings), p.UpdatedAt)
		if isUniqueViolation(err) {
			return phantomos.Errorf(phantomos.ECONFLICT, "The slug %q is already taken.", p.Slug)
		}
		if err != nil {
			return fmt.Errorf("store: update publisher: %w", err)
		}
		if refundDate != p.Settings.RefundsOnRefundDate() {
			if err := rebuildRollups(ctx, tx, s.dialect, p.ID, p.Settings.RefundsOnRefundDate()); err != nil {
				return fmt.Errorf("store: update publisher: %w", err)
			}
		}
		// The attribution model, time zone, reporting currency and revenue
		// toggles change answers too, not only the refund booking.
		return bumpDataVersion(ctx, tx, p.ID)
	})
}

// Publishers lists every publisher, for the scheduler. It is the one
// cross-tenant listing, and returns ids and settings only to the server.
func (s *Store) Publishers(ctx context.Context) ([]*phantomos.Publisher, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+publisherColumns+` FROM publishers ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("store: publishers: %w", err)
	}
	defer rows.Close()
	var out []*phantomos.Publisher
	for rows.Next() {
		p, err := scanPublisher(rows)
		if err != nil {
			return nil, fmt.Errorf("store: publishers: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}
