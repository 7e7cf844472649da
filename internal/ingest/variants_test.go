package ingest

import "testing"

func TestSplitVariant(t *testing.T) {
	for name, want := range map[string]string{
		"White Hoodie - S":              "White Hoodie",
		"White Hoodie - XL":             "White Hoodie",
		"Logo Tee - Black / XL":         "Logo Tee",
		"Logo Tee - Heather Grey / 2XL": "Logo Tee",
		"Kids Tee - 6-12 months":        "Kids Tee",
		"Sneaker - US 9":                "Sneaker",
		"Jeans - 32x34":                 "Jeans",
		"Beanie - One Size":             "Beanie",
		"Spider-Man - Homecoming Tee":   "",
		"Poster - Limited Edition":      "",
		"Mug":                           "",
		" - S":                          "",
		"Nova Plush - Wholesale":        "",
	} {
		got, _, ok := splitVariant(name)
		if got != want || ok != (want != "") {
			t.Errorf("splitVariant(%q) = %q, %v; want %q", name, got, ok, want)
		}
	}
}
