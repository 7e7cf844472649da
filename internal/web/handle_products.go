package web

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/jobs"
	"github.com/phantomos/phantomos/internal/mapping"
	"github.com/phantomos/phantomos/internal/store"
)

// The workbench: /products lists products with their mapping status and
// suggestions, a review queue sorted by revenue at stake, filters and bulk
// actions; /products/{id} reviews one product. Every action is a form post
// (the pages work without JavaScript); static/products.js adds keyboard
// review on top through the JSON API.

const productsPerPage = 50

// productFilter is the list's query string, parsed and echoed back.
type productFilter struct {
	Status    string // queue (default), all, unmapped, suggested, confirmed, skipped
	GameIP    string
	Category  string
	Connector string
	Asset     string
	Conf      string // high (≥0.9), medium (0.7–0.9), low (<0.7)
	MinNet    string // in major units of the reporting currency
	Search    string
	Sort      string
	Page      int
}

var confBands = map[string][2]float64{"high": {0.9, 0}, "medium": {0.7, 0.9}, "low": {0, 0.7}}

func parseProductFilter(q url.Values) (productFilter, error) {
	f := productFilter{Status: q.Get("status"), GameIP: q.Get("ip"), Category: q.Get("category"), Connector: q.Get("connector"),
		Asset: q.Get("asset"), Conf: q.Get("conf"), MinNet: strings.TrimSpace(q.Get("min_revenue")), Search: strings.TrimSpace(q.Get("q")), Sort: q.Get("sort"), Page: 1}
	switch f.Status {
	case "":
		f.Status = "queue"
	case "queue", "all", phantomos.MappingUnmapped, phantomos.MappingSuggested, phantomos.MappingConfirmed, phantomos.MappingSkipped:
	default:
		return f, phantomos.Errorf(phantomos.EINVALID, "Unknown status %q: choose queue, all, unmapped, suggested, confirmed or skipped.", f.Status)
	}
	for name, v := range map[string]string{"ip": f.GameIP, "connector": f.Connector, "asset": f.Asset} {
		if v != "" && !phantomos.ValidID(v) {
			return f, phantomos.Errorf(phantomos.EINVALID, "Filter %s: %q is not an id.", name, v)
		}
	}
	if f.Category != "" && !contains(phantomos.Categories, f.Category) {
		return f, phantomos.Errorf(phantomos.EINVALID, "Unknown category %q.", f.Category)
	}
	if _, ok := confBands[f.Conf]; f.Conf != "" && !ok {
		return f, phantomos.Errorf(phantomos.EINVALID, "Confidence filter %q: choose high, medium or low.", f.Conf)
	}
	if f.MinNet != "" {
		if v, err := strconv.ParseFloat(f.MinNet, 64); err != nil || v < 0 || math.IsInf(v, 0) {
			return f, phantomos.Errorf(phantomos.EINVALID, "Minimum revenue %q is not an amount.", f.MinNet)
		}
	}
	switch f.Sort {
	case "", "revenue", "name", "confidence":
	default:
		return f, phantomos.Errorf(phantomos.EINVALID, "Unknown sort %q: choose revenue, name or confidence.", f.Sort)
	}
	if p := q.Get("page"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 {
			return f, phantomos.Errorf(phantomos.EINVALID, "Page %q is not a page number.", p)
		}
		f.Page = n
	}
	return f, nil
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// query turns the filter into a store query for a publisher reporting in
// currency.
func (f productFilter) query(currency, since string) store.ProductQuery {
	q := store.ProductQuery{Status: f.Status, GameIPID: f.GameIP, Category: f.Category, Connector: f.Connector, AssetID: f.Asset,
		Search: f.Search, Sort: f.Sort, RevenueSince: since, Limit: productsPerPage, Offset: (f.Page - 1) * productsPerPage}
	if q.Status == "all" {
		q.Status = ""
	}
	if b, ok := confBands[f.Conf]; ok {
		q.MinConf, q.MaxConf = b[0], b[1]
		if f.Conf == "low" && q.Status == "" {
			q.Status = phantomos.MappingSuggested
		}
	}
	if f.MinNet != "" {
		v, _ := strconv.ParseFloat(f.MinNet, 64)
		q.MinNet = int64(math.Round(v * math.Pow10(phantomos.MinorDigits(currency))))
	}
	return q
}

// values is the filter as a query string, page excluded.
func (f productFilter) values() url.Values {
	v := url.Values{}
	set := func(k, x string) {
		if x != "" {
			v.Set(k, x)
		}
	}
	if f.Status != "queue" {
		set("status", f.Status)
	}
	set("ip", f.GameIP)
	set("category", f.Category)
	set("connector", f.Connector)
	set("asset", f.Asset)
	set("conf", f.Conf)
	set("min_revenue", f.MinNet)
	set("q", f.Search)
	set("sort", f.Sort)
	return v
}

// URL is the list's address for page n of the same filter.
func (f productFilter) URL(n int) string {
	v := f.values()
	if n > 1 {
		v.Set("page", strconv.Itoa(n))
	}
	if len(v) == 0 {
		return "/products"
	}
	return "/products?" + v.Encode()
}

// revenueSince is the first month of the workbench's revenue window: the
// last twelve months including the current one, in the publisher's zone,
// counted back from the publisher's last sale when its sales ended long ago
// (imported history), so revenue at stake is not zero for every product.
func (s *Server) revenueSince(ctx context.Context, pub *phantomos.Publisher) (string, error) {
	asOf, _, err := s.work.AsOf(ctx, pub)
	if err != nil {
		return "", err
	}
	return revenueSince(pub, asOf), nil
}

func revenueSince(pub *phantomos.Publisher, asOf time.Time) string {
	t := asOf.In(pub.Location())
	return time.Date(t.Year(), t.Month()-11, 1, 0, 0, 0, 0, time.UTC).Format("2006-01")
}

// suggestionView is a suggestion as the page shows it.
type suggestionView struct {
	store.Suggestion
	N      int // 1-based, the key that picks it
	Name   string
	GameIP string
	Type   string
}

// linkView is a confirmed mapping as the page shows it.
type linkView struct {
	phantomos.ProductAsset
	Name   string
	GameIP string
}

type productView struct {
	store.ProductItem
	Views []suggestionView
	Links []linkView
	// Choices are what the review form offers: the confirmed assets, then
	// the suggestions not among them.
	Choices []reviewChoice
}

// reviewChoice is one asset of the review form.
type reviewChoice struct {
	AssetID, Name, GameIP, Type, Evidence, Source string
	Confidence                                    float64
	Weight                                        float64
	Checked, Primary                              bool
	N                                             int
}

func (s *Server) productViews(r *http.Request, pub phantomos.PublisherID, c *catalogue, items []store.ProductItem) ([]productView, error) {
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = it.ID
	}
	links, err := s.store.ProductLinks(r.Context(), pub, ids)
	if err != nil {
		return nil, err
	}
	out := make([]productView, len(items))
	for i, it := range items {
		v := productView{ProductItem: it}
		for _, x := range it.Suggestions {
			a := c.byID[x.AssetID]
			if a == nil {
				continue // merged away or deleted since
			}
			v.Views = append(v.Views, suggestionView{Suggestion: x, N: len(v.Views) + 1, Name: a.Name, GameIP: c.ipName(a), Type: a.AssetType})
		}
		linked := map[string]bool{}
		for _, l := range links[it.ID] {
			if a := c.byID[l.AssetID]; a != nil {
				v.Links = append(v.Links, linkView{ProductAsset: l, Name: a.Name, GameIP: c.ipName(a)})
				v.Choices = append(v.Choices, reviewChoice{AssetID: a.ID, Name: a.Name, GameIP: c.ipName(a), Type: a.AssetType, Source: l.Source,
					Confidence: l.Confidence, Weight: l.Weight, Checked: true, Primary: l.IsPrimary, N: len(v.Choices) + 1})
				linked[a.ID] = true
			}
		}
		for _, x := range v.Views {
			if !linked[x.AssetID] {
				v.Choices = append(v.Choices, reviewChoice{AssetID: x.AssetID, Name: x.Name, GameIP: x.GameIP, Type: x.Type, Source: x.Source, Evidence: x.Evidence,
					Confidence: x.Confidence, Weight: 1, Checked: len(v.Links) == 0, Primary: len(v.Links) == 0 && x.Primary, N: len(v.Choices) + 1})
			}
		}
		out[i] = v
	}
	return out, nil
}

