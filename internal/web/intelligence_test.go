package web

import (
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/auth"
	"github.com/phantomos/phantomos/internal/config"
	"github.com/phantomos/phantomos/internal/demo"
	"github.com/phantomos/phantomos/internal/insights"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// intelligenceRoutes are the routes of handle_intelligence.go with the
// permissions routes.go gives them.
func intelligenceRoutes(s *Server) []Route {
	return []Route{
		{"GET /intelligence", phantomos.PermView, s.handleIntelligencePage},
		{"POST /intelligence/generate", phantomos.PermEdit, s.handleIntelligenceGenerate},
		{"POST /intelligence/insights/{id}/status", phantomos.PermEdit, s.handleInsightStatus},
		{"GET /api/ai/insights", phantomos.PermView, s.handleAPIInsightsList},
		{"POST /api/ai/insights", phantomos.PermEdit, s.handleAPIInsightsGenerate},
		{"POST /api/ai/forecast", phantomos.PermView, s.handleAPIForecast},
	}
}

// intelligenceServer serves srv's application for these tests. Once
// routes.go registers the intelligence routes it is srv.Handler() itself;
// until then the same routes and middleware are assembled here, with the
// intelligence handlers in place of the placeholder page.
func intelligenceServer(t *testing.T, srv *Server) *httptest.Server {
	t.Helper()
	var h http.Handler
	for _, rt := range srv.Routes() {
		if rt.Pattern == "POST /api/ai/forecast" {
			h = srv.Handler()
		}
	}
	if h == nil {
		mine := map[string]bool{}
		mux := http.NewServeMux()
		for _, rt := range intelligenceRoutes(srv) {
			mine[rt.Pattern] = true
			mux.Handle(rt.Pattern, srv.guard(rt))
		}
		for _, rt := range srv.Routes() {
			if !mine[rt.Pattern] {
				mux.Handle(rt.Pattern, srv.guard(rt))
			}
		}
		static, _ := fs.Sub(files, "static")
		mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
		h = requestID(securityHeaders(http.NewCrossOriginProtection().Handler(srv.authenticate(mux)), false))
	}
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return ts
}

// intelligenceNow is the clock of these tests; the demo data ends the day
// before.
var intelligenceNow = time.Date(2026, 3, 15, 18, 30, 0, 0, time.UTC)

// demoTenant loads a small demo publisher and gives it a member and an
// analyst.
func demoTenant(t *testing.T, s *store.Store) (*phantomos.Publisher, map[phantomos.Role]*phantomos.User) {
	return demoTenantN(t, s, 12_000)
}

func demoTenantN(t *testing.T, s *store.Store, sales int) (*phantomos.Publisher, map[phantomos.Role]*phantomos.User) {
	t.Helper()
	ctx := context.Background()
	pub, err := demo.Load(ctx, s, demo.Options{Sales: sales, Seed: 5, Now: intelligenceNow}, nil)
	if err != nil {
		t.Fatal(err)
	}
	users := map[phantomos.Role]*phantomos.User{}
	for _, r := range []phantomos.Role{phantomos.RoleMember, phantomos.RoleAnalyst} {
		u := &phantomos.User{Email: string(r) + "@demo.test", Name: string(r), Role: r}
		if err := s.CreateUser(ctx, pub.ID, u, ""); err != nil {
			t.Fatal(err)
		}
		users[r] = u
	}
	return pub, users
}

func send(t *testing.T, ts *httptest.Server, c *http.Cookie, method, path, contentType, body string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if method != http.MethodGet {
		req.Header.Set("Content-Type", contentType)
		req.Header.Set("Origin", ts.URL)
	}
	req.AddCookie(c)
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

const form = "application/x-www-form-urlencoded"

func TestIntelligencePage(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		t.Parallel()
		ctx := context.Background()
		pub, users := demoTenant(t, s)
		srv, _ := newTestServer(t, s)
		srv.SetClock(func() time.Time { return intelligenceNow })
		ts := intelligenceServer(t, srv)
		member, analyst := cookie(t, s, users[phantomos.RoleMember]), cookie(t, s, users[phantomos.RoleAnalyst])

		// The first visit finds the insights.
		st, _, body := send(t, ts, analyst, http.MethodGet, "/intelligence", "", "")
		if st != http.StatusOK {
			t.Fatalf("GET /intelligence: %d\n%s", st, body)
		}
		for _, want := range []string{
			"Summary", "Top assets, month by month", `class="chart multi"`, "Trending assets", "Risk alerts", "Growth opportunities",
			"Recommendations", `<details class="insight`, "confidence", `class="band80"`, `class="band95"`, "a month ahead",
			"Narratives are written by the local engine", `<select name="forecast">`, "Show the forecast as a table",
			// Each insight's evidence: its figures, its chart and the chart's table.
			`<table class="compact evidence">`, `aria-label="Revenue of ` + demo.RisingCharacter + ` per month"`, "Show the months as a table",
		} {
			if !strings.Contains(body, want) {
				t.Errorf("page lacks %q", want)
			}
		}
		if strings.Contains(body, "/status\"") || strings.Contains(body, "Mark done") || strings.Contains(body, "Find insights now") {
			t.Error("an analyst sees the buttons that change insights")
		}

		// A member sees the buttons and can close an insight.
		st, _, body = send(t, ts, member, http.MethodGet, "/intelligence", "", "")
		if st != http.StatusOK || !strings.Contains(body, "Mark done") || !strings.Contains(body, "Dismiss") || !strings.Contains(body, "Find insights now") {
			t.Fatalf("member page: %d, buttons missing", st)
		}
		var list insightsJSON
		st, _, body = send(t, ts, analyst, http.MethodGet, "/api/ai/insights?type=trend_detection", "", "")
		if st != http.StatusOK || json.Unmarshal([]byte(body), &list) != nil || len(list.Insights) == 0 || list.GeneratedAt == nil || list.Narrator != "local" {
			t.Fatalf("GET /api/ai/insights: %d %s", st, body)
		}
		target := list.Insights[0]
		if !strings.Contains(body, `"evidence"`) || !strings.Contains(body, `"figures"`) || target.Type != store.InsightTrend {
			t.Errorf("insight JSON lacks its evidence: %s", body)
		}
		st, _, _ = send(t, ts, analyst, http.MethodPost, "/intelligence/insights/"+target.ID+"/status", form, "status=dismissed")
		if st != http.StatusForbidden {
			t.Errorf("analyst dismissing: %d, want 403", st)
		}
		st, h, _ := send(t, ts, member, http.MethodPost, "/intelligence/insights/"+target.ID+"/status", form, "status=dismissed")
		if st != http.StatusSeeOther || h.Get("Location") != "/intelligence#insight-"+target.ID {
			t.Fatalf("member dismissing: %d to %q", st, h.Get("Location"))
		}
		if got, err := s.Insight(ctx, pub.ID, target.ID); err != nil || got.Status != store.InsightDismissed {
			t.Errorf("after dismissing: %+v, %v", got, err)
		}
		_, _, body = send(t, ts, member, http.MethodGet, "/intelligence", "", "")
		if strings.Contains(body, `id="insight-`+target.ID+`"`) || !strings.Contains(body, "Show the 1 dismissed or done") {
			t.Error("a dismissed insight is still listed, or the link to it is missing")
		}
		_, _, body = send(t, ts, member, http.MethodGet, "/intelligence?show=all", "", "")
		if !strings.Contains(body, `id="insight-`+target.ID+`"`) || !strings.Contains(body, "Reopen") {
			t.Error("show=all does not list the dismissed insight with a Reopen button")
		}
		if st, _, _ := send(t, ts, member, http.MethodPost, "/intelligence/insights/"+target.ID+"/status", form, "status=archived"); st != http.StatusBadRequest {
			t.Errorf("bad status: %d, want 400", st)
		}
		var audited bool
		entries, _ := s.AuditLog(ctx, pub.ID, time.Time{}, 10)
		for _, e := range entries {
			audited = audited || e.Action == "insight.status" && e.Target == target.ID
		}
		if !audited {
			t.Error("closing an insight is not in the audit log")
		}

		// Forecasts of any scope, on the page and through the API.
		assets, _ := s.Assets(ctx, pub.ID)
		var pixel string
		for _, a := range assets {
			if a.Name == demo.RisingCharacter {
				pixel = a.ID
			}
		}
		_, _, body = send(t, ts, analyst, http.MethodGet, "/intelligence?forecast=asset:"+pixel+"&horizon=3", "", "")
		if !strings.Contains(body, "Forecast: "+demo.RisingCharacter) || !strings.Contains(body, `value="asset:`+pixel+`" selected`) || strings.Count(body, "<td class=\"num\">$") < 3 {
			t.Error("asset forecast not shown")
		}
		_, _, body = send(t, ts, analyst, http.MethodGet, "/intelligence?forecast=asset:"+phantomos.NewID(), "", "")
		if !strings.Contains(body, "Asset not found. Showing total revenue instead.") || !strings.Contains(body, "Forecast: All revenue") {
			t.Error("an unknown asset does not fall back to total revenue with a notice")
		}
		var fc insights.ForecastResult
		st, _, body = send(t, ts, analyst, http.MethodPost, "/api/ai/forecast", "application/json", `{"scope": "category", "id": "apparel", "horizon": 3}`)
		if st != http.StatusOK || json.Unmarshal([]byte(body), &fc) != nil || len(fc.Points) != 3 || fc.Points[0].Month != "2026-03" || fc.Accuracy.Words == "" {
			t.Errorf("POST /api/ai/forecast: %d %s", st, body)
		}
		// Weekly: ISO weeks, the week in progress (15 March is a Sunday)
		// left out.
		st, _, body = send(t, ts, analyst, http.MethodPost, "/api/ai/forecast", "application/json", `{"scope": "channel", "id": "marketplace", "grain": "week", "horizon": 8}`)
		fc = insights.ForecastResult{}
		if st != http.StatusOK || json.Unmarshal([]byte(body), &fc) != nil || fc.Grain != "week" || len(fc.Points) != 8 || fc.Points[0].Period != "2026-03-09" ||
			fc.Points[0].Week != "2026-W11" || fc.History[len(fc.History)-1].Period != "2026-03-02" || !strings.Contains(fc.Accuracy.Words, "a week ahead") {
			t.Errorf("POST /api/ai/forecast weekly: %d %.600s", st, body)
		}
		for _, bad := range []struct {
			body   string
			status int
			names  string // what the problem's detail must name
		}{
			{`{"scope": "galaxy"}`, http.StatusBadRequest, "field scope"},
			{`{"scope": "total", "horizon": 99}`, http.StatusBadRequest, "field horizon"},
			{`{"scope": "total", "grain": "week", "horizon": 53}`, http.StatusBadRequest, "field horizon"},
			{`{"scope": "total", "grain": "day"}`, http.StatusBadRequest, "field grain"},
			{`{"scope": "category", "id": "spaceships"}`, http.StatusBadRequest, "field id"},
			{`{"scope": "asset", "id": "` + phantomos.NewID() + `"}`, http.StatusNotFound, "field id"},
			{`{"scope": "asset", "grain": "week", "id": "` + phantomos.NewID() + `"}`, http.StatusNotFound, "field id"},
			{`{"scope": "channel", "grain": "week", "id": "carrier_pigeon"}`, http.StatusNotFound, "field id"},
			{`{"scope": "game_ip", "id": "` + phantomos.NewID() + `"}`, http.StatusNotFound, "field id"},
			{`{"scope": "total", "unknown": 1}`, http.StatusBadRequest, "unknown"},
			{`not json`, http.StatusBadRequest, "JSON"},
		} {
			st, h, body := send(t, ts, analyst, http.MethodPost, "/api/ai/forecast", "application/json", bad.body)
			if st != bad.status || !strings.HasPrefix(h.Get("Content-Type"), "application/problem+json") || !strings.Contains(body, bad.names) {
				t.Errorf("POST /api/ai/forecast %s: %d %s %s, want %d problem+json naming %q", bad.body, st, h.Get("Content-Type"), body, bad.status, bad.names)
			}
		}

		// The page's form asks for the grain; a weekly forecast states its
		// accuracy a week ahead and lists weeks.
		_, _, body = send(t, ts, analyst, http.MethodGet, "/intelligence?forecast=total:&grain=week&shown=week&horizon=8", "", "")
		for _, want := range []string{`<select name="grain">`, `<option value="week" selected>By week</option>`, "Weeks ahead", `<option value="8" selected>`,
			"a week ahead", "Week 11, from 9 Mar 2026", "complete weeks only (Monday to Sunday", `class="band95"`, "Weekly net revenue of All revenue"} {
			if !strings.Contains(body, want) {
				t.Errorf("weekly forecast page lacks %q", want)
			}
		}
		if !strings.Contains(body, "Week 18, from 27 Apr 2026") || strings.Contains(body, "Week 19, from 4 May 2026") {
			t.Error("the weekly page does not show the 8 weeks asked for")
		}
		// Switching from months to weeks starts from the weekly horizon.
		_, _, body = send(t, ts, analyst, http.MethodGet, "/intelligence?forecast=total:&grain=week&shown=month&horizon=6", "", "")
		if !strings.Contains(body, `<option value="13" selected>`) || !strings.Contains(body, "Week 23, from 1 Jun 2026") {
			t.Error("switching to weeks did not start from 13 weeks")
		}

		// Generating on demand: members, not analysts.
		if st, _, _ := send(t, ts, analyst, http.MethodPost, "/api/ai/insights", "application/json", ""); st != http.StatusForbidden {
			t.Errorf("analyst generating: %d, want 403", st)
		}
		st, _, body = send(t, ts, member, http.MethodPost, "/api/ai/insights", "application/json", "")
		if st != http.StatusOK || json.Unmarshal([]byte(body), &list) != nil || len(list.Insights) < 3 {
			t.Errorf("POST /api/ai/insights: %d %s", st, body)
		}
		for _, in := range list.Insights {
			if in.ID == target.ID && in.Status != store.InsightDismissed {
				t.Errorf("generating again reopened a dismissed insight: %+v", in)
			}
		}
		if st, _, _ := send(t, ts, analyst, http.MethodGet, "/api/ai/insights?status=maybe", "", ""); st != http.StatusBadRequest {
			t.Errorf("bad status filter: %d", st)
		}
		if st, h, _ := send(t, ts, member, http.MethodPost, "/intelligence/generate", form, ""); st != http.StatusSeeOther || h.Get("Location") != "/intelligence" {
			t.Errorf("POST /intelligence/generate: %d %q", st, h.Get("Location"))
		}

		// Another publisher sees none of it and cannot touch it.
		b := newTenant(t, s, "beta")
		bOwner := cookie(t, s, b.users[phantomos.RoleOwner])
		if st, _, _ := send(t, ts, bOwner, http.MethodPost, "/intelligence/insights/"+target.ID+"/status", form, "status=new"); st != http.StatusNotFound {
			t.Errorf("B closing A's insight: %d, want 404", st)
		}
		if got, _ := s.Insight(ctx, pub.ID, target.ID); got.Status != store.InsightDismissed {
			t.Errorf("B changed A's insight: %+v", got)
		}
		st, _, body = send(t, ts, bOwner, http.MethodGet, "/intelligence", "", "")
		if st != http.StatusOK || !strings.Contains(body, "No complete month of sales yet") || strings.Contains(body, demo.RisingCharacter) {
			t.Errorf("B's page: %d, shows A's data or lacks its empty state", st)
		}
		_, _, body = send(t, ts, bOwner, http.MethodGet, "/api/ai/insights", "", "")
		if strings.Contains(body, demo.RisingCharacter) || strings.Contains(body, target.ID) {
			t.Error("B's API lists A's insights")
		}
		if st, _, _ := send(t, ts, bOwner, http.MethodPost, "/api/ai/forecast", "application/json", `{"scope": "asset", "id": "`+pixel+`"}`); st != http.StatusNotFound {
			t.Errorf("B forecasting A's asset: %d, want 404", st)
		}
	})
}

