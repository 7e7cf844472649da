package shopifytest_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/phantomos/phantomos/internal/connector/shopify/shopifytest"
)

// TestFakeRefusesInvalidDocuments: with the official schema present, the
// fake answers a misspelled field the way Shopify does, instead of data.
func TestFakeRefusesInvalidDocuments(t *testing.T) {
	srv := shopifytest.New(t, shopifytest.Options{})
	if !srv.Validating() {
		t.Skip("Shopify Admin API schema not present")
	}
	tok := srv.IssueToken("")
	post := func(query string, vars map[string]any) map[string]any {
		t.Helper()
		body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/admin/api/2026-10/graphql.json", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Shopify-Access-Token", tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d", resp.StatusCode)
		}
		var out map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	good := post(`query Shop { shop { name myshopifyDomain currencyCode } }`, nil)
	if good["errors"] != nil || good["data"] == nil {
		t.Fatalf("valid document refused: %v", good)
	}
	bad := post(`query Shop { shop { name myshopifyDomian currencyCode } }`, nil)
	errs, _ := bad["errors"].([]any)
	if len(errs) != 1 || bad["data"] != nil {
		t.Fatalf("misspelled field: %v", bad)
	}
	e := errs[0].(map[string]any)
	if code := e["extensions"].(map[string]any)["code"]; code != "undefinedField" || e["locations"] == nil {
		t.Errorf("error %v: want code undefinedField with locations", e)
	}
	badVar := post(`query P($first: Int!) { products(first: $first) { nodes { id } } }`, map[string]any{"first": "ten"})
	if badVar["errors"] == nil {
		t.Errorf("a string for Int! was accepted: %v", badVar)
	}
	if srv.Refused() != 2 {
		t.Errorf("Refused() = %d, want 2", srv.Refused())
	}
}
