package shopify_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/connector"
	"github.com/phantomos/phantomos/internal/connector/connectortest"
	"github.com/phantomos/phantomos/internal/connector/shopify"
	"github.com/phantomos/phantomos/internal/connector/shopify/shopifytest"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// BenchmarkBackfill runs the first sync of one fake shop twice, in bulk and
// page by page, and prints requests, wall time and the query cost each
// paid (which, at Shopify's standard restore rate of 100 points a second,
// bounds the real wall time from below). The shop has
// PHANTOMOS_BENCH_SHOPIFY_ORDERS orders (2,000 by default; the issue's
// figure is 200,000):
//
//	PHANTOMOS_BENCH_SHOPIFY_ORDERS=200000 go test -run '^$' -bench Backfill -benchtime 1x ./internal/connector/shopify/
func BenchmarkBackfill(b *testing.B) {
	n := 2000
	if v := os.Getenv("PHANTOMOS_BENCH_SHOPIFY_ORDERS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 || n > 2_000_000 {
			b.Fatalf("PHANTOMOS_BENCH_SHOPIFY_ORDERS=%q: want 1 to 2000000 orders", v)
		}
	}
	srv := shopifytest.New(b, shopifytest.Options{RestoreRate: 1e9})
	seed(srv, n, rand.New(rand.NewPCG(1, 1)))
	token := srv.IssueToken("read_products,read_orders,read_all_orders")
	runs := storetest.New(b, store.SQLite)
	ctx := context.Background()
	t := connectortestTarget(b, runs)
	b.ResetTimer()
	for range b.N {
		fmt.Printf("Shopify backfill of %d orders (fake shop, memory sink):\n", n)
		var bulkWall, pagedWall time.Duration
		for _, paged := range []bool{false, true} {
			sink := connectortest.NewMemorySink()
			engine := connector.NewEngine(sink, runs, connector.Config{Rate: 1e6, Burst: 1000, BulkPoll: 10 * time.Millisecond,
				ReconcileWindow: -1, Logger: quiet})
			c, err := shopify.New(shopify.Config{Shop: srv.Shop(), AccessToken: token, BaseURL: srv.URL, Logger: quiet, PagedBackfill: paged})
			if err != nil {
				b.Fatal(err)
			}
			reqs, spent := srv.Requests(""), srv.Spent()
			start := time.Now()
			res, err := engine.Sync(ctx, t, c, connector.SyncOptions{})
			if err != nil {
				b.Fatal(err)
			}
			wall := time.Since(start)
			if got := sink.Totals(t).Orders; got != n-1 && got != n { // the seed's one test order may be kept or not
				b.Fatalf("synced %d orders of %d", got, n)
			}
			mode := "bulk "
			if paged {
				mode, pagedWall = "paged", wall
			} else {
				bulkWall = wall
			}
			cost := srv.Spent() - spent
			fmt.Printf("  %s  requests %7d  wall %8.2fs  cost %10.0f points (≥ %s at 100 points/s)  pages written %d\n",
				mode, srv.Requests("")-reqs, wall.Seconds(), cost, (time.Duration(cost/100) * time.Second).String(), res.Pages)
			b.ReportMetric(float64(srv.Requests("")-reqs), strings.TrimSpace(mode)+"-requests")
		}
		fmt.Printf("  paged/bulk wall time: %.1f×\n", pagedWall.Seconds()/bulkWall.Seconds())
	}
}

func connectortestTarget(b *testing.B, s *store.Store) connector.Target {
	b.Helper()
	ctx := context.Background()
	pub := newBenchPublisher()
	if err := s.CreatePublisher(ctx, pub); err != nil {
		b.Fatal(err)
	}
	c := newBenchConnector()
	if err := s.CreateConnector(ctx, pub.ID, c); err != nil {
		b.Fatal(err)
	}
	return connector.Target{Publisher: pub.ID, ConnectorID: c.ID}
}

func newBenchPublisher() *phantomos.Publisher {
	return &phantomos.Publisher{Name: "Bench", Slug: "bench", Timezone: "UTC", ReportingCurrency: "USD", SubscriptionTier: "starter"}
}

func newBenchConnector() *phantomos.Connector {
	return &phantomos.Connector{Type: phantomos.ConnectorShopify, Name: "Bench shop"}
}
