package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/phantomos/phantomos"
)

// CreateConnector stores a connector of publisher pub.
func (s *Store) CreateConnector(ctx context.Context, pub phantomos.PublisherID, c *phantomos.Connector) error {
	c.PublisherID = pub
	if c.ID == "" {
		c.ID = phantomos.NewID()
	}
	if c.Status == "" {
		c.Status = "pending"
	}
	c.CreatedAt = s.nowUTC()
	_, err := s.exec(ctx, `INSERT INTO connectors (id, publisher_id, type, name, status, last_sync_at, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $7)`, c.ID, pub, c.Type, c.Name, c.Status, c.LastSyncAt, c.CreatedAt)
	if isUniqueViolation(err) {
		return phantomos.Errorf(phantomos.ECONFLICT, "A connector named %q already exists.", c.Name)
	}
	if err != nil {
		return fmt.Errorf("store: create connector: %w", err)
	}
	return nil
}

// Connectors lists the connectors of publisher pub by name.
func (s *Store) Connectors(ctx context.Context, pub phantomos.PublisherID) ([]*phantomos.Connector, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, publisher_id, type, name, status, last_sync_at, last_error, created_at
		FROM connectors WHERE publisher_id = $1 ORDER BY name`, pub)
	if err != nil {
		return nil, fmt.Errorf("store: connectors: %w", err)
	}
	defer rows.Close()
	var out []*phantomos.Connector
	for rows.Next() {
		var c phantomos.Connector
		var last sql.NullTime
		if err := rows.Scan(&c.ID, &c.PublisherID, &c.Type, &c.Name, &c.Status, &last, &c.LastError, &c.CreatedAt); err != nil {
			return nil, fmt.Errorf("store: connectors: %w", err)
		}
		c.LastSyncAt = timePtr(last)
		out = append(out, &c)
	}
	return out, rows.Err()
}

// CreateGameIP stores a game IP of publisher pub.
func (s *Store) CreateGameIP(ctx context.Context, pub phantomos.PublisherID, g *phantomos.GameIP) error {
	g.PublisherID = pub
	if g.ID == "" {
		g.ID = phantomos.NewID()
	}
	g.CreatedAt = s.nowUTC()
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO game_ips (id, publisher_id, name, slug, genre, platforms, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $7)`, g.ID, pub, g.Name, g.Slug, g.Genre, phantomos.JSONList(g.Platforms), g.CreatedAt); err != nil {
			return err
		}
		return bumpDataVersionKeepingFilters(ctx, tx, pub)
	})
	if isUniqueViolation(err) {
		return phantomos.Errorf(phantomos.ECONFLICT, "A game IP with slug %q already exists.", g.Slug)
	}
	if err != nil {
		return fmt.Errorf("store: create game IP: %w", err)
	}
	return nil
}

// GameIPs lists the game IPs of publisher pub by name.
func (s *Store) GameIPs(ctx context.Context, pub phantomos.PublisherID) ([]*phantomos.GameIP, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, publisher_id, name, slug, genre, platforms, archived_at, created_at
		FROM game_ips WHERE publisher_id = $1 ORDER BY name`, pub)
	if err != nil {
		return nil, fmt.Errorf("store: game IPs: %w", err)
	}
	defer rows.Close()
	var out []*phantomos.GameIP
	for rows.Next() {
		var g phantomos.GameIP
		var platforms string
		if err := rows.Scan(&g.ID, &g.PublisherID, &g.Name, &g.Slug, &g.Genre, &platforms, &g.ArchivedAt, &g.CreatedAt); err != nil {
			return nil, fmt.Errorf("store: game IPs: %w", err)
		}
		if err := json.Unmarshal([]byte(platforms), &g.Platforms); err != nil {
			return nil, fmt.Errorf("store: game IP %s platforms: %w", g.ID, err)
		}
		out = append(out, &g)
	}
	return out, rows.Err()
}

// CreateAsset stores an asset of publisher pub. Its game IP must belong to
// the same publisher.
func (s *Store) CreateAsset(ctx context.Context, pub phantomos.PublisherID, a *phantomos.Asset) error {
	a.PublisherID = pub
	if a.ID == "" {
		a.ID = phantomos.NewID()
	}
	a.CreatedAt = s.nowUTC()
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO ip_assets (id, publisher_id, game_ip_id, name, asset_type, aliases, tags, popularity, image_url, created_at, updated_at)
			SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10
			WHERE EXISTS (SELECT 1 FROM game_ips WHERE publisher_id = $2 AND id = $3)`,
			a.ID, pub, a.GameIPID, a.Name, a.AssetType, phantomos.JSONList(a.Aliases), phantomos.JSONList(a.Tags), a.Popularity, a.ImageURL, a.CreatedAt)
		if isUniqueViolation(err) {
			return phantomos.Errorf(phantomos.ECONFLICT, "An asset named %q already exists in this game IP.", a.Name)
		}
		if err != nil {
			return fmt.Errorf("store: create asset: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return phantomos.Errorf(phantomos.ENOTFOUND, "Game IP not found.")
		}
		return bumpDataVersionKeepingFilters(ctx, tx, pub)
	})
}

