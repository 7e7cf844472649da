package chart

import (
	"bytes"
	"fmt"
	"html/template"
	"math"
	"strings"
)

// Forecast is what follows the history in a Bands chart: the expected
// values and their 80% and 95% prediction intervals, one per period.
type Forecast struct {
	Point, Lo80, Hi80, Lo95, Hi95 []int64
}

// Bands renders a history as a solid line and the forecast after it as a
// dashed line inside two shaded bands: the 95% interval lighter and wider,
// the 80% interval darker within it. A vertical rule marks where the
// forecast starts. labels name the history periods followed by the
// forecast periods. Every point has a hover title with its value and, for
// the forecast, its ranges.
func Bands(title string, labels []string, history []int64, fc Forecast, format func(int64) string) template.HTML {
	const (
		width, height = 720, 260
		left, right   = 64, 28
		top, bottom   = 12, 28
	)
	nh, nf := len(history), len(fc.Point)
	n := nh + nf
	var max int64
	for _, v := range history {
		max = max64(max, v)
	}
	for _, vs := range [][]int64{fc.Point, fc.Hi80, fc.Hi95} {
		for _, v := range vs {
			max = max64(max, v)
		}
	}
	ticks := niceTicks(max, 4)
	max = ticks[len(ticks)-1]
	if max <= 0 {
		max = 1
	}
	plotW, plotH := float64(width-left-right), float64(height-top-bottom)
	x := func(i int) float64 {
		if n <= 1 {
			return float64(left) + plotW/2
		}
		return float64(left) + plotW*float64(i)/float64(n-1)
	}
	y := func(v int64) float64 { return float64(top) + plotH - plotH*float64(max64(v, 0))/float64(max) }

	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg class="chart bands" viewBox="0 0 %d %d" role="img" aria-label="%s" xmlns="http://www.w3.org/2000/svg">`, width, height, template.HTMLEscapeString(title))
	for _, t := range ticks {
		fmt.Fprintf(&b, `<line class="grid" x1="%d" x2="%d" y1="%.1f" y2="%.1f"/>`, left, width-right, y(t), y(t))
		fmt.Fprintf(&b, `<text class="axis" x="%d" y="%.1f" text-anchor="end" dominant-baseline="middle">%s</text>`, left-8, y(t), template.HTMLEscapeString(format(t)))
	}
	// Every few labels, and always the first forecast period; labels too
	// close to that one are left out so that none overlap.
	every := int(math.Ceil(float64(n) / 8))
	for i := 0; i < n && i < len(labels); i++ {
		near := nf > 0 && i != nh && i > nh-every && i < nh+every
		if i == nh && nf > 0 || i%every == 0 && !near {
			fmt.Fprintf(&b, `<text class="axis" x="%.1f" y="%d" text-anchor="middle">%s</text>`, x(i), height-8, template.HTMLEscapeString(labels[i]))
		}
	}
	if nf > 0 {
		// The bands and the forecast line start from the last actual value,
		// so the forecast reads as a continuation.
		band := func(class string, lo, hi []int64) {
			var upper, lower []string
			if nh > 0 {
				upper = append(upper, fmt.Sprintf("%.1f,%.1f", x(nh-1), y(history[nh-1])))
				lower = append(lower, fmt.Sprintf("%.1f,%.1f", x(nh-1), y(history[nh-1])))
			}
			for i := range nf {
				upper = append(upper, fmt.Sprintf("%.1f,%.1f", x(nh+i), y(hi[i])))
				lower = append(lower, fmt.Sprintf("%.1f,%.1f", x(nh+i), y(lo[i])))
			}
			for i, j := 0, len(lower)-1; i < j; i, j = i+1, j-1 {
				lower[i], lower[j] = lower[j], lower[i]
			}
			fmt.Fprintf(&b, `<polygon class="%s" points="%s"/>`, class, strings.Join(append(upper, lower...), " "))
		}
		band("band95", fc.Lo95, fc.Hi95)
		band("band80", fc.Lo80, fc.Hi80)
		if nh > 0 {
			fmt.Fprintf(&b, `<line class="divider" x1="%.1f" x2="%.1f" y1="%d" y2="%.1f"/>`, x(nh-1), x(nh-1), top, float64(top)+plotH)
		}
	}
	var pts []string
	for i, v := range history {
		pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(i), y(v)))
	}
	if len(pts) > 0 {
		fmt.Fprintf(&b, `<polyline class="line" points="%s"/>`, strings.Join(pts, " "))
	}
	if nf > 0 {
		var fpts []string
		if nh > 0 {
			fpts = append(fpts, pts[nh-1])
		}
		for i, v := range fc.Point {
			fpts = append(fpts, fmt.Sprintf("%.1f,%.1f", x(nh+i), y(v)))
		}
		fmt.Fprintf(&b, `<polyline class="line forecast" points="%s"/>`, strings.Join(fpts, " "))
	}
	for i, v := range history {
		fmt.Fprintf(&b, `<circle class="point" cx="%.1f" cy="%.1f" r="6"><title>%s: %s</title></circle>`, x(i), y(v), template.HTMLEscapeString(label(labels, i)), template.HTMLEscapeString(format(v)))
	}
	for i, v := range fc.Point {
		fmt.Fprintf(&b, `<circle class="point" cx="%.1f" cy="%.1f" r="6"><title>%s forecast: %s (80%%: %s to %s; 95%%: %s to %s)</title></circle>`,
			x(nh+i), y(v), template.HTMLEscapeString(label(labels, nh+i)), template.HTMLEscapeString(format(v)),
			template.HTMLEscapeString(format(at(fc.Lo80, i))), template.HTMLEscapeString(format(at(fc.Hi80, i))),
			template.HTMLEscapeString(format(at(fc.Lo95, i))), template.HTMLEscapeString(format(at(fc.Hi95, i))))
	}
	fmt.Fprintf(&b, `<line class="baseline" x1="%d" x2="%d" y1="%.1f" y2="%.1f"/>`, left, width-right, y(0), y(0))
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func label(labels []string, i int) string {
	if i < len(labels) {
		return labels[i]
	}
	return ""
}

func at(v []int64, i int) int64 {
	if i < len(v) {
		return v[i]
	}
	return 0
}
