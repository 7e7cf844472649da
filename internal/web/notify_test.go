package web

import (
	"bytes"
	"context"
	"encoding/json"
	"html"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/config"
	"github.com/phantomos/phantomos/internal/jobs"
	"github.com/phantomos/phantomos/internal/mail/mailtest"
	"github.com/phantomos/phantomos/internal/notify"
	"github.com/phantomos/phantomos/internal/secret"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// receiver is a local webhook endpoint: it verifies each delivery with
// its secret (when set), fails the first failFirst requests with 500, and
// keeps what it accepted.
type receiver struct {
	t         *testing.T
	srv       *httptest.Server
	mu        sync.Mutex
	secret    string
	failFirst int
	failAll   bool
	requests  int
	accepted  [][]byte
	ids       []string
}

func newReceiver(t *testing.T, failFirst int) *receiver {
	rc := &receiver{t: t, failFirst: failFirst}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		rc.mu.Lock()
		defer rc.mu.Unlock()
		rc.requests++
		if rc.failAll || rc.requests <= rc.failFirst {
			http.Error(w, "receiver is down", http.StatusInternalServerError)
			return
		}
		if rc.secret != "" {
			if err := notify.Verify(rc.secret, r.Header, body, time.Now()); err != nil {
				rc.t.Errorf("receiver: %v", err)
				http.Error(w, "bad signature", http.StatusUnauthorized)
				return
			}
			rc.ids = append(rc.ids, r.Header.Get("webhook-id"))
		}
		rc.accepted = append(rc.accepted, body)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) got() ([][]byte, int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([][]byte(nil), rc.accepted...), rc.requests
}

// notifyServer is a server with email to an in-process SMTP fake,
// notifications enabled (loopback targets allowed, as only tests do) and
// a job queue whose deliveries retry after 50ms.
func notifyServer(t *testing.T, s *store.Store) (*Server, *httptest.Server, *mailtest.Server) {
	t.Helper()
	smtp := mailtest.New(t)
	port := smtp.Addr[strings.LastIndex(smtp.Addr, ":")+1:]
	srv, err := New(s, config.Config{Signup: "open", SMTPURL: "smtp://localhost:" + port + "?from=alerts@phantomos.test", BaseURL: "https://phantomos.example"},
		slog.New(slog.NewTextHandler(io.Discard, nil)), "test")
	if err != nil {
		t.Fatal(err)
	}
	keys, err := secret.Parse(secret.Generate())
	if err != nil {
		t.Fatal(err)
	}
	srv.EnableNotifications(keys, NotifyOptions{AllowPrivateTargets: true})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	q, err := jobs.Open(context.Background(), s, jobs.Config{Work: srv.work, ScheduleEvery: -1, NotifyEvery: -1, PollEvery: 20 * time.Millisecond,
		DeliverAttempts: 3, DeliverBackoff: 50 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
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
	return srv, ts, smtp
}

// settle waits until none of pub's deliveries is pending.
func settle(t *testing.T, s *store.Store, pub phantomos.PublisherID) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		pending, err := s.PendingDeliveries(context.Background(), pub, time.Now().Add(time.Hour), 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(pending) == 0 {
			return
		}
		time.Sleep(30 * time.Millisecond)
	}
	t.Fatal("deliveries still pending after 20s")
}

var secretInput = regexp.MustCompile(`id="webhook-secret" value="(whsec_[^"]+)"`)

func addRule(t *testing.T, ts *httptest.Server, c *http.Cookie, v url.Values) string {
	t.Helper()
	st, _, body := send(t, ts, c, http.MethodPost, "/settings/notifications", form, v.Encode())
	if st != http.StatusOK || !strings.Contains(body, "Rule added") {
		t.Fatalf("add rule %v: %d %s", v, st, body)
	}
	if m := secretInput.FindStringSubmatch(body); m != nil {
		return html.UnescapeString(m[1])
	}
	return ""
}

func TestRiskAlertReachesEmailWebhookAndSlackOnce(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := newTenant(t, s, "alpha")
		b := newTenant(t, s, "beta")
		srv, ts, smtp := notifyServer(t, s)
		owner := a.users[phantomos.RoleOwner]
		c := cookie(t, s, owner)

		hook := newReceiver(t, 1) // the first attempt fails: the retry delivers
		slack := newReceiver(t, 0)
		addRule(t, ts, c, url.Values{"kind": {"risk"}, "channel": {"email"}, "rhythm": {"immediate"}, "min_confidence": {"60"}})
		hook.secret = addRule(t, ts, c, url.Values{"kind": {"risk"}, "channel": {"webhook"}, "target": {hook.srv.URL + "/hook"}, "rhythm": {"immediate"}, "min_confidence": {"60"}})
		if hook.secret == "" {
			t.Fatal("no signing secret shown")
		}
		addRule(t, ts, c, url.Values{"kind": {"risk"}, "channel": {"slack"}, "target": {slack.srv.URL + "/services/T0/B0/x"}, "rhythm": {"immediate"}, "min_confidence": {"60"}})
		// B's member wants every risk too: A's insight must not reach B.
		bHook := newReceiver(t, 0)
		addRule(t, ts, cookie(t, s, b.users[phantomos.RoleMember]), url.Values{"kind": {"risk"}, "channel": {"webhook"}, "target": {bHook.srv.URL}, "rhythm": {"immediate"}})

		risk := &store.Insight{Type: store.InsightRisk, Fingerprint: "asset_declining:wren", Title: "Wren the Lanternbearer is declining",
			Description: "Revenue down 31% on the same months last year.", Confidence: 0.9, Evidence: json.RawMessage(`{"kind":"asset_declining"}`), Source: store.SourceLocal}
		low := &store.Insight{Type: store.InsightRisk, Fingerprint: "low", Title: "A weak risk", Description: "d", Confidence: 0.3, Evidence: json.RawMessage(`{}`), Source: store.SourceLocal}
		trend := &store.Insight{Type: store.InsightTrend, Fingerprint: "trend", Title: "A trend", Description: "d", Confidence: 0.9, Evidence: json.RawMessage(`{}`), Source: store.SourceLocal}
		if err := s.UpsertInsights(ctx, a.pub.ID, []*store.Insight{risk, low, trend}, nil); err != nil {
			t.Fatal(err)
		}
		if err := srv.work.NotifySweep(ctx); err != nil {
			t.Fatal(err)
		}
		settle(t, s, a.pub.ID)

		mails := smtp.Messages()
		if len(mails) != 1 || mails[0].To[0] != owner.Email || !strings.Contains(mails[0].Raw, "Wren the Lanternbearer is declining") {
			t.Fatalf("emails: %+v", mails)
		}
		parts, err := mails[0].Parts()
		if err != nil || len(parts) != 2 || parts[0].ContentType != "text/plain" || parts[1].ContentType != "text/html" ||
			!strings.Contains(string(parts[0].Body), "https://phantomos.example/intelligence#insight-"+risk.ID) {
			t.Errorf("email parts %v: %+v", err, parts)
		}
		hooks, tries := hook.got()
		if len(hooks) != 1 || tries != 2 {
			t.Fatalf("webhook: %d accepted of %d requests, want 1 of 2", len(hooks), tries)
		}
		var wh struct {
			Type string
			Data struct{ Alerts []notify.Alert }
		}
		if err := json.Unmarshal(hooks[0], &wh); err != nil || wh.Type != "insights.alert" || len(wh.Data.Alerts) != 1 || wh.Data.Alerts[0].Fingerprint != risk.Fingerprint {
			t.Errorf("webhook body %s", hooks[0])
		}
		slacks, _ := slack.got()
		if len(slacks) != 1 || !strings.Contains(string(slacks[0]), `"blocks"`) || !strings.Contains(string(slacks[0]), "https://phantomos.example/intelligence#insight-"+risk.ID) {
			t.Fatalf("slack: %q", slacks)
		}
		if got, _ := bHook.got(); len(got) != 0 {
			t.Errorf("B's webhook got A's alert: %s", got)
		}

		// Found again, and even removed and found again under a new id:
		// never sent again.
		risk2 := *risk
		if err := s.UpsertInsights(ctx, a.pub.ID, []*store.Insight{&risk2}, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := s.DeleteStaleInsights(ctx, a.pub.ID, time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		risk3 := *risk
		if err := s.UpsertInsights(ctx, a.pub.ID, []*store.Insight{&risk3}, nil); err != nil {
			t.Fatal(err)
		}
		if risk3.ID == risk.ID {
			t.Fatal("the re-found insight kept its id; the test needs a new one")
		}
		for range 2 {
			if err := srv.work.NotifySweep(ctx); err != nil {
				t.Fatal(err)
			}
		}
		settle(t, s, a.pub.ID)
		time.Sleep(200 * time.Millisecond)
		hooks, _ = hook.got()
		slacks, _ = slack.got()
		if n := len(smtp.Messages()); n != 1 || len(hooks) != 1 || len(slacks) != 1 {
			t.Errorf("after finding it again: %d emails, %d webhooks, %d slack messages; want 1 each", n, len(hooks), len(slacks))
		}
		if len(hook.ids) != 1 {
			t.Errorf("webhook ids %v", hook.ids)
		}
	})
}

func TestFailedDeliveryShowsOnTheSettingsPage(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := newTenant(t, s, "alpha")
		srv, ts, _ := notifyServer(t, s)
		c := cookie(t, s, a.users[phantomos.RoleMember])
		down := newReceiver(t, 0)
		down.failAll = true
		addRule(t, ts, c, url.Values{"kind": {"risk", "opportunity"}, "channel": {"webhook"}, "target": {down.srv.URL}, "rhythm": {"immediate"}})
		in := &store.Insight{Type: store.InsightRisk, Fingerprint: "r", Title: "Risk", Description: "d", Confidence: 1, Evidence: json.RawMessage(`{}`), Source: store.SourceLocal}
		if err := s.UpsertInsights(ctx, a.pub.ID, []*store.Insight{in}, nil); err != nil {
			t.Fatal(err)
		}
		if err := srv.work.NotifySweep(ctx); err != nil {
			t.Fatal(err)
		}
		settle(t, s, a.pub.ID)
		if _, tries := down.got(); tries != 3 {
			t.Errorf("%d attempts, want 3", tries)
		}
		st, _, body := send(t, ts, c, http.MethodGet, "/settings/notifications", "", "")
		if st != http.StatusOK || !strings.Contains(body, "after 3 attempts") || !strings.Contains(body, "500 Internal Server Error: receiver is down") {
			t.Errorf("settings page %d does not show the failure:\n%s", st, body)
		}
	})
}

