package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/mapping"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// TestAIRunsAreJobs: Suggest mappings, POST /api/ai/tagging and POST
// /api/ai/insights run as jobs. With a worker they answer as before (the
// run's summary, the insights); with none within the request's bound,
// the page shows the run queued and the API answers 202 with a Location
// that every role of the publisher can follow and another publisher
// cannot (404), until a worker has run it and the job shows its result;
// the page then shows the result. On both engines.
func TestAIRunsAreJobs(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		a := newTenant(t, s, "alpha")
		b := newTenant(t, s, "beta")
		titles := []string{"Korvath Energy Drink Can", "Korvath Energy Drink 12-pack", "Korvath the Undying Statue"}
		newCatalogFixture(t, s, a, titles...)
		srv, ts := newTestServer(t, s)
		member := client{t: t, ts: ts, ck: cookie(t, s, a.users[phantomos.RoleMember])}
		analyst := client{t: t, ts: ts, ck: cookie(t, s, a.users[phantomos.RoleAnalyst])}
		other := client{t: t, ts: ts, ck: cookie(t, s, b.users[phantomos.RoleOwner])}
		var log logBuffer

		// No worker, and a short bound: the requests answer with progress.
		_, stopInsert := webhookQueue(t, srv, s, false, &log)
		srv.jobWait = jobWaits{page: 100 * time.Millisecond, api: 100 * time.Millisecond}
		st, _, loc := member.form("/products/suggest", url.Values{"return": {"/products"}})
		if st != http.StatusSeeOther || !strings.Contains(loc, "suggest_job=") {
			t.Fatalf("suggest without a worker: %d %s", st, loc)
		}
		pageAfter := loc
		if _, body := member.get(pageAfter); !strings.Contains(body, "Suggesting mappings is queued") {
			t.Errorf("the products page does not say the run is queued")
		}
		st, body, hdr := member.send(http.MethodPost, "/api/ai/tagging", "application/json", []byte(`{"all":true}`))
		follow := hdr.Get("Location")
		var j jobJSON
		if st != http.StatusAccepted || !strings.HasPrefix(follow, "/api/v1/jobs/") || json.Unmarshal([]byte(body), &j) != nil || j.State != "waiting" || j.Kind != "suggest_run" {
			t.Fatalf("POST /api/ai/tagging without a worker: %d %s %s", st, follow, body)
		}
		if st, body := analyst.get(follow); st != http.StatusOK || !strings.Contains(body, `"state":"waiting"`) {
			t.Errorf("an analyst following the run: %d %s", st, body)
		}
		if st, body := other.get(follow); st != http.StatusNotFound || strings.Contains(body, "suggest_run") {
			t.Errorf("another publisher following the run: %d %s", st, body)
		}
		st, body, hdr = member.send(http.MethodPost, "/api/ai/insights", "application/json", nil)
		insightsJob := hdr.Get("Location")
		if st != http.StatusAccepted || !strings.HasPrefix(insightsJob, "/api/v1/jobs/") || insightsJob == follow {
			t.Fatalf("POST /api/ai/insights without a worker: %d %s %s", st, insightsJob, body)
		}
		if st, _ := other.get(insightsJob); st != http.StatusNotFound {
			t.Errorf("another publisher following the insights run: %d", st)
		}
		if _, body := member.get("/intelligence"); !strings.Contains(body, "Finding insights now") {
			t.Errorf("the Intelligence page does not say insights are being found")
		}
		stopInsert()

		// A worker runs them.
		webhookQueue(t, srv, s, true, &log)
		deadline := time.Now().Add(60 * time.Second)
		for _, path := range []string{follow, insightsJob} {
			for {
				st, body := member.get(path)
				if st != http.StatusOK || json.Unmarshal([]byte(body), &j) != nil {
					t.Fatalf("GET %s: %d %s", path, st, body)
				}
				if j.State == "succeeded" || j.State == "failed" || time.Now().After(deadline) {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			if j.State != "succeeded" || j.FinishedAt == nil {
				t.Errorf("%s: %+v, want succeeded", path, j)
			}
		}
		var run mapping.Run
		st, body = member.get(follow)
		if err := json.Unmarshal([]byte(body), &j); st != http.StatusOK || err != nil {
			t.Fatalf("GET %s: %d %s", follow, st, body)
		}
		if err := json.Unmarshal(j.Result, &run); err != nil || run.Products != 3 || run.Tagger != "local" {
			t.Errorf("the tagging run's result: %s (%v)", j.Result, err)
		}
		if _, body := member.get(pageAfter); !strings.Contains(body, "The tagger looked at 3 products") {
			t.Errorf("the products page does not show the finished run")
		}

		// With a worker, and the default bound: the answer is the run.
		srv.jobWait = defaultJobWaits
		run = mapping.Run{}
		if st := member.json(http.MethodPost, "/api/ai/tagging", map[string]any{"all": true}, &run); st != http.StatusOK || run.Products != 3 {
			t.Errorf("POST /api/ai/tagging with a worker: %d %+v", st, run)
		}
		var list struct {
			Insights []json.RawMessage `json:"insights"`
		}
		if st := member.json(http.MethodPost, "/api/ai/insights", nil, &list); st != http.StatusOK || list.Insights == nil {
			t.Errorf("POST /api/ai/insights with a worker: %d", st)
		}
		st, _, loc = member.form("/products/suggest", url.Values{"return": {"/products"}})
		if st != http.StatusSeeOther || !strings.Contains(loc, "done=suggest") {
			t.Errorf("suggest with a worker: %d %s", st, loc)
		}
	})
}
