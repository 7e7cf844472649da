package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/phantomos/phantomos"
)

// Suggestion is a tagger's proposal, kept on the product until a person
// decides (products.ai_suggested_assets).
type Suggestion struct {
	AssetID    string  `json:"asset_id"`
	Confidence float64 `json:"confidence"`
	Primary    bool    `json:"primary,omitempty"`
	Evidence   string  `json:"evidence,omitempty"`
	Source     string  `json:"source"` // local or llm
}

// ProductQuery selects products for the workbench. Zero fields do not
// filter.
type ProductQuery struct {
	Status    string // a mapping status, or "queue" for suggested and unmapped
	GameIPID  string // the product's game IP, or its confirmed assets' IP
	Category  string
	Connector string
	AssetID   string  // products confirmed to depict this asset
	MinConf   float64 // best suggestion at least this confident
	MaxConf   float64 // best suggestion below this (0: no bound)
	MinNet    int64   // revenue at stake at least this (reporting minor units)
	Search    string  // in name, SKU or external id, case-insensitive
	// RevenueSince is the first month (YYYY-MM) of the revenue shown and
	// sorted on; "" counts all months.
	RevenueSince string
	// Sort is "revenue" (default: revenue at stake, highest first), "name"
	// or "confidence" (most confident suggestion first).
	Sort   string
	Limit  int // 0 means 50
	Offset int
}

// ProductItem is one product of the workbench list.
type ProductItem struct {
	phantomos.Product
	Suggestions []Suggestion
	SuggestedAt *time.Time
	TopConf     float64
	Net         int64 // revenue since ProductQuery.RevenueSince, reporting minor units
	Units       int64
}

// ProductPage is one page of the workbench list.
type ProductPage struct {
	Rows  []ProductItem
	Total int
}

const productColumns = `p.id, p.publisher_id, p.connector_id, p.external_id, COALESCE(CAST(p.game_ip_id AS TEXT), ''), p.name, p.description, p.sku,
	p.category, p.price, p.currency, p.image_url, p.tags, p.mapping_status, p.created_at, p.ai_suggested_assets, p.suggested_at, p.suggested_confidence`

func scanProductRow(sc interface{ Scan(...any) error }, extra ...any) (ProductItem, error) {
	var r ProductItem
	var tags, sugg string
	dest := []any{&r.ID, &r.PublisherID, &r.ConnectorID, &r.ExternalID, &r.GameIPID, &r.Name, &r.Description, &r.SKU,
		&r.Category, &r.Price, &r.Currency, &r.ImageURL, &tags, &r.MappingStatus, &r.CreatedAt, &sugg, &r.SuggestedAt, &r.TopConf}
	if err := sc.Scan(append(dest, extra...)...); err != nil {
		return r, err
	}
	if err := json.Unmarshal([]byte(tags), &r.Tags); err != nil {
		return r, fmt.Errorf("product %s tags: %w", r.ID, err)
	}
	if err := json.Unmarshal([]byte(sugg), &r.Suggestions); err != nil {
		return r, fmt.Errorf("product %s suggestions: %w", r.ID, err)
	}
	return r, nil
}

// where returns the WHERE clause of q over products p and its arguments,
// the publisher first.
func (q ProductQuery) where(pub phantomos.PublisherID) (string, []any) {
	var b strings.Builder
	args := []any{pub}
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	b.WriteString("p.publisher_id = $1")
	switch q.Status {
	case "":
	case "queue":
		b.WriteString(" AND p.mapping_status IN ('suggested', 'unmapped')")
	default:
		b.WriteString(" AND p.mapping_status = " + arg(q.Status))
	}
	if q.GameIPID != "" {
		v := arg(q.GameIPID)
		b.WriteString(" AND (CAST(p.game_ip_id AS TEXT) = " + v + ` OR EXISTS (SELECT 1 FROM product_assets pa JOIN ip_assets a ON a.publisher_id = pa.publisher_id AND a.id = pa.asset_id
			WHERE pa.publisher_id = p.publisher_id AND pa.product_id = p.id AND CAST(a.game_ip_id AS TEXT) = ` + v + "))")
	}
	if q.Category != "" {
		b.WriteString(" AND p.category = " + arg(q.Category))
	}
	if q.Connector != "" {
		b.WriteString(" AND CAST(p.connector_id AS TEXT) = " + arg(q.Connector))
	}
	if q.AssetID != "" {
		b.WriteString(" AND EXISTS (SELECT 1 FROM product_assets pa WHERE pa.publisher_id = p.publisher_id AND pa.product_id = p.id AND CAST(pa.asset_id AS TEXT) = " + arg(q.AssetID) + ")")
	}
	if q.MinConf > 0 {
		b.WriteString(" AND p.suggested_confidence >= " + arg(q.MinConf))
	}
	if q.MaxConf > 0 {
		b.WriteString(" AND p.suggested_confidence < " + arg(q.MaxConf))
	}
	if s := strings.TrimSpace(q.Search); s != "" {
		like := "%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(strings.ToLower(s)) + "%"
		v := arg(like)
		b.WriteString(" AND (LOWER(p.name) LIKE " + v + ` ESCAPE '\' OR LOWER(p.sku) LIKE ` + v + ` ESCAPE '\' OR LOWER(p.external_id) LIKE ` + v + ` ESCAPE '\')`)
	}
	return b.String(), args
}