func TestWeeklyDigestArrivesWithItsPNGAndUnsubscribes(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		pub, users := demoTenantN(t, s, 4000)
		srv, ts, smtp := notifyServer(t, s)
		srv.SetClock(func() time.Time { return intelligenceNow })
		member := users[phantomos.RoleMember]
		c := cookie(t, s, member)
		if st, _, body := send(t, ts, c, http.MethodPost, "/settings/notifications/digest", form, "weekly=on"); st != http.StatusOK || !strings.Contains(body, "weekly digest by email") {
			t.Fatalf("subscribe: %d %s", st, body)
		}
		risk := &store.Insight{Type: store.InsightRisk, Fingerprint: "r", Title: "Concentration risk on Wren", Description: "d", Confidence: 1, Evidence: json.RawMessage(`{}`), Source: store.SourceLocal}
		if err := s.UpsertInsights(ctx, pub.ID, []*store.Insight{risk}, nil); err != nil {
			t.Fatal(err)
		}
		for range 2 { // twice in the same week: one digest
			if err := srv.work.NotifySweep(ctx); err != nil {
				t.Fatal(err)
			}
		}
		settle(t, s, pub.ID)
		mails := smtp.Messages()
		if len(mails) != 1 || mails[0].To[0] != member.Email {
			t.Fatalf("mails %+v", mails)
		}
		parts, err := mails[0].Parts()
		if err != nil || len(parts) != 3 {
			t.Fatalf("parts %v %+v", err, parts)
		}
		text, html, chart := string(parts[0].Body), string(parts[1].Body), parts[2]
		if parts[0].ContentType != "text/plain" || parts[1].ContentType != "text/html" || chart.ContentType != "image/png" || chart.ContentID != "chart" {
			t.Errorf("part types %s %s %s %s", parts[0].ContentType, parts[1].ContentType, chart.ContentType, chart.ContentID)
		}
		if _, err := png.Decode(bytes.NewReader(chart.Body)); err != nil {
			t.Errorf("chart is not a PNG: %v", err)
		}
		if !strings.Contains(html, `src="cid:chart"`) || !strings.Contains(text, "Concentration risk on Wren") || !strings.Contains(text, "Net revenue: USD ") ||
			!strings.Contains(text, "Top assets\n- ") || strings.Contains(text, "No asset sold") {
			t.Errorf("digest text:\n%s", text)
		}
		// The week's figure is the Overview's for the same seven days.
		st, _, ov := send(t, ts, c, http.MethodGet, "/api/analytics?range=7d", "", "")
		var o struct {
			Current struct {
				NetRevenue int64 `json:"net_revenue"`
			} `json:"current"`
		}
		if st != http.StatusOK || json.Unmarshal([]byte(ov), &o) != nil || !strings.Contains(text, notify.Money(o.Current.NetRevenue, "USD")) {
			t.Errorf("digest net revenue differs from the Overview's %d (%d)", o.Current.NetRevenue, st)
		}
		link := regexp.MustCompile(`Stop these emails \(no sign-in needed\): (\S+)`).FindStringSubmatch(text)
		if link == nil || mails[0].Header("List-Unsubscribe") != "<"+link[1]+">" {
			t.Fatalf("no unsubscribe link: %s", text)
		}
		u, _ := url.Parse(link[1])
		tok := u.Query().Get("t")
		// Without signing in: the page asks, the post unsubscribes.
		resp, err := http.Get(ts.URL + "/unsubscribe?t=" + url.QueryEscape(tok))
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), "Stop the weekly digest") {
			t.Errorf("unsubscribe page %d", resp.StatusCode)
		}
		if nu, _ := s.NotifyUser(ctx, pub.ID, member.ID); !nu.WeeklyDigest {
			t.Error("opening the link unsubscribed (mail scanners open links)")
		}
		forged := tok[:len(tok)-4] + "AAAA"
		for _, bad := range []string{forged, "", "x.y"} {
			req, _ := http.NewRequest(http.MethodPost, ts.URL+"/unsubscribe", strings.NewReader(url.Values{"t": {bad}}.Encode()))
			req.Header.Set("Content-Type", form)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("forged token %q: %d, want 404", bad, resp.StatusCode)
			}
		}
		if nu, _ := s.NotifyUser(ctx, pub.ID, member.ID); !nu.WeeklyDigest {
			t.Error("a forged token unsubscribed")
		}
		// One-click (RFC 8058): the mail client posts to the link itself.
		req, _ := http.NewRequest(http.MethodPost, ts.URL+"/unsubscribe?t="+url.QueryEscape(tok), strings.NewReader("List-Unsubscribe=One-Click"))
		req.Header.Set("Content-Type", form)
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		page, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), "You are unsubscribed") {
			t.Errorf("unsubscribe: %d", resp.StatusCode)
		}
		if nu, _ := s.NotifyUser(ctx, pub.ID, member.ID); nu.WeeklyDigest {
			t.Error("still subscribed")
		}
		srv.SetClock(func() time.Time { return intelligenceNow.Add(7 * 24 * time.Hour) })
		if err := srv.work.NotifySweep(ctx); err != nil {
			t.Fatal(err)
		}
		settle(t, s, pub.ID)
		if n := len(smtp.Messages()); n != 1 {
			t.Errorf("%d digests after unsubscribing, want none more", n-1)
		}
	})
}

