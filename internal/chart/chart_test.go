package chart

import (
	"encoding/xml"
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