// Assets lists the assets of publisher pub by game IP and name.
func (s *Store) Assets(ctx context.Context, pub phantomos.PublisherID) ([]*phantomos.Asset, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, publisher_id, game_ip_id, name, asset_type, aliases, tags, popularity, image_url, archived_at, created_at
		FROM ip_assets WHERE publisher_id = $1 ORDER BY game_ip_id, name`, pub)
	if err != nil {
		return nil, fmt.Errorf("store: assets: %w", err)
	}
	defer rows.Close()
	var out []*phantomos.Asset
	for rows.Next() {
		var a phantomos.Asset
		var aliases, tags string
		if err := rows.Scan(&a.ID, &a.PublisherID, &a.GameIPID, &a.Name, &a.AssetType, &aliases, &tags, &a.Popularity, &a.ImageURL, &a.ArchivedAt, &a.CreatedAt); err != nil {
			return nil, fmt.Errorf("store: assets: %w", err)
		}
		if err := json.Unmarshal([]byte(aliases), &a.Aliases); err != nil {
			return nil, fmt.Errorf("store: asset %s aliases: %w", a.ID, err)
		}
		if err := json.Unmarshal([]byte(tags), &a.Tags); err != nil {
			return nil, fmt.Errorf("store: asset %s tags: %w", a.ID, err)
		}
		out = append(out, &a)
	}
	return out, rows.Err()
}

// CreateProducts stores products of publisher pub with their asset links in
// one transaction. A product with an existing (connector, external id) is
// ECONFLICT and nothing is written.
func (s *Store) CreateProducts(ctx context.Context, pub phantomos.PublisherID, products []*phantomos.Product, links []phantomos.ProductAsset) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		now := s.nowUTC()
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO products (id, publisher_id, connector_id, external_id, game_ip_id, name, description, sku, category, price, currency, image_url, tags, mapping_status, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15)`)
		if err != nil {
			return fmt.Errorf("store: create products: %w", err)
		}
		defer stmt.Close()
		for _, p := range products {
			p.PublisherID = pub
			if p.ID == "" {
				p.ID = phantomos.NewID()
			}
			if p.MappingStatus == "" {
				p.MappingStatus = phantomos.MappingUnmapped
			}
			p.CreatedAt = now
			var gameIP any
			if p.GameIPID != "" {
				gameIP = p.GameIPID
			}
			_, err := stmt.ExecContext(ctx, p.ID, pub, p.ConnectorID, p.ExternalID, gameIP, p.Name, p.Description, p.SKU,
				p.Category, p.Price, p.Currency, p.ImageURL, phantomos.JSONList(p.Tags), p.MappingStatus, now)
			if isUniqueViolation(err) {
				return phantomos.Errorf(phantomos.ECONFLICT, "Product %q already exists for this connector.", p.ExternalID)
			}
			if err != nil {
				return fmt.Errorf("store: create product %q: %w", p.ExternalID, err)
			}
		}
		link, err := tx.PrepareContext(ctx, `INSERT INTO product_assets (publisher_id, product_id, asset_id, is_primary, weight, source, confidence, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)`)
		if err != nil {
			return fmt.Errorf("store: create products: %w", err)
		}
		defer link.Close()
		for _, l := range links {
			if _, err := link.ExecContext(ctx, pub, l.ProductID, l.AssetID, l.IsPrimary, l.Weight, l.Source, l.Confidence, now); err != nil {
				return fmt.Errorf("store: link product %s to asset %s: %w", l.ProductID, l.AssetID, err)
			}
		}
		if len(products)+len(links) == 0 {
			return nil
		}
		return bumpDataVersion(ctx, tx, pub)
	})
}

