// Package chart renders small SVG charts on the server in the design system
// of DESIGN.md §6: near-black marks on white, gray axes, no decoration, and
// a <title> on every mark so hovering shows its exact value.
package chart

import (
	"bytes"
	"fmt"
	"html/template"
	"math"
)

// Point is one labelled value.
type Point struct {
	Label string
	Value int64
}

// Bars renders a vertical bar chart of points. format turns values into the
// text of the axis and the hover titles. The result is an accessible SVG
// (role img with a label); the page puts a data table beside it.
func Bars(title string, points []Point, format func(int64) string) template.HTML {
	const (
		width, height = 720, 240
		left, right   = 64, 8
		top, bottom   = 12, 28
	)
	var max int64
	for _, p := range points {
		max = int64(math.Max(float64(max), float64(p.Value)))
	}
	ticks := niceTicks(max, 4)
	if len(ticks) > 0 {
		max = ticks[len(ticks)-1]
	}
	if max <= 0 {
		max = 1
	}
	plotW, plotH := float64(width-left-right), float64(height-top-bottom)
	y := func(v int64) float64 { return float64(top) + plotH - plotH*float64(v)/float64(max) }

	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-label="%s" xmlns="http://www.w3.org/2000/svg">`,
		width, height, template.HTMLEscapeString(title))
	for _, t := range ticks {
		fmt.Fprintf(&b, `<line class="grid" x1="%d" x2="%d" y1="%.1f" y2="%.1f"/>`, left, width-right, y(t), y(t))
		fmt.Fprintf(&b, `<text class="axis" x="%d" y="%.1f" text-anchor="end" dominant-baseline="middle">%s</text>`,
			left-8, y(t), template.HTMLEscapeString(format(t)))
	}
	if n := len(points); n > 0 {
		slot := plotW / float64(n)
		barW := math.Max(1, slot*0.7)
		labelEvery := int(math.Ceil(float64(n) / 12))
		for i, p := range points {
			x := float64(left) + slot*float64(i) + (slot-barW)/2
			v := max64(p.Value, 0)
			fmt.Fprintf(&b, `<rect class="bar" x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>%s: %s</title></rect>`,
				x, y(v), barW, float64(top)+plotH-y(v), template.HTMLEscapeString(p.Label), template.HTMLEscapeString(format(p.Value)))
			if i%labelEvery == 0 {
				fmt.Fprintf(&b, `<text class="axis" x="%.1f" y="%d" text-anchor="middle">%s</text>`,
					x+barW/2, height-8, template.HTMLEscapeString(p.Label))
			}
		}
	}
	fmt.Fprintf(&b, `<line class="baseline" x1="%d" x2="%d" y1="%.1f" y2="%.1f"/>`, left, width-right, y(0), y(0))
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func max64(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}

// niceTicks returns about n evenly spaced round tick values from 0 up to at
// least max (1, 2 or 5 times a power of ten apart).
func niceTicks(max int64, n int) []int64 {
	if max <= 0 {
		return []int64{0}
	}
	raw := float64(max) / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	s := int64(math.Max(1, step))
	var ticks []int64
	for v := int64(0); ; v += s {
		ticks = append(ticks, v)
		if v >= max {
			break
		}
	}
	return ticks
}
