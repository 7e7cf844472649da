package chart

import (
	"encoding/xml"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestNiceTicks(t *testing.T) {
	for _, tc := range []struct {
		max  int64
		want []int64
	}{
		{0, []int64{0}},
		{7, []int64{0, 2, 4, 6, 8}},
		{100, []int64{0, 50, 100}},
		{1234567, []int64{0, 500000, 1000000, 1500000}},
	} {
		if diff := cmp.Diff(tc.want, niceTicks(tc.max, 4)); diff != "" {
			t.Errorf("niceTicks(%d) (-want +got):\n%s", tc.max, diff)
		}
	}
}

func TestBarsIsWellFormedSVGWithATitlePerBar(t *testing.T) {
	pts := []Point{{"Jan", 10}, {"Feb <&>", 30}, {"Mar", 0}}
	svg := string(Bars("Revenue", pts, func(v int64) string { return "$" + string(rune('0'+v%10)) }))
	if err := xml.Unmarshal([]byte(svg), new(struct{})); err != nil {
		t.Fatalf("not well-formed XML: %v\n%s", err, svg)
	}
	if n := strings.Count(svg, `<rect class="bar"`); n != 3 {
		t.Errorf("%d bars, want 3", n)
	}
	if !strings.Contains(svg, "<title>Feb &lt;&amp;&gt;: $0</title>") {
		t.Errorf("label not escaped into title:\n%s", svg)
	}
}

func TestLinesAndHBarsAreWellFormed(t *testing.T) {
	f := func(v int64) string { return "x" }
	for name, svg := range map[string]string{
		"lines": string(Lines("t", []string{"a", "b", "c"}, []Series{{Name: "now", Values: []int64{1, 5, 3}}, {Name: "before", Values: []int64{2, 2, 2}, Muted: true}}, f)),
		"one":   string(Lines("t", []string{"a"}, []Series{{Name: "now", Values: []int64{1}}}, f)),
		"hbars": string(HBars("t", []Point{{"Apparel & <more>", 10}, {"Home", 0}}, f)),
	} {
		if err := xml.Unmarshal([]byte(svg), new(struct{})); err != nil {
			t.Errorf("%s: not well-formed: %v\n%s", name, err, svg)
		}
	}
	svg := string(Lines("t", []string{"a", "b"}, []Series{{Name: "now", Values: []int64{1, 5}}, {Name: "before", Values: []int64{2, 2}, Muted: true}}, f))
	if strings.Count(svg, "<circle") != 2 || !strings.Contains(svg, `class="line muted"`) {
		t.Errorf("points or comparison line missing:\n%s", svg)
	}
}

var update = flag.Bool("update", false, "rewrite golden files")

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs (-want +got):\n%s", name, diff)
	}
}

// TestLinesPartialBuckets: a first and a last bucket only partly inside
// the range are hollow points reached by dashed segments; the whole
// buckets between them stay one solid line.
func TestLinesPartialBuckets(t *testing.T) {
	f := func(v int64) string { return "$" + strconv.FormatInt(v, 10) }
	svg := string(Lines("Net revenue per week", []string{"W1", "W2", "W3", "W4", "W5"}, []Series{
		{Name: "This period", Values: []int64{20, 90, 100, 80, 15}, Partial: []bool{true, false, false, false, true}},
		{Name: "Comparison", Values: []int64{60, 70, 75, 70, 65}, Muted: true, Partial: []bool{true, false, false, false, true}},
	}, f))
	if err := xml.Unmarshal([]byte(svg), new(struct{})); err != nil {
		t.Fatalf("not well-formed: %v\n%s", err, svg)
	}
	if n := strings.Count(svg, `class="point partial"`); n != 2 {
		t.Errorf("%d hollow points, want 2", n)
	}
	if n := strings.Count(svg, `<line class="line partial"`); n != 2 {
		t.Errorf("%d dashed segments of the current series, want 2", n)
	}
	if !strings.Contains(svg, "<title>This period · W5, partial: $15</title>") {
		t.Errorf("the partial bucket's title does not say so")
	}
	golden(t, "lines_partial.svg", svg)
}
