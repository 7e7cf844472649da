package ingest_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/ingest"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// TestBadImportInput: hostile or broken files are refused with row errors
// that name line and column on both engines — never a database error — the
// preview reports exactly what the import does, and no error quotes a huge
// value.
func TestBadImportInput(t *testing.T) {
	const head = "order_id,line_id,date,sku,name,qty,price,currency,channel\n"
	huge := strings.Repeat("A", 10<<20)
	cases := []struct {
		name, in string
		kind     ingest.Kind
		want     []string // RowError.Error() of each row error
		fatal    string   // the error's message when the file as a whole is refused
	}{
		{name: "invalid UTF-8", in: head + "o1,1,2026-01-05,S,Caf\xe9,1,2.00,USD,web\n", want: []string{
			`line 2, column "name": the field is not UTF-8 text; save the file as UTF-8 CSV (value "Caf` + "\uFFFD" + `")`}},
		{name: "NUL byte", in: head + "o1,1,2026-01-05,S,Mug,1,2.00,USD,w\x00b\n", want: []string{
			`line 2, column "channel": the field contains a NUL byte, which text cannot hold (value "w` + "\uFFFD" + `b")`}},
		{name: "negative quantity", in: head + "o1,1,2026-01-05,S,Mug,-2,2.00,USD,web\n", want: []string{
			`line 2, column "qty": the quantity must be at least 1 (a return is a refund: use the refunded column) (value "-2")`}},
		{name: "zero quantity", in: head + "o1,1,2026-01-05,S,Mug,0,2.00,USD,web\n", want: []string{
			`line 2, column "qty": the quantity must be at least 1 (a return is a refund: use the refunded column) (value "0")`}},
		{name: "negative price", in: head + "o1,1,2026-01-05,S,Mug,1,-2.00,USD,web\n", want: []string{
			`line 2, column "price": the price is negative (value "-2.00")`}},
		{name: "far future", in: head + "o1,1,2099-01-05,S,Mug,1,2.00,USD,web\n", want: []string{
			`line 2, column "date": the order date is in the future (after 2026-12-07T17:00:00Z) (value "2099-01-05T05:00:00Z")`}},
		{name: "duplicate line", in: head + "o1,1,2026-01-05,S,Mug,1,2.00,USD,web\no1,1,2026-01-05,S,Mug,1,3.00,USD,web\n", want: []string{
			`line 3, column "line_id": order o1 has this line already (line 2): each line of an order may appear once in an import (value "1")`}},
		{name: "long name", in: head + "o1,1,2026-01-05,S," + strings.Repeat("N", 60000) + ",1,2.00,USD,web\n", want: []string{
			`line 2, column "name": the name is longer than 500 characters (it has 60000) (value "` + strings.Repeat("N", 80) + `…(60000 bytes)")`}},
		{name: "10 MB field", in: head + "o1,1,2026-01-05,S,\"" + huge + "\",1,2.00,USD,web\n",
			want: []string{`line 2: the row is longer than 1 MiB, more than any real export holds (is a quote left open?)`}, fatal: "Line 2: the row is longer than 1 MiB"},
		{name: "header only", in: head, fatal: "The file has no rows, only its header: nothing to import."},
		{name: "long product", kind: ingest.KindProducts, in: "sku,title,price,tags\nS," + strings.Repeat("T", 600) + ",1.00,a\n", want: []string{
			`line 2, column "title": the name is longer than 500 characters (it has 600) (value "` + strings.Repeat("T", 80) + `…(600 bytes)")`}},
	}
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		s.SetClock(func() time.Time { return time.Date(2026, 12, 6, 5, 0, 0, 0, time.UTC) })
		pub := newPublisher(t, s, "alpha", "USD")
		for _, c := range cases {
			kind := c.kind
			if kind == "" {
				kind = ingest.KindSales
			}
			var results [2][]string
			for i, dry := range []bool{true, false} {
				res, err := importString(t, s, pub, kind, c.in, ingest.Options{DryRun: dry})
				if err == nil && len(c.want)+len(c.fatal) > 0 && !(dry && c.fatal == "" && res.Failed > 0) {
					t.Fatalf("%s (dry run %v): accepted: %+v", c.name, dry, res)
				}
				if err != nil && phantomos.ErrorCode(err) != phantomos.EINVALID {
					t.Fatalf("%s (dry run %v): %v, want a user error", c.name, dry, err)
				}
				if c.fatal != "" && !strings.Contains(phantomos.ErrorMessage(err), c.fatal) {
					t.Errorf("%s: error %q, want %q", c.name, phantomos.ErrorMessage(err), c.fatal)
				}
				if res != nil {
					for _, e := range res.Errors {
						results[i] = append(results[i], e.Error())
					}
				}
			}
			if d := cmp.Diff(c.want, results[1]); d != "" {
				t.Errorf("%s: errors (-want +got):\n%s", c.name, d)
			}
			if d := cmp.Diff(results[1], results[0]); d != "" {
				t.Errorf("%s: the preview differs from the import (-import +preview):\n%s", c.name, d)
			}
		}
		if n, _ := s.SalesCount(t.Context(), pub); n != 0 {
			t.Errorf("%d sales written", n)
		}
	})
}

// TestAssetBounds: game IPs, asset names and aliases are bounded like
// product names and tags.
func TestAssetBounds(t *testing.T) {
	long := strings.Repeat("z", store.MaxLabelLen+1)
	var aliases []string
	for i := range 101 {
		aliases = append(aliases, fmt.Sprintf("alias %d", i))
	}
	manyAliases := strings.Join(aliases, "|")
	for _, in := range []string{
		"game_ip,asset\n" + long + ",Nova\n",
		"game_ip,asset\nStar Quest," + long + "\n",
		"game_ip,asset,aliases\nStar Quest,Nova," + long + "\n",
		"game_ip,asset,aliases\nStar Quest,Nova," + manyAliases + "\n",
	} {
		var rejects []ingest.RowError
		err := ingest.ParseAssets(strings.NewReader(in), ingest.Sink[ingest.Asset]{
			Record: func(a ingest.Asset) error { t.Errorf("accepted %.40q", a.Name); return nil },
			Reject: func(e ingest.RowError, _ int64) { rejects = append(rejects, e) },
		})
		if err != nil || len(rejects) != 1 || len(rejects[0].Value) > 120 {
			t.Errorf("%.40q: %v %+v", in, err, rejects)
		}
	}
}