// TestIntelligencePageWithClaude: with an API key the page says Claude
// writes the narratives. The publisher has no sales, so there is nothing to
// narrate and no call is made.
func TestIntelligencePageWithClaude(t *testing.T) {
	s := storetest.New(t, store.SQLite)
	ctx := context.Background()
	tn := newTenant(t, s, "claude")
	if _, err := insights.Generate(ctx, s, tn.pub, intelligenceNow); err != nil {
		t.Fatal(err)
	}
	srv, err := New(s, config.Config{Signup: "open", AnthropicAPIKey: "sk-never-sent"}, slog.New(slog.NewTextHandler(io.Discard, nil)), "test")
	if err != nil {
		t.Fatal(err)
	}
	srv.SetClock(func() time.Time { return intelligenceNow })
	ts := intelligenceServer(t, srv)
	_, _, body := send(t, ts, cookie(t, s, tn.users[phantomos.RoleAnalyst]), http.MethodGet, "/intelligence", "", "")
	if !strings.Contains(body, "Narratives are written by Claude") {
		t.Errorf("page does not say Claude writes the narratives:\n%.2000s", body)
	}
	var list insightsJSON
	_, _, body = send(t, ts, cookie(t, s, tn.users[phantomos.RoleAnalyst]), http.MethodGet, "/api/ai/insights", "", "")
	if json.Unmarshal([]byte(body), &list) != nil || list.Narrator != "claude" {
		t.Errorf("API narrator: %s", body)
	}
}

