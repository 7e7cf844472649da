package web

import (
	"encoding/json"
	"net/http"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/api"
	"github.com/phantomos/phantomos/internal/mapping"
	"github.com/phantomos/phantomos/internal/store"
)

// The seed's mapping API: GET/POST /api/products/mapping,
// POST /api/products/mapping/bulk and POST /api/ai/tagging. The workbench's
// keyboard review uses them too.

type suggestionJSON struct {
	AssetID    string  `json:"asset_id"`
	Asset      string  `json:"asset"`
	GameIP     string  `json:"game_ip"`
	Confidence float64 `json:"confidence"`
	Primary    bool    `json:"primary"`
	Evidence   string  `json:"evidence,omitempty"`
	Source     string  `json:"source"`
}

type linkJSON struct {
	AssetID    string  `json:"asset_id"`
	Asset      string  `json:"asset"`
	GameIP     string  `json:"game_ip"`
	Primary    bool    `json:"primary"`
	Weight     float64 `json:"weight"`
	Source     string  `json:"source"`
	Confidence float64 `json:"confidence"`
}

type mappingJSON struct {
	ProductID   string           `json:"product_id"`
	Name        string           `json:"name"`
	SKU         string           `json:"sku"`
	Category    string           `json:"category"`
	Status      string           `json:"status"`
	Revenue     int64            `json:"revenue_12m"` // reporting currency, minor units
	Suggestions []suggestionJSON `json:"suggestions"`
	Assets      []linkJSON       `json:"assets"`
}

func toMappingJSON(v productView) mappingJSON {
	m := mappingJSON{ProductID: v.ID, Name: v.Name, SKU: v.SKU, Category: v.Category, Status: v.MappingStatus, Revenue: v.Net,
		Suggestions: []suggestionJSON{}, Assets: []linkJSON{}}
	for _, x := range v.Views {
		m.Suggestions = append(m.Suggestions, suggestionJSON{AssetID: x.AssetID, Asset: x.Name, GameIP: x.GameIP, Confidence: x.Confidence,
			Primary: x.Primary, Evidence: x.Evidence, Source: x.Source})
	}
	for _, l := range v.Links {
		m.Assets = append(m.Assets, linkJSON{AssetID: l.AssetID, Asset: l.Name, GameIP: l.GameIP, Primary: l.IsPrimary, Weight: l.Weight,
			Source: l.Source, Confidence: l.Confidence})
	}
	return m
}

// handleAPIMappingList serves GET /api/products/mapping: one product's
// mapping (?product_id=) or a filtered page of them (the workbench's filters).
func (s *Server) handleAPIMappingList(w http.ResponseWriter, r *http.Request) error {
	a := phantomos.ActorFrom(r.Context())
	pub, err := s.store.Publisher(r.Context(), a.PublisherID)
	if err != nil {
		return err
	}
	since, err := s.revenueSince(r.Context(), pub)
	if err != nil {
		return err
	}
	c, err := s.catalogue(r.Context(), a.PublisherID)
	if err != nil {
		return err
	}
	if id := r.URL.Query().Get("product_id"); id != "" {
		item, err := s.store.ProductItem(r.Context(), a.PublisherID, id, since)
		if err != nil {
			return err
		}
		views, err := s.productViews(r, a.PublisherID, c, []store.ProductItem{item})
		if err != nil {
			return err
		}
		return api.WriteJSON(w, http.StatusOK, toMappingJSON(views[0]))
	}
	f, err := parseProductFilter(r.URL.Query())
	if err != nil {
		return err
	}
	list, err := s.store.ProductList(r.Context(), a.PublisherID, f.query(pub.ReportingCurrency, since))
	if err != nil {
		return err
	}
	views, err := s.productViews(r, a.PublisherID, c, list.Rows)
	if err != nil {
		return err
	}
	out := struct {
		Total    int           `json:"total"`
		Page     int           `json:"page"`
		Currency string        `json:"currency"`
		Products []mappingJSON `json:"products"`
	}{Total: list.Total, Page: f.Page, Currency: pub.ReportingCurrency, Products: []mappingJSON{}}
	for _, v := range views {
		out.Products = append(out.Products, toMappingJSON(v))
	}
	return api.WriteJSON(w, http.StatusOK, out)
}

