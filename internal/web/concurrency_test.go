package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/auth"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// parallel sends n requests built by mk at once (released together) and
// returns their responses' status codes and Retry-After headers.
func parallel(t *testing.T, n int, mk func(i int) *http.Request) ([]int, []string) {
	t.Helper()
	statuses, retry := make([]int, n), make([]string, n)
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			req := mk(i)
			ready.Done()
			<-start
			resp, err := noRedirect.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			statuses[i], retry[i] = resp.StatusCode, resp.Header.Get("Retry-After")
		}()
	}
	ready.Wait()
	close(start)
	done.Wait()
	return statuses, retry
}

// TestLoginAndInviteUnderParallelLoad: 50 simultaneous wrong passwords for
// one account give exactly the throttle's limit of 401s and 429s (with
// Retry-After) for the rest; 50 simultaneous invitation acceptances never
// run more argon2 hashes at once than the hasher's slots, answer the
// overflow 429 with Retry-After, and create exactly one user per success.
// Run with -race.
func TestLoginAndInviteUnderParallelLoad(t *testing.T) {
	s := storetest.New(t, store.SQLite)
	ctx := context.Background()
	a := newTenant(t, s, "alpha")
	userWithPassword(t, s, a.pub.ID, "victim@alpha.test", "the real passphrase", phantomos.RoleOwner)
	srv, ts := newTestServer(t, s)

	t.Run("login", func(t *testing.T) {
		// A wait long enough that no attempt is refused as busy: every
		// refusal here must come from the throttle.
		srv.hasher = auth.NewHasher(auth.DefaultHashBudget, 10*time.Minute)
		statuses, retry := parallel(t, 50, func(i int) *http.Request {
			form := url.Values{"email": {"victim@alpha.test"}, "password": {"wrong guess " + string(rune('a'+i%26))}}
			req, _ := http.NewRequest(http.MethodPost, ts.URL+"/login", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", ts.URL)
			return req
		})
		count := map[int]int{}
		for i, st := range statuses {
			count[st]++
			if st == http.StatusTooManyRequests && retry[i] == "" {
				t.Error("429 without Retry-After")
			}
		}
		if count[http.StatusUnauthorized] != 10 || count[http.StatusTooManyRequests] != 40 {
			t.Errorf("50 parallel wrong passwords: %v, want exactly 10×401 and 40×429", count)
		}
		if hw := srv.hasher.HighWater(); hw > srv.hasher.Slots() {
			t.Errorf("hasher high-water %d above its %d slots", hw, srv.hasher.Slots())
		}
	})

	t.Run("invitation accept", func(t *testing.T) {
		srv.hasher = auth.NewHasher(2*auth.HashMemory, 300*time.Millisecond)
		tokens := make([]string, 50)
		for i := range tokens {
			tokens[i] = auth.NewToken()
			email := "hire" + string(rune('a'+i/26)) + string(rune('a'+i%26)) + "@x.test"
			if _, err := s.CreateInvitation(ctx, a.pub.ID, a.users[phantomos.RoleAdmin].ID, email, phantomos.RoleMember, auth.HashToken(tokens[i])); err != nil {
				t.Fatal(err)
			}
		}
		statuses, retry := parallel(t, 50, func(i int) *http.Request {
			body := `{"token":"` + tokens[i] + `","name":"New Hire","password":"fresh start please"}`
			req, _ := http.NewRequest(http.MethodPost, ts.URL+"/api/settings/invite/validate", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			return req
		})
		created := 0
		for i, st := range statuses {
			switch st {
			case http.StatusCreated:
				created++
			case http.StatusTooManyRequests:
				if retry[i] == "" {
					t.Error("429 without Retry-After")
				}
			default:
				t.Errorf("status %d in %v", st, statuses)
			}
		}
		if hw := srv.hasher.HighWater(); hw < 1 || hw > 2 {
			t.Errorf("hasher high-water %d, want 1..2 (its slots)", hw)
		}
		if created == 0 {
			t.Error("no acceptance succeeded")
		}
		users, err := s.Users(ctx, a.pub.ID)
		if err != nil {
			t.Fatal(err)
		}
		if want := len(phantomos.Roles) + 1 + created; len(users) != want {
			t.Errorf("%d users after %d successful acceptances, want %d", len(users), created, want)
		}
		pending, _ := s.Invitations(ctx, a.pub.ID)
		if len(pending) != 50-created {
			t.Errorf("%d invitations still pending, want %d", len(pending), 50-created)
		}
		t.Logf("%d of 50 accepted, the rest asked to retry; high-water %d of %d slots", created, srv.hasher.HighWater(), srv.hasher.Slots())
	})
}
