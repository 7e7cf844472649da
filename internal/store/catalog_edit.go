package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/phantomos/phantomos"
)

// GameIP returns game IP id of publisher pub.
func (s *Store) GameIP(ctx context.Context, pub phantomos.PublisherID, id string) (*phantomos.GameIP, error) {
	if !phantomos.ValidID(id) {
		return nil, phantomos.Errorf(phantomos.ENOTFOUND, "Game IP not found.")
	}
	var g phantomos.GameIP
	var platforms string
	err := s.db.QueryRowContext(ctx, `SELECT id, publisher_id, name, slug, genre, platforms, archived_at, created_at
		FROM game_ips WHERE publisher_id = $1 AND id = $2`, pub, id).
		Scan(&g.ID, &g.PublisherID, &g.Name, &g.Slug, &g.Genre, &platforms, &g.ArchivedAt, &g.CreatedAt)
	if err != nil {
		return nil, notFound(err, "Game IP")
	}
	if err := json.Unmarshal([]byte(platforms), &g.Platforms); err != nil {
		return nil, fmt.Errorf("store: game IP %s platforms: %w", g.ID, err)
	}
	return &g, nil
}

// UpdateGameIP saves the name, slug, genre and platforms of g, a game IP of
// publisher pub.
func (s *Store) UpdateGameIP(ctx context.Context, pub phantomos.PublisherID, g *phantomos.GameIP) error {
	if !phantomos.ValidID(g.ID) {
		return phantomos.Errorf(phantomos.ENOTFOUND, "Game IP not found.")
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE game_ips SET name = $3, slug = $4, genre = $5, platforms = $6, updated_at = $7
			WHERE publisher_id = $1 AND id = $2`, pub, g.ID, g.Name, g.Slug, g.Genre, phantomos.JSONList(g.Platforms), s.nowUTC())
		if isUniqueViolation(err) {
			return phantomos.Errorf(phantomos.ECONFLICT, "A game IP with slug %q already exists.", g.Slug)
		}
		if err != nil {
			return fmt.Errorf("store: update game IP: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return phantomos.Errorf(phantomos.ENOTFOUND, "Game IP not found.")
		}
		return bumpDataVersionKeepingFilters(ctx, tx, pub)
	})
}

// SetGameIPArchived archives (or restores) game IP id of publisher pub and,
// with it, its assets: archived assets keep their history and mappings but
// are no longer suggested or offered for new mappings.
func (s *Store) SetGameIPArchived(ctx context.Context, pub phantomos.PublisherID, id string, archived bool) error {
	if !phantomos.ValidID(id) {
		return phantomos.Errorf(phantomos.ENOTFOUND, "Game IP not found.")
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		now := s.nowUTC()
		var at any
		if archived {
			at = now
		}
		res, err := tx.ExecContext(ctx, `UPDATE game_ips SET archived_at = $3, updated_at = $4 WHERE publisher_id = $1 AND id = $2`, pub, id, at, now)
		if err != nil {
			return fmt.Errorf("store: archive game IP: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return phantomos.Errorf(phantomos.ENOTFOUND, "Game IP not found.")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE ip_assets SET archived_at = $3, updated_at = $4 WHERE publisher_id = $1 AND game_ip_id = $2`, pub, id, at, now); err != nil {
			return fmt.Errorf("store: archive game IP assets: %w", err)
		}
		return bumpDataVersionKeepingFilters(ctx, tx, pub)
	})
}

