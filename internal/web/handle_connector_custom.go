package web

import (
	"cmp"
	"encoding/json"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/auth"
	"github.com/phantomos/phantomos/internal/store"
)

// customConnectorPage is the page of a custom source: what its pushes did
// and how to send one.
type customConnectorPage struct {
	Connector *phantomos.Connector
	Stats     *store.PushStats
	Curl      string
	// Key is an ingest key just made for the example (shown this once,
	// and already in Curl); "" otherwise.
	Key       string
	CanKeys   bool      // may create API keys
	Pull      *pullView // a scheduled pull's settings and runs; nil for a push source
	CanManage bool      // may pull now
}

// handleCustomConnector shows a custom source. It never creates a key (a
// GET changes nothing): the curl example names a variable, and the page
// offers a button that makes a fresh ingest key and fills it in.
func (s *Server) handleCustomConnector(w http.ResponseWriter, r *http.Request, c *phantomos.Connector) error {
	return s.renderCustomConnector(w, r, http.StatusOK, c, "")
}

func (s *Server) renderCustomConnector(w http.ResponseWriter, r *http.Request, status int, c *phantomos.Connector, key string) error {
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
	pub, err := s.store.Publisher(r.Context(), a.PublisherID)
	if err != nil {
		return err
	}
	p := customConnectorPage{Connector: c, Stats: st, Curl: pushCurl(base, c.Name, key, cmp.Or(pub.ReportingCurrency, "USD"), s.now().Add(-24*time.Hour)), Key: key, CanKeys: a.Role.Can(phantomos.PermTeam),
		Pull: pv, CanManage: a.Role.Can(phantomos.PermConnectors)}
	data := s.pageData(r, c.Name, "connectors")
	data.Data = p
	return s.render(w, status, "connector_custom", data)
}

// maxKeyName bounds an API key's name, as the API keys page does.
const maxKeyName = 100

// handleCustomConnectorKey makes a fresh ingest key for a custom source's
// curl example and shows the page with it filled in, once: only its hash
// is kept, as for every key. The key is named after the source, so that
// it can be found and revoked on the API keys page.
func (s *Server) handleCustomConnectorKey(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	a := phantomos.ActorFrom(ctx)
	c, err := s.store.Connector(ctx, a.PublisherID, r.PathValue("id"))
	if err != nil {
		return err
	}
	if c.Type != phantomos.ConnectorCustom {
		return phantomos.Errorf(phantomos.ENOTFOUND, "Custom source not found.")
	}
	name := c.Name
	if suffix := " (push)"; len(name)+len(suffix) <= maxKeyName {
		name += suffix
	} else {
		name = name[:maxKeyName]
		for !utf8.ValidString(name) {
			name = name[:len(name)-1]
		}
	}
	// An ingest key writes sales and products, which needs the member
	// role, and can do nothing else (see handleAPIKeyCreate).
	token := apiKeyPrefix + auth.NewToken()
	prefix := token[:len(apiKeyPrefix)+6]
	id, err := s.store.CreateAPIKey(ctx, a.PublisherID, a.UserID, name, prefix, auth.HashToken(token), phantomos.RoleMember)
	if err != nil {
		return err
	}
	if err := s.store.SetAPIKeyScope(ctx, a.PublisherID, id, phantomos.ScopeIngest); err != nil {
		return err
	}
	s.audit(r, a.PublisherID, "apikey.create", id, map[string]any{"name": name, "role": string(phantomos.RoleMember), "scope": phantomos.ScopeIngest,
		"prefix": prefix, "source": c.Name})
	return s.renderCustomConnector(w, r, http.StatusOK, c, token)
}

// pushCurl is a ready-to-run example push of one order for source, with
// key in it, or the variable PHANTOMOS_INGEST_KEY when key is "". The
// order is dated at (yesterday, so that it shows on the Overview at once)
// in currency (the publisher's reporting currency, so that it needs no
// exchange rate).
func pushCurl(base, source, key, currency string, at time.Time) string {
	gross, tax, ship := "39.98", "3.20", "4.99"
	if phantomos.MinorDigits(currency) == 0 {
		gross, tax, ship = "3998", "320", "499"
	}
	at = at.UTC().Truncate(time.Hour)
	// Structs rather than maps, so that the fields read in a sensible order.
	type line struct {
		LineID    string `json:"line_id"`
		ProductID string `json:"product_id"`
		Name      string `json:"name"`
		Quantity  int    `json:"quantity"`
		Gross     string `json:"gross"`
		Discount  string `json:"discount"`
		Tax       string `json:"tax"`
		Shipping  string `json:"shipping"`
	}
	type order struct {
		OrderID   string `json:"order_id"`
		OrderDate string `json:"order_date"`
		UpdatedAt string `json:"updated_at"`
		Currency  string `json:"currency"`
		Country   string `json:"country"`
		Channel   string `json:"channel"`
		Lines     []line `json:"lines"`
	}
	body, _ := json.MarshalIndent(struct {
		Source string  `json:"source"`
		Orders []order `json:"orders"`
	}{source, []order{{OrderID: "1001", OrderDate: at.Format(time.RFC3339), UpdatedAt: at.Add(5 * time.Minute).Format(time.RFC3339),
		Currency: currency, Country: "US", Channel: "web",
		Lines: []line{{LineID: "1", ProductID: "tee-hero", Name: "Hero Tee", Quantity: 2, Gross: gross, Discount: "0", Tax: tax, Shipping: ship}}}},
	}, "", "  ")
	// Single quotes around the body: escape any in the source's name.
	js := strings.ReplaceAll(string(body), "'", `'\''`)
	bearer := `"Authorization: Bearer $PHANTOMOS_INGEST_KEY"`
	if key != "" {
		bearer = "'Authorization: Bearer " + key + "'" // a key is letters, digits, _ and -
	}
	return "curl -X POST " + base + "/api/v1/orders \\\n" +
		"  -H " + bearer + " \\\n" +
		"  -H 'Content-Type: application/json' \\\n" +
		"  -H 'Idempotency-Key: order-1001-v1' \\\n" +
		"  --data-binary '" + js + "'"
}
