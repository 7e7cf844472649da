package ingest_test

import (
	"context"
	"testing"

	"github.com/phantomos/phantomos/internal/ingest"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// TestVariantsBecomeOneProduct: an orders export without product ids
// whose line items are sizes of one hoodie creates one product to review,
// not one per size, with or without SKUs per size, in one import or
// several; a title that only contains a dash stays a product of its own.
// Both engines.
func TestVariantsBecomeOneProduct(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		pub := newPublisher(t, s, "variants", "USD")
		head := "Name,Financial Status,Currency,Subtotal,Shipping,Taxes,Total,Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku,Id\n"
		first := head +
			"#1001,paid,USD,60.00,0,0,60.00,2024-01-02 10:00:00 -0700,1,White Hoodie - S,30.00,HOOD-S,5001\n" +
			"#1001,,,,,,,2024-01-02 10:00:00 -0700,1,White Hoodie - M,30.00,HOOD-M,5001\n" +
			"#1002,paid,USD,45.00,0,0,45.00,2024-01-03 10:00:00 -0700,1,White Hoodie - L,30.00,,5002\n" +
			"#1002,,,,,,,2024-01-03 10:00:00 -0700,1,Spider-Man - Homecoming Tee,15.00,,5002\n"
		second := head +
			"#1003,paid,USD,30.00,0,0,30.00,2024-01-04 10:00:00 -0700,1,White Hoodie - Black / XL,30.00,,5003\n"
		for _, in := range []string{first, second} {
			if _, err := importString(t, s, pub, ingest.KindSales, in, ingest.Options{Source: "Shop one"}); err != nil {
				t.Fatal(err)
			}
		}
		list, err := s.ProductList(ctx, pub, store.ProductQuery{Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, p := range list.Rows {
			names = append(names, p.Name)
		}
		if len(names) != 2 || !contains(names, "White Hoodie") || !contains(names, "Spider-Man - Homecoming Tee") {
			t.Errorf("products %q, want White Hoodie and the tee", names)
		}
	})
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
