package chart

import (
	"bytes"
	"fmt"
	"html/template"
	"math"
)

// frame is the plot area of a chart over labelled x positions: its size
// and margins, the value scale (0 to the top tick) and the x and y of any
// point.
type frame struct {
	width, height, left, right, top, bottom int
	n                                       int // labels on the x axis
	max                                     int64
	ticks                                   []int64
}

// newFrame scales a frame to the largest value of series.
func newFrame(width, height, left, right, top, bottom, n int, series []Series) *frame {
	var max int64
	for _, s := range series {
		for _, v := range s.Values {
			max = max64(max, v)
		}
	}
	f := &frame{width: width, height: height, left: left, right: right, top: top, bottom: bottom, n: n, ticks: niceTicks(max, 4)}
	f.max = max64(f.ticks[len(f.ticks)-1], 1)
	return f
}

func (f *frame) x(i int) float64 {
	plotW := float64(f.width - f.left - f.right)
	if f.n <= 1 {
		return float64(f.left) + plotW/2
	}
	return float64(f.left) + plotW*float64(i)/float64(f.n-1)
}

func (f *frame) y(v int64) float64 {
	plotH := float64(f.height - f.top - f.bottom)
	return float64(f.top) + plotH - plotH*float64(max64(v, 0))/float64(f.max)
}

// open writes the svg element and the axes: horizontal grid lines with
// their values, and at most eight x labels.
func (f *frame) open(b *bytes.Buffer, class, title string, labels []string, format func(int64) string) {
	fmt.Fprintf(b, `<svg class="%s" viewBox="0 0 %d %d" role="img" aria-label="%s" xmlns="http://www.w3.org/2000/svg">`,
		class, f.width, f.height, template.HTMLEscapeString(title))
	for _, t := range f.ticks {
		fmt.Fprintf(b, `<line class="grid" x1="%d" x2="%d" y1="%.1f" y2="%.1f"/>`, f.left, f.width-f.right, f.y(t), f.y(t))
		fmt.Fprintf(b, `<text class="axis" x="%d" y="%.1f" text-anchor="end" dominant-baseline="middle">%s</text>`,
			f.left-8, f.y(t), template.HTMLEscapeString(format(t)))
	}
	// Every other drawn label is "alt": narrow screens, where the chart
	// shrinks and its text is drawn larger, hide those to keep the rest
	// apart.
	every := int(math.Ceil(float64(len(labels)) / 8))
	for i, l := range labels {
		if i%every == 0 {
			class := "axis"
			if (i/every)%2 == 1 {
				class = "axis alt"
			}
			fmt.Fprintf(b, `<text class="%s" x="%.1f" y="%d" text-anchor="middle">%s</text>`, class, f.x(i), f.height-8, template.HTMLEscapeString(l))
		}
	}
}
