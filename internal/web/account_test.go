package web

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/auth"
	"github.com/phantomos/phantomos/internal/config"
	"github.com/phantomos/phantomos/internal/mail/mailtest"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// browserClient keeps cookies and sends same-origin form posts.
type browserClient struct {
	t  *testing.T
	ts *httptest.Server
	c  *http.Client
}

func newBrowser(t *testing.T, ts *httptest.Server) *browserClient {
	jar, _ := cookiejar.New(nil)
	return &browserClient{t: t, ts: ts, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browserClient) post(path string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.ts.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.ts.URL)
	return b.do(req)
}

func (b *browserClient) get(path string) (*http.Response, string) {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.ts.URL+path, nil)
	return b.do(req)
}

func (b *browserClient) do(req *http.Request) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func userWithPassword(t *testing.T, s *store.Store, pub phantomos.PublisherID, email, password string, role phantomos.Role) *phantomos.User {
	t.Helper()
	h, err := auth.HashPassword(password)
	if err != nil {
		t.Fatal(err)
	}
	u := &phantomos.User{Email: email, Name: email, Role: role}
	if err := s.CreateUser(context.Background(), pub, u, h); err != nil {
		t.Fatal(err)
	}
	return u
}

// TestBruteForceIsThrottled: 50 wrong passwords in a row. After ten the
// account is throttled with 429 and Retry-After, even for the right
// password; unknown and known emails get the same answer.
func TestBruteForceIsThrottled(t *testing.T) {
	s := storetest.New(t, store.SQLite)
	a := newTenant(t, s, "alpha")
	userWithPassword(t, s, a.pub.ID, "victim@alpha.test", "the real passphrase", phantomos.RoleOwner)
	_, ts := newTestServer(t, s)
	b := newBrowser(t, ts)

	_, unknown := b.post("/login", url.Values{"email": {"nobody@alpha.test"}, "password": {"guess-000"}})
	var statuses []int
	for i := range 50 {
		resp, body := b.post("/login", url.Values{"email": {"victim@alpha.test"}, "password": {"guess-" + string(rune('a'+i%26))}})
		statuses = append(statuses, resp.StatusCode)
		if i == 0 && !strings.Contains(body, "Email or password is incorrect.") || !strings.Contains(unknown, "Email or password is incorrect.") {
			t.Fatal("known and unknown emails get different messages")
		}
		if resp.StatusCode == http.StatusTooManyRequests && resp.Header.Get("Retry-After") == "" {
			t.Fatal("429 without Retry-After")
		}
	}
	for i, st := range statuses {
		want := http.StatusUnauthorized
		if i >= 10 {
			want = http.StatusTooManyRequests
		}
		if st != want {
			t.Fatalf("attempt %d: status %d, want %d (all: %v)", i+1, st, want, statuses)
		}
	}
	if resp, _ := b.post("/login", url.Values{"email": {"victim@alpha.test"}, "password": {"the real passphrase"}}); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("right password while throttled: %d, want 429", resp.StatusCode)
	}
	log, _ := s.AuditLog(context.Background(), a.pub.ID, time.Time{}, 100)
	if len(log) != 10 || log[0].Action != "auth.login_failed" {
		t.Errorf("audit has %d entries (first %v), want 10 failed sign-ins", len(log), log)
	}
}

// TestTamperedCookie: a cookie that is not a live session's token is
// nobody.
func TestTamperedCookie(t *testing.T) {
	s := storetest.New(t, store.SQLite)
	a := newTenant(t, s, "alpha")
	_, ts := newTestServer(t, s)
	good := cookie(t, s, a.users[phantomos.RoleOwner])
	for _, v := range []string{good.Value + "x", strings.ToUpper(good.Value), auth.HashToken(good.Value), "", "'; DROP TABLE sessions; --"} {
		req := request(t, ts, "GET /overview", "")
		req.AddCookie(&http.Cookie{Name: sessionCookie, Value: v})
		if st, _ := do(t, req); st != http.StatusSeeOther {
			t.Errorf("cookie %q: status %d, want redirect to sign-in", v, st)
		}
	}
}

