package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/config"
	"github.com/phantomos/phantomos/internal/jobs"
	"github.com/phantomos/phantomos/internal/mail/mailtest"
	"github.com/phantomos/phantomos/internal/secret"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// mailQueue switches srv to a new queue on s, insert-only unless work;
// stop stops it.
func mailQueue(t *testing.T, srv *Server, s *store.Store, work bool) (q *jobs.Queue, stop func()) {
	t.Helper()
	cfg := jobs.Config{ScheduleEvery: -1, NotifyEvery: -1, PollEvery: 20 * time.Millisecond, DeliverBackoff: 50 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if work {
		cfg.Work = srv.work
	}
	q, err := jobs.Open(context.Background(), s, cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv.SetJobs(q)
	if err := q.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	stop = func() { once.Do(func() { q.Stop(context.Background()); q.Close() }) }
	t.Cleanup(stop)
	return q, stop
}

// TestInvitationEmailJob: inviting with SMTP configured answers without
// sending (the request only enqueues; the fake SMTP server has nothing),
// and the team page says the email is on its way; a worker then sends it
// through two refusals, retried with backoff, and the page says sent; the
// link in the email works. An email refused every time ends failed with
// the server's reason on the page; the email of an invitation revoked
// before its job runs is not sent. On both engines.
func TestInvitationEmailJob(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		smtp := mailtest.New(t)
		port := smtp.Addr[strings.LastIndex(smtp.Addr, ":")+1:]
		srv, err := New(s, config.Config{Signup: "open", SMTPURL: "smtp://localhost:" + port + "?from=team@phantomos.test", BaseURL: "https://phantomos.example"},
			slog.New(slog.NewTextHandler(io.Discard, nil)), "test")
		if err != nil {
			t.Fatal(err)
		}
		keys, err := secret.Parse(secret.Generate())
		if err != nil {
			t.Fatal(err)
		}
		srv.EnableConnectors(keys, ConnectorOptions{})
		ts := httptest.NewServer(srv.Handler())
		t.Cleanup(ts.Close)
		h := &shop{t: t, s: s, a: newTenant(t, s, "alpha"), srv: srv, ts: ts}
		h.admin = cookie(t, s, h.a.users[phantomos.RoleAdmin])

		invite := func(email string) *store.Invitation {
			t.Helper()
			resp, page := h.send(http.MethodPost, "/settings/team/invite", url.Values{"email": {email}, "role": {"member"}}, nil)
			if resp.StatusCode != http.StatusOK || !strings.Contains(page, "We are emailing "+email) {
				t.Fatalf("invite %s: %d\n%.1500s", email, resp.StatusCode, page)
			}
			list, err := s.Invitations(ctx, h.a.pub.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, inv := range list {
				if inv.Email == email {
					return inv
				}
			}
			t.Fatalf("no invitation for %s", email)
			return nil
		}
		waitEmail := func(id string, states ...string) *store.Invitation {
			t.Helper()
			deadline := time.Now().Add(30 * time.Second)
			for {
				inv, err := s.Invitation(ctx, h.a.pub.ID, id)
				if err != nil {
					t.Fatal(err)
				}
				for _, st := range states {
					if inv.EmailState == st {
						return inv
					}
				}
				if time.Now().After(deadline) {
					t.Fatalf("invitation email %s, want %q", inv.EmailState, states)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
		row := func(page, email string) string {
			i := strings.Index(page, "<td>"+email+"</td>")
			if i < 0 {
				return ""
			}
			j := strings.Index(page[i:], "</tr>")
			return page[i : i+j]
		}

		// The request only enqueues: nothing runs the jobs.
		_, stopInsert := mailQueue(t, srv, s, false)
		inv := invite("new.hire@x.test")
		revoked := invite("changed.mind@x.test")
		if n := len(smtp.Messages()); n != 0 {
			t.Fatalf("the request sent %d emails; it must only enqueue", n)
		}
		if inv.EmailState != store.EmailQueued {
			t.Errorf("email state after the request: %q, want queued", inv.EmailState)
		}
		_, page := h.send(http.MethodGet, "/settings/team", nil, nil)
		if r := row(page, "new.hire@x.test"); !strings.Contains(r, "sending…") {
			t.Errorf("the pending invitation does not say its email is on its way: %q", r)
		}
		if resp, _ := h.send(http.MethodPost, "/settings/team/invitations/"+revoked.ID+"/revoke", nil, nil); resp.StatusCode >= 400 {
			t.Fatalf("revoke: %d", resp.StatusCode)
		}
		stopInsert()

		// A worker sends it: the server refuses twice, then accepts.
		smtp.Refuse(2)
		_, stopWork := mailQueue(t, srv, s, true)
		got := waitEmail(inv.ID, store.EmailSent)
		if got.EmailedAt == nil || got.EmailError != "" {
			t.Errorf("sent invitation: emailed at %v, error %q", got.EmailedAt, got.EmailError)
		}
		var msgs []mailtest.Mail
		deadline := time.Now().Add(5 * time.Second)
		for len(msgs) < 1 && time.Now().Before(deadline) {
			msgs = smtp.Messages()
			time.Sleep(10 * time.Millisecond)
		}
		// The revoked invitation's job runs too: give it a moment, then
		// only one email may have been sent.
		time.Sleep(300 * time.Millisecond)
		msgs = smtp.Messages()
		if len(msgs) != 1 || msgs[0].To[0] != "new.hire@x.test" {
			t.Fatalf("emails: %d (%+v); want one, to new.hire@x.test (none to the revoked invitation)", len(msgs), msgs)
		}
		token := strings.TrimSpace(between(msgs[0].Data, "https://phantomos.example/invite?token=", "\n"))
		if resp, page := h.send(http.MethodGet, "/invite?token="+url.QueryEscape(token), nil, &http.Cookie{Name: "x", Value: "y"}); resp.StatusCode != http.StatusOK ||
			!strings.Contains(page, h.a.pub.Name) {
			t.Errorf("the emailed link: %d", resp.StatusCode)
		}
		var attempts int
		if err := s.DB().QueryRow(`SELECT attempt FROM river_job WHERE kind = 'invitation_email' AND state = 'completed'`).Scan(&attempts); err != nil || attempts != 3 {
			t.Errorf("the sent email's job: attempt %d (%v), want 3 (two refusals, then sent)", attempts, err)
		}
		_, page = h.send(http.MethodGet, "/settings/team", nil, nil)
		if r := row(page, "new.hire@x.test"); !strings.Contains(r, "sent ") {
			t.Errorf("the pending invitation does not say its email was sent: %q", r)
		}

		// Refused every time: failed, with the reason, after the last attempt.
		smtp.Refuse(1000)
		failing := invite("bounce@x.test")
		waitEmail(failing.ID, store.EmailRetrying, store.EmailFailed)
		got = waitEmail(failing.ID, store.EmailFailed)
		if !strings.Contains(got.EmailError, "451") {
			t.Errorf("failed email's reason: %q", got.EmailError)
		}
		_, page = h.send(http.MethodGet, "/settings/team", nil, nil)
		if r := row(page, "bounce@x.test"); !strings.Contains(r, "failed") || !strings.Contains(r, "451") {
			t.Errorf("the pending invitation does not say its email failed, and why: %q", r)
		}
		stopWork()
		if n := len(smtp.Messages()); n != 1 {
			t.Errorf("%d emails sent in all, want 1", n)
		}
	})
}
