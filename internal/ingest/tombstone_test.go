package ingest_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/ingest"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// deleteOrder deletes order id of custom source source as of at, as
// DELETE /api/v1/orders/{source}/{id} does: its lines go and a tombstone
// stays.
func deleteOrder(t *testing.T, s *store.Store, pub phantomos.PublisherID, source, id string, at time.Time) {
	t.Helper()
	ctx := context.Background()
	conn, err := s.FindCustomConnector(ctx, pub, source)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Import(ctx, pub, store.ImportSpec{Kind: store.ImportSales, Format: "push", ConnectorID: conn}, func(w *store.ImportWriter) error {
		if _, err := w.RemoveOrders(ctx, []store.RemovedOrder{{ID: id, UpdatedAt: at}}); err != nil {
			return err
		}
		return w.Tombstone(ctx, id, at)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// orderLines returns the stored lines of each order of publisher pub.
func orderLines(t *testing.T, s *store.Store, pub phantomos.PublisherID) map[string]int {
	t.Helper()
	rows, err := s.DB().Query(`SELECT external_order_id, COUNT(*) FROM sales WHERE publisher_id = $1 GROUP BY external_order_id`, pub)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			t.Fatal(err)
		}
		out[id] = n
	}
	return out
}

// TestImportKeepsTombstones: an uploaded file follows the push API's rule
// for deleted orders. An order deleted through the API does not come back
// from a file whose version of it is not newer than the deletion (an
// older updated_at, the same one, or none at all), and comes back from one
// updated after the deletion, which lifts the tombstone. A tombstone is
// the tenant's own: another publisher's file with the same source name and
// order id is not affected.
func TestImportKeepsTombstones(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		pub := newPublisher(t, s, "alpha", "USD")
		other := newPublisher(t, s, "beta", "USD")
		for _, p := range []phantomos.PublisherID{pub, other} {
			if _, err := s.CustomConnector(ctx, p, "Web store"); err != nil {
				t.Fatal(err)
			}
		}
		opts := ingest.Options{Source: "Web store"}
		const head = "order_id,line_id,date,updated_at,sku,quantity,total,currency\n"
		v1 := head +
			"A,1,2026-01-05T10:00:00Z,2026-01-05T10:00:00Z,X,1,10.00,USD\n" +
			"A,2,2026-01-05T10:00:00Z,2026-01-05T10:00:00Z,Y,1,4.00,USD\n" +
			"B,1,2026-01-06T10:00:00Z,2026-01-06T10:00:00Z,X,1,10.00,USD\n"
		for _, p := range []phantomos.PublisherID{pub, other} {
			if res, err := importString(t, s, p, ingest.KindSales, v1, opts); err != nil || res.Inserted != 3 {
				t.Fatalf("first file: %v %+v", err, res)
			}
		}
		deleted := time.Date(2026, 1, 7, 12, 0, 0, 0, time.UTC)
		deleteOrder(t, s, pub, "Web store", "A", deleted)
		if got := orderLines(t, s, pub); got["A"] != 0 || got["B"] != 1 {
			t.Fatalf("after the deletion: %v", got)
		}

		for _, c := range []struct{ name, file string }{
			{"the same older file", v1},
			{"a version as of the deletion", head + "A,1,2026-01-05T10:00:00Z,2026-01-07T12:00:00Z,X,1,10.00,USD\n"},
			{"a file without updated_at", "order_id,line_id,date,sku,quantity,total,currency\nA,1,2026-01-05T10:00:00Z,X,1,10.00,USD\n"},
			{"an empty updated_at", head + "A,1,2026-01-05T10:00:00Z,,X,1,10.00,USD\n"},
		} {
			res, err := importString(t, s, pub, ingest.KindSales, c.file, opts)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if res.Stale < 1 || res.Inserted != 0 {
				t.Errorf("%s: %+v, want A stale and nothing inserted", c.name, res)
			}
			if got := orderLines(t, s, pub); got["A"] != 0 || got["B"] != 1 {
				t.Errorf("%s brought the deleted order back: %v", c.name, got)
			}
		}
		// The other tenant's order A was never deleted.
		if got := orderLines(t, s, other); got["A"] != 2 {
			t.Errorf("the other tenant's order A: %v", got)
		}
		if res, err := importString(t, s, other, ingest.KindSales, head+"A,1,2026-01-05T10:00:00Z,2026-01-06T10:00:00Z,X,3,30.00,USD\n", opts); err != nil || res.Stale != 0 || res.Updated == 0 {
			t.Errorf("the other tenant's newer version of A: %v %+v", err, res)
		}

		// A dry run of a newer version says it would restore the order,
		// and changes nothing.
		newer := head + "A,1,2026-01-05T10:00:00Z,2026-01-08T09:00:00Z,X,2,20.00,USD\n" +
			"B,1,2026-01-06T10:00:00Z,2026-01-06T10:00:00Z,X,1,10.00,USD\n"
		dry := opts
		dry.DryRun = true
		if res, err := importString(t, s, pub, ingest.KindSales, newer, dry); err != nil || res.Inserted != 1 || res.Stale != 0 {
			t.Errorf("dry run of the newer version: %v %+v", err, res)
		}
		if got := orderLines(t, s, pub); got["A"] != 0 {
			t.Errorf("the dry run restored A: %v", got)
		}
		// Updated after the deletion: A comes back, and its tombstone goes.
		if res, err := importString(t, s, pub, ingest.KindSales, newer, opts); err != nil || res.Inserted != 1 || res.Stale != 0 {
			t.Errorf("newer version: %v %+v", err, res)
		}
		if got := orderLines(t, s, pub); got["A"] != 1 || got["B"] != 1 {
			t.Errorf("after the newer version: %v, want A back with its one line", got)
		}
		var tombs int
		if err := s.DB().QueryRow(`SELECT COUNT(*) FROM order_tombstones WHERE publisher_id = $1`, pub).Scan(&tombs); err != nil || tombs != 0 {
			t.Errorf("%d tombstones after the restore (%v), want 0", tombs, err)
		}
		// Restored, A follows the ordinary rule: an older file is stale.
		if res, err := importString(t, s, pub, ingest.KindSales, v1, opts); err != nil || res.Stale != 1 {
			t.Errorf("older file after the restore: %v %+v", err, res)
		}
		if got := orderLines(t, s, pub); got["A"] != 1 {
			t.Errorf("an older file changed the restored A: %v", got)
		}
		for _, p := range []phantomos.PublisherID{pub, other} {
			if err := s.CheckRollups(ctx, p); err != nil {
				t.Error(err)
			}
		}
	})
}

