package web

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/connector"
	"github.com/phantomos/phantomos/internal/connector/bigcommerce"
	"github.com/phantomos/phantomos/internal/connector/bigcommerce/bctest"
	"github.com/phantomos/phantomos/internal/connector/platform"
	"github.com/phantomos/phantomos/internal/connector/woocommerce"
	"github.com/phantomos/phantomos/internal/connector/woocommerce/wootest"
	"github.com/phantomos/phantomos/internal/jobs"
	"github.com/phantomos/phantomos/internal/secret"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// webhookQueue switches srv to a new queue on s: insert-only when work is
// false (nothing runs the jobs, so what a request did is all there is),
// else working, with a short webhook backoff, logging to log. The previous
// queue must be stopped by the caller (stop).
func webhookQueue(t *testing.T, srv *Server, s *store.Store, work bool, log *logBuffer) (q *jobs.Queue, stop func()) {
	t.Helper()
	cfg := jobs.Config{ScheduleEvery: -1, NotifyEvery: -1, PollEvery: 20 * time.Millisecond, WebhookBackoff: 50 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(log, nil))}
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
	stop = func() {
		once.Do(func() {
			q.Stop(context.Background())
			q.Close()
		})
	}
	t.Cleanup(stop)
	return q, stop
}

// fetchJobs returns the webhook_fetch jobs, oldest first.
func fetchJobs(t *testing.T, s *store.Store, q *jobs.Queue) []*jobs.Job {
	t.Helper()
	rows, err := s.DB().Query(`SELECT id FROM river_job WHERE kind = 'webhook_fetch' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	var out []*jobs.Job
	for _, id := range ids {
		j, err := q.Job(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, j)
	}
	return out
}

// waitJobFinished waits until job id has ended and returns it.
func waitJobFinished(t *testing.T, q *jobs.Queue, id int64) *jobs.Job {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		j, err := q.Job(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if j.Finished || time.Now().After(deadline) {
			return j
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// storedSales is the connector's sale lines and net as stored.
func storedSales(t *testing.T, s *store.Store, pub phantomos.PublisherID, id string) (lines, net int64) {
	t.Helper()
	if err := s.DB().QueryRow(`SELECT COUNT(*), COALESCE(SUM(net), 0) FROM sales WHERE publisher_id = $1 AND connector_id = $2`,
		pub, id).Scan(&lines, &net); err != nil {
		t.Fatal(err)
	}
	return lines, net
}

// webhookCase is one platform in TestWebhookJobs.
type webhookCase struct {
	// connect connects the platform's fake through the wizard and returns
	// the connector.
	connect func(h *shop) string
	// order adds an order to the fake and returns its id.
	order func() int64
	// deliver builds a signed delivery naming order id.
	deliver func(h *shop, connectorID string, id int64) *http.Request
	// requests counts the fake's API requests so far.
	requests func() int
	// fail makes the fake's next n API requests answer 503.
	fail func(n int)
	// want is what the fake's orders add up to.
	want func() (lines, net int64)
}

// TestWebhookJobs: a verified WooCommerce or BigCommerce delivery is
// answered 200 without the request calling the platform (nothing runs
// jobs, and the fake counts no request); a repeated delivery is stored
// once; a worker then reads the order and the stored totals are the
// fake's exactly, after retrying through two 503s with backoff; a
// delivery for a connector deleted before its job runs is discarded with
// a logged reason, after one attempt. On both engines.
func TestWebhookJobs(t *testing.T) {
	t.Run("woocommerce", func(t *testing.T) {
		storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
			fake := wootest.New()
			t.Cleanup(fake.Close)
			day := time.Now().UTC().Add(-72 * time.Hour).Truncate(time.Second)
			next := int64(3000)
			addOrder := func() int64 {
				next++
				fake.AddOrder(wootest.Order{ID: next, Status: "processing", Created: day, Paid: day, Country: "DE",
					Lines: []wootest.Line{{ID: next * 10, ProductID: 7, SKU: "PIN-1", Name: "Pin", Quantity: 3, Subtotal: 1500, Total: 1350, Tax: 256}}})
				return next
			}
			for range 4 {
				addOrder()
			}
			apiRequests := func() int {
				n := 0
				for _, r := range fake.Requests() {
					if strings.Contains(r, "/wp-json/wc/") {
						n++
					}
				}
				return n
			}
			runWebhookJobs(t, s, webhookCase{
				connect: func(h *shop) string {
					reg, err := platform.Open([]platform.Registration{woocommerce.Registration}, platform.Config{})
					if err != nil {
						t.Fatal(err)
					}
					wp, _ := reg.Get(woocommerce.Type)
					h.opts = ConnectorOptions{Platforms: testPlatforms(t, wp),
						Engine: connector.Config{Lookback: -1, BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, Rate: 1000, Burst: 100}}
					h.srv.EnableConnectors(h.keys, h.opts)
					resp, body := h.send(http.MethodPost, "/connectors/woocommerce", url.Values{"method": {woocommerce.MethodKeys}, "url": {fake.URL},
						"consumer_key": {fake.Key}, "consumer_secret": {fake.Secret}}, nil)
					loc := resp.Header.Get("Location")
					if resp.StatusCode != http.StatusSeeOther || !strings.HasSuffix(loc, "/setup") {
						t.Fatalf("connect: %d %s\n%.500s", resp.StatusCode, loc, body)
					}
					return strings.TrimSuffix(strings.TrimPrefix(loc, "/connectors/"), "/setup")
				},
				order: addOrder,
				deliver: func(h *shop, id string, order int64) *http.Request {
					var cr woocommerce.Credentials
					if err := h.srv.conn.vault.Load(context.Background(), connector.Target{Publisher: h.a.pub.ID, ConnectorID: id}, &cr); err != nil {
						t.Fatal(err)
					}
					body := []byte(`{"id":` + strconv.FormatInt(order, 10) + `,"status":"processing"}`)
					r, _ := http.NewRequest(http.MethodPost, h.ts.URL+"/webhooks/woocommerce?connector="+url.QueryEscape(id), bytes.NewReader(body))
					r.Header.Set("Content-Type", "application/json")
					r.Header.Set(woocommerce.HeaderTopic, woocommerce.TopicOrderCreated)
					r.Header.Set(woocommerce.HeaderWebhookID, "41")
					r.Header.Set(woocommerce.HeaderDeliveryID, "d-"+strconv.FormatInt(order, 10))
					r.Header.Set(woocommerce.HeaderSource, fake.URL+"/")
					r.Header.Set(woocommerce.HeaderSignature, woocommerce.Sign(body, cr.WebhookSecret))
					return r
				},
				requests: apiRequests,
				fail:     fake.HTMLErrors,
				want: func() (int64, int64) {
					tot := fake.Totals()
					return int64(tot.Lines), tot.Net
				},
			})
		})
	})
	t.Run("bigcommerce", func(t *testing.T) {
		storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
			fake := bctest.New(t, bctest.Options{TaxRate: 10})
			var wantLines, wantNet int64
			addOrder := func() int64 {
				o := fake.AddOrder(bctest.Order{Country: "US", Lines: []bctest.Line{{ProductID: 9, Name: "Nova Hoodie", SKU: "NOVA-1", Quantity: 2, Price: 4000, Discount: 100}}})
				for _, l := range o.Lines {
					wantLines++
					wantNet += l.Price*l.Quantity - l.Discount
				}
				fake.Advance(time.Minute)
				return o.ID
			}
			for range 3 {
				addOrder()
			}
			runWebhookJobs(t, s, webhookCase{
				connect: func(h *shop) string {
					h.opts = ConnectorOptions{Platforms: testPlatforms(t, bigcommerce.NewPlatform(bigcommerce.Options{BaseURL: fake.URL})),
						Engine: connector.Config{Lookback: -1, BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, Rate: 1000, Burst: 100}}
					h.srv.EnableConnectors(h.keys, h.opts)
					token := fake.IssueToken("store_v2_orders_read_only store_v2_products_read_only store_v2_information_read_only")
					api := "https://api.bigcommerce.com/stores/" + fake.StoreHash() + "/v3/"
					resp, page := h.send(http.MethodPost, "/connectors/bigcommerce", url.Values{"method": {bigcommerce.ModeAPIAccount}, "store_hash": {api}, "token": {token}}, nil)
					loc := resp.Header.Get("Location")
					if resp.StatusCode != http.StatusSeeOther || !strings.HasSuffix(loc, "/setup") {
						t.Fatalf("connect: %d %s\n%.800s", resp.StatusCode, loc, page)
					}
					return strings.TrimSuffix(strings.TrimPrefix(loc, "/connectors/"), "/setup")
				},
				order: addOrder,
				deliver: func(h *shop, id string, order int64) *http.Request {
					var cr bigcommerce.Credentials
					if err := h.srv.conn.vault.Load(context.Background(), connector.Target{Publisher: h.a.pub.ID, ConnectorID: id}, &cr); err != nil {
						t.Fatal(err)
					}
					body := fake.WebhookBody("store/order/created", order)
					r, _ := http.NewRequest(http.MethodPost, h.ts.URL+bigcommerce.WebhookPath, bytes.NewReader(body))
					r.Header.Set("Content-Type", "application/json")
					r.Header.Set(bigcommerce.HeaderHookToken, cr.WebhookToken)
					return r
				},
				requests: func() int { return fake.Requests("/") },
				fail: func(n int) {
					st := make([]int, n)
					for i := range st {
						st[i] = http.StatusServiceUnavailable
					}
					fake.Fail(st...)
				},
				want: func() (int64, int64) { return wantLines, wantNet },
			})
		})
	})
}

func runWebhookJobs(t *testing.T, s *store.Store, c webhookCase) {
	ctx := context.Background()
	keys, err := secret.Parse(secret.Generate())
	if err != nil {
		t.Fatal(err)
	}
	h := &shop{t: t, s: s, a: newTenant(t, s, "alpha"), keys: keys}
	h.srv, h.ts = newTestServer(t, s)
	h.admin = cookie(t, s, h.a.users[phantomos.RoleAdmin])
	var log logBuffer
	_, stopFirst := webhookQueue(t, h.srv, s, true, &log)
	id := c.connect(h)
	if run := h.waitSync(id, 1); run.State != store.SyncSucceeded {
		t.Fatalf("first sync: %+v", run)
	}
	stopFirst()

	// Nothing runs jobs: the request alone verifies and stores.
	iq, stopInsert := webhookQueue(t, h.srv, s, false, &log)
	order := c.order()
	beforeLines, beforeNet := storedSales(t, s, h.a.pub.ID, id)
	before := c.requests()
	for range 2 { // the second is the same delivery, repeated
		resp, err := http.DefaultClient.Do(c.deliver(h, id, order))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("delivery: %d, want 200", resp.StatusCode)
		}
	}
	if n := c.requests() - before; n != 0 {
		t.Errorf("the webhook request called the platform %d times; it must only store the delivery", n)
	}
	if lines, net := storedSales(t, s, h.a.pub.ID, id); lines != beforeLines || net != beforeNet {
		t.Errorf("the webhook request wrote sales (%d lines, net %d; before %d, %d)", lines, net, beforeLines, beforeNet)
	}
	js := fetchJobs(t, s, iq)
	if len(js) != 1 || js[0].Finished {
		t.Fatalf("after a delivery and its repeat: %d webhook_fetch jobs (%+v), want 1 waiting", len(js), js)
	}
	stopInsert()

	// A worker reads the order: the platform fails twice, then answers.
	c.fail(2)
	wq, stopWork := webhookQueue(t, h.srv, s, true, &log)
	j := waitJobFinished(t, wq, js[0].ID)
	if j.State != "completed" || j.Attempt != 3 || len(j.Errors) != 2 {
		t.Errorf("the job after two 503s: state %s, attempt %d, errors %q; want completed at the third attempt", j.State, j.Attempt, j.Errors)
	}
	wantLines, wantNet := c.want()
	if lines, net := storedSales(t, s, h.a.pub.ID, id); lines != wantLines || net != wantNet || lines <= beforeLines {
		t.Errorf("stored %d lines, net %d; the fake has %d lines, net %d (before the webhook: %d lines)", lines, net, wantLines, wantNet, beforeLines)
	}
	stopWork()

	// A delivery whose connector is deleted before its job runs.
	iq, stopInsert = webhookQueue(t, h.srv, s, false, &log)
	gone := c.order()
	resp, err := http.DefaultClient.Do(c.deliver(h, id, gone))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("delivery: %d", resp.StatusCode)
	}
	js = fetchJobs(t, s, iq)
	if len(js) != 2 {
		t.Fatalf("%d webhook_fetch jobs, want 2", len(js))
	}
	stopInsert()
	if _, err := s.EraseConnector(ctx, h.a.pub.ID, id); err != nil {
		t.Fatal(err)
	}
	wq, _ = webhookQueue(t, h.srv, s, true, &log)
	j = waitJobFinished(t, wq, js[1].ID)
	if j.State != "cancelled" || j.Attempt != 1 || len(j.Errors) != 1 || !strings.Contains(j.Errors[0], "not found") {
		t.Errorf("the job of a deleted connector: state %s, attempt %d, errors %q; want cancelled at once, connector not found", j.State, j.Attempt, j.Errors)
	}
	if out := log.String(); !strings.Contains(out, "jobs: discarded") || !strings.Contains(out, "kind=webhook_fetch") {
		t.Errorf("the discarded job was not logged with its reason:\n%s", out)
	}
}