// TestTwoFactorSignIn enrols TOTP through the security page and signs in
// with a code, then with a recovery code once.
func TestTwoFactorSignIn(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		a := newTenant(t, s, "alpha")
		userWithPassword(t, s, a.pub.ID, "sec@alpha.test", "a long secret phrase", phantomos.RoleMember)
		srv, ts := newTestServer(t, s)
		now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
		srv.SetClock(func() time.Time { return now })
		s.SetClock(func() time.Time { return now })
		b := newBrowser(t, ts)
		if resp, _ := b.post("/login", url.Values{"email": {"sec@alpha.test"}, "password": {"a long secret phrase"}}); resp.Header.Get("Location") != "/overview" {
			t.Fatalf("sign-in: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		_, page := b.post("/settings/security/2fa/start", nil)
		secret := between(page, `id="totp-secret">`, "<")
		if secret == "" {
			t.Fatalf("no secret shown:\n%s", page)
		}
		code, _ := totp.GenerateCode(secret, now)
		_, page = b.post("/settings/security/2fa/enable", url.Values{"code": {code}})
		recovery := between(page, `<ul class="codes mono"><li>`, "<")
		if recovery == "" {
			t.Fatalf("no recovery codes shown:\n%s", page)
		}

		// The code that proved the set-up is spent; sign-in takes the next one.
		now = now.Add(30 * time.Second)
		code, _ = totp.GenerateCode(secret, now)

		// Password alone now leads to the second step, which alone opens nothing.
		c := newBrowser(t, ts)
		resp, _ := c.post("/login", url.Values{"email": {"sec@alpha.test"}, "password": {"a long secret phrase"}})
		if loc := resp.Header.Get("Location"); !strings.HasPrefix(loc, "/login/2fa") {
			t.Fatalf("after password with 2FA: %s", loc)
		}
		if resp, _ := c.get("/overview"); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("half-signed-in session opened /overview: %d", resp.StatusCode)
		}
		if resp, _ := c.post("/login/2fa", url.Values{"code": {"000000"}}); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("wrong code: %d", resp.StatusCode)
		}
		resp, _ = c.post("/login/2fa", url.Values{"code": {code}})
		if resp.Header.Get("Location") != "/overview" {
			t.Fatalf("right code: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		if resp, _ := c.get("/overview"); resp.StatusCode != http.StatusOK {
			t.Errorf("after 2FA /overview: %d", resp.StatusCode)
		}

		// A recovery code works once.
		for i, want := range []string{"/overview", ""} {
			d := newBrowser(t, ts)
			d.post("/login", url.Values{"email": {"sec@alpha.test"}, "password": {"a long secret phrase"}})
			resp, _ := d.post("/login/2fa", url.Values{"code": {recovery}})
			if got := resp.Header.Get("Location"); got != want {
				t.Errorf("recovery code use %d: redirect %q, want %q", i+1, got, want)
			}
		}
	})
}

func between(s, start, end string) string {
	i := strings.Index(s, start)
	if i < 0 {
		return ""
	}
	s = s[i+len(start):]
	j := strings.Index(s, end)
	if j < 0 {
		return ""
	}
	return s[:j]
}

