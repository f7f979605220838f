package console

import (
	"fmt"
	"html/template"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/mathcrm/mathcrm/internal/describe"
	"github.com/mathcrm/mathcrm/internal/proto"
)

// The geometry of a chart is computed here and drawn by chart.html, so
// html/template escapes every label.

// svgChart is a drawn chart: plot area, bars, lines, marks, ticks, legend.
type svgChart struct {
	Title          string
	W, H           int
	X0, Y0, X1, Y1 float64 // plot area, Y0 the top
	Bars           []svgBar
	Lines          []svgLine
	Marks          []svgMark
	Ticks          []svgText
	XLabel, YLabel string
	Legend         []svgText
	Empty          bool
}

type svgBar struct {
	X, Y, W, H float64
	Title      string
}

type svgLine struct {
	Points string
	Class  string
}

type svgMark struct {
	X, Y  float64
	R     float64
	Class string
	Title string
}

type svgText struct {
	X, Y   float64
	Text   string
	Anchor string
	Class  string
}

const (
	chartW, chartH           = 640, 260
	padL, padR, padT, padBot = 64.0, 16.0, 24.0, 48.0
)

// scale maps [lo, hi] onto [a, b].
type scale struct{ lo, hi, a, b float64 }

func (s scale) at(v float64) float64 {
	if s.hi == s.lo {
		return (s.a + s.b) / 2
	}
	return s.a + (v-s.lo)/(s.hi-s.lo)*(s.b-s.a)
}

func newChart(title, xl, yl string) svgChart {
	return svgChart{Title: title, W: chartW, H: chartH, X0: padL, Y0: padT, X1: chartW - padR, Y1: chartH - padBot, XLabel: xl, YLabel: yl}
}

// yTicks adds labels for lo, the middle and hi of the y axis.
func (c *svgChart) yTicks(y scale) {
	for _, v := range []float64{y.lo, (y.lo + y.hi) / 2, y.hi} {
		c.Ticks = append(c.Ticks, svgText{X: c.X0 - 6, Y: y.at(v) + 4, Text: short(v), Anchor: "end", Class: "tick"})
	}
}