func TestScheduledReportArrivesAsCSV(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		pub, users := demoTenantN(t, s, 4000)
		srv, ts, smtp := notifyServer(t, s)
		srv.SetClock(func() time.Time { return intelligenceNow })
		admin := &phantomos.User{Email: "admin@demo.test", Name: "Admin", Role: phantomos.RoleAdmin}
		if err := s.CreateUser(ctx, pub.ID, admin, ""); err != nil {
			t.Fatal(err)
		}
		c := cookie(t, s, admin)
		// The Assets page offers it to owners and admins only.
		if _, _, body := send(t, ts, c, http.MethodGet, "/assets?range=30d", "", ""); !strings.Contains(body, "Save as report") {
			t.Error("the Assets page has no Save as report control")
		}
		if _, _, body := send(t, ts, cookie(t, s, users[phantomos.RoleMember]), http.MethodGet, "/assets?range=30d", "", ""); strings.Contains(body, "Save as report") {
			t.Error("a member is offered Save as report")
		}
		v := url.Values{"view": {"assets"}, "query": {"?range=30d"}, "name": {"Monthly assets"}, "schedule": {"daily"}, "recipients": {admin.Email + ", " + users[phantomos.RoleMember].Email}}
		if st, _, body := send(t, ts, c, http.MethodPost, "/settings/reports", form, v.Encode()); st != http.StatusOK || !strings.Contains(body, "saved") {
			t.Fatalf("save report: %d %s", st, body)
		}
		v.Set("recipients", "stranger@elsewhere.test")
		if st, _, body := send(t, ts, c, http.MethodPost, "/settings/reports", form, v.Encode()); st != http.StatusUnprocessableEntity || !strings.Contains(body, "not on your team") {
			t.Errorf("report to a stranger: %d", st)
		}
		for range 2 {
			if err := srv.work.NotifySweep(ctx); err != nil {
				t.Fatal(err)
			}
		}
		settle(t, s, pub.ID)
		mails := smtp.Messages()
		if len(mails) != 2 {
			t.Fatalf("%d report emails, want 2 (one per recipient, once)", len(mails))
		}
		_, _, want := send(t, ts, c, http.MethodGet, "/assets.csv?range=30d", "", "")
		for _, m := range mails {
			parts, err := m.Parts()
			if err != nil || len(parts) != 2 || parts[1].ContentType != "text/csv" || !strings.HasSuffix(parts[1].Filename, ".csv") {
				t.Fatalf("report parts %v %+v", err, parts)
			}
			if string(parts[1].Body) != want {
				t.Errorf("attached CSV differs from the page's export:\n%s\n---\n%s", parts[1].Body, want)
			}
		}
	})
}

