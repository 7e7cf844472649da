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
	// Partial marks the values of buckets only partly inside the range (a
	// week or month cut short, usually the current one): their points are
	// drawn hollow and the lines to them dashed, so a smaller sum does not
	// read as a drop. Indexes beyond its length are whole.
	Partial []bool
}

func (s Series) partial(i int) bool { return i < len(s.Partial) && s.Partial[i] }

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
			// Runs of whole buckets are one polyline each; a segment that
			// touches a partial bucket is drawn dashed on its own.
			var pts []string
			flush := func() {
				if len(pts) > 1 {
					fmt.Fprintf(&b, `<polyline class="%s" points="%s"/>`, class, strings.Join(pts, " "))
				}
				pts = pts[:0]
			}
			m := min(len(s.Values), n)
			for i := range m {
				if i > 0 && (s.partial(i-1) || s.partial(i)) {
					flush()
					fmt.Fprintf(&b, `<line class="%s partial" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, class, x(i-1), y(s.Values[i-1]), x(i), y(s.Values[i]))
				}
				if !s.partial(i) {
					pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(i), y(s.Values[i])))
				} else {
					flush()
				}
			}
			if m == 1 && !s.partial(0) {
				pts = append(pts, pts[0])
			}
			flush()
			if !s.Muted {
				for i := range m {
					v, label := s.Values[i], labels[i]
					if s.partial(i) {
						fmt.Fprintf(&b, `<circle class="point partial" cx="%.1f" cy="%.1f" r="3.5"/>`, x(i), y(v))
						label += ", partial"
					}
					fmt.Fprintf(&b, `<circle class="point" cx="%.1f" cy="%.1f" r="6"><title>%s · %s: %s</title></circle>`,
						x(i), y(v), template.HTMLEscapeString(s.Name), template.HTMLEscapeString(label), template.HTMLEscapeString(format(v)))
				}
			}
		}
	}
	fmt.Fprintf(&b, `<line class="baseline" x1="%d" x2="%d" y1="%.1f" y2="%.1f"/>`, left, width-right, y(0), y(0))
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// HBars renders ranked horizontal bars: one row per point with its label,
// a bar proportional to the largest value, and the formatted value. It is
// drawn for a half-width panel; HBarsWide for a whole-width one.
func HBars(title string, points []Point, format func(int64) string) template.HTML {
	return hbars("chart hbars", 420, 150, title, points, format)
}

// HBarsWide is HBars drawn for a whole-width panel, so that its text keeps
// the page's size rather than growing with the panel.
func HBarsWide(title string, points []Point, format func(int64) string) template.HTML {
	return hbars("chart hbars wide", 960, 240, title, points, format)
}

func hbars(class string, width, labelW int, title string, points []Point, format func(int64) string) template.HTML {
	const row, valueW = 24, 64
	height := row*len(points) + 4
	var max int64 = 1
	for _, p := range points {
		if p.Value > max {
			max = p.Value
		}
	}
	plotW := float64(width - labelW - valueW)
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg class="%s" viewBox="0 0 %d %d" role="img" aria-label="%s" xmlns="http://www.w3.org/2000/svg">`, class, width, height, template.HTMLEscapeString(title))
	for i, p := range points {
		y := float64(i*row) + 4
		w := math.Max(0, plotW*float64(p.Value)/float64(max))
		label := p.Label
		if keep := labelW / 7; len([]rune(label)) > keep {
			label = string([]rune(label)[:keep-1]) + "…"
		}
		fmt.Fprintf(&b, `<text class="label" x="0" y="%.1f" dominant-baseline="middle">%s</text>`, y+row/2-2, template.HTMLEscapeString(label))
		fmt.Fprintf(&b, `<rect class="bar" x="%d" y="%.1f" width="%.1f" height="%d"><title>%s: %s</title></rect>`, labelW, y+4, w, row-10,
			template.HTMLEscapeString(p.Label), template.HTMLEscapeString(format(p.Value)))
		fmt.Fprintf(&b, `<text class="value" x="%d" y="%.1f" text-anchor="end" dominant-baseline="middle">%s</text>`, width, y+row/2-2, template.HTMLEscapeString(format(p.Value)))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}
