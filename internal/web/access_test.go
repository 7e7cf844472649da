package web

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/auth"
	"github.com/phantomos/phantomos/internal/config"
	"github.com/phantomos/phantomos/internal/jobs"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// capability is DESIGN.md §4 written out independently of Role.Can: which
// roles hold each permission. A route whose permission is missing here
// fails the matrix test.
var capability = map[phantomos.Permission][]phantomos.Role{
	phantomos.PermView:         {phantomos.RoleOwner, phantomos.RoleAdmin, phantomos.RoleMember, phantomos.RoleAnalyst},
	phantomos.PermEdit:         {phantomos.RoleOwner, phantomos.RoleAdmin, phantomos.RoleMember},
	phantomos.PermConnectors:   {phantomos.RoleOwner, phantomos.RoleAdmin},
	phantomos.PermTeam:         {phantomos.RoleOwner, phantomos.RoleAdmin},
	phantomos.PermOrganization: {phantomos.RoleOwner},
}

// ingestRoutes are the routes an ingest-scoped key may use (issue 18: it
// writes sales and products and reads nothing), written out apart from
// the server's own list so that a route added there by mistake fails.
var ingestRoutes = map[string]bool{
	"POST /api/v1/orders":                       true,
	"POST /api/v1/products":                     true,
	"DELETE /api/v1/orders/{source}/{order_id}": true,
}

// tenant is a publisher with one user of every role.
type tenant struct {
	pub   *phantomos.Publisher
	users map[phantomos.Role]*phantomos.User
}

func newTenant(t *testing.T, s *store.Store, slug string) tenant {
	t.Helper()
	ctx := context.Background()
	tn := tenant{pub: &phantomos.Publisher{Name: "Publisher " + slug, Slug: slug}, users: map[phantomos.Role]*phantomos.User{}}
	if err := s.CreatePublisher(ctx, tn.pub); err != nil {
		t.Fatal(err)
	}
	for _, r := range phantomos.Roles {
		u := &phantomos.User{Email: string(r) + "@" + slug + ".test", Name: string(r) + " of " + slug, Role: r}
		if err := s.CreateUser(ctx, tn.pub.ID, u, ""); err != nil {
			t.Fatal(err)
		}
		tn.users[r] = u
	}
	return tn
}

// cookie signs u in directly in the store and returns its session cookie.
func cookie(t *testing.T, s *store.Store, u *phantomos.User) *http.Cookie {
	t.Helper()
	tok := auth.NewToken()
	if _, err := s.CreateSession(context.Background(), u, auth.HashToken(tok), time.Now().Add(time.Hour), "", ""); err != nil {
		t.Fatal(err)
	}
	return &http.Cookie{Name: sessionCookie, Value: tok}
}

func newTestServer(t *testing.T, s *store.Store) (*Server, *httptest.Server) {
	t.Helper()
	srv, err := New(s, config.Config{Signup: "open"}, slog.New(slog.NewTextHandler(io.Discard, nil)), "test")
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return srv, ts
}