// drawChart draws a description chart.
func drawChart(ch describe.Chart) svgChart {
	if ch.Kind == describe.ChartBars {
		return drawBars(ch)
	}
	return drawLines(ch)
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

func drawBars(ch describe.Chart) svgChart {
	c := newChart(ch.Title, ch.XLabel, ch.YLabel)
	if len(ch.Bars) == 0 {
		c.Empty = true
		return c
	}
	lo, hi := 0.0, 0.0
	for _, b := range ch.Bars {
		if finite(b.Value) {
			lo, hi = min(lo, b.Value), max(hi, b.Value)
		}
	}
	if lo == hi {
		hi = 1
	}
	y := scale{lo, hi, c.Y1, c.Y0}
	slot := (c.X1 - c.X0) / float64(len(ch.Bars))
	w := math.Max(1, slot*0.8)
	every := max(1, len(ch.Bars)/12) // at most a dozen x labels
	for i, b := range ch.Bars {
		v := b.Value
		if !finite(v) {
			v = 0
		}
		top, bot := y.at(math.Max(v, 0)), y.at(math.Min(v, 0))
		x := c.X0 + float64(i)*slot + (slot-w)/2
		c.Bars = append(c.Bars, svgBar{X: x, Y: top, W: w, H: math.Max(bot-top, 0.5), Title: b.Label + ": " + short(b.Value)})
		if i%every == 0 {
			c.Ticks = append(c.Ticks, svgText{X: x + w/2, Y: c.Y1 + 14, Text: clip(b.Label, int(slot*float64(every)/6)), Anchor: "middle", Class: "tick"})
		}
	}
	c.yTicks(y)
	return c
}

func drawLines(ch describe.Chart) svgChart {
	c := newChart(ch.Title, ch.XLabel, ch.YLabel)
	xlo, xhi, ylo, yhi := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, s := range ch.Series {
		for _, p := range s.Points {
			if finite(p.X) && finite(p.Y) {
				xlo, xhi, ylo, yhi = min(xlo, p.X), max(xhi, p.X), min(ylo, p.Y), max(yhi, p.Y)
			}
		}
	}
	if math.IsInf(xlo, 1) {
		c.Empty = true
		return c
	}
	x, y := scale{xlo, xhi, c.X0, c.X1}, scale{ylo, yhi, c.Y1, c.Y0}
	for i, s := range ch.Series {
		class := "series s" + strconv.Itoa(i%4)
		var pts []string
		for _, p := range s.Points {
			if !finite(p.X) || !finite(p.Y) {
				continue
			}
			px, py := x.at(p.X), y.at(p.Y)
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", px, py))
			c.Marks = append(c.Marks, svgMark{X: px, Y: py, R: 3, Class: "mark s" + strconv.Itoa(i%4), Title: fmt.Sprintf("%s: %s, %s", s.Name, short(p.X), short(p.Y))})
		}
		c.Lines = append(c.Lines, svgLine{Points: strings.Join(pts, " "), Class: class})
		if len(ch.Series) > 1 {
			c.Legend = append(c.Legend, svgText{X: c.X0 + 120 + float64(i)*170, Y: c.Y0 - 8, Text: s.Name, Class: "legend s" + strconv.Itoa(i%4)})
		}
	}
	for _, v := range []float64{xlo, (xlo + xhi) / 2, xhi} {
		c.Ticks = append(c.Ticks, svgText{X: x.at(v), Y: c.Y1 + 14, Text: short(v), Anchor: "middle", Class: "tick"})
	}
	c.yTicks(y)
	return c
}

// drawTimeline draws a schedule's runs on a time axis, one mark per run
// coloured by its outcome.
func drawTimeline(runs []proto.ScheduleRun) svgChart {
	c := newChart("Runs", "scheduled for", "")
	c.H, c.Y1 = 120, 72
	if len(runs) == 0 {
		c.Empty = true
		return c
	}
	lo, hi := runs[0].ScheduledFor, runs[0].ScheduledFor
	for _, r := range runs {
		if r.ScheduledFor.Before(lo) {
			lo = r.ScheduledFor
		}
		if r.ScheduledFor.After(hi) {
			hi = r.ScheduledFor
		}
	}
	x := scale{0, float64(hi.Sub(lo)), c.X0 + 8, c.X1 - 8}
	mid := (c.Y0 + c.Y1) / 2
	seen := map[string]bool{}
	for _, r := range runs {
		if !seen[r.State] {
			seen[r.State] = true
			c.Legend = append(c.Legend, svgText{X: c.X0 + 8 + float64(len(seen)-1)*90, Y: c.Y0 - 8, Text: r.State, Class: "legend " + r.State})
		}
		c.Marks = append(c.Marks, svgMark{X: x.at(float64(r.ScheduledFor.Sub(lo))), Y: mid, R: 7, Class: "run " + r.State,
			Title: fmt.Sprintf("%s: %s", when(r.ScheduledFor), r.State)})
	}
	c.Ticks = append(c.Ticks, svgText{X: x.at(0), Y: c.Y1 + 16, Text: when(lo), Anchor: "start", Class: "tick"})
	if hi.After(lo) {
		c.Ticks = append(c.Ticks, svgText{X: x.at(float64(hi.Sub(lo))), Y: c.Y1 + 16, Text: when(hi), Anchor: "end", Class: "tick"})
	}
	return c
}

// svgRange is a column's min, mean ± std and max on one line.
type svgRange struct {
	W, H                    int
	Lo, Hi, BoxLo, BoxW, Mu float64
	Title                   string
}

func drawRange(s proto.ColumnStats) *svgRange {
	if s.Count == 0 || !finite(s.Min) || !finite(s.Max) || s.Categorical() {
		return nil
	}
	x := scale{s.Min, s.Max, 4, 156}
	clamp := func(v float64) float64 { return math.Min(math.Max(v, s.Min), s.Max) }
	return &svgRange{W: 160, H: 18, Lo: x.at(s.Min), Hi: x.at(s.Max), BoxLo: x.at(clamp(s.Mean - s.Std)), BoxW: x.at(clamp(s.Mean+s.Std)) - x.at(clamp(s.Mean-s.Std)),
		Mu: x.at(s.Mean), Title: fmt.Sprintf("min %s, mean %s ± %s, max %s", short(s.Min), short(s.Mean), short(s.Std), short(s.Max))}
}

func short(x float64) string { return strconv.FormatFloat(x, 'g', 4, 64) }

func clip(s string, n int) string {
	n = max(n, 3)
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

func when(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05")
}

var funcs = template.FuncMap{
	"chart":    drawChart,
	"timeline": drawTimeline,
	"colrange": drawRange,
	"when":     when,
	"bytes":    describe.Bytes,
	"num":      func(x float64) string { return strconv.FormatFloat(x, 'g', 6, 64) },
	"secs":     func(x float64) string { return strconv.FormatFloat(x, 'f', 1, 64) + " s" },
	"f1":       func(x float64) string { return strconv.FormatFloat(x, 'f', 1, 64) },
}
