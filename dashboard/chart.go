package dashboard

import (
	"fmt"
	"html/template"
	"math"
	"strings"

	"github.com/dustin/go-humanize"
)

// series is one line of a chart.
type series struct {
	Name   string
	Class  string // CSS class giving its colour
	Points []float64
}

// chart draws series as an SVG line chart: server-side, so no chart
// library is shipped and a page without JavaScript has its graphs too.
// unit formats a value for the axis and the legend.
func chart(title string, unit func(float64) string, ss ...series) template.HTML {
	const w, h, pad = 600.0, 150.0, 4.0
	top := 0.0
	for _, s := range ss {
		for _, p := range s.Points {
			top = math.Max(top, p)
		}
	}
	if top == 0 {
		top = 1
	}
	var b strings.Builder
	var legend []string
	for _, s := range ss {
		last := 0.0
		if n := len(s.Points); n > 0 {
			last = s.Points[n-1]
		}
		legend = append(legend, fmt.Sprintf("%s %s", s.Name, unit(last)))
	}
	desc := template.HTMLEscapeString(title + ", now: " + strings.Join(legend, ", ") + "; peak " + unit(top))
	fmt.Fprintf(&b, `<figure class="chart"><figcaption>%s <span class="muted">peak %s</span> <span class="legend">`,
		template.HTMLEscapeString(title), template.HTMLEscapeString(unit(top)))
	for i, s := range ss {
		fmt.Fprintf(&b, `<span class="%s">%s</span> `, s.Class, template.HTMLEscapeString(legend[i]))
	}
	fmt.Fprintf(&b, `</span></figcaption><svg viewBox="0 0 %g %g" role="img" aria-label="%s" preserveAspectRatio="none">`, w, h, desc)
	fmt.Fprintf(&b, `<title>%s</title>`, desc)
	fmt.Fprintf(&b, `<line class="axis" x1="0" y1="%g" x2="%g" y2="%g"/>`, h-pad, w, h-pad)
	for _, s := range ss {
		if len(s.Points) == 0 {
			continue
		}
		step := w / float64(max(1, keepSamples-1))
		x0 := w - step*float64(len(s.Points)-1)
		var pts []string
		for i, p := range s.Points {
			y := h - pad - (p/top)*(h-2*pad)
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x0+step*float64(i), y))
		}
		fmt.Fprintf(&b, `<polyline class="%s" points="%s"/>`, s.Class, strings.Join(pts, " "))
	}
	b.WriteString(`</svg></figure>`)
	return template.HTML(b.String()) // every piece of text above was escaped
}

func perSecondBytes(v float64) string { return humanize.IBytes(uint64(v)) + "/s" }
func perSecond(v float64) string      { return fmt.Sprintf("%.0f/s", v) }
func millis(v float64) string         { return fmt.Sprintf("%.2f ms", v) }
