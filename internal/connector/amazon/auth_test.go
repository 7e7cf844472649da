package amazon_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/connector"
	"github.com/phantomos/phantomos/internal/connector/amazon"
	"github.com/phantomos/phantomos/internal/connector/amazon/amazontest"
	"github.com/phantomos/phantomos/internal/connector/connectortest"
	"github.com/phantomos/phantomos/internal/store"
)

// TestConsentFlow: the consent URL carries the app and state; the
// spapi_oauth_code it returns buys a refresh token once, and the
// credentials made from it work.
func TestConsentFlow(t *testing.T) {
	srv := amazontest.New(t, amazontest.Options{Marketplaces: []string{"ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"}})
	app := &amazon.App{ApplicationID: "amzn1.sp.solution.test", ClientID: srv.ClientID(), ClientSecret: srv.ClientSecret(),
		RedirectURI: "https://phantomos.example/connectors/amazon/callback", Draft: true, TokenURL: srv.TokenURL()}
	u, err := url.Parse(app.ConsentURL("NA", false, "st4te"))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if u.Host != "sellercentral.amazon.com" || u.Path != "/apps/authorize/consent" || q.Get("application_id") != app.ApplicationID ||
		q.Get("state") != "st4te" || q.Get("version") != "beta" {
		t.Errorf("consent URL %s", u)
	}
	if v := app.ConsentURL("EU", true, "x"); !strings.HasPrefix(v, "https://vendorcentral.amazon.co.uk/apps/authorize/consent?") {
		t.Errorf("vendor EU consent URL %s", v)
	}
	code := srv.IssueCode()
	ctx := context.Background()
	cred, err := app.Exchange(ctx, nil, "na", code, "A3SELLER", srv.Now())
	if err != nil {
		t.Fatal(err)
	}
	if cred.Region != "NA" || !strings.HasPrefix(cred.RefreshToken, "Atzr|") || cred.SellingPartnerID != "A3SELLER" || !cred.AuthorizedAt.Equal(srv.Now()) {
		t.Errorf("credentials %+v", cred)
	}
	if _, err := app.Exchange(ctx, nil, "NA", code, "A3SELLER", srv.Now()); connector.KindOf(err) != connector.Auth {
		t.Errorf("a used code: %v, want an auth error", err)
	}
	c, err := amazon.New(amazon.Config{Credentials: cred, BaseURL: srv.URL, TokenURL: srv.TokenURL(), Logger: quiet, Now: srv.Now})
	if err != nil {
		t.Fatal(err)
	}
	acc, err := c.Test(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if acc.Name != "Amazon Seller Central NA: Amazon.com, Amazon.ca" || acc.Currency != "USD" || len(acc.Scopes) != 2 || len(acc.Notices) != 0 {
		t.Errorf("account %+v", acc)
	}
	// Eleven months and a half later the user is told to reconnect.
	srv.Advance(350 * 24 * time.Hour)
	c, _ = amazon.New(amazon.Config{Credentials: cred, BaseURL: srv.URL, TokenURL: srv.TokenURL(), Logger: quiet, Now: srv.Now})
	if acc, err := c.Test(ctx); err != nil || len(acc.Notices) != 1 || !strings.Contains(acc.Notices[0], "expires") {
		t.Errorf("near expiry: %+v, %v", acc, err)
	}
}

func TestCredentialsValidate(t *testing.T) {
	ok := amazon.Credentials{Region: "EU", ClientID: "id", ClientSecret: "secret", RefreshToken: "Atzr|abc", Marketplaces: []string{"A1PA6795UKMFR9"}}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, mod := range map[string]func(*amazon.Credentials){
		"region":        func(c *amazon.Credentials) { c.Region = "XX" },
		"client id":     func(c *amazon.Credentials) { c.ClientID = " " },
		"secret":        func(c *amazon.Credentials) { c.ClientSecret = "" },
		"refresh token": func(c *amazon.Credentials) { c.RefreshToken = "Atza|an-access-token" },
		"marketplace":   func(c *amazon.Credentials) { c.Marketplaces = []string{"ATVPDKIKX0DER"} }, // a NA marketplace in EU
	} {
		c := ok
		mod(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: accepted %+v", name, c)
		}
	}
}

// TestAccessTokenCached: clients sharing a cache share one access token
// for its hour, then renew it.
func TestAccessTokenCached(t *testing.T) {
	srv := amazontest.New(t, amazontest.Options{})
	cache := amazon.NewTokenCache()
	cred := amazon.Credentials{Region: "NA", ClientID: srv.ClientID(), ClientSecret: srv.ClientSecret(), RefreshToken: srv.IssueRefreshToken()}
	test := func() {
		t.Helper()
		c, err := amazon.New(amazon.Config{Credentials: cred, BaseURL: srv.URL, TokenURL: srv.TokenURL(), Logger: quiet, Now: srv.Now, Cache: cache})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Test(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		test()
	}
	if n := srv.TokenRequests(); n != 1 {
		t.Errorf("%d token requests for three clients within the hour, want 1", n)
	}
	srv.Advance(56 * time.Minute) // within the renewal margin
	test()
	if n := srv.TokenRequests(); n != 2 {
		t.Errorf("%d token requests after 56 minutes, want 2", n)
	}
	wrong := cred
	wrong.ClientSecret = "nope"
	c, _ := amazon.New(amazon.Config{Credentials: wrong, BaseURL: srv.URL, TokenURL: srv.TokenURL(), Logger: quiet, Now: srv.Now})
	if _, err := c.Test(context.Background()); connector.KindOf(err) != connector.Auth {
		t.Errorf("wrong client secret: %v, want an auth error", err)
	}
}

// TestExpiredDocumentURL: a document URL that expired before it was read
// is asked for again; the marketplace gives currency and country.
func TestExpiredDocumentURLAndMarketplaces(t *testing.T) {
	srv := amazontest.New(t, amazontest.Options{Marketplaces: []string{"A2EUQ1WTGCTBG2"}})
	now := srv.Now()
	srv.Put(amazontest.Order{ID: "702-0000001-0000001", Marketplace: "A2EUQ1WTGCTBG2", Created: now.Add(-48 * time.Hour), Updated: now.Add(-47 * time.Hour),
		Status: "SHIPPED", FulfilledBy: "MERCHANT", Items: []amazontest.Item{{ID: "1", SKU: "NOVA-FIG-01", ASIN: "B0NOVA0001", Title: "Nova Figure", Qty: 2, Price: 3999, Discount: 500, Tax: 520}}})
	srv.ExpireURLs(1)
	cred := amazon.Credentials{Region: "NA", ClientID: srv.ClientID(), ClientSecret: srv.ClientSecret(), RefreshToken: srv.IssueRefreshToken()}
	c, err := amazon.New(amazon.Config{Credentials: cred, BaseURL: srv.URL, TokenURL: srv.TokenURL(), Logger: quiet, Now: srv.Now,
		History: 10 * 24 * time.Hour, ReportPoll: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	sink := connectortest.NewMemorySink()
	eng := connector.NewEngine(sink, nopRuns{}, connector.Config{Logger: quiet, Rate: 1000, BaseBackoff: time.Millisecond})
	target := connector.Target{Publisher: "p", ConnectorID: "c"}
	if _, err := eng.Sync(context.Background(), target, c, connector.SyncOptions{}); err != nil {
		t.Fatal(err)
	}
	if n := srv.Requests("getReportDocument"); n != 2 {
		t.Errorf("getReportDocument called %d times, want 2 (the first URL had expired)", n)
	}
	want := []connectortest.Sale{{OrderID: "702-0000001-0000001", OrderName: "702-0000001-0000001", LineID: "NOVA-FIG-01", ProductID: "B0NOVA0001",
		SKU: "NOVA-FIG-01", Name: "Nova Figure", Date: now.Add(-48 * time.Hour), Currency: "CAD", Country: "CA", Quantity: 2, Gross: 7998, Discount: 500, Net: 7498}}
	if diff := cmpDiff(want, sink.Sales(target)); diff != "" {
		t.Errorf("sales (-want +got):\n%s", diff)
	}
}

// nopRuns records nothing.
type nopRuns struct{}

func (nopRuns) StartSyncRun(ctx context.Context, pub phantomos.PublisherID, id string) (*store.SyncRun, error) {
	return &store.SyncRun{ID: "run"}, nil
}
func (nopRuns) UpdateSyncRun(context.Context, phantomos.PublisherID, string, store.SyncCounts) error {
	return nil
}
func (nopRuns) FinishSyncRun(context.Context, phantomos.PublisherID, string, string, store.SyncCounts, string) error {
	return nil
}
func (nopRuns) SetConnectorStatus(context.Context, phantomos.PublisherID, string, string, string) error {
	return nil
}

func cmpDiff(a, b any) string { return cmp.Diff(a, b) }

// TestQuotaExceeded: a 429 slows the operation down and is retried a few
// times by the client; more become a rate-limited error for the engine.
func TestQuotaExceeded(t *testing.T) {
	srv := amazontest.New(t, amazontest.Options{Rate: 200})
	cred := amazon.Credentials{Region: "NA", ClientID: srv.ClientID(), ClientSecret: srv.ClientSecret(), RefreshToken: srv.IssueRefreshToken()}
	c, err := amazon.New(amazon.Config{Credentials: cred, BaseURL: srv.URL, TokenURL: srv.TokenURL(), Logger: quiet, Now: srv.Now})
	if err != nil {
		t.Fatal(err)
	}
	srv.Fail("getMarketplaceParticipations", 429, 429)
	if _, err := c.Test(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := srv.Requests("getMarketplaceParticipations"); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
	if r := c.OperationRate("getMarketplaceParticipations"); r != 200 {
		t.Errorf("rate %v after the answer said 200", r)
	}
	c, _ = amazon.New(amazon.Config{Credentials: cred, BaseURL: srv.URL, TokenURL: srv.TokenURL(), Logger: quiet, Now: srv.Now})
	srv.Fail("getMarketplaceParticipations", 429, 429, 429, 429, 429, 429)
	if _, err := c.Test(context.Background()); connector.KindOf(err) != connector.RateLimited {
		t.Errorf("six 429s: %v, want a rate-limited error", err)
	}
}