// UpdateAsset saves the name, type, aliases, tags and image of a, an asset
// of publisher pub. The asset may move to another game IP of the same
// publisher.
func (s *Store) UpdateAsset(ctx context.Context, pub phantomos.PublisherID, a *phantomos.Asset) error {
	if !phantomos.ValidID(a.ID) {
		return phantomos.Errorf(phantomos.ENOTFOUND, "Asset not found.")
	}
	if !phantomos.ValidID(a.GameIPID) {
		return phantomos.Errorf(phantomos.ENOTFOUND, "Game IP not found.")
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		var one int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM game_ips WHERE publisher_id = $1 AND id = $2`, pub, a.GameIPID).Scan(&one); err != nil {
			if err == sql.ErrNoRows {
				return phantomos.Errorf(phantomos.ENOTFOUND, "Game IP not found.")
			}
			return fmt.Errorf("store: update asset: %w", err)
		}
		res, err := tx.ExecContext(ctx, `UPDATE ip_assets SET game_ip_id = $3, name = $4, asset_type = $5, aliases = $6, tags = $7, image_url = $8, updated_at = $9
			WHERE publisher_id = $1 AND id = $2`, pub, a.ID, a.GameIPID, a.Name, a.AssetType, phantomos.JSONList(a.Aliases), phantomos.JSONList(a.Tags), a.ImageURL, s.nowUTC())
		if isUniqueViolation(err) {
			return phantomos.Errorf(phantomos.ECONFLICT, "An asset named %q already exists in this game IP.", a.Name)
		}
		if err != nil {
			return fmt.Errorf("store: update asset: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return phantomos.Errorf(phantomos.ENOTFOUND, "Asset not found.")
		}
		// Products whose primary asset moved follow it to its game IP.
		if _, err := tx.ExecContext(ctx, `UPDATE products SET game_ip_id = $3 WHERE publisher_id = $1 AND id IN
			(SELECT product_id FROM product_assets WHERE publisher_id = $1 AND asset_id = $2 AND is_primary)`, pub, a.ID, a.GameIPID); err != nil {
			return fmt.Errorf("store: update asset: %w", err)
		}
		return bumpDataVersion(ctx, tx, pub)
	})
}

// SetAssetArchived archives (or restores) asset id of publisher pub.
func (s *Store) SetAssetArchived(ctx context.Context, pub phantomos.PublisherID, id string, archived bool) error {
	if !phantomos.ValidID(id) {
		return phantomos.Errorf(phantomos.ENOTFOUND, "Asset not found.")
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		now := s.nowUTC()
		var at any
		if archived {
			at = now
		}
		if !archived {
			var ipArchived *time.Time
			err := tx.QueryRowContext(ctx, `SELECT g.archived_at FROM ip_assets a JOIN game_ips g ON g.publisher_id = a.publisher_id AND g.id = a.game_ip_id
				WHERE a.publisher_id = $1 AND a.id = $2`, pub, id).Scan(&ipArchived)
			if err != nil {
				return notFound(err, "Asset")
			}
			if ipArchived != nil {
				return phantomos.Errorf(phantomos.EINVALID, "The asset's game IP is archived; restore the game IP first.")
			}
		}
		res, err := tx.ExecContext(ctx, `UPDATE ip_assets SET archived_at = $3, updated_at = $4 WHERE publisher_id = $1 AND id = $2`, pub, id, at, now)
		if err != nil {
			return fmt.Errorf("store: archive asset: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return phantomos.Errorf(phantomos.ENOTFOUND, "Asset not found.")
		}
		return bumpDataVersionKeepingFilters(ctx, tx, pub)
	})
}

// MergeResult says what merging two assets moved.
type MergeResult struct {
	Links     int `json:"links"`     // product links moved to the kept asset
	Duplicate int `json:"duplicate"` // products that already had both: links folded
	Aliases   int `json:"aliases"`   // names added to the kept asset's aliases
}

// MergeAssets merges asset from into asset into, both of publisher pub, in
// one transaction: every product mapped to from is mapped to into instead
// (a product that had both keeps one link, primary if either was, with the
// weights added), suggestions and recorded decisions follow, from's name and
// aliases become aliases of into, and from is deleted.
func (s *Store) MergeAssets(ctx context.Context, pub phantomos.PublisherID, from, into string) (MergeResult, error) {
	var res MergeResult
	if from == into {
		return res, phantomos.Errorf(phantomos.EINVALID, "Choose a different asset to merge into.")
	}
	src, err := s.Asset(ctx, pub, from)
	if err != nil {
		return res, err
	}
	dst, err := s.Asset(ctx, pub, into)
	if err != nil {
		if phantomos.ErrorCode(err) == phantomos.ENOTFOUND {
			return res, phantomos.Errorf(phantomos.ENOTFOUND, "The asset to merge into was not found.")
		}
		return res, err
	}
	err = s.tx(ctx, func(tx *sql.Tx) error {
		now := s.nowUTC()
		// Products linked to both: fold the links into the kept one.
		rows, err := tx.QueryContext(ctx, `SELECT CAST(f.product_id AS TEXT), f.is_primary, f.weight FROM product_assets f
			JOIN product_assets t ON t.publisher_id = f.publisher_id AND t.product_id = f.product_id AND t.asset_id = $3
			WHERE f.publisher_id = $1 AND f.asset_id = $2`, pub, from, into)
		if err != nil {
			return fmt.Errorf("store: merge assets: %w", err)
		}
		type both struct {
			product string
			primary bool
			weight  float64
		}
		var shared []both
		for rows.Next() {
			var b both
			if err := rows.Scan(&b.product, &b.primary, &b.weight); err != nil {
				rows.Close()
				return fmt.Errorf("store: merge assets: %w", err)
			}
			shared = append(shared, b)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("store: merge assets: %w", err)
		}
		for _, b := range shared {
			// The merged link goes first: it may be the product's primary,
			// and the schema allows one primary per product at any time.
			if _, err := tx.ExecContext(ctx, `DELETE FROM product_assets WHERE publisher_id = $1 AND product_id = $2 AND asset_id = $3`, pub, b.product, from); err != nil {
				return fmt.Errorf("store: merge assets: %w", err)
			}
			if _, err := tx.ExecContext(ctx, `UPDATE product_assets SET weight = weight + $4, is_primary = (is_primary OR $5), updated_at = $6
				WHERE publisher_id = $1 AND product_id = $2 AND asset_id = $3`, pub, b.product, into, b.weight, b.primary, now); err != nil {
				return fmt.Errorf("store: merge assets: %w", err)
			}
		}
		res.Duplicate = len(shared)
		r, err := tx.ExecContext(ctx, `UPDATE product_assets SET asset_id = $3, updated_at = $4 WHERE publisher_id = $1 AND asset_id = $2`, pub, from, into, now)
		if err != nil {
			return fmt.Errorf("store: merge assets: %w", err)
		}
		n, _ := r.RowsAffected()
		res.Links = int(n) + len(shared)
		if _, err := tx.ExecContext(ctx, `UPDATE mapping_decisions SET asset_id = $3 WHERE publisher_id = $1 AND asset_id = $2`, pub, from, into); err != nil {
			return fmt.Errorf("store: merge assets: %w", err)
		}
		// Primary products follow the kept asset's game IP.
		if _, err := tx.ExecContext(ctx, `UPDATE products SET game_ip_id = $3 WHERE publisher_id = $1 AND id IN
			(SELECT product_id FROM product_assets WHERE publisher_id = $1 AND asset_id = $2 AND is_primary)`, pub, into, dst.GameIPID); err != nil {
			return fmt.Errorf("store: merge assets: %w", err)
		}
		// Stored suggestions name the kept asset.
		if err := s.renameSuggestions(ctx, tx, pub, from, into); err != nil {
			return err
		}
		aliases := dst.Aliases
		seen := map[string]bool{dst.Name: true}
		for _, a := range aliases {
			seen[a] = true
		}
		for _, a := range append([]string{src.Name}, src.Aliases...) {
			if !seen[a] {
				seen[a] = true
				aliases = append(aliases, a)
				res.Aliases++
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE ip_assets SET aliases = $3, updated_at = $4 WHERE publisher_id = $1 AND id = $2`, pub, into, phantomos.JSONList(aliases), now); err != nil {
			return fmt.Errorf("store: merge assets: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM ip_assets WHERE publisher_id = $1 AND id = $2`, pub, from); err != nil {
			return fmt.Errorf("store: merge assets: %w", err)
		}
		return bumpDataVersion(ctx, tx, pub)
	})
	return res, err
}

