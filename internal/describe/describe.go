// Package describe is what a model page shows — a title, key figures,
// tables and charts — with nothing about how they are drawn. Each model
// kind describes its models (job.Describer, in its own package under
// algo/); the web console, reports and `model show` render any Description
// the same way, so a new kind of model gets its page with no console code.
package describe

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/mathcrm/mathcrm/internal/proto"
)

// ErrKind is returned for a model of a kind that has no description.
var ErrKind = errors.New("describe: no description for this kind of model")

// Description is what a model page shows.
type Description struct {
	Title    string   `json:"title"`
	Subtitle string   `json:"subtitle,omitempty"`
	Figures  []Figure `json:"figures"`
	Tables   []Table  `json:"tables,omitempty"`
	Charts   []Chart  `json:"charts,omitempty"`
	Notes    []string `json:"notes,omitempty"`
}

// Figure is one key number with its label, already formatted.
type Figure struct {
	Label string `json:"label"`
	Value string `json:"value"`
}

// Table is a titled table of formatted cells.
type Table struct {
	Title   string     `json:"title"`
	Columns []string   `json:"columns"`
	Rows    [][]string `json:"rows"`
}

// Chart kinds.
const (
	ChartBars  = "bars"  // one bar per Bar
	ChartLines = "lines" // one line per Series, points joined in order
)

// Chart is a bar chart (Bars) or a line chart (Series).
type Chart struct {
	Title  string   `json:"title"`
	Kind   string   `json:"kind"`
	XLabel string   `json:"x_label,omitempty"`
	YLabel string   `json:"y_label,omitempty"`
	Bars   []Bar    `json:"bars,omitempty"`
	Series []Series `json:"series,omitempty"`
}

// Bar is one labelled value of a bar chart.
type Bar struct {
	Label string  `json:"label"`
	Value float64 `json:"value"`
}

// Series is one named line of a line chart.
type Series struct {
	Name   string  `json:"name"`
	Points []Point `json:"points"`
}

// Point is one (x, y) of a series.
type Point struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
}

// Num formats a number for people: 6 significant digits.
func Num(x float64) string { return strconv.FormatFloat(x, 'g', 6, 64) }

// Count formats a count.
func Count(n int64) string { return strconv.FormatInt(n, 10) }

// Share formats n as a share of total.
func Share(n, total int64) string {
	return fmt.Sprintf("%.1f%%", 100*float64(n)/float64(max(total, 1)))
}

// Source says where a model comes from: its job, dataset and version.
func Source(d *proto.ModelDetail, dataset string, version int) string {
	return fmt.Sprintf("from job %s on %s version %d", d.Model.Job, dataset, version)
}

// Bytes writes a byte count for people: "512 B", "1.5 KiB", "3.2 GiB".
func Bytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
