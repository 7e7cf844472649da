package ingest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseMinor(t *testing.T) {
	tests := []struct {
		in      string
		digits  int
		want    int64
		wantErr string
	}{
		{"12.50", 2, 1250, ""},
		{"12.5", 2, 1250, ""},
		{"12", 2, 1200, ""},
		{".5", 2, 50, ""},
		{"-3.01", 2, -301, ""},
		{"+3.01", 2, 301, ""},
		{"$1,234.56", 2, 123456, ""},
		{"-$4.00", 2, -400, ""},
		{"€ 7.10", 2, 710, ""},
		{"12.5000", 2, 1250, ""}, // BigCommerce writes four places
		{"1000", 0, 1000, ""},    // JPY
		{"1.000", 3, 1000, ""},   // KWD
		{"0.1", 2, 10, ""},       // never 9.999… through a float
		{"12.505", 2, 0, "has more than 2 decimal places"},
		{"12.5", 0, 0, "has more than 0 decimal places"},
		{"12,50", 2, 0, "uses a comma as decimal separator; use a dot (12.50)"},
		{"1,23,456", 2, 0, "is not a number"},
		{"abc", 2, 0, "is not a number"},
		{"1e5", 2, 0, "is not a number"},
		{"", 2, 0, "is empty"},
		{".", 2, 0, "is not a number"},
		{"99999999999999999999", 2, 0, "is too large"},
		{"10000000000001", 2, 0, "is implausibly large"},
	}
	for _, tt := range tests {
		got, err := parseMinor(tt.in, tt.digits)
		gotErr := ""
		if err != nil {
			gotErr = err.Error()
		}
		if got != tt.want || gotErr != tt.wantErr {
			t.Errorf("parseMinor(%q, %d) = %d, %q; want %d, %q", tt.in, tt.digits, got, gotErr, tt.want, tt.wantErr)
		}
	}
}

func TestAllocate(t *testing.T) {
	tests := []struct {
		total   int64
		weights []int64
		want    []int64
	}{
		{100, []int64{1, 1, 1}, []int64{34, 33, 33}},
		{100, []int64{0, 0}, []int64{100, 0}},
		{0, []int64{5, 5}, []int64{0, 0}},
		{1000, []int64{3000, 1000}, []int64{750, 250}},
		{-10, []int64{1, 2}, []int64{-3, -7}},
		{7, []int64{1, 1, 1, 1}, []int64{2, 2, 2, 1}},
		{1, []int64{1, 3}, []int64{0, 1}}, // the largest remainder wins
		{9_000_000_000_000_000, []int64{9_000_000_000_000_000, 1}, []int64{8_999_999_999_999_999, 1}},
	}
	for _, tt := range tests {
		got := allocate(tt.total, tt.weights)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("allocate(%d, %v) (-want +got):\n%s", tt.total, tt.weights, diff)
		}
		var sum int64
		for _, v := range got {
			sum += v
		}
		if sum != tt.total {
			t.Errorf("allocate(%d, %v) sums to %d", tt.total, tt.weights, sum)
		}
	}
}

func TestNormCountry(t *testing.T) {
	tests := []struct{ in, want, wantErr string }{
		{"US", "US", ""}, {"us", "US", ""}, {" de ", "DE", ""}, {"UK", "GB", ""}, {"United Kingdom", "GB", ""},
		{"united states", "US", ""}, {"Korea, Republic of", "KR", ""}, {"", "", ""},
		{"XX", "", "is not an ISO 3166-1 country code"},
		{"Atlantis", "", "is not a country (use an ISO 3166-1 code such as US, or an English country name)"},
	}
	for _, tt := range tests {
		got, err := normCountry(tt.in)
		gotErr := ""
		if err != nil {
			gotErr = err.Error()
		}
		if got != tt.want || gotErr != tt.wantErr {
			t.Errorf("normCountry(%q) = %q, %q; want %q, %q", tt.in, got, gotErr, tt.want, tt.wantErr)
		}
	}
}

func TestParseTime(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip("no time zone database")
	}
	tests := []struct {
		in      string
		layouts []string
		want    time.Time
	}{
		{"2023-11-04 12:19:55 -0700", isoLayouts, time.Date(2023, 11, 4, 19, 19, 55, 0, time.UTC)},
		{"2024-03-03T18:00:00+01:00", isoLayouts, time.Date(2024, 3, 3, 17, 0, 0, 0, time.UTC)},
		{"2024-03-03T18:00:00Z", isoLayouts, time.Date(2024, 3, 3, 18, 0, 0, 0, time.UTC)},
		{"2024-03-03 18:00:00", isoLayouts, time.Date(2024, 3, 3, 23, 0, 0, 0, time.UTC)}, // no zone: the publisher's
		{"2024-03-03", isoLayouts, time.Date(2024, 3, 3, 5, 0, 0, 0, time.UTC)},
		{"03/01/2024", bigCommerceLayouts, time.Date(2024, 3, 1, 5, 0, 0, 0, time.UTC)}, // month first
		{"Mon, 23 Sep 2024 14:21:24 +0000", bigCommerceLayouts, time.Date(2024, 9, 23, 14, 21, 24, 0, time.UTC)},
	}
	for _, tt := range tests {
		got, err := parseTime(tt.in, ny, tt.layouts)
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("parseTime(%q) = %v, %v; want %v", tt.in, got.UTC(), err, tt.want)
		}
	}
	for _, bad := range []string{"", "yesterday", "03/01/2024", "1850-01-01", "2024-13-01"} {
		if _, err := parseTime(bad, ny, isoLayouts); err == nil {
			t.Errorf("parseTime(%q) accepted", bad)
		}
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		texts []string
		want  string
	}{
		{[]string{"Clothing > Accessories"}, "accessories"},
		{[]string{"Clothing > Hoodies, Clothing"}, "apparel"},
		{[]string{"", "men", "Ocean Blue Shirt"}, "apparel"},
		{[]string{"Collectibles"}, "collectibles"},
		{[]string{"", "Captain Nova Action Figure"}, "collectibles"},
		{[]string{"", "", "Gardening hand trowel"}, "home"},
		{[]string{"", "", "Mystery Box"}, ""},
	}
	for _, tt := range tests {
		if got := classify(tt.texts...); got != tt.want {
			t.Errorf("classify(%q) = %q, want %q", tt.texts, got, tt.want)
		}
	}
}

func TestPlainText(t *testing.T) {
	in := "<p>Soft &amp; warm</p>\n<ul><li>100% wool</li></ul>"
	if got, want := plainText(in), "Soft & warm 100% wool"; got != want {
		t.Errorf("plainText = %q, want %q", got, want)
	}
}

func TestSniffDelimiter(t *testing.T) {
	for in, want := range map[string]rune{
		"a,b,c\n":                    ',',
		"a\tb\tc\n":                  '\t',
		"a;b;c\n":                    ';',
		"\"x,y\";b;c\n1,2,3,4,5,6\n": ';',
		"single\n":                   ',',
	} {
		if got := sniffDelimiter([]byte(in)); got != want {
			t.Errorf("sniffDelimiter(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCountryName(t *testing.T) {
	for code, want := range map[string]string{"DE": "Germany", "gb": "United Kingdom", "KR": "South Korea", "ZZ": "", "": ""} {
		got, ok := CountryName(code)
		if got != want || ok != (want != "") {
			t.Errorf("CountryName(%q) = %q, %v; want %q", code, got, ok, want)
		}
	}
}
