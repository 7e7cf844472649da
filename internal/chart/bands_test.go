package chart

import (
	"encoding/xml"
	"strings"
	"testing"
)

func TestBandsIsWellFormedWithBothIntervals(t *testing.T) {
	f := func(v int64) string { return "$" + strings.Repeat("1", int(v%3)+1) }
	svg := string(Bands("Forecast <total>", []string{"Jan", "Feb", "Mar", "Apr", "May"}, []int64{10, 12, 11},
		Forecast{Point: []int64{13, 14}, Lo80: []int64{11, 11}, Hi80: []int64{15, 17}, Lo95: []int64{9, 8}, Hi95: []int64{17, 20}}, f))
	if err := xml.Unmarshal([]byte(svg), new(struct{})); err != nil {
		t.Fatalf("not well-formed: %v\n%s", err, svg)
	}
	for _, want := range []string{`class="band95"`, `class="band80"`, `class="line forecast"`, `class="divider"`, "Apr forecast:", "Forecast &lt;total&gt;"} {
		if !strings.Contains(svg, want) {
			t.Errorf("missing %s:\n%s", want, svg)
		}
	}
	if n := strings.Count(svg, "<circle"); n != 5 {
		t.Errorf("%d points, want 5", n)
	}
	// History only, forecast only, nothing: still well formed.
	for _, svg := range []string{
		string(Bands("t", []string{"a"}, []int64{1}, Forecast{}, f)),
		string(Bands("t", []string{"a", "b"}, nil, Forecast{Point: []int64{1, 2}, Lo80: []int64{0, 1}, Hi80: []int64{2, 3}, Lo95: []int64{0, 0}, Hi95: []int64{3, 4}}, f)),
		string(Bands("t", nil, nil, Forecast{}, f)),
	} {
		if err := xml.Unmarshal([]byte(svg), new(struct{})); err != nil {
			t.Errorf("not well-formed: %v\n%s", err, svg)
		}
	}
}

func TestMultiLinesLabelsEachSeries(t *testing.T) {
	f := func(v int64) string { return "x" }
	var series []Series
	for _, name := range []string{"Captain Nova", "Void Empress", "Pixel", "A very long asset name indeed", "Five", "Six"} {
		series = append(series, Series{Name: name, Values: []int64{5, 5, 5}})
	}
	svg := string(MultiLines("Top assets", []string{"a", "b", "c"}, series, f))
	if err := xml.Unmarshal([]byte(svg), new(struct{})); err != nil {
		t.Fatalf("not well-formed: %v\n%s", err, svg)
	}
	if n := strings.Count(svg, `class="endlabel`); n != 5 {
		t.Errorf("%d end labels, want 5 (a sixth series is not drawn)", n)
	}
	if !strings.Contains(svg, "A very long asset…") || strings.Contains(svg, ">Six<") {
		t.Errorf("labels:\n%s", svg)
	}
}

func TestSpreadKeepsLabelsApart(t *testing.T) {
	got := spread([]float64{100, 101, 50, 102}, 10, 0, 200)
	want := []float64{100, 110, 50, 120}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("spread = %v, want %v", got, want)
		}
	}
	if got := spread([]float64{195, 196}, 10, 0, 200); got[1] > 200 || got[1]-got[0] < 10 {
		t.Errorf("spread at the edge = %v", got)
	}
}