// handleAPIMappingSave serves POST /api/products/mapping: one review
// decision.
func (s *Server) handleAPIMappingSave(w http.ResponseWriter, r *http.Request) error {
	a := phantomos.ActorFrom(r.Context())
	var req struct {
		ProductID string              `json:"product_id"`
		Action    string              `json:"action"` // accept, confirm, pick, reject, skip, reopen
		Assets    []store.ReviewAsset `json:"assets"`
		AssetID   string              `json:"asset_id"` // for pick
		Reject    []string            `json:"reject"`
	}
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if req.ProductID == "" {
		return phantomos.Errorf(phantomos.EINVALID, "product_id is required.")
	}
	cur, err := s.store.ProductItem(r.Context(), a.PublisherID, req.ProductID, "")
	if err != nil {
		return err
	}
	var rv store.Review
	switch req.Action {
	case "accept":
		if rv, err = acceptReview(cur); err != nil {
			return err
		}
	case "pick":
		if req.AssetID == "" {
			return phantomos.Errorf(phantomos.EINVALID, "asset_id is required to pick an asset.")
		}
		rv = store.Review{Action: store.ReviewConfirm, Assets: []store.ReviewAsset{{AssetID: req.AssetID, Primary: true, Weight: 1}}}
	case store.ReviewConfirm:
		rv = store.Review{Action: store.ReviewConfirm, Assets: req.Assets}
	case store.ReviewReject:
		// No list rejects every suggestion, as they stand when the
		// decision runs (read under the product's lock).
		rv = store.Review{Action: store.ReviewReject, Reject: req.Reject, RejectAll: len(req.Reject) == 0}
	case store.ReviewSkip, store.ReviewReopen:
		rv = store.Review{Action: req.Action}
	default:
		return phantomos.Errorf(phantomos.EINVALID, "Unknown action %q: use accept, pick, confirm, reject, skip or reopen.", req.Action)
	}
	rv.By = a.UserID
	if _, err := s.store.ReviewProduct(r.Context(), a.PublisherID, req.ProductID, rv); err != nil {
		return err
	}
	pub, err := s.store.Publisher(r.Context(), a.PublisherID)
	if err != nil {
		return err
	}
	since, err := s.revenueSince(r.Context(), pub)
	if err != nil {
		return err
	}
	item, err := s.store.ProductItem(r.Context(), a.PublisherID, req.ProductID, since)
	if err != nil {
		return err
	}
	c, err := s.catalogue(r.Context(), a.PublisherID)
	if err != nil {
		return err
	}
	views, err := s.productViews(r, a.PublisherID, c, []store.ProductItem{item})
	if err != nil {
		return err
	}
	return api.WriteJSON(w, http.StatusOK, toMappingJSON(views[0]))
}

// handleAPIMappingBulk serves POST /api/products/mapping/bulk: accept
// suggestions at or above a confidence, or assign products to an asset.
func (s *Server) handleAPIMappingBulk(w http.ResponseWriter, r *http.Request) error {
	a := phantomos.ActorFrom(r.Context())
	var req struct {
		Action        string   `json:"action"` // accept or assign
		MinConfidence float64  `json:"min_confidence"`
		ProductIDs    []string `json:"product_ids"`
		AssetID       string   `json:"asset_id"`
	}
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	var (
		res store.BulkResult
		err error
	)
	switch req.Action {
	case "accept":
		res, err = s.store.AcceptSuggestions(r.Context(), a.PublisherID, req.MinConfidence, req.ProductIDs, a.UserID)
	case "assign":
		if req.AssetID == "" {
			return phantomos.Errorf(phantomos.EINVALID, "asset_id is required to assign products.")
		}
		res, err = s.store.AssignAsset(r.Context(), a.PublisherID, req.ProductIDs, req.AssetID, a.UserID)
	default:
		return phantomos.Errorf(phantomos.EINVALID, "Unknown action %q: use accept or assign.", req.Action)
	}
	if err != nil {
		return err
	}
	s.audit(r, a.PublisherID, "products.bulk_"+req.Action, req.AssetID, map[string]any{"products": res.Products})
	return api.WriteJSON(w, http.StatusOK, res)
}

// handleAPITagging serves POST /api/ai/tagging: run the tagger over the
// products waiting for a decision (those never looked at, unless all is
// set) and store its suggestions.
func (s *Server) handleAPITagging(w http.ResponseWriter, r *http.Request) error {
	a := phantomos.ActorFrom(r.Context())
	var req struct {
		All bool `json:"all"`
	}
	if r.ContentLength != 0 {
		if err := decodeJSON(r, &req); err != nil {
			return err
		}
	}
	if s.jobs == nil {
		run, err := s.work.SuggestMappings(r.Context(), a.PublisherID, !req.All)
		if err != nil {
			return err
		}
		return api.WriteJSON(w, http.StatusOK, run)
	}
	// A suggest_run job does it; the answer waits a bounded while.
	id, err := s.jobs.EnqueueSuggestRun(r.Context(), a.PublisherID, !req.All)
	if err != nil {
		return err
	}
	j, err := s.waitJob(r.Context(), a.PublisherID, id, s.jobWait.api)
	if err != nil {
		return err
	}
	switch jobState(j) {
	case "succeeded":
		var run mapping.Run
		if err := json.Unmarshal(j.Output, &run); err != nil {
			return err
		}
		return api.WriteJSON(w, http.StatusOK, run)
	case "failed":
		return phantomos.Errorf(phantomos.EINTERNAL, "The tagging run failed: %s", jobError(j))
	}
	return accepted(w, j)
}