// renameSuggestions points stored suggestions of asset from at asset into,
// keeping the more confident one when a product had both.
func (s *Store) renameSuggestions(ctx context.Context, tx *sql.Tx, pub phantomos.PublisherID, from, into string) error {
	rows, err := tx.QueryContext(ctx, `SELECT CAST(id AS TEXT), CAST(ai_suggested_assets AS TEXT) FROM products
		WHERE publisher_id = $1 AND CAST(ai_suggested_assets AS TEXT) LIKE $2`, pub, "%"+from+"%")
	if err != nil {
		return fmt.Errorf("store: merge suggestions: %w", err)
	}
	type upd struct{ id, list string }
	var todo []upd
	for rows.Next() {
		var id, raw string
		if err := rows.Scan(&id, &raw); err != nil {
			rows.Close()
			return fmt.Errorf("store: merge suggestions: %w", err)
		}
		var list []Suggestion
		if err := json.Unmarshal([]byte(raw), &list); err != nil {
			rows.Close()
			return fmt.Errorf("store: product %s suggestions: %w", id, err)
		}
		var out []Suggestion
		at := map[string]int{}
		for _, x := range list {
			if x.AssetID == from {
				x.AssetID = into
			}
			if i, ok := at[x.AssetID]; ok {
				if x.Confidence > out[i].Confidence {
					x.Primary = x.Primary || out[i].Primary
					out[i] = x
				} else {
					out[i].Primary = out[i].Primary || x.Primary
				}
				continue
			}
			at[x.AssetID] = len(out)
			out = append(out, x)
		}
		b, _ := json.Marshal(out)
		todo = append(todo, upd{id, string(b)})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: merge suggestions: %w", err)
	}
	for _, u := range todo {
		if _, err := tx.ExecContext(ctx, `UPDATE products SET ai_suggested_assets = $3 WHERE publisher_id = $1 AND id = $2`, pub, u.id, u.list); err != nil {
			return fmt.Errorf("store: merge suggestions: %w", err)
		}
	}
	return nil
}

// AssetProductCounts returns how many confirmed products of publisher pub
// each asset has.
func (s *Store) AssetProductCounts(ctx context.Context, pub phantomos.PublisherID) (map[string]int, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT CAST(pa.asset_id AS TEXT), COUNT(*) FROM product_assets pa
		JOIN products p ON p.publisher_id = pa.publisher_id AND p.id = pa.product_id
		WHERE pa.publisher_id = $1 AND p.mapping_status = 'confirmed' GROUP BY pa.asset_id`, pub)
	if err != nil {
		return nil, fmt.Errorf("store: asset product counts: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, fmt.Errorf("store: asset product counts: %w", err)
		}
		out[id] = n
	}
	return out, rows.Err()
}