// request builds a same-origin request for a route pattern, with ids
// filled in from ids (by path segment before "{id}") or a fresh UUID.
func request(t *testing.T, ts *httptest.Server, pattern string, id string) *http.Request {
	t.Helper()
	method, path, _ := strings.Cut(pattern, " ")
	path = strings.ReplaceAll(path, "{$}", "")
	path = strings.ReplaceAll(path, "{id}", id)
	var body io.Reader
	if method != http.MethodGet {
		body = strings.NewReader(url.Values{}.Encode())
	}
	req, err := http.NewRequest(method, ts.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", ts.URL)
	}
	return req
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func do(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestRouteRoleMatrix requests every registered route as every role (and
// anonymously, and with an API key of every role on /api/) and checks
// allowed versus 403 against DESIGN.md §4.
func TestRouteRoleMatrix(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		a := newTenant(t, s, "alpha")
		srv, ts := newTestServer(t, s)
		keys := map[phantomos.Role]string{}
		for _, r := range phantomos.Roles {
			tok := apiKeyPrefix + auth.NewToken()
			if _, err := s.CreateAPIKey(context.Background(), a.pub.ID, a.users[r].ID, "k", tok[:10], auth.HashToken(tok), r); err != nil {
				t.Fatal(err)
			}
			keys[r] = tok
		}
		ingest := ingestKey(t, s, a)
		for _, rt := range srv.Routes() {
			// An ingest-scoped key reaches the push API and nothing else,
			// public API routes included; on a page it signs nobody in.
			if strings.Contains(rt.Pattern, " /api/") {
				req := request(t, ts, rt.Pattern, phantomos.NewID())
				req.Header.Set("Authorization", "Bearer "+ingest)
				st, body := do(t, req)
				checkAccess(t, rt.Pattern, "ingest key", ingestRoutes[rt.Pattern], st, body)
			} else if rt.Perm != phantomos.PermPublic {
				req := request(t, ts, rt.Pattern, phantomos.NewID())
				req.Header.Set("Authorization", "Bearer "+ingest)
				if st, body := do(t, req); st != http.StatusSeeOther && st != http.StatusForbidden && st != http.StatusUnauthorized {
					t.Errorf("%s with an ingest key: status %d, want no access: %.200s", rt.Pattern, st, body)
				}
			}
			if rt.Perm == phantomos.PermPublic {
				continue
			}
			allowed, ok := capability[rt.Perm]
			if !ok {
				t.Errorf("route %s: permission %q is not in DESIGN.md §4", rt.Pattern, rt.Perm)
				continue
			}
			isAPIRoute := strings.Contains(rt.Pattern, " /api/")
			// Anonymous: sent to sign in (pages) or 401 (API).
			st, _ := do(t, request(t, ts, rt.Pattern, phantomos.NewID()))
			if want := map[bool]int{true: http.StatusUnauthorized, false: http.StatusSeeOther}[isAPIRoute]; st != want {
				t.Errorf("%s anonymous: status %d, want %d", rt.Pattern, st, want)
			}
			for _, role := range phantomos.Roles {
				may := false
				for _, r := range allowed {
					may = may || r == role
				}
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
			}
		}
	})
}

func strconvQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func checkAccess(t *testing.T, route, who string, may bool, status int, body string) {
	t.Helper()
	switch {
	case !may && status != http.StatusForbidden:
		t.Errorf("%s as %s: status %d, want 403", route, who, status)
	case may && (status == http.StatusForbidden || status == http.StatusUnauthorized || status >= 500):
		t.Errorf("%s as %s: status %d, want access: %.200s", route, who, status, body)
	}
}

// TestCrossTenant requests, as every role of publisher B, every route that
// takes an id with publisher A's objects: always 404, nothing of A in the
// body, and A's objects untouched. Pages without ids must not show A's data
// to B either.
func TestCrossTenant(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := newTenant(t, s, "alpha")
		b := newTenant(t, s, "beta")
		srv, ts := newTestServer(t, s)
		secretMember := a.users[phantomos.RoleMember]
		inv, err := s.CreateInvitation(ctx, a.pub.ID, a.users[phantomos.RoleOwner].ID, "invitee@alpha.test", phantomos.RoleAnalyst, "tokhash")
		if err != nil {
			t.Fatal(err)
		}
		keyTok := apiKeyPrefix + auth.NewToken()
		keyID, err := s.CreateAPIKey(ctx, a.pub.ID, "", "alpha key", keyTok[:10], auth.HashToken(keyTok), phantomos.RoleAnalyst)
		if err != nil {
			t.Fatal(err)
		}
		g := &phantomos.GameIP{Name: "Alpha Saga", Slug: "alpha-saga"}
		if err := s.CreateGameIP(ctx, a.pub.ID, g); err != nil {
			t.Fatal(err)
		}
		asset := &phantomos.Asset{GameIPID: g.ID, Name: "Secret Alpha Hero", AssetType: phantomos.AssetCharacter}
		if err := s.CreateAsset(ctx, a.pub.ID, asset); err != nil {
			t.Fatal(err)
		}
		// Dismissed, so that A's own visits to /intelligence (which re-run the
		// detectors) keep it.
		ins := []*store.Insight{{Type: store.InsightRisk, Fingerprint: "alpha-secret", Title: "Secret Alpha Insight", Description: "d",
			Confidence: 0.9, Evidence: json.RawMessage(`{}`), Source: store.SourceLocal}}
		if err := s.UpsertInsights(ctx, a.pub.ID, ins, nil); err != nil {
			t.Fatal(err)
		}
		if err := s.SetInsightStatus(ctx, a.pub.ID, ins[0].ID, store.InsightDismissed); err != nil {
			t.Fatal(err)
		}
		conn := &phantomos.Connector{Type: phantomos.ConnectorShopify, Name: "alpha-secret-shop.myshopify.com"}
		if err := s.CreateConnector(ctx, a.pub.ID, conn); err != nil {
			t.Fatal(err)
		}
		job := newTestImportJob(t, s, a.pub.ID, secretMember.ID)
		product := &phantomos.Product{ConnectorID: conn.ID, ExternalID: "secret-1", Name: "Secret Alpha Tee", Currency: "USD", Category: phantomos.CategoryApparel}
		if err := s.CreateProducts(ctx, a.pub.ID, []*phantomos.Product{product}, nil); err != nil {
			t.Fatal(err)
		}
		rule := &store.NotifyPref{UserID: secretMember.ID, Kinds: []string{"risk"}, Channel: store.ChannelEmail, Rhythm: store.RhythmImmediate}
		if err := s.CreateNotifyPref(ctx, a.pub.ID, rule); err != nil {
			t.Fatal(err)
		}
		report := &store.Report{CreatedBy: secretMember.ID, Name: "Secret Alpha Report", View: "assets", Schedule: "weekly", Recipients: []string{secretMember.Email}}
		if err := s.CreateReport(ctx, a.pub.ID, report); err != nil {
			t.Fatal(err)
		}
		objects := map[string]string{"notifications": rule.ID, "reports": report.ID, "members": secretMember.ID, "invitations": inv.ID, "api-keys": keyID, "assets": asset.ID, "insights": ins[0].ID, "connectors": conn.ID, "jobs": job,
			"products": product.ID, "game-ips": g.ID}
		leaks := []string{secretMember.Email, secretMember.Name, "invitee@alpha.test", "alpha key", a.pub.Name, "Secret Alpha Hero", "Alpha Saga", "Secret Alpha Insight", "alpha-secret-shop", "secret-alpha-orders.csv", "Secret Alpha Tee", "Secret Alpha Report"}

		for _, rt := range srv.Routes() {
			_, path, _ := strings.Cut(rt.Pattern, " ")
			if !strings.Contains(path, "{id}") {
				continue
			}
			seg := path[:strings.Index(path, "/{id}")]
			seg = seg[strings.LastIndex(seg, "/")+1:]
			id, ok := objects[seg]
			if !ok {
				t.Errorf("route %s takes an id but the test has no object of A for %q: add one", rt.Pattern, seg)
				continue
			}
			for _, role := range phantomos.Roles {
				// A role with the permission learns nothing but "not found",
				// for A's id as for an id that is no one's or not even an id;
				// a role without it is refused before any lookup.
				want := http.StatusNotFound
				if !role.Can(rt.Perm) {
					want = http.StatusForbidden
				}
				for _, id := range []string{id, phantomos.NewID(), "not-an-id", "12345"} {
					req := request(t, ts, rt.Pattern, id)
					req.AddCookie(cookie(t, s, b.users[role]))
					st, _ := do(t, req)
					if st != want {
						t.Errorf("%s with id %q as B's %s: status %d, want %d", rt.Pattern, id, role, st, want)
					}
				}
				req := request(t, ts, rt.Pattern, id)
				req.AddCookie(cookie(t, s, b.users[role]))
				_, body := do(t, req)
				for _, l := range leaks {
					if strings.Contains(body, l) {
						t.Errorf("%s as B's %s: body contains A's %q", rt.Pattern, role, l)
					}
				}
			}
		}
		// The seed API takes its id in the query.
		req, _ := http.NewRequest(http.MethodDelete, ts.URL+"/api/settings/invite?id="+inv.ID, nil)
		req.AddCookie(cookie(t, s, b.users[phantomos.RoleOwner]))
		if st, _ := do(t, req); st != http.StatusNotFound {
			t.Errorf("DELETE /api/settings/invite with A's id as B: %d, want 404", st)
		}
		// Every page B can open shows nothing of A.
		for _, rt := range srv.Routes() {
			method, path, _ := strings.Cut(rt.Pattern, " ")
			if method != http.MethodGet || strings.Contains(path, "{id}") || rt.Perm == phantomos.PermPublic {
				continue
			}
			req := request(t, ts, rt.Pattern, "")
			req.AddCookie(cookie(t, s, b.users[phantomos.RoleOwner]))
			_, body := do(t, req)
			for _, l := range leaks {
				if strings.Contains(body, l) {
					t.Errorf("%s as B: body contains A's %q", rt.Pattern, l)
				}
			}
		}
		// A question naming A's asset, asked as B, reaches nothing of A: the
		// answer (everything but the echoed question) names none of A's
		// things, and the typed query names none of A's ids.
		question := "How much revenue did Secret Alpha Hero make in Alpha Saga?"
		for _, role := range phantomos.Roles {
			req := request(t, ts, "GET /ask?q="+url.QueryEscape(question), "")
			req.AddCookie(cookie(t, s, b.users[role]))
			st, body := do(t, req)
			// The answer, or for a refusal the suggestions after the message
			// (which repeats the asker's own words).
			answer := ""
			if i := strings.Index(body, `id="answer"`); i >= 0 {
				answer = body[i:]
				answer = answer[:strings.Index(answer, "</section>")]
			} else if i := strings.Index(body, `id="not-understood"`); i >= 0 {
				answer = body[i:]
				answer = answer[strings.Index(answer, "</p>"):strings.Index(answer, "</section>")]
			} else {
				t.Errorf("GET /ask as B's %s: neither an answer nor a refusal", role)
			}
			if st != http.StatusOK {
				t.Errorf("GET /ask as B's %s: status %d", role, st)
			}
			for _, l := range append(leaks, g.ID, asset.ID) {
				if strings.Contains(answer, l) {
					t.Errorf("GET /ask as B's %s: answer contains A's %q", role, l)
				}
			}
			req = request(t, ts, "POST /api/v1/ask", "")
			req.Body = io.NopCloser(strings.NewReader(`{"question": ` + strconvQuote(question) + `}`))
			req.Header.Set("Content-Type", "application/json")
			req.AddCookie(cookie(t, s, b.users[role]))
			st, body = do(t, req)
			if st != http.StatusOK {
				t.Fatalf("POST /api/v1/ask as B's %s: status %d: %s", role, st, body)
			}
			var res map[string]any
			if err := json.Unmarshal([]byte(body), &res); err != nil {
				t.Fatal(err)
			}
			delete(res, "question")
			delete(res, "message") // a refusal repeats the asker's own words
			rest, _ := json.Marshal(res)
			for _, l := range append(leaks, g.ID, asset.ID) {
				if strings.Contains(string(rest), l) {
					t.Errorf("POST /api/v1/ask as B's %s: answer contains A's %q: %s", role, l, rest)
				}
			}
		}
		// A's objects are untouched.
		if _, err := s.User(ctx, a.pub.ID, secretMember.ID); err != nil {
			t.Errorf("A's member: %v", err)
		}
		if got, err := s.Invitation(ctx, a.pub.ID, inv.ID); err != nil || got.Status != "pending" {
			t.Errorf("A's invitation: %+v, %v", got, err)
		}
		if _, err := s.ActorByAPIKey(ctx, auth.HashToken(keyTok)); err != nil {
			t.Errorf("A's key: %v", err)
		}
		if c, err := s.Connector(ctx, a.pub.ID, conn.ID); err != nil || c.Status == "disconnected" {
			t.Errorf("A's connector: %+v, %v", c, err)
		}
	})
}

// startJobs runs a job queue on the database of s, with srv doing the
// work, until the test ends: what handlers enqueue runs as in serve.
func startJobs(t *testing.T, srv *Server, s *store.Store) {
	t.Helper()
	q, err := jobs.Open(context.Background(), s, jobs.Config{Work: srv.work, ScheduleEvery: -1, PollEvery: 20 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	srv.SetJobs(q)
	if err := q.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		q.Stop(context.Background())
		q.Close()
	})
}