// TestInvitationByEmailAndAPI invites through the seed API with SMTP
// configured, reads the link from the fake SMTP server, validates and
// accepts it through the API, and checks single use.
func TestInvitationByEmailAndAPI(t *testing.T) {
	s := storetest.New(t, store.SQLite)
	a := newTenant(t, s, "alpha")
	smtp := mailtest.New(t)
	port := smtp.Addr[strings.LastIndex(smtp.Addr, ":")+1:]
	srv, err := New(s, config.Config{Signup: "open", SMTPURL: "smtp://localhost:" + port + "?from=team@phantomos.test", BaseURL: "https://phantomos.example"},
		slog.New(slog.NewTextHandler(io.Discard, nil)), "test")
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()

	tok := apiKeyPrefix + auth.NewToken()
	s.CreateAPIKey(context.Background(), a.pub.ID, a.users[phantomos.RoleAdmin].ID, "k", tok[:10], auth.HashToken(tok), phantomos.RoleAdmin)
	call := func(method, path, bearer, body string) (int, map[string]any) {
		req, _ := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	if st, _ := call("POST", "/api/settings/invite", tok, `{"email":"boss@x.test","role":"owner"}`); st != http.StatusBadRequest && st != http.StatusForbidden {
		t.Errorf("admin inviting an owner: %d", st)
	}
	st, inv := call("POST", "/api/settings/invite", tok, `{"email":"New.Hire@X.test","role":"member"}`)
	if st != http.StatusCreated || inv["emailed"] != true || inv["email"] != "new.hire@x.test" {
		t.Fatalf("create: %d %v", st, inv)
	}
	msgs := smtp.Messages()
	if len(msgs) != 1 || msgs[0].To[0] != "new.hire@x.test" {
		t.Fatalf("mails: %+v", msgs)
	}
	link := between(msgs[0].Data, "https://phantomos.example/invite?token=", "\n")
	token := strings.TrimSpace(link)
	if token == "" || !strings.Contains(inv["invite_url"].(string), token) {
		t.Fatalf("no token in mail:\n%s", msgs[0].Data)
	}
	if st, v := call("GET", "/api/settings/invite/validate?token="+url.QueryEscape(token), "", ""); st != 200 || v["publisher"] != a.pub.Name || v["role"] != "member" {
		t.Errorf("validate: %d %v", st, v)
	}
	body := `{"token":"` + token + `","name":"New Hire","password":"fresh start please"}`
	if st, v := call("POST", "/api/settings/invite/validate", "", body); st != http.StatusCreated {
		t.Fatalf("accept: %d %v", st, v)
	}
	if st, _ := call("POST", "/api/settings/invite/validate", "", body); st != http.StatusNotFound {
		t.Errorf("second accept: %d, want 404", st)
	}
	if st, _ := call("GET", "/api/settings/invite/validate?token=nonsense", "", ""); st != http.StatusNotFound {
		t.Errorf("bad token: %d, want 404", st)
	}
	u, _, err := s.UserForLogin(context.Background(), "new.hire@x.test")
	if err != nil || u.Role != phantomos.RoleMember || u.PublisherID != a.pub.ID {
		t.Errorf("new user %+v, %v", u, err)
	}
}

// TestAPIKeyRoleCeiling: an admin cannot mint an owner key; a key acts
// with its role in its publisher only.
func TestAPIKeyRoleCeiling(t *testing.T) {
	s := storetest.New(t, store.SQLite)
	a := newTenant(t, s, "alpha")
	_, ts := newTestServer(t, s)
	b := newBrowser(t, ts)
	ts.Client()
	u, _ := url.Parse(ts.URL)
	b.c.Jar.SetCookies(u, []*http.Cookie{cookie(t, s, a.users[phantomos.RoleAdmin])})
	if resp, _ := b.post("/settings/api-keys", url.Values{"name": {"x"}, "role": {"owner"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("admin creating an owner key: %d", resp.StatusCode)
	}
	_, page := b.post("/settings/api-keys", url.Values{"name": {"Nightly"}, "role": {"analyst"}})
	key := between(page, `id="new-api-key" value="`, `"`)
	if !strings.HasPrefix(key, apiKeyPrefix) {
		t.Fatalf("no key shown:\n%s", page)
	}
	req, _ := http.NewRequest(http.MethodGet, ts.URL+"/api/v1/me", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	st, body := do(t, req)
	if st != 200 || !strings.Contains(body, `"role":"analyst"`) || !strings.Contains(body, string(a.pub.ID)) {
		t.Errorf("/api/v1/me with key: %d %s", st, body)
	}
	keys, _ := s.APIKeys(context.Background(), a.pub.ID)
	if len(keys) != 1 || strings.Contains(page, auth.HashToken(key)) {
		t.Errorf("keys %+v", keys)
	}
	_, again := b.get("/settings/api-keys")
	if strings.Contains(again, key) {
		t.Error("the key is shown again after creation")
	}
}