// TestIntelligenceRouteAccess checks the intelligence routes against
// DESIGN.md §4 for every role, anonymously and with API keys, and against
// another publisher's insight: the same rules TestRouteRoleMatrix and
// TestCrossTenant apply to every route of routes.go.
func TestIntelligenceRouteAccess(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := newTenant(t, s, "alpha")
		b := newTenant(t, s, "beta")
		srv, _ := newTestServer(t, s)
		ts := intelligenceServer(t, srv)
		secret := []*store.Insight{{Type: store.InsightRisk, Fingerprint: "alpha-secret", Title: "Secret Alpha Insight", Description: "Only for alpha.",
			Confidence: 0.9, Evidence: json.RawMessage(`{"kind": "concentration"}`), Source: store.SourceLocal}}
		if err := s.UpsertInsights(ctx, a.pub.ID, secret, nil); err != nil {
			t.Fatal(err)
		}
		// Dismissed, so that A's own runs of the detectors keep it.
		if err := s.SetInsightStatus(ctx, a.pub.ID, secret[0].ID, store.InsightDismissed); err != nil {
			t.Fatal(err)
		}
		keys := map[phantomos.Role]string{}
		for _, r := range phantomos.Roles {
			tok := apiKeyPrefix + auth.NewToken()
			if _, err := s.CreateAPIKey(ctx, a.pub.ID, a.users[r].ID, "k", tok[:10], auth.HashToken(tok), r); err != nil {
				t.Fatal(err)
			}
			keys[r] = tok
		}
		for _, rt := range intelligenceRoutes(srv) {
			isAPIRoute := strings.Contains(rt.Pattern, " /api/")
			st, _ := do(t, request(t, ts, rt.Pattern, phantomos.NewID()))
			if want := map[bool]int{true: http.StatusUnauthorized, false: http.StatusSeeOther}[isAPIRoute]; st != want {
				t.Errorf("%s anonymous: status %d, want %d", rt.Pattern, st, want)
			}
			for _, role := range phantomos.Roles {
				may := slices.Contains(capability[rt.Perm], role)
				req := request(t, ts, rt.Pattern, phantomos.NewID())
				req.AddCookie(cookie(t, s, a.users[role]))
				st, body := do(t, req)
				checkAccess(t, rt.Pattern, "session "+string(role), may, st, body)
				if isAPIRoute {
					req := request(t, ts, rt.Pattern, phantomos.NewID())
					req.Header.Set("Authorization", "Bearer "+keys[role])
					st, body := do(t, req)
					checkAccess(t, rt.Pattern, "api key "+string(role), may, st, body)
				}
				// B with A's insight: not found, nothing of A shown.
				req = request(t, ts, rt.Pattern, secret[0].ID)
				req.AddCookie(cookie(t, s, b.users[role]))
				st, body = do(t, req)
				if strings.Contains(rt.Pattern, "{id}") && st != http.StatusNotFound && (st != http.StatusForbidden || may) {
					t.Errorf("%s with A's insight as B's %s: status %d, want 404", rt.Pattern, role, st)
				}
				if strings.Contains(body, "Secret Alpha Insight") || strings.Contains(body, a.pub.Name) {
					t.Errorf("%s as B's %s shows A's data", rt.Pattern, role)
				}
			}
		}
		if got, err := s.Insight(ctx, a.pub.ID, secret[0].ID); err != nil || got.Status != store.InsightDismissed {
			t.Errorf("A's insight after B's requests: %+v, %v", got, err)
		}
	})
}

