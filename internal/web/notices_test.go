package web

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// TestHeaderNotices: the header lists the publisher's new insights (five,
// then "+"), links each to its place on the Intelligence page, and shows
// nothing of another publisher's.
func TestHeaderNotices(t *testing.T) {
	s := storetest.New(t, store.SQLite)
	a := newTenant(t, s, "alpha")
	b := newTenant(t, s, "beta")
	var list []*store.Insight
	for i := range 7 {
		list = append(list, &store.Insight{Type: store.InsightRisk, Fingerprint: fmt.Sprint("f", i), Title: fmt.Sprintf("Alpha finding %d", i),
			Description: "d", Confidence: 0.5 + float64(i)/100, Evidence: json.RawMessage(`{}`), Source: store.SourceLocal})
	}
	if err := s.UpsertInsights(context.Background(), a.pub.ID, list, nil); err != nil {
		t.Fatal(err)
	}
	_, ts := newTestServer(t, s)
	req := request(t, ts, "GET /products", "")
	req.AddCookie(cookie(t, s, a.users[phantomos.RoleAnalyst]))
	_, page := do(t, req)
	if !strings.Contains(page, `id="notice-count">5+<`) || strings.Count(page, `href="/intelligence#insight-`) != 5 {
		t.Errorf("header notices of A wrong:\n%s", between(page, `class="usermenu notices"`, "</details>"))
	}
	req = request(t, ts, "GET /products", "")
	req.AddCookie(cookie(t, s, b.users[phantomos.RoleOwner]))
	if _, page := do(t, req); strings.Contains(page, "Alpha finding") || !strings.Contains(page, "No new insights.") {
		t.Error("B sees A's insights in the header, or no empty state")
	}
}
