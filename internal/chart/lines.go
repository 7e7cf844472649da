package chart

import (
	"bytes"
	"fmt"
	"html/template"
	"math"
	"strings"
)

// Series is a named line of values, one per label.
type Series struct {
	Name   string
	Values []int64
	// Muted draws the series in gray and dashed (a comparison period).
	Muted bool
}

// Lines renders a line chart of series over labels (the x axis), with a
// hover title on every point naming the series, the label and the value.
func Lines(title string, labels []string, series []Series, format func(int64) string) template.HTML {
	const (
		width, height = 720, 240
		left, right   = 64, 12
		top, bottom   = 12, 28
	)
	f := newFrame(width, height, left, right, top, bottom, len(labels), series)
	x, y, n := f.x, f.y, len(labels)
	var b bytes.Buffer
	f.open(&b, "chart", title, labels, format)
	// Comparison series first, so the current one is drawn on top.
	for pass := 0; pass < 2; pass++ {
		for _, s := range series {
			if s.Muted != (pass == 0) {
				continue
			}
			class := "line"
			if s.Muted {
				class = "line muted"
			}
			var pts []string
			for i, v := range s.Values {
				if i < n {
					pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(i), y(v)))
				}
			}
			fmt.Fprintf(&b, `<polyline class="%s" points="%s"/>`, class, strings.Join(pts, " "))
			if !s.Muted {
				for i, v := range s.Values {
					if i < n {
						fmt.Fprintf(&b, `<circle class="point" cx="%.1f" cy="%.1f" r="6"><title>%s · %s: %s</title></circle>`,
							x(i), y(v), template.HTMLEscapeString(s.Name), template.HTMLEscapeString(labels[i]), template.HTMLEscapeString(format(v)))
					}
				}
			}
		}
	}
	fmt.Fprintf(&b, `<line class="baseline" x1="%d" x2="%d" y1="%.1f" y2="%.1f"/>`, left, width-right, y(0), y(0))
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// HBars renders ranked horizontal bars: one row per point with its label,
// a bar proportional to the largest value, and the formatted value.
func HBars(title string, points []Point, format func(int64) string) template.HTML {
	const width, row, labelW, valueW = 420, 24, 150, 64
	height := row*len(points) + 4
	var max int64 = 1
	for _, p := range points {
		if p.Value > max {
			max = p.Value
		}
	}
	plotW := float64(width - labelW - valueW)
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg class="chart hbars" viewBox="0 0 %d %d" role="img" aria-label="%s" xmlns="http://www.w3.org/2000/svg">`, width, height, template.HTMLEscapeString(title))
	for i, p := range points {
		y := float64(i*row) + 4
		w := math.Max(0, plotW*float64(p.Value)/float64(max))
		label := p.Label
		if len([]rune(label)) > 22 {
			label = string([]rune(label)[:21]) + "…"
		}
		fmt.Fprintf(&b, `<text class="label" x="0" y="%.1f" dominant-baseline="middle">%s</text>`, y+row/2-2, template.HTMLEscapeString(label))
		fmt.Fprintf(&b, `<rect class="bar" x="%d" y="%.1f" width="%.1f" height="%d"><title>%s: %s</title></rect>`, labelW, y+4, w, row-10,
			template.HTMLEscapeString(p.Label), template.HTMLEscapeString(format(p.Value)))
		fmt.Fprintf(&b, `<text class="value" x="%d" y="%.1f" text-anchor="end" dominant-baseline="middle">%s</text>`, width, y+row/2-2, template.HTMLEscapeString(format(p.Value)))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}