// ProductList returns the page of publisher pub's products that q selects,
// with each product's suggestions and revenue at stake.
func (s *Store) ProductList(ctx context.Context, pub phantomos.PublisherID, q ProductQuery) (ProductPage, error) {
	if q.Limit <= 0 {
		q.Limit = 50
	}
	where, args := q.where(pub)
	revenue := `SELECT product_id, SUM(net) AS net, SUM(units) AS units FROM product_monthly WHERE publisher_id = $1`
	if q.RevenueSince != "" {
		args = append(args, q.RevenueSince)
		revenue += fmt.Sprintf(" AND month >= $%d", len(args))
	}
	revenue += " GROUP BY product_id"
	having := ""
	if q.MinNet > 0 {
		args = append(args, q.MinNet)
		having = fmt.Sprintf(" AND COALESCE(r.net, 0) >= $%d", len(args))
	}
	from := `FROM products p LEFT JOIN (` + revenue + `) r ON r.product_id = p.id WHERE ` + where + having

	var out ProductPage
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) `+from, args...).Scan(&out.Total); err != nil {
		return out, fmt.Errorf("store: product list: %w", err)
	}
	order := "COALESCE(r.net, 0) DESC, p.name, p.id"
	switch q.Sort {
	case "name":
		order = "p.name, p.id"
	case "confidence":
		order = "p.suggested_confidence DESC, COALESCE(r.net, 0) DESC, p.id"
	}
	args = append(args, q.Limit, q.Offset)
	rows, err := s.db.QueryContext(ctx, `SELECT `+productColumns+`, COALESCE(r.net, 0), COALESCE(r.units, 0) `+from+
		fmt.Sprintf(" ORDER BY %s LIMIT $%d OFFSET $%d", order, len(args)-1, len(args)), args...)
	if err != nil {
		return out, fmt.Errorf("store: product list: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var net, units int64
		r, err := scanProductRow(rows, &net, &units)
		if err != nil {
			return out, fmt.Errorf("store: product list: %w", err)
		}
		r.Net, r.Units = net, units
		out.Rows = append(out.Rows, r)
	}
	return out, rows.Err()
}

// ProductItem returns one product of publisher pub with its suggestions and
// its revenue since the month since ("" for all time).
func (s *Store) ProductItem(ctx context.Context, pub phantomos.PublisherID, id, since string) (ProductItem, error) {
	if !phantomos.ValidID(id) {
		return ProductItem{}, phantomos.Errorf(phantomos.ENOTFOUND, "Product not found.")
	}
	page, err := s.productItems(ctx, pub, []string{id}, since)
	if err != nil {
		return ProductItem{}, err
	}
	if len(page) == 0 {
		return ProductItem{}, phantomos.Errorf(phantomos.ENOTFOUND, "Product not found.")
	}
	return page[0], nil
}

func (s *Store) productItems(ctx context.Context, pub phantomos.PublisherID, ids []string, since string) ([]ProductItem, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	args := []any{pub, since}
	marks := make([]string, len(ids))
	for i, id := range ids {
		if !phantomos.ValidID(id) {
			return nil, phantomos.Errorf(phantomos.ENOTFOUND, "Product %q not found.", id)
		}
		args = append(args, id)
		marks[i] = fmt.Sprintf("$%d", len(args))
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+productColumns+`,
			COALESCE((SELECT SUM(net) FROM product_monthly m WHERE m.publisher_id = p.publisher_id AND m.product_id = p.id AND m.month >= $2), 0),
			COALESCE((SELECT SUM(units) FROM product_monthly m WHERE m.publisher_id = p.publisher_id AND m.product_id = p.id AND m.month >= $2), 0)
		FROM products p WHERE p.publisher_id = $1 AND p.id IN (`+strings.Join(marks, ", ")+`) ORDER BY p.name, p.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: products: %w", err)
	}
	defer rows.Close()
	var out []ProductItem
	for rows.Next() {
		var net, units int64
		r, err := scanProductRow(rows, &net, &units)
		if err != nil {
			return nil, fmt.Errorf("store: products: %w", err)
		}
		r.Net, r.Units = net, units
		out = append(out, r)
	}
	return out, rows.Err()
}

// ProductLinks returns the confirmed asset links of the given products of
// publisher pub, by product id.
func (s *Store) ProductLinks(ctx context.Context, pub phantomos.PublisherID, ids []string) (map[string][]phantomos.ProductAsset, error) {
	out := map[string][]phantomos.ProductAsset{}
	if len(ids) == 0 {
		return out, nil
	}
	args := []any{pub}
	marks := make([]string, len(ids))
	for i, id := range ids {
		if !phantomos.ValidID(id) {
			return nil, phantomos.Errorf(phantomos.ENOTFOUND, "Product %q not found.", id)
		}
		args = append(args, id)
		marks[i] = fmt.Sprintf("$%d", len(args))
	}
	rows, err := s.db.QueryContext(ctx, `SELECT CAST(product_id AS TEXT), CAST(asset_id AS TEXT), is_primary, weight, source, confidence, COALESCE(CAST(decided_by AS TEXT), '')
		FROM product_assets WHERE publisher_id = $1 AND product_id IN (`+strings.Join(marks, ", ")+`)
		ORDER BY product_id, is_primary DESC, asset_id`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: product links: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var l phantomos.ProductAsset
		if err := rows.Scan(&l.ProductID, &l.AssetID, &l.IsPrimary, &l.Weight, &l.Source, &l.Confidence, &l.DecidedBy); err != nil {
			return nil, fmt.Errorf("store: product links: %w", err)
		}
		out[l.ProductID] = append(out[l.ProductID], l)
	}
	return out, rows.Err()
}

