package chart

import (
	"bytes"
	"fmt"
	"html/template"
	"math"
	"strings"
)

// MultiLines renders up to five series over labels, each in its own shade
// and dash pattern of the palette (classes s0 to s4) and named at the end
// of its line, so that no legend is needed. Series beyond five are not
// drawn. Every point has a hover title naming the series, the label and
// the value.
func MultiLines(title string, labels []string, series []Series, format func(int64) string) template.HTML {
	const (
		width, height = 720, 260
		left, right   = 64, 132
		top, bottom   = 14, 28
	)
	if len(series) > 5 {
		series = series[:5]
	}
	f := newFrame(width, height, left, right, top, bottom, len(labels), series)
	x, y, n := f.x, f.y, len(labels)
	var b bytes.Buffer
	f.open(&b, "chart multi", title, labels, format)
	// End labels are nudged apart so that lines ending close together stay
	// readable.
	ends := make([]float64, len(series))
	for k, s := range series {
		if m := min(len(s.Values), n); m > 0 {
			ends[k] = y(s.Values[m-1])
		}
	}
	placed := spread(ends, 13, float64(top), float64(height-bottom))
	for k := len(series) - 1; k >= 0; k-- {
		s := series[k]
		var pts []string
		for i, v := range s.Values {
			if i < n {
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(i), y(v)))
			}
		}
		if len(pts) == 0 {
			continue
		}
		fmt.Fprintf(&b, `<polyline class="line s%d" points="%s"/>`, k, strings.Join(pts, " "))
		name := s.Name
		if r := []rune(name); len(r) > 18 {
			name = string(r[:17]) + "…"
		}
		fmt.Fprintf(&b, `<text class="endlabel s%d" x="%d" y="%.1f" dominant-baseline="middle">%s</text>`, k, width-right+8, placed[k], template.HTMLEscapeString(name))
		for i, v := range s.Values {
			if i < n {
				fmt.Fprintf(&b, `<circle class="point" cx="%.1f" cy="%.1f" r="5"><title>%s · %s: %s</title></circle>`,
					x(i), y(v), template.HTMLEscapeString(s.Name), template.HTMLEscapeString(labels[i]), template.HTMLEscapeString(format(v)))
			}
		}
	}
	fmt.Fprintf(&b, `<line class="baseline" x1="%d" x2="%d" y1="%.1f" y2="%.1f"/>`, left, width-right, y(0), y(0))
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// spread moves positions apart to at least gap, keeping their order and
// staying within lo..hi where it can.
func spread(pos []float64, gap, lo, hi float64) []float64 {
	idx := make([]int, len(pos))
	for i := range idx {
		idx[i] = i
	}
	// Insertion sort by position: there are at most five.
	for i := 1; i < len(idx); i++ {
		for j := i; j > 0 && pos[idx[j]] < pos[idx[j-1]]; j-- {
			idx[j], idx[j-1] = idx[j-1], idx[j]
		}
	}
	out := append([]float64(nil), pos...)
	for k := 1; k < len(idx); k++ {
		if out[idx[k]] < out[idx[k-1]]+gap {
			out[idx[k]] = out[idx[k-1]] + gap
		}
	}
	if len(idx) > 0 {
		if over := out[idx[len(idx)-1]] - hi; over > 0 {
			for _, i := range idx {
				out[i] = math.Max(lo, out[i]-over)
			}
		}
	}
	return out
}