func TestDailyDigestBundlesNewAlertsOncePerDay(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := newTenant(t, s, "alpha")
		srv, ts, smtp := notifyServer(t, s)
		clock := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
		srv.SetClock(func() time.Time { return clock })
		analyst := a.users[phantomos.RoleAnalyst]
		addRule(t, ts, cookie(t, s, analyst), url.Values{"kind": {"risk", "opportunity"}, "channel": {"email"}, "rhythm": {"daily"}})
		ins := func(fp, typ string) *store.Insight {
			return &store.Insight{Type: typ, Fingerprint: fp, Title: "Insight " + fp, Description: "d", Confidence: 0.8, Evidence: json.RawMessage(`{}`), Source: store.SourceLocal}
		}
		if err := s.UpsertInsights(ctx, a.pub.ID, []*store.Insight{ins("one", store.InsightRisk), ins("two", store.InsightGrowth), ins("three", store.InsightTrend)}, nil); err != nil {
			t.Fatal(err)
		}
		sweep := func() {
			t.Helper()
			if err := srv.work.NotifySweep(ctx); err != nil {
				t.Fatal(err)
			}
			settle(t, s, a.pub.ID)
		}
		sweep()
		sweep()
		mails := smtp.Messages()
		if len(mails) != 1 || !strings.Contains(mails[0].Raw, "Daily digest: 2 new insights") ||
			!strings.Contains(mails[0].Raw, "Insight one") || !strings.Contains(mails[0].Raw, "Insight two") || strings.Contains(mails[0].Raw, "Insight three") {
			t.Fatalf("first digest: %d mails\n%s", len(mails), mails[0].Raw)
		}
		if err := s.UpsertInsights(ctx, a.pub.ID, []*store.Insight{ins("four", store.InsightRisk)}, nil); err != nil {
			t.Fatal(err)
		}
		clock = clock.Add(2 * time.Hour)
		sweep()
		if n := len(smtp.Messages()); n != 1 {
			t.Fatalf("%d mails two hours later, want the digest to wait for the day", n)
		}
		clock = clock.Add(23 * time.Hour)
		sweep()
		mails = smtp.Messages()
		if len(mails) != 2 || !strings.Contains(mails[1].Raw, "Daily digest: 1 new insight") || !strings.Contains(mails[1].Raw, "Insight four") || strings.Contains(mails[1].Raw, "Insight one") {
			t.Errorf("second digest: %d mails", len(mails))
		}
	})
}
