package e2e

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// TestBrowserTeamFlow: an owner signs up and invites a member and an
// analyst; each accepts in a browser of their own; the member and the
// analyst are refused what their roles do not allow.
func TestBrowserTeamFlow(t *testing.T) {
	owner := browser(t)
	db := storetest.URL(t, store.SQLite)
	srv := startServer(t, db)

	text := func(ctx context.Context, sel string) string { return do(t, ctx, chromedp.Text(chromedp.CSS(sel))) }
	step := func(ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v\nserver log:\n%s", what, err, srv.stderr)
		}
	}

	step(owner, "sign up",
		chromedp.Navigate(srv.URL+"/login"),
		chromedp.Click(chromedp.CSS(`a[href="/signup"]`)),
		chromedp.WaitVisible(chromedp.CSS(`input[name="organization"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="organization"]`), "Moonlit Arcade"),
		chromedp.SendKeys(chromedp.CSS(`input[name="name"]`), "Olga Owner"),
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), "olga@moonlit.test"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "lanterns over the bay"),
		chromedp.Submit(chromedp.CSS(`input[name="organization"]`)),
		chromedp.WaitVisible(chromedp.CSS(".topbar .publisher")),
	)
	if got := text(owner, ".topbar .publisher"); got != "Moonlit Arcade" {
		t.Fatalf("after sign-up the header shows %q", got)
	}

	invite := func(email, role string) string {
		step(owner, "invite "+email,
			chromedp.Navigate(srv.URL+"/settings/team"),
			chromedp.WaitVisible(chromedp.CSS(`form[action="/settings/team/invite"]`)),
			chromedp.SendKeys(chromedp.CSS(`form[action="/settings/team/invite"] input[name="email"]`), email),
			chromedp.SetValue(chromedp.CSS(`form[action="/settings/team/invite"] select[name="role"]`), role),
			chromedp.Submit(chromedp.CSS(`form[action="/settings/team/invite"] input[name="email"]`)),
			chromedp.WaitVisible(chromedp.ID("invite-link")),
		)
		return do(t, owner, chromedp.Value(chromedp.ID("invite-link")))
	}
	memberLink := invite("mo@moonlit.test", "member")
	analystLink := invite("ana@moonlit.test", "analyst")
	if !strings.Contains(memberLink, "/invite?token=") || memberLink == analystLink {
		t.Fatalf("invite links %q, %q", memberLink, analystLink)
	}
	shot := do(t, owner, chromedp.FullScreenshot(100))
	os.WriteFile(artefact(t, "team.png"), shot, 0o644)

	accept := func(link, name string) context.Context {
		ctx, cancel := chromedp.NewContext(owner, chromedp.WithNewBrowserContext())
		t.Cleanup(cancel)
		step(ctx, "accept as "+name,
			chromedp.Navigate(link),
			chromedp.WaitVisible(chromedp.CSS(`input[name="name"]`)),
		)
		if intro := text(ctx, ".auth p"); !strings.Contains(intro, "Olga Owner") || !strings.Contains(intro, "Moonlit Arcade") {
			t.Errorf("invitation page says %q; want who invited whom to which publisher", intro)
		}
		step(ctx, "accept as "+name,
			chromedp.SendKeys(chromedp.CSS(`input[name="name"]`), name),
			chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "quiet harbour lights"),
			chromedp.Submit(chromedp.CSS(`input[name="name"]`)),
			chromedp.WaitVisible(chromedp.CSS("#user-menu summary")),
		)
		if who := text(ctx, "#user-menu summary"); !strings.Contains(who, name) {
			t.Errorf("signed in as %q, want %s", who, name)
		}
		return ctx
	}
	member := accept(memberLink, "Mo Member")
	analyst := accept(analystLink, "Ana Analyst")

	// The same link cannot be used twice.
	again, cancel := chromedp.NewContext(owner, chromedp.WithNewBrowserContext())
	defer cancel()
	step(again, "replay invitation", chromedp.Navigate(memberLink), chromedp.WaitVisible(chromedp.CSS(".error")))
	if msg := text(again, ".error"); !strings.Contains(msg, "not valid") {
		t.Errorf("replayed invitation says %q", msg)
	}

	// The member sees no team settings and is refused them.
	step(member, "member settings", chromedp.Navigate(srv.URL+"/settings/profile"), chromedp.WaitVisible(chromedp.CSS(".tabs")))
	if tabs := text(member, ".tabs"); strings.Contains(tabs, "Team") || strings.Contains(tabs, "API keys") {
		t.Errorf("member's settings tabs: %q", tabs)
	}
	step(member, "member on team page", chromedp.Navigate(srv.URL+"/settings/team"), chromedp.WaitVisible(chromedp.CSS("h1")))
	if h := text(member, "main"); !strings.Contains(h, "Forbidden") || !strings.Contains(h, "member") {
		t.Errorf("member on /settings/team sees %q; want a 403 naming the role", h)
	}

	// The analyst sees the data but cannot change the organization.
	step(analyst, "analyst overview", chromedp.Navigate(srv.URL+"/products"), chromedp.WaitVisible(chromedp.CSS("h1")))
	if h := text(analyst, "h1"); h != "Products" {
		t.Errorf("analyst on /products sees %q", h)
	}
	step(analyst, "analyst on organization", chromedp.Navigate(srv.URL+"/settings/organization"), chromedp.WaitVisible(chromedp.CSS("h1")))
	if h := text(analyst, "main"); !strings.Contains(h, "Forbidden") {
		t.Errorf("analyst on /settings/organization sees %q", h)
	}

	// The owner's team page lists all three.
	step(owner, "team list", chromedp.Navigate(srv.URL+"/settings/team"), chromedp.WaitVisible(chromedp.CSS("table.list")))
	if list := text(owner, "table.list"); !strings.Contains(list, "mo@moonlit.test") || !strings.Contains(list, "ana@moonlit.test") {
		t.Errorf("team list: %q", list)
	}
}
