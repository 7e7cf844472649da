package tagging

import "testing"

// BenchmarkSuggest measures Suggest on one goroutine with a 5,000-asset
// catalogue (the test catalogue padded with synthetic names) over a mix of
// franchise and generic titles, and reports products/s.
func BenchmarkSuggest(b *testing.B) {
	tg, err := NewTagger(padCatalogue(testCatalogue(), 5000), Options{})
	if err != nil {
		b.Fatal(err)
	}
	products := []Product{
		{Title: "Darth Vader vs Luke Skywalker Duel Set"},
		{Title: "Ocean Blue Shirt", Description: "Ocean blue cotton shirt with a narrow collar and buttons down the front."},
		{Title: "Pokémon Pikachu Plush, 30 cm", Tags: []string{"plush", "kids"}},
		{Title: "Legend of Zelda Link Keychain", SKU: "ZL-LNK-01"},
		{Title: "Mario Gotze (CMF)"},
		{Title: "Hoodie with Logo", Vendor: "Woo"},
		{Title: "Minecraft Steve and Creeper Figure Pack"},
		{Title: "Imperial Shuttle"},
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		tg.Suggest(products[i%len(products)])
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "products/s")
}

// BenchmarkNewTagger measures building the index of a 5,000-asset catalogue.
func BenchmarkNewTagger(b *testing.B) {
	assets := padCatalogue(testCatalogue(), 5000)
	for b.Loop() {
		if _, err := NewTagger(assets, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