// progress is the workbench's progress bar: products and revenue by status.
type progress struct {
	Products, Revenue []progressPart
	TotalProducts     int
	TotalRevenue      int64
}

type progressPart struct {
	Status string
	Label  string
	Count  int64
	Share  float64 // of the total, 0–1
	X      float64 // where its segment starts on a 0–100 bar
	Width  float64
}

func buildProgress(sum store.MappingSummary) progress {
	order := []struct{ status, label string }{
		{phantomos.MappingConfirmed, "Mapped"}, {phantomos.MappingSuggested, "Suggested"},
		{phantomos.MappingUnmapped, "Unmapped"}, {phantomos.MappingSkipped, "Skipped"},
	}
	var p progress
	for _, o := range order {
		p.TotalProducts += sum.Products[o.status]
		if n := sum.Net[o.status]; n > 0 {
			p.TotalRevenue += n
		}
	}
	var xp, xr float64
	for _, o := range order {
		n := int64(sum.Products[o.status])
		part := progressPart{Status: o.status, Label: o.label, Count: n, X: xp}
		if p.TotalProducts > 0 {
			part.Share = float64(n) / float64(p.TotalProducts)
		}
		part.Width = part.Share * 100
		xp += part.Width
		p.Products = append(p.Products, part)

		net := max(sum.Net[o.status], 0)
		rpart := progressPart{Status: o.status, Label: o.label, Count: net, X: xr}
		if p.TotalRevenue > 0 {
			rpart.Share = float64(net) / float64(p.TotalRevenue)
		}
		rpart.Width = rpart.Share * 100
		xr += rpart.Width
		p.Revenue = append(p.Revenue, rpart)
	}
	return p
}