// ProductCounts returns how many products publisher pub has in each mapping
// status.
func (s *Store) ProductCounts(ctx context.Context, pub phantomos.PublisherID) (map[string]int, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT mapping_status, COUNT(*) FROM products WHERE publisher_id = $1 GROUP BY mapping_status`, pub)
	if err != nil {
		return nil, fmt.Errorf("store: product counts: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var status string
		var n int
		if err := rows.Scan(&status, &n); err != nil {
			return nil, fmt.Errorf("store: product counts: %w", err)
		}
		out[status] = n
	}
	return out, rows.Err()
}

// Products lists up to limit products of publisher pub, unmapped first, then
// by name.
func (s *Store) Products(ctx context.Context, pub phantomos.PublisherID, limit int) ([]*phantomos.Product, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, publisher_id, connector_id, external_id, COALESCE(CAST(game_ip_id AS TEXT), ''), name, description, sku,
			category, price, currency, image_url, tags, mapping_status, created_at
		FROM products WHERE publisher_id = $1
		ORDER BY CASE mapping_status WHEN 'unmapped' THEN 0 WHEN 'suggested' THEN 1 ELSE 2 END, name, id
		LIMIT $2`, pub, limit)
	if err != nil {
		return nil, fmt.Errorf("store: products: %w", err)
	}
	defer rows.Close()
	var out []*phantomos.Product
	for rows.Next() {
		var p phantomos.Product
		var tags string
		if err := rows.Scan(&p.ID, &p.PublisherID, &p.ConnectorID, &p.ExternalID, &p.GameIPID, &p.Name, &p.Description, &p.SKU,
			&p.Category, &p.Price, &p.Currency, &p.ImageURL, &tags, &p.MappingStatus, &p.CreatedAt); err != nil {
			return nil, fmt.Errorf("store: products: %w", err)
		}
		if err := json.Unmarshal([]byte(tags), &p.Tags); err != nil {
			return nil, fmt.Errorf("store: product %s tags: %w", p.ID, err)
		}
		out = append(out, &p)
	}
	return out, rows.Err()
}

// Asset returns asset id of publisher pub.
func (s *Store) Asset(ctx context.Context, pub phantomos.PublisherID, id string) (*phantomos.Asset, error) {
	if !phantomos.ValidID(id) {
		return nil, phantomos.Errorf(phantomos.ENOTFOUND, "Asset not found.")
	}
	var a phantomos.Asset
	var aliases, tags string
	err := s.db.QueryRowContext(ctx, `SELECT id, publisher_id, game_ip_id, name, asset_type, aliases, tags, popularity, image_url, archived_at, created_at
		FROM ip_assets WHERE publisher_id = $1 AND id = $2`, pub, id).
		Scan(&a.ID, &a.PublisherID, &a.GameIPID, &a.Name, &a.AssetType, &aliases, &tags, &a.Popularity, &a.ImageURL, &a.ArchivedAt, &a.CreatedAt)
	if err != nil {
		return nil, notFound(err, "Asset")
	}
	json.Unmarshal([]byte(aliases), &a.Aliases)
	json.Unmarshal([]byte(tags), &a.Tags)
	return &a, nil
}

// ProductCategories maps every product id of publisher pub to its category.
func (s *Store) ProductCategories(ctx context.Context, pub phantomos.PublisherID) (map[string]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT CAST(id AS TEXT), category FROM products WHERE publisher_id = $1`, pub)
	if err != nil {
		return nil, fmt.Errorf("store: product categories: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var id, c string
		if err := rows.Scan(&id, &c); err != nil {
			return nil, fmt.Errorf("store: product categories: %w", err)
		}
		out[id] = c
	}
	return out, rows.Err()
}
