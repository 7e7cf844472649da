package shopify

import "testing"

func TestLegacyID(t *testing.T) {
	for in, want := range map[string]string{
		"gid://shopify/Order/450789469":           "450789469",
		"gid://shopify/LineItem/1?inventory=true": "1",
		"12345": "12345",
	} {
		if got := legacyID(in); got != want {
			t.Errorf("legacyID(%q) = %q, want %q", in, got, want)
		}
	}
}
