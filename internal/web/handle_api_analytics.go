package web

import (
	"net/http"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/api"
)

// handleAPIAnalytics serves GET /api/analytics: the Overview's numbers for
// the same range, comparison and filters as the page.
func (s *Server) handleAPIAnalytics(w http.ResponseWriter, r *http.Request) error {
	pub, v, err := s.publisherView(r)
	if err != nil {
		return err
	}
	_, b, err := s.overviewOf(r.Context(), pub, v)
	if err != nil {
		return err
	}
	return writeAnswer(w, b)
}

// handleAPIAssets serves GET /api/analytics/assets: revenue attributed to
// every asset, asset type and game IP, with the unmapped remainder.
func (s *Server) handleAPIAssets(w http.ResponseWriter, r *http.Request) error {
	pub, v, err := s.publisherView(r)
	if err != nil {
		return err
	}
	_, b, err := s.assetReportOf(r.Context(), pub, v)
	if err != nil {
		return err
	}
	return writeAnswer(w, b)
}

// handleAPIAsset serves GET /api/v1/analytics/assets/{id}: the figures of
// the products featuring one asset.
func (s *Server) handleAPIAsset(w http.ResponseWriter, r *http.Request) error {
	_, asset, _, o, err := s.assetOverview(r)
	if err != nil {
		return err
	}
	return api.WriteJSON(w, http.StatusOK, map[string]any{"asset": map[string]any{"id": asset.ID, "name": asset.Name, "asset_type": asset.AssetType}, "overview": o})
}

// handleAPICompare serves GET /api/v1/analytics/compare?asset=…&asset=…:
// attributed revenue of two or more assets over time.
func (s *Server) handleAPICompare(w http.ResponseWriter, r *http.Request) error {
	pub, v, err := s.publisherView(r)
	if err != nil {
		return err
	}
	if len(v.Filter.Assets) < 2 {
		return phantomos.Errorf(phantomos.EINVALID, "Give two or more assets to compare: ?asset=ID&asset=ID.")
	}
	_, b, err := s.comparisonOf(r.Context(), pub, v, v.Filter.Assets)
	if err != nil {
		return err
	}
	return writeAnswer(w, b)
}