// TestImportUpdatedAt: the generic layout reads the order's update time;
// one that is not a date, or is far in the future (it would win over
// every later update), is refused naming its column.
func TestImportUpdatedAt(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		pub := newPublisher(t, s, "alpha", "USD")
		future := time.Now().UTC().Add(72 * time.Hour).Format(time.RFC3339)
		in := "order_id,date,Last Updated,sku,total,currency\n" +
			"A,2026-01-05,2026-01-05T11:00:00Z,X,10.00,USD\n" +
			"B,2026-01-05,soon,X,10.00,USD\n" +
			"C,2026-01-05," + future + ",X,10.00,USD\n"
		res, err := importString(t, s, pub, ingest.KindSales, in, ingest.Options{ValidOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		if res.Inserted != 1 || res.Failed != 2 || len(res.Errors) != 2 {
			t.Fatalf("%+v, want A in and B, C refused", res)
		}
		for i, want := range []struct {
			line  int64
			value string
			text  string
		}{{3, "soon", "updated date "}, {4, future, "in the future"}} {
			e := res.Errors[i]
			if e.Line != want.line || e.Column != "Last Updated" || e.Value != want.value || !strings.Contains(e.Reason, want.text) {
				t.Errorf("error %d: %+v", i, e)
			}
		}
		var at time.Time
		if err := s.DB().QueryRow(`SELECT order_updated_at FROM sales WHERE publisher_id = $1`, pub).Scan(&at); err != nil ||
			!at.Equal(time.Date(2026, 1, 5, 11, 0, 0, 0, time.UTC)) {
			t.Errorf("stored updated_at %v (%v)", at, err)
		}
	})
}