// TestScheduleStoresForecasts: the scheduler's run stores the forecasts of
// total revenue by month and by week, and the page then serves the stored
// one rather than computing it again.
func TestScheduleStoresForecasts(t *testing.T) {
	s := storetest.New(t, store.SQLite)
	ctx := context.Background()
	pub, users := demoTenantN(t, s, 6_000)
	srv, _ := newTestServer(t, s)
	srv.SetClock(func() time.Time { return intelligenceNow })
	srv.work.Tick(ctx)
	for _, grain := range []string{insights.GrainMonth, insights.GrainWeek} {
		f, err := s.StoredForecast(ctx, pub.ID, store.ScopeTotal, "", grain)
		if err != nil || !f.GeneratedAt.Equal(intelligenceNow) || len(f.Points) < 10 {
			t.Fatalf("after a tick, the %s forecast is %+v, %v", grain, f, err)
		}
	}
	later := intelligenceNow.Add(20 * time.Minute)
	srv.SetClock(func() time.Time { return later })
	ts := intelligenceServer(t, srv)
	_, _, body := send(t, ts, cookie(t, s, users[phantomos.RoleAnalyst]), http.MethodPost, "/api/ai/forecast", "application/json", `{"scope": "total", "grain": "week"}`)
	var fc insights.ForecastResult
	if json.Unmarshal([]byte(body), &fc) != nil || !fc.GeneratedAt.Equal(intelligenceNow) || len(fc.Points) != 13 {
		t.Errorf("the stored weekly forecast is not served: %.300s", body)
	}
}
