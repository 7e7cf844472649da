package web

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/store"
)

// customConnectorPage is the page of a custom source: what its pushes did
// and how to send one.
type customConnectorPage struct {
	Connector *phantomos.Connector
	Stats     *store.PushStats
	Curl      string
	CanKeys   bool      // may create API keys
	Pull      *pullView // a scheduled pull's settings and runs; nil for a push source
	CanManage bool      // may pull now
}

// handleCustomConnector shows a custom source. It never creates a key: the
// curl example names a placeholder, and the page links to where an ingest
// key is made.
func (s *Server) handleCustomConnector(w http.ResponseWriter, r *http.Request, c *phantomos.Connector) error {
	a := phantomos.ActorFrom(r.Context())
	st, err := s.store.PushStats(r.Context(), a.PublisherID, c.ID, 20)
	if err != nil {
		return err
	}
	base := strings.TrimRight(s.cfg.BaseURL, "/")
	if base == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		base = scheme + "://" + r.Host
	}
	pv, err := s.pullView(r.Context(), a.PublisherID, c.ID)
	if err != nil {
		return err
	}
	p := customConnectorPage{Connector: c, Stats: st, Curl: pushCurl(base, c.Name), CanKeys: a.Role.Can(phantomos.PermTeam),
		Pull: pv, CanManage: a.Role.Can(phantomos.PermConnectors)}
	data := s.pageData(r, c.Name, "connectors")
	data.Data = p
	return s.render(w, http.StatusOK, "connector_custom", data)
}

// pushCurl is a ready-to-run example push of one order for source.
func pushCurl(base, source string) string {
	body, _ := json.MarshalIndent(map[string]any{
		"source": source,
		"orders": []any{map[string]any{
			"order_id": "1001", "order_date": "2026-11-02T10:00:00Z", "updated_at": "2026-11-02T10:05:00Z",
			"currency": "USD", "country": "US", "channel": "web",
			"lines": []any{map[string]any{"line_id": "1", "product_id": "tee-hero", "name": "Hero Tee", "quantity": 2,
				"gross": "39.98", "discount": "0", "tax": "3.20", "shipping": "4.99"}},
		}},
	}, "", "  ")
	// Single quotes around the body: escape any in the source's name.
	js := strings.ReplaceAll(string(body), "'", `'\''`)
	return "curl -X POST " + base + "/api/v1/orders \\\n" +
		"  -H \"Authorization: Bearer $PHANTOMOS_INGEST_KEY\" \\\n" +
		"  -H 'Content-Type: application/json' \\\n" +
		"  -H 'Idempotency-Key: order-1001-v1' \\\n" +
		"  --data-binary '" + js + "'"
}
