// Package describe turns a model into a Description: a title, key figures,
// tables and charts, with nothing about how they are drawn. The web console
// renders any Description the same way, so a kind of model gets its page by
// supplying one describe function here, with no console code of its own.
package describe

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/mathcrm/mathcrm/internal/proto"
)

// ErrKind is returned for a model of a kind no describe function knows.
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

// Func describes one kind of model.
type Func func(*proto.ModelDetail) (*Description, error)

// kinds lists the describe functions by model kind: the one place a new
// kind of model is added.
var kinds = map[string]Func{
	"kmeans":   KMeans,
	"linear":   Linear,
	"logistic": Logistic,
	"als":      ALS,
}

// Model describes a model by its kind.
func Model(d *proto.ModelDetail) (*Description, error) {
	fn, ok := kinds[d.Model.Kind]
	if !ok {
		return nil, fmt.Errorf("%w: model %s is of kind %q", ErrKind, d.Model.ID, d.Model.Kind)
	}
	return fn(d)
}

// missing reports a model detail that lacks the part its kind needs.
func missing(d *proto.ModelDetail, part string) error {
	return fmt.Errorf("%w: model %s of kind %q has no %s part", ErrKind, d.Model.ID, d.Model.Kind, part)
}

func num(x float64) string { return strconv.FormatFloat(x, 'g', 6, 64) }
func count(n int64) string { return strconv.FormatInt(n, 10) }
func share(n, total int64) string {
	return fmt.Sprintf("%.1f%%", 100*float64(n)/float64(max(total, 1)))
}

func source(d *proto.ModelDetail, dataset string, version int) string {
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