type productsPage struct {
	Filter     productFilter
	Products   []productView
	Total      int
	From, To   int
	PrevURL    string
	NextURL    string
	Progress   progress
	Currency   string
	GameIPs    []*phantomos.GameIP
	Groups     []assetGroup
	Connectors []*phantomos.Connector
	Categories []string
	CanEdit    bool
	Claude     bool
	Notice     string
	ReturnTo   string
	// Since is the first month (YYYY-MM) of the revenue shown.
	Since string
}

func (s *Server) handleProducts(w http.ResponseWriter, r *http.Request) error {
	a := phantomos.ActorFrom(r.Context())
	f, err := parseProductFilter(r.URL.Query())
	if err != nil {
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
	c, err := s.catalogue(r.Context(), a.PublisherID)
	if err != nil {
		return err
	}
	list, err := s.store.ProductList(r.Context(), a.PublisherID, f.query(pub.ReportingCurrency, since))
	if err != nil {
		return err
	}
	sum, err := s.store.MappingSummary(r.Context(), a.PublisherID, since)
	if err != nil {
		return err
	}
	conns, err := s.store.Connectors(r.Context(), a.PublisherID)
	if err != nil {
		return err
	}
	p := productsPage{Filter: f, Total: list.Total, Progress: buildProgress(sum), Currency: pub.ReportingCurrency, GameIPs: c.GameIPs,
		Groups: c.live(), Connectors: conns, Categories: phantomos.Categories, CanEdit: a.Role.Can(phantomos.PermEdit),
		Claude: s.work.Claude() != nil, Notice: productNotice(r.URL.Query()), ReturnTo: f.URL(f.Page), Since: since}
	if n := s.suggestNotice(r.Context(), a.PublisherID, r.URL.Query()); n != "" {
		p.Notice = n
	}
	if p.Products, err = s.productViews(r, a.PublisherID, c, list.Rows); err != nil {
		return err
	}
	if len(list.Rows) > 0 {
		p.From = (f.Page-1)*productsPerPage + 1
		p.To = p.From + len(list.Rows) - 1
	}
	if f.Page > 1 {
		p.PrevURL = f.URL(f.Page - 1)
	}
	if p.To < list.Total {
		p.NextURL = f.URL(f.Page + 1)
	}
	data := s.pageData(r, "Products", "products")
	data.Data = p
	return s.render(w, http.StatusOK, "products", data)
}

// productNotice is the message a redirect after an action asks for. Only
// known messages are shown, with numbers parsed from the query.
func productNotice(q url.Values) string {
	n, _ := strconv.Atoi(q.Get("n"))
	m, _ := strconv.Atoi(q.Get("m"))
	switch q.Get("done") {
	case "suggest":
		return fmt.Sprintf("The tagger looked at %s and suggested assets for %s.", plural(n, "product"), plural(m, "product"))
	case "accept":
		return fmt.Sprintf("Accepted the suggestions of %s.", plural(n, "product"))
	case "assign":
		return fmt.Sprintf("Mapped %s.", plural(n, "product"))
	case "review":
		return "Saved. Revenue by asset on the Overview already counts it."
	case "skip":
		return "Skipped: the product left the review queue."
	}
	return ""
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return formatNumber(int64(n)) + " " + word + "s"
}

// returnTo is the local page to go back to after an action: a /products
// address from the form, or the list.
func returnTo(r *http.Request) string {
	t := r.FormValue("return")
	if u, err := url.Parse(t); err == nil && u.Scheme == "" && u.Host == "" && strings.HasPrefix(u.Path, "/products") && !strings.HasPrefix(t, "//") {
		return t
	}
	return "/products"
}

func withDone(target, done string, n, m int) string {
	u, _ := url.Parse(target)
	q := u.Query()
	q.Set("done", done)
	if n >= 0 {
		q.Set("n", strconv.Itoa(n))
	}
	if m >= 0 {
		q.Set("m", strconv.Itoa(m))
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// handleProductsSuggest serves POST /products/suggest: a suggest_run job
// runs the tagger (with Claude when configured) over every product
// waiting for a decision. The request waits a bounded while for it: a
// short run redirects with its result, a longer one to the list, which
// shows its progress (from the database: any replica) until it is done.
func (s *Server) handleProductsSuggest(w http.ResponseWriter, r *http.Request) error {
	a := phantomos.ActorFrom(r.Context())
	if s.jobs == nil {
		run, err := s.work.SuggestMappings(r.Context(), a.PublisherID, false)
		if err != nil {
			return err
		}
		http.Redirect(w, r, withDone(returnTo(r), "suggest", run.Products, run.Suggested), http.StatusSeeOther)
		return nil
	}
	id, err := s.jobs.EnqueueSuggestRun(r.Context(), a.PublisherID, false)
	if err != nil {
		return err
	}
	j, err := s.waitJob(r.Context(), a.PublisherID, id, s.jobWait.page)
	if err != nil {
		return err
	}
	var run mapping.Run
	if j.State == "completed" && json.Unmarshal(j.Output, &run) == nil {
		http.Redirect(w, r, withDone(returnTo(r), "suggest", run.Products, run.Suggested), http.StatusSeeOther)
		return nil
	}
	u, _ := url.Parse(returnTo(r))
	q := u.Query()
	q.Set("suggest_job", strconv.FormatInt(id, 10))
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String(), http.StatusSeeOther)
	return nil
}

// suggestNotice says where the suggest run of ?suggest_job= stands.
func (s *Server) suggestNotice(ctx context.Context, pub phantomos.PublisherID, q url.Values) string {
	id, err := strconv.ParseInt(q.Get("suggest_job"), 10, 64)
	if err != nil || s.jobs == nil {
		return ""
	}
	j, err := s.jobs.JobOf(ctx, pub, id)
	if err != nil || j.Kind != (jobs.SuggestRunArgs{}).Kind() {
		return ""
	}
	var run mapping.Run
	switch jobState(j) {
	case "succeeded":
		if json.Unmarshal(j.Output, &run) == nil {
			return fmt.Sprintf("The tagger looked at %s and suggested assets for %s.", plural(run.Products, "product"), plural(run.Suggested, "product"))
		}
		return "The tagger has finished."
	case "failed":
		return "Suggesting mappings failed: " + jobError(j)
	case "running":
		return fmt.Sprintf("Suggesting mappings now (attempt %d, started %s): reload this page to see the suggestions once it is done.", j.Attempt, j.Created.UTC().Format("15:04 UTC"))
	}
	if len(j.Errors) > 0 {
		return "Suggesting mappings will be tried again shortly: " + jobError(j)
	}
	return "Suggesting mappings is queued: reload this page in a moment."
}

// handleProductsBulk serves POST /products/bulk: accept suggestions above
// a confidence, or map the selected products to one asset.
func (s *Server) handleProductsBulk(w http.ResponseWriter, r *http.Request) error {
	a := phantomos.ActorFrom(r.Context())
	if err := r.ParseForm(); err != nil {
		return phantomos.Errorf(phantomos.EINVALID, "The form could not be read.")
	}
	switch r.PostForm.Get("action") {
	case "accept":
		minConf, err := strconv.ParseFloat(r.PostForm.Get("min_confidence"), 64)
		if err != nil {
			return phantomos.Errorf(phantomos.EINVALID, "Minimum confidence %q is not a number.", r.PostForm.Get("min_confidence"))
		}
		res, err := s.store.AcceptSuggestions(r.Context(), a.PublisherID, minConf, r.PostForm["product"], a.UserID)
		if err != nil {
			return err
		}
		s.audit(r, a.PublisherID, "products.bulk_accept", "", map[string]any{"min_confidence": minConf, "products": res.Products})
		http.Redirect(w, r, withDone(returnTo(r), "accept", res.Products, -1), http.StatusSeeOther)
	case "assign":
		asset := r.PostForm.Get("assign_asset")
		if asset == "" {
			return phantomos.Errorf(phantomos.EINVALID, "Choose the asset to map the selected products to.")
		}
		res, err := s.store.AssignAsset(r.Context(), a.PublisherID, r.PostForm["product"], asset, a.UserID)
		if err != nil {
			return err
		}
		s.audit(r, a.PublisherID, "products.bulk_assign", asset, map[string]any{"products": res.Products})
		http.Redirect(w, r, withDone(returnTo(r), "assign", res.Products, -1), http.StatusSeeOther)
	default:
		return phantomos.Errorf(phantomos.EINVALID, "Unknown bulk action %q: choose accept or assign.", r.PostForm.Get("action"))
	}
	return nil
}

type productPage struct {
	Product  productView
	Currency string
	Groups   []assetGroup
	CanEdit  bool
	Notice   string
	ReturnTo string
	NextURL  string // the next product of the queue
	Since    string
}

// handleProduct serves GET /products/{id}: one product to review.
func (s *Server) handleProduct(w http.ResponseWriter, r *http.Request) error {
	a := phantomos.ActorFrom(r.Context())
	pub, err := s.store.Publisher(r.Context(), a.PublisherID)
	if err != nil {
		return err
	}
	since, err := s.revenueSince(r.Context(), pub)
	if err != nil {
		return err
	}
	item, err := s.store.ProductItem(r.Context(), a.PublisherID, r.PathValue("id"), since)
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
	p := productPage{Product: views[0], Currency: pub.ReportingCurrency, Groups: c.live(), CanEdit: a.Role.Can(phantomos.PermEdit),
		Notice: productNotice(r.URL.Query()), ReturnTo: r.URL.Path, Since: since}
	// The next product waiting in the queue, by revenue at stake.
	queue, err := s.store.ProductList(r.Context(), a.PublisherID, store.ProductQuery{Status: "queue", RevenueSince: since, Limit: 2})
	if err != nil {
		return err
	}
	for _, q := range queue.Rows {
		if q.ID != item.ID {
			p.NextURL = "/products/" + q.ID
			break
		}
	}
	data := s.pageData(r, item.Name, "products")
	data.Data = p
	return s.render(w, http.StatusOK, "product", data)
}

// handleProductReview serves POST /products/{id}/review, the form behind
// every decision of the product page and of the list's rows.
func (s *Server) handleProductReview(w http.ResponseWriter, r *http.Request) error {
	a := phantomos.ActorFrom(r.Context())
	if err := r.ParseForm(); err != nil {
		return phantomos.Errorf(phantomos.EINVALID, "The form could not be read.")
	}
	id := r.PathValue("id")
	cur, err := s.store.ProductItem(r.Context(), a.PublisherID, id, "")
	if err != nil {
		return err
	}
	rv, err := formReview(r.PostForm, cur)
	if err != nil {
		return err
	}
	rv.By = a.UserID
	if _, err := s.store.ReviewProduct(r.Context(), a.PublisherID, id, rv); err != nil {
		return err
	}
	target := returnTo(r)
	done := "review"
	if rv.Action == store.ReviewSkip {
		done = "skip"
	}
	if next := r.PostForm.Get("next"); next == "queue" {
		// Review the next product of the queue, or the list when none is left.
		queue, err := s.store.ProductList(r.Context(), a.PublisherID, store.ProductQuery{Status: "queue", Limit: 1})
		if err != nil {
			return err
		}
		if len(queue.Rows) > 0 {
			target = "/products/" + queue.Rows[0].ID
		} else {
			target = "/products"
		}
	}
	http.Redirect(w, r, withDone(target, done, -1, -1), http.StatusSeeOther)
	return nil
}

// formReview reads a review decision from a form:
//
//	action=accept                       the stored suggestions, as suggested
//	action=pick&asset=ID                that one suggestion alone
//	action=confirm&asset=ID…&primary=ID exactly these assets (add_asset adds one)
//	action=reject[&reject=ID…]          those suggestions (all when none given)
//	action=skip | action=reopen
func formReview(f url.Values, cur store.ProductItem) (store.Review, error) {
	switch action := f.Get("action"); action {
	case "accept":
		return acceptReview(cur)
	case "pick":
		id := f.Get("asset")
		if id == "" {
			return store.Review{}, phantomos.Errorf(phantomos.EINVALID, "Choose the asset to confirm.")
		}
		return store.Review{Action: store.ReviewConfirm, Assets: []store.ReviewAsset{{AssetID: id, Primary: true, Weight: 1}}}, nil
	case "confirm":
		ids := f["asset"]
		if add := f.Get("add_asset"); add != "" && !contains(ids, add) {
			ids = append(ids, add)
		}
		primary := f.Get("primary")
		if !contains(ids, primary) {
			primary = "" // an unticked asset cannot be primary: the first is
		}
		rv := store.Review{Action: store.ReviewConfirm}
		for _, id := range ids {
			weight := 1.0
			if w := f.Get("weight_" + id); w != "" {
				v, err := strconv.ParseFloat(w, 64)
				if err != nil || v <= 0 {
					return rv, phantomos.Errorf(phantomos.EINVALID, "Weight %q must be a positive number.", w)
				}
				weight = v
			}
			rv.Assets = append(rv.Assets, store.ReviewAsset{AssetID: id, Primary: id == primary, Weight: weight})
		}
		return rv, nil
	case "reject":
		ids := f["reject"]
		if len(ids) == 0 {
			for _, x := range cur.Suggestions {
				ids = append(ids, x.AssetID)
			}
		}
		if len(ids) == 0 {
			return store.Review{}, phantomos.Errorf(phantomos.EINVALID, "This product has no suggestion to reject.")
		}
		return store.Review{Action: store.ReviewReject, Reject: ids}, nil
	case store.ReviewSkip, store.ReviewReopen:
		return store.Review{Action: action}, nil
	default:
		return store.Review{}, phantomos.Errorf(phantomos.EINVALID, "Unknown action %q.", action)
	}
}

// acceptReview confirms a product's suggestions as the tagger made them.
// The store reads them again under the product's lock, so a decision made
// in between (a reject) is not undone by a stale list.
func acceptReview(cur store.ProductItem) (store.Review, error) {
	if len(cur.Suggestions) == 0 {
		return store.Review{}, phantomos.Errorf(phantomos.EINVALID, "This product has no suggestion to accept: choose an asset.")
	}
	return store.Review{Action: store.ReviewAccept}, nil
}
