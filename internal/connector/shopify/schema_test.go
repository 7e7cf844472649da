package shopify

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/phantomos/phantomos/internal/connector/shopify/shopifytest"
)

// clientDocuments are every GraphQL document the client sends, by name.
func clientDocuments() map[string]string {
	return map[string]string{
		"orders":                     ordersQuery(true),
		"orders (no addresses)":      ordersQuery(false),
		"order lines":                orderLinesQuery,
		"order refunds":              orderRefundsQuery,
		"refund lines":               refundLinesQuery,
		"products":                   productsQuery,
		"shop":                       shopQuery,
		"subscribe":                  subscribeMutation,
		"subscriptions":              subscriptionsQuery,
		"order ids":                  orderIDsQuery,
		"bulk run":                   bulkRunMutation,
		"bulk status":                bulkStatusQuery,
		"bulk orders":                fmt.Sprintf(bulkOrdersQuery, bulkAddresses),
		"bulk orders (no addresses)": fmt.Sprintf(bulkOrdersQuery, ""),
	}
}

func adminSchema(t *testing.T) *shopifytest.Schema {
	t.Helper()
	s, err := shopifytest.AdminSchema()
	if errors.Is(err, shopifytest.ErrNoSchema) {
		t.Skipf("Shopify Admin API schema not present: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestDocumentsMatchSchema checks every document the client sends against
// Shopify's official schema of the pinned version.
func TestDocumentsMatchSchema(t *testing.T) {
	if shopifytest.SchemaVersion != APIVersion {
		t.Fatalf("the schema checked is %s but the client pins %s: update shopifytest.SchemaVersion and the schema file", shopifytest.SchemaVersion, APIVersion)
	}
	for name, doc := range clientDocuments() {
		t.Run(name, func(t *testing.T) {
			shopifytest.ValidateDocument(t, doc)
		})
	}
}

// TestSchemaRefusesTypo plants mistakes in real documents: each must be
// refused, naming what is wrong, or the schema check proves nothing.
func TestSchemaRefusesTypo(t *testing.T) {
	s := adminSchema(t)
	cases := []struct{ name, doc, want string }{
		{"misspelled field", strings.Replace(ordersQuery(true), "processedAt", "procesedAt", 1), "procesedAt"},
		{"unknown argument", strings.Replace(productsQuery, "sortKey: UPDATED_AT", "sortBy: UPDATED_AT", 1), "sortBy"},
		{"bad enum value", strings.Replace(productsQuery, "sortKey: UPDATED_AT", "sortKey: UPDATED", 1), "UPDATED"},
		{"field on wrong type", strings.Replace(shopQuery, "myshopifyDomain", "myshopifyDomain totalOrders", 1), "totalOrders"},
		{"syntax", strings.Replace(shopQuery, "}", "", 1), ""},
		{"deprecated field", strings.Replace(productsQuery, "description productType", "bodyHtml productType", 1), "bodyHtml"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			errs := s.Validate(c.doc)
			if len(errs) == 0 {
				t.Fatalf("document accepted:\n%s", c.doc)
			}
			if !strings.Contains(errs.Error(), c.want) {
				t.Errorf("errors %q do not name %q", errs.Error(), c.want)
			}
		})
	}
}