// MappingSummary counts publisher pub's products and their revenue since
// the month since ("" for all time) by mapping status.
type MappingSummary struct {
	Products map[string]int
	Net      map[string]int64
}

// MappingSummary returns the workbench's progress figures.
func (s *Store) MappingSummary(ctx context.Context, pub phantomos.PublisherID, since string) (MappingSummary, error) {
	out := MappingSummary{Products: map[string]int{}, Net: map[string]int64{}}
	rows, err := s.db.QueryContext(ctx, `SELECT p.mapping_status, COUNT(*), COALESCE(SUM(r.net), 0)
		FROM products p LEFT JOIN (SELECT product_id, SUM(net) AS net FROM product_monthly WHERE publisher_id = $1 AND month >= $2 GROUP BY product_id) r
			ON r.product_id = p.id
		WHERE p.publisher_id = $1 GROUP BY p.mapping_status`, pub, since)
	if err != nil {
		return out, fmt.Errorf("store: mapping summary: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var st string
		var n int
		var net int64
		if err := rows.Scan(&st, &n, &net); err != nil {
			return out, fmt.Errorf("store: mapping summary: %w", err)
		}
		out.Products[st], out.Net[st] = n, net
	}
	return out, rows.Err()
}

// TagCandidates returns up to limit of publisher pub's products that still
// wait for a decision (unmapped or suggested), those never looked at by the
// tagger first when onlyNew is false, and only those when it is true.
func (s *Store) TagCandidates(ctx context.Context, pub phantomos.PublisherID, onlyNew bool, limit int) ([]ProductItem, error) {
	cond := ""
	if onlyNew {
		cond = " AND p.suggested_at IS NULL"
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+productColumns+` FROM products p
		WHERE p.publisher_id = $1 AND p.mapping_status IN ('unmapped', 'suggested')`+cond+`
		ORDER BY CASE WHEN p.suggested_at IS NULL THEN 0 ELSE 1 END, p.id LIMIT $2`, pub, limit)
	if err != nil {
		return nil, fmt.Errorf("store: tag candidates: %w", err)
	}
	defer rows.Close()
	var out []ProductItem
	for rows.Next() {
		r, err := scanProductRow(rows)
		if err != nil {
			return nil, fmt.Errorf("store: tag candidates: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// SaveSuggestions stores the tagger's suggestions for products of
// publisher pub that still wait for a decision: a product with suggestions
// becomes suggested, one without becomes unmapped. Products decided in the
// meantime (confirmed or skipped) are left alone. It returns how many
// products it updated.
func (s *Store) SaveSuggestions(ctx context.Context, pub phantomos.PublisherID, sugg map[string][]Suggestion) (int, error) {
	ids := make([]string, 0, len(sugg))
	for id := range sugg {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	n := 0
	err := s.tx(ctx, func(tx *sql.Tx) error {
		now := s.nowUTC()
		stmt, err := tx.PrepareContext(ctx, `UPDATE products SET ai_suggested_assets = $3, suggested_confidence = $4, mapping_status = $5, suggested_at = $6, updated_at = $6
			WHERE publisher_id = $1 AND id = $2 AND mapping_status IN ('unmapped', 'suggested')`)
		if err != nil {
			return fmt.Errorf("store: save suggestions: %w", err)
		}
		defer stmt.Close()
		for _, id := range ids {
			list := sugg[id]
			if list == nil {
				list = []Suggestion{}
			}
			status, top := phantomos.MappingUnmapped, 0.0
			for _, x := range list {
				top = math.Max(top, x.Confidence)
			}
			if len(list) > 0 {
				status = phantomos.MappingSuggested
			}
			b, _ := json.Marshal(list)
			res, err := stmt.ExecContext(ctx, pub, id, string(b), top, status, now)
			if err != nil {
				return fmt.Errorf("store: save suggestions for %s: %w", id, err)
			}
			k, _ := res.RowsAffected()
			n += int(k)
		}
		if n == 0 {
			return nil
		}
		return bumpDataVersionKeepingFilters(ctx, tx, pub)
	})
	return n, err
}

// Review actions.
const (
	ReviewConfirm = "confirm" // the product depicts exactly Assets
	ReviewReject  = "reject"  // the product depicts none of Reject
	ReviewSkip    = "skip"    // not IP merchandise, or not now: out of the queue
	ReviewReopen  = "reopen"  // back to the queue; confirmed links removed
	// ReviewAccept confirms the product's suggestions as the tagger made
	// them (its primary as primary), read under the product's lock so a
	// concurrent decision cannot make them stale.
	ReviewAccept = "accept"
)

// ReviewAsset is one asset a reviewer confirms on a product.
type ReviewAsset struct {
	AssetID string  `json:"asset_id"`
	Primary bool    `json:"primary,omitempty"`
	Weight  float64 `json:"weight,omitempty"` // 0 means 1
}

// Review is a person's decision about one product.
type Review struct {
	Action string
	// Assets are the complete set of assets the product depicts (confirm).
	Assets []ReviewAsset
	// Reject lists suggested assets the product does not depict. On
	// confirm, suggestions left out of Assets are rejected too.
	Reject []string
	// RejectAll rejects every current suggestion (reject), as read under
	// the product's lock.
	RejectAll bool
	// By is the deciding user's id.
	By string
}

// ReviewProduct applies a review decision to product id of publisher pub
// and records it for the publisher's tagger to learn from. It returns the
// product as it now stands.
func (s *Store) ReviewProduct(ctx context.Context, pub phantomos.PublisherID, id string, rv Review) (ProductItem, error) {
	if !phantomos.ValidID(id) {
		return ProductItem{}, phantomos.Errorf(phantomos.ENOTFOUND, "Product not found.")
	}
	err := s.txRetry(ctx, func(tx *sql.Tx) error {
		if _, err := s.lockProducts(ctx, tx, pub, []string{id}); err != nil {
			return err
		}
		follow, err := s.followMapping(ctx, tx, pub, []string{id})
		if err != nil {
			return err
		}
		if _, err := s.review(ctx, tx, pub, id, rv); err != nil {
			return err
		}
		return follow.done(ctx)
	})
	if err != nil {
		return ProductItem{}, err
	}
	return s.ProductItem(ctx, pub, id, "")
}

// review applies rv to one product inside tx. It reports whether the
// product's confirmed links (what analytics read) may have changed.
//
// Decisions on one product are serialised: on PostgreSQL the product's row
// is locked before anything is read, so a second decision waits and then
// reads the first one's result (concurrent decisions used to interleave
// their delete and insert of the links, failing on the primary key or
// leaving two primaries); on SQLite the write transaction already runs
// alone.
func (s *Store) review(ctx context.Context, tx *sql.Tx, pub phantomos.PublisherID, id string, rv Review) (bool, error) {
	var status, sugg string
	err := tx.QueryRowContext(ctx, `SELECT mapping_status, ai_suggested_assets FROM products WHERE publisher_id = $1 AND id = $2`+s.dialect.forUpdate(), pub, id).Scan(&status, &sugg)
	if err != nil {
		return false, notFound(err, "Product")
	}
	var suggestions []Suggestion
	if err := json.Unmarshal([]byte(sugg), &suggestions); err != nil {
		return false, fmt.Errorf("store: product %s suggestions: %w", id, err)
	}
	switch {
	case rv.Action == ReviewAccept:
		if len(suggestions) == 0 {
			return false, phantomos.Errorf(phantomos.EINVALID, "This product has no suggestion to accept: choose an asset.")
		}
		primary := 0
		for i, x := range suggestions {
			if x.Primary {
				primary = i
			}
		}
		rv.Action, rv.Assets = ReviewConfirm, nil
		for i, x := range suggestions {
			rv.Assets = append(rv.Assets, ReviewAsset{AssetID: x.AssetID, Primary: i == primary, Weight: 1})
		}
	case rv.Action == ReviewReject && rv.RejectAll:
		rv.Reject = nil
		for _, x := range suggestions {
			rv.Reject = append(rv.Reject, x.AssetID)
		}
	}
	now := s.nowUTC()
	var by any
	if rv.By != "" {
		by = rv.By
	}
	decide := func(assetID string, confirmed bool) error {
		// One decision per change of mind: re-saving a mapping does not
		// count again.
		var last bool
		err := tx.QueryRowContext(ctx, `SELECT confirmed FROM mapping_decisions WHERE publisher_id = $1 AND product_id = $2 AND asset_id = $3
			ORDER BY created_at DESC, id DESC LIMIT 1`, pub, id, assetID).Scan(&last)
		if err == nil && last == confirmed {
			return nil
		}
		if err != nil && err != sql.ErrNoRows {
			return fmt.Errorf("store: record decision: %w", err)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO mapping_decisions (id, publisher_id, product_id, asset_id, confirmed, decided_by, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, phantomos.NewID(), pub, id, assetID, confirmed, by, now)
		if err != nil {
			return fmt.Errorf("store: record decision: %w", err)
		}
		return nil
	}
	setStatus := func(st string, list []Suggestion, gameIP any) error {
		if list == nil {
			list = []Suggestion{}
		}
		top := 0.0
		for _, x := range list {
			top = math.Max(top, x.Confidence)
		}
		b, _ := json.Marshal(list)
		q := `UPDATE products SET mapping_status = $3, ai_suggested_assets = $4, suggested_confidence = $5, updated_at = $6 WHERE publisher_id = $1 AND id = $2`
		args := []any{pub, id, st, string(b), top, now}
		if gameIP != nil {
			q = `UPDATE products SET mapping_status = $3, ai_suggested_assets = $4, suggested_confidence = $5, updated_at = $6, game_ip_id = $7 WHERE publisher_id = $1 AND id = $2`
			args = append(args, gameIP)
		}
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("store: product %s status: %w", id, err)
		}
		return nil
	}
	waiting := func(list []Suggestion) string {
		if len(list) > 0 {
			return phantomos.MappingSuggested
		}
		return phantomos.MappingUnmapped
	}

	switch rv.Action {
	case ReviewConfirm:
		assets, err := s.checkReviewAssets(ctx, tx, pub, rv.Assets)
		if err != nil {
			return false, err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM product_assets WHERE publisher_id = $1 AND product_id = $2`, pub, id); err != nil {
			return false, fmt.Errorf("store: product %s links: %w", id, err)
		}
		chosen := map[string]bool{}
		var gameIP string
		for _, a := range rv.Assets {
			chosen[a.AssetID] = true
			source, conf := "human", 1.0
			for _, x := range suggestions {
				if x.AssetID == a.AssetID {
					source, conf = x.Source, x.Confidence
				}
			}
			w := a.Weight
			if w <= 0 {
				w = 1
			}
			if a.Primary {
				gameIP = assets[a.AssetID]
			}
			// An upsert, so that running the decision again (a retry) lands
			// on the same rows instead of failing on the key.
			_, err := tx.ExecContext(ctx, `INSERT INTO product_assets (publisher_id, product_id, asset_id, is_primary, weight, source, confidence, decided_by, created_at, updated_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)
				ON CONFLICT (publisher_id, product_id, asset_id) DO UPDATE SET is_primary = excluded.is_primary, weight = excluded.weight,
					source = excluded.source, confidence = excluded.confidence, decided_by = excluded.decided_by, updated_at = excluded.updated_at`,
				pub, id, a.AssetID, a.Primary, w, source, conf, by, now)
			if err != nil {
				return false, fmt.Errorf("store: link product %s to asset %s: %w", id, a.AssetID, err)
			}
			if err := decide(a.AssetID, true); err != nil {
				return false, err
			}
		}
		for _, x := range suggestions {
			if !chosen[x.AssetID] {
				rv.Reject = append(rv.Reject, x.AssetID)
			}
		}
		for _, a := range uniqueStrings(rv.Reject) {
			if chosen[a] {
				continue
			}
			if err := s.rejectDecision(ctx, tx, pub, a, decide); err != nil {
				return false, err
			}
		}
		return true, setStatus(phantomos.MappingConfirmed, suggestions, gameIP)

	case ReviewReject:
		if len(rv.Reject) == 0 {
			return false, phantomos.Errorf(phantomos.EINVALID, "Say which suggested asset to reject.")
		}
		drop := map[string]bool{}
		for _, a := range uniqueStrings(rv.Reject) {
			drop[a] = true
			if err := s.rejectDecision(ctx, tx, pub, a, decide); err != nil {
				return false, err
			}
		}
		var keep []Suggestion
		for _, x := range suggestions {
			if !drop[x.AssetID] {
				keep = append(keep, x)
			}
		}
		if status == phantomos.MappingConfirmed {
			// Rejecting a confirmed asset removes that link; a product with no
			// link left goes back to the queue.
			for a := range drop {
				if _, err := tx.ExecContext(ctx, `DELETE FROM product_assets WHERE publisher_id = $1 AND product_id = $2 AND asset_id = $3`, pub, id, a); err != nil {
					return false, fmt.Errorf("store: product %s links: %w", id, err)
				}
			}
			var left int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM product_assets WHERE publisher_id = $1 AND product_id = $2`, pub, id).Scan(&left); err != nil {
				return false, fmt.Errorf("store: product %s links: %w", id, err)
			}
			if left > 0 {
				if err := s.ensurePrimary(ctx, tx, pub, id); err != nil {
					return false, err
				}
				return true, setStatus(status, keep, nil)
			}
		}
		st := status
		if st != phantomos.MappingSkipped {
			st = waiting(keep)
		}
		return true, setStatus(st, keep, nil)

	case ReviewSkip:
		return status == phantomos.MappingConfirmed, setStatus(phantomos.MappingSkipped, suggestions, nil)

	case ReviewReopen:
		if _, err := tx.ExecContext(ctx, `DELETE FROM product_assets WHERE publisher_id = $1 AND product_id = $2`, pub, id); err != nil {
			return false, fmt.Errorf("store: product %s links: %w", id, err)
		}
		return status == phantomos.MappingConfirmed, setStatus(waiting(suggestions), suggestions, nil)
	}
	return false, phantomos.Errorf(phantomos.EINVALID, "Unknown review action %q (want confirm, reject, skip or reopen).", rv.Action)
}

// rejectDecision records that an asset was rejected, if it is the
// publisher's.
func (s *Store) rejectDecision(ctx context.Context, tx *sql.Tx, pub phantomos.PublisherID, asset string, decide func(string, bool) error) error {
	if !phantomos.ValidID(asset) {
		return phantomos.Errorf(phantomos.ENOTFOUND, "Asset %q not found.", asset)
	}
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM ip_assets WHERE publisher_id = $1 AND id = $2`, pub, asset).Scan(&one)
	if err != nil {
		if err == sql.ErrNoRows {
			return phantomos.Errorf(phantomos.ENOTFOUND, "Asset %q not found.", asset)
		}
		return fmt.Errorf("store: asset %s: %w", asset, err)
	}
	return decide(asset, false)
}

// ensurePrimary makes the heaviest remaining link primary when a product's
// primary link was removed.
func (s *Store) ensurePrimary(ctx context.Context, tx *sql.Tx, pub phantomos.PublisherID, id string) error {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM product_assets WHERE publisher_id = $1 AND product_id = $2 AND is_primary`, pub, id).Scan(&n); err != nil {
		return fmt.Errorf("store: product %s primary: %w", id, err)
	}
	if n > 0 {
		return nil
	}
	var asset string
	if err := tx.QueryRowContext(ctx, `SELECT CAST(asset_id AS TEXT) FROM product_assets WHERE publisher_id = $1 AND product_id = $2
		ORDER BY weight DESC, confidence DESC, asset_id LIMIT 1`, pub, id).Scan(&asset); err != nil {
		return fmt.Errorf("store: product %s primary: %w", id, err)
	}
	var gameIP string
	if err := tx.QueryRowContext(ctx, `SELECT CAST(game_ip_id AS TEXT) FROM ip_assets WHERE publisher_id = $1 AND id = $2`, pub, asset).Scan(&gameIP); err != nil {
		return fmt.Errorf("store: asset %s: %w", asset, err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE product_assets SET is_primary = TRUE WHERE publisher_id = $1 AND product_id = $2 AND asset_id = $3`, pub, id, asset); err != nil {
		return fmt.Errorf("store: product %s primary: %w", id, err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE products SET game_ip_id = $3 WHERE publisher_id = $1 AND id = $2`, pub, id, gameIP); err != nil {
		return fmt.Errorf("store: product %s game IP: %w", id, err)
	}
	return nil
}

// checkReviewAssets validates the assets of a confirm decision: at least
// one, no repeats, all live assets of publisher pub, exactly one primary
// (the first when none is marked). It returns each asset's game IP.
func (s *Store) checkReviewAssets(ctx context.Context, tx *sql.Tx, pub phantomos.PublisherID, list []ReviewAsset) (map[string]string, error) {
	if len(list) == 0 {
		return nil, phantomos.Errorf(phantomos.EINVALID, "Choose at least one asset to confirm.")
	}
	primaries := 0
	out := map[string]string{}
	for _, a := range list {
		if !phantomos.ValidID(a.AssetID) {
			return nil, phantomos.Errorf(phantomos.ENOTFOUND, "Asset %q not found.", a.AssetID)
		}
		if _, dup := out[a.AssetID]; dup {
			return nil, phantomos.Errorf(phantomos.EINVALID, "Asset %s is listed twice.", a.AssetID)
		}
		if a.Weight < 0 || math.IsNaN(a.Weight) || math.IsInf(a.Weight, 0) {
			return nil, phantomos.Errorf(phantomos.EINVALID, "Weight of asset %s must be a positive number.", a.AssetID)
		}
		var gameIP string
		var archived *time.Time
		err := tx.QueryRowContext(ctx, `SELECT CAST(game_ip_id AS TEXT), archived_at FROM ip_assets WHERE publisher_id = $1 AND id = $2`, pub, a.AssetID).Scan(&gameIP, &archived)
		if err == sql.ErrNoRows {
			return nil, phantomos.Errorf(phantomos.ENOTFOUND, "Asset %q not found.", a.AssetID)
		}
		if err != nil {
			return nil, fmt.Errorf("store: asset %s: %w", a.AssetID, err)
		}
		if archived != nil {
			return nil, phantomos.Errorf(phantomos.EINVALID, "Asset %s is archived; restore it before mapping products to it.", a.AssetID)
		}
		out[a.AssetID] = gameIP
		if a.Primary {
			primaries++
		}
	}
	switch {
	case primaries == 0:
		list[0].Primary = true
	case primaries > 1:
		return nil, phantomos.Errorf(phantomos.EINVALID, "Only one asset can be primary.")
	}
	return out, nil
}

func uniqueStrings(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// BulkResult counts what a bulk decision changed.
type BulkResult struct {
	Products int `json:"products"`
	Links    int `json:"links"`
}

// AcceptSuggestions confirms, in one transaction, the suggestions of at
// least minConf of every suggested product of publisher pub whose best
// suggestion reaches minConf (only the given products when ids is not
// empty). The primary is the tagger's primary when it is accepted, else the
// most confident accepted suggestion.
func (s *Store) AcceptSuggestions(ctx context.Context, pub phantomos.PublisherID, minConf float64, ids []string, by string) (BulkResult, error) {
	if minConf <= 0 || minConf > 1 || math.IsNaN(minConf) {
		return BulkResult{}, phantomos.Errorf(phantomos.EINVALID, "Minimum confidence must be above 0 and at most 1.")
	}
	if len(ids) > MaxBulkProducts {
		return BulkResult{}, phantomos.Errorf(phantomos.EINVALID, "At most %d products can be decided in one request (got %d).", MaxBulkProducts, len(ids))
	}
	ids = uniqueStrings(ids)
	for _, id := range ids {
		if !phantomos.ValidID(id) {
			return BulkResult{}, phantomos.Errorf(phantomos.ENOTFOUND, "Product %q not found.", id)
		}
	}
	sort.Strings(ids)
	var res BulkResult
	err := s.txRetry(ctx, func(tx *sql.Tx) error {
		res = BulkResult{}
		// The id list is read in chunks, each within PostgreSQL's limit of
		// 65,535 parameters; with no ids there is one query over all
		// suggested products. Rows are locked in id order (as review locks
		// them), so two bulk decisions cannot deadlock each other.
		chunks := [][]string{nil}
		if len(ids) > 0 {
			chunks = chunks[:0]
			for c := range slices.Chunk(ids, idChunk) {
				chunks = append(chunks, c)
			}
		}
		var todo []pending
		for _, chunk := range chunks {
			more, err := s.acceptCandidates(ctx, tx, pub, minConf, chunk)
			if err != nil {
				return err
			}
			todo = append(todo, more...)
		}
		changing := make([]string, len(todo))
		for i, p := range todo {
			changing[i] = p.id
		}
		follow, err := s.followMapping(ctx, tx, pub, changing)
		if err != nil {
			return err
		}
		for _, p := range todo {
			if _, err := s.review(ctx, tx, pub, p.id, Review{Action: ReviewConfirm, Assets: p.assets, By: by}); err != nil {
				return err
			}
			res.Products++
			res.Links += len(p.assets)
		}
		if res.Products == 0 {
			return nil
		}
		return follow.done(ctx)
	})
	return res, err
}

// MaxBulkProducts bounds the products one bulk decision may name, so that a
// request's work and transaction stay bounded.
const MaxBulkProducts = 100_000

// idChunk is how many ids one IN list carries, well within PostgreSQL's
// 65,535 parameters per statement.
const idChunk = 1000

// pending is a product whose suggestions a bulk accept will confirm.
type pending struct {
	id     string
	assets []ReviewAsset
}

// acceptCandidates reads, and locks on PostgreSQL, the suggested products
// of publisher pub whose best suggestion reaches minConf, among ids (all
// when ids is nil), with the assets a bulk accept confirms.
func (s *Store) acceptCandidates(ctx context.Context, tx *sql.Tx, pub phantomos.PublisherID, minConf float64, ids []string) ([]pending, error) {
	if _, err := s.lockProducts(ctx, tx, pub, ids); err != nil {
		return nil, err
	}
	args := []any{pub, minConf}
	cond := ""
	if len(ids) > 0 {
		marks := make([]string, len(ids))
		for i, id := range ids {
			args = append(args, id)
			marks[i] = fmt.Sprintf("$%d", len(args))
		}
		cond = " AND id IN (" + strings.Join(marks, ", ") + ")"
	}
	rows, err := tx.QueryContext(ctx, `SELECT CAST(id AS TEXT), ai_suggested_assets FROM products
			WHERE publisher_id = $1 AND mapping_status = 'suggested' AND suggested_confidence >= $2`+cond+` ORDER BY id`+s.dialect.forUpdate(), args...)
	if err != nil {
		return nil, fmt.Errorf("store: accept suggestions: %w", err)
	}
	var todo []pending
	for rows.Next() {
		var id, sugg string
		if err := rows.Scan(&id, &sugg); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: accept suggestions: %w", err)
		}
		var list []Suggestion
		if err := json.Unmarshal([]byte(sugg), &list); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: product %s suggestions: %w", id, err)
		}
		p := pending{id: id}
		best, primary := -1, -1
		for _, x := range list {
			if x.Confidence < minConf {
				continue
			}
			if x.Primary {
				primary = len(p.assets)
			}
			if best < 0 || x.Confidence > p.assets[best].Weight {
				best = len(p.assets)
			}
			// Weight temporarily holds the confidence to find the best.
			p.assets = append(p.assets, ReviewAsset{AssetID: x.AssetID, Weight: x.Confidence})
		}
		if len(p.assets) == 0 {
			continue
		}
		if primary < 0 {
			primary = best
		}
		for i := range p.assets {
			p.assets[i].Weight = 1
			p.assets[i].Primary = i == primary
		}
		todo = append(todo, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: accept suggestions: %w", err)
	}
	return todo, nil
}

// AssignAsset maps the given products of publisher pub to asset in one
// transaction: the asset is added to each product's confirmed assets (as
// primary when the product had none) and the product becomes confirmed.
// An unknown product or asset writes nothing.
func (s *Store) AssignAsset(ctx context.Context, pub phantomos.PublisherID, ids []string, asset, by string) (BulkResult, error) {
	if len(ids) == 0 {
		return BulkResult{}, phantomos.Errorf(phantomos.EINVALID, "Select at least one product.")
	}
	if len(ids) > MaxBulkProducts {
		return BulkResult{}, phantomos.Errorf(phantomos.EINVALID, "At most %d products can be decided in one request (got %d).", MaxBulkProducts, len(ids))
	}
	ids = uniqueStrings(ids)
	for _, id := range ids {
		if !phantomos.ValidID(id) {
			return BulkResult{}, phantomos.Errorf(phantomos.ENOTFOUND, "Product %q not found.", id)
		}
	}
	sort.Strings(ids)
	var res BulkResult
	err := s.txRetry(ctx, func(tx *sql.Tx) error {
		res = BulkResult{}
		// Lock every product first, in id order, then read their links.
		status := map[string]string{}
		for chunk := range slices.Chunk(ids, idChunk) {
			st, err := s.lockProducts(ctx, tx, pub, chunk)
			if err != nil {
				return err
			}
			maps.Copy(status, st)
		}
		links, err := s.productLinksTx(ctx, tx, pub, ids)
		if err != nil {
			return err
		}
		follow, err := s.followMapping(ctx, tx, pub, ids)
		if err != nil {
			return err
		}
		for _, id := range ids {
			var assets []ReviewAsset
			if status[id] == phantomos.MappingConfirmed {
				for _, l := range links[id] {
					if l.AssetID == asset {
						continue
					}
					assets = append(assets, ReviewAsset{AssetID: l.AssetID, Primary: l.IsPrimary, Weight: l.Weight})
				}
			}
			assets = append(assets, ReviewAsset{AssetID: asset, Primary: len(assets) == 0, Weight: 1})
			if _, err := s.review(ctx, tx, pub, id, Review{Action: ReviewConfirm, Assets: assets, By: by}); err != nil {
				return err
			}
			res.Products++
			res.Links++
		}
		return follow.done(ctx)
	})
	return res, err
}

// lockProducts returns the mapping status of each of the given products of
// publisher pub (at most idChunk, valid ids), locking their rows in id
// order on PostgreSQL. A product that is not the publisher's is not found.
func (s *Store) lockProducts(ctx context.Context, tx *sql.Tx, pub phantomos.PublisherID, ids []string) (map[string]string, error) {
	out := map[string]string{}
	if len(ids) == 0 {
		return out, nil
	}
	args := []any{pub}
	marks := make([]string, len(ids))
	for i, id := range ids {
		args = append(args, id)
		marks[i] = fmt.Sprintf("$%d", len(args))
	}
	rows, err := tx.QueryContext(ctx, `SELECT CAST(id AS TEXT), mapping_status FROM products WHERE publisher_id = $1 AND id IN (`+
		strings.Join(marks, ", ")+`) ORDER BY id`+s.dialect.forUpdate(), args...)
	if err != nil {
		return nil, fmt.Errorf("store: lock products: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, st string
		if err := rows.Scan(&id, &st); err != nil {
			return nil, fmt.Errorf("store: lock products: %w", err)
		}
		out[id] = st
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: lock products: %w", err)
	}
	for _, id := range ids {
		if _, ok := out[strings.ToLower(id)]; !ok {
			if _, ok := out[id]; !ok {
				return nil, phantomos.Errorf(phantomos.ENOTFOUND, "Product %q not found.", id)
			}
		}
	}
	return out, nil
}

func (s *Store) productLinksTx(ctx context.Context, tx *sql.Tx, pub phantomos.PublisherID, ids []string) (map[string][]phantomos.ProductAsset, error) {
	out := map[string][]phantomos.ProductAsset{}
	rows, err := tx.QueryContext(ctx, `SELECT CAST(product_id AS TEXT), CAST(asset_id AS TEXT), is_primary, weight FROM product_assets WHERE publisher_id = $1`, pub)
	if err != nil {
		return nil, fmt.Errorf("store: product links: %w", err)
	}
	defer rows.Close()
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	for rows.Next() {
		var l phantomos.ProductAsset
		if err := rows.Scan(&l.ProductID, &l.AssetID, &l.IsPrimary, &l.Weight); err != nil {
			return nil, fmt.Errorf("store: product links: %w", err)
		}
		if want[l.ProductID] {
			out[l.ProductID] = append(out[l.ProductID], l)
		}
	}
	return out, rows.Err()
}

// Decision is one recorded review decision with the product's text, for
// the publisher's tagger to learn from.
type Decision struct {
	Product   phantomos.Product
	AssetID   string
	Confirmed bool
}

// MappingDecisions returns publisher pub's review decisions: for every
// product and asset the latest recorded confirmation or rejection, and
// confirmed links made without a recorded decision (imports, the demo).
// Only this publisher's.
func (s *Store) MappingDecisions(ctx context.Context, pub phantomos.PublisherID) ([]Decision, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT CAST(d.product_id AS TEXT), CAST(d.asset_id AS TEXT), d.confirmed, p.name, p.description, p.sku, p.tags, d.created_at, CAST(d.id AS TEXT)
		FROM mapping_decisions d JOIN products p ON p.publisher_id = d.publisher_id AND p.id = d.product_id
		WHERE d.publisher_id = $1
		UNION ALL
		SELECT CAST(pa.product_id AS TEXT), CAST(pa.asset_id AS TEXT), TRUE, p.name, p.description, p.sku, p.tags, pa.created_at, ''
		FROM product_assets pa JOIN products p ON p.publisher_id = pa.publisher_id AND p.id = pa.product_id
		WHERE pa.publisher_id = $1 AND p.mapping_status = 'confirmed'
			AND NOT EXISTS (SELECT 1 FROM mapping_decisions d WHERE d.publisher_id = pa.publisher_id AND d.product_id = pa.product_id AND d.asset_id = pa.asset_id)
		ORDER BY 1, 2, 8, 9`, pub)
	if err != nil {
		return nil, fmt.Errorf("store: mapping decisions: %w", err)
	}
	defer rows.Close()
	// Within a (product, asset) pair rows come oldest first (by time, then by
	// time-ordered UUIDv7 id), so the last one seen is the latest decision.
	type key struct{ product, asset string }
	seen := map[key]int{}
	var out []Decision
	for rows.Next() {
		var d Decision
		var productID, tags, decisionID string
		var at time.Time
		if err := rows.Scan(&productID, &d.AssetID, &d.Confirmed, &d.Product.Name, &d.Product.Description, &d.Product.SKU, &tags, &at, &decisionID); err != nil {
			return nil, fmt.Errorf("store: mapping decisions: %w", err)
		}
		d.Product.ID = productID
		json.Unmarshal([]byte(tags), &d.Product.Tags)
		k := key{productID, d.AssetID}
		if i, ok := seen[k]; ok {
			out[i] = d
			continue
		}
		seen[k] = len(out)
		out = append(out, d)
	}
	return out, rows.Err()
}
