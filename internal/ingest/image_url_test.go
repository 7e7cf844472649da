package ingest

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestProductImageURLMustBeHTTPS: product files in every format accept
// only https image addresses, with a row error naming line and column.
func TestProductImageURLMustBeHTTPS(t *testing.T) {
	const reason = "the image URL must be an https:// address"
	long := "https://cdn.example/" + strings.Repeat("a", maxImageURL)
	for _, c := range []struct {
		name string
		in   string
		want []RowError
		kept int
	}{
		{"generic", "sku,title,image_url\nA,Mug,https://cdn.example/a.png\nB,Cup,http://cdn.example/b.png\nC,Hat,javascript:alert(1)\nD,Tee,\nE,Cap," + long + "\n",
			[]RowError{
				{Line: 3, Column: "image_url", Value: "http://cdn.example/b.png", Reason: reason},
				{Line: 4, Column: "image_url", Value: "javascript:alert(1)", Reason: reason},
				{Line: 6, Column: "image_url", Value: clip(long), Reason: "the image URL is longer than 2048 characters"},
			}, 2},
		{"shopify", "Handle,Title,Body (HTML),Variant Price,Image Src\na,A,,10.00,https://cdn.example/a.png\nb,B,,5.00,http://cdn.example/b.png\n",
			[]RowError{{Line: 3, Column: "Image Src", Value: "http://cdn.example/b.png", Reason: reason}}, 1},
		{"woocommerce", "\ufeffID,Type,SKU,Name,Regular price,Sale price,Categories,Parent,Images\n1,simple,s1,One,5,,,,\"https://cdn.example/1.png, https://cdn.example/2.png\"\n2,simple,s2,Two,5,,,,file:///etc/passwd\n",
			[]RowError{{Line: 3, Column: "Images", Value: "file:///etc/passwd", Reason: reason}}, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got []RowError
			kept := 0
			_, err := ParseProducts(strings.NewReader(c.in), FormatAuto, Config{Currency: "USD"}, Sink[Product]{
				Record: func(p Product) error {
					if !strings.HasPrefix(p.ImageURL, "https://") && p.ImageURL != "" {
						t.Errorf("kept image URL %q", p.ImageURL)
					}
					kept++
					return nil
				},
				Reject: func(e RowError, _ int64) { got = append(got, e) }})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("row errors (-want +got):\n%s", diff)
			}
			if kept != c.kept {
				t.Errorf("%d products kept, want %d", kept, c.kept)
			}
		})
	}
}
