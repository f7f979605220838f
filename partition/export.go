package partition

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/parquet-go/parquet-go"
)

// ExportColumn describes one column of an export: numeric when Levels is
// nil, else categorical with the codes' values.
type ExportColumn struct {
	Name   string
	Levels []string
}

// Exporter writes a dataset's rows for a data team's own tools. Values are
// float64 as in a Shard (NaN = missing; a categorical column's value is its
// code).
type Exporter interface {
	Write(key string, values []float64) error
	// Close flushes the export; the underlying writer stays open.
	Close() error
}

// NewExporter returns an exporter in format "csv" or "parquet".
func NewExporter(format string, w io.Writer, key string, cols []ExportColumn) (Exporter, error) {
	switch format {
	case "csv":
		cw := csv.NewWriter(w)
		header := []string{key}
		for _, c := range cols {
			header = append(header, c.Name)
		}
		if err := cw.Write(header); err != nil {
			return nil, err
		}
		return &csvExporter{w: cw, cols: cols, rec: make([]string, len(header))}, nil
	case "parquet":
		return newParquetExporter(w, key, cols), nil
	}
	return nil, fmt.Errorf("partition: export format %q is not csv or parquet", format)
}

type csvExporter struct {
	w    *csv.Writer
	cols []ExportColumn
	rec  []string
}

func (e *csvExporter) Write(key string, values []float64) error {
	e.rec[0] = key
	for j, v := range values {
		e.rec[j+1] = cell(e.cols[j], v)
	}
	return e.w.Write(e.rec)
}

// cell formats a value exactly: the shortest text that reads back as the
// same float64, a category's value, or empty when missing.
func cell(c ExportColumn, v float64) string {
	switch {
	case math.IsNaN(v):
		return ""
	case c.Levels != nil:
		if i := int(v); i >= 0 && i < len(c.Levels) {
			return c.Levels[i]
		}
		return ""
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

func (e *csvExporter) Close() error {
	e.w.Flush()
	return e.w.Error()
}

type parquetExporter struct {
	pw   *parquet.GenericWriter[any]
	cols []ExportColumn
	rows []parquet.Row
}

func newParquetExporter(w io.Writer, key string, cols []ExportColumn) *parquetExporter {
	g := parquet.Group{key: parquet.Required(parquet.String())}
	order := []string{key}
	for _, c := range cols {
		if c.Levels != nil {
			g[c.Name] = parquet.Optional(parquet.String())
		} else {
			g[c.Name] = parquet.Optional(parquet.Leaf(parquet.DoubleType))
		}
		order = append(order, c.Name)
	}
	schema := parquet.NewSchema("mathcrm_export", orderedGroup{Group: g, order: order})
	pw := parquet.NewGenericWriter[any](w, schema, parquet.Compression(shardCodec), parquet.CreatedBy("mathcrm", "1", ""))
	return &parquetExporter{pw: pw, cols: cols}
}

func (e *parquetExporter) Write(key string, values []float64) error {
	row := make(parquet.Row, 1+len(values))
	row[0] = parquet.ByteArrayValue([]byte(key)).Level(0, 0, 0)
	for j, v := range values {
		switch {
		case math.IsNaN(v):
			row[j+1] = parquet.NullValue().Level(0, 0, j+1)
		case e.cols[j].Levels != nil:
			row[j+1] = parquet.ByteArrayValue([]byte(cell(e.cols[j], v))).Level(0, 1, j+1)
		default:
			row[j+1] = parquet.DoubleValue(v).Level(0, 1, j+1)
		}
	}
	e.rows = append(e.rows, row)
	if len(e.rows) == rowsPerBatch {
		return e.flush()
	}
	return nil
}

func (e *parquetExporter) flush() error {
	_, err := e.pw.WriteRows(e.rows)
	e.rows = e.rows[:0]
	return err
}

func (e *parquetExporter) Close() error {
	if err := e.flush(); err != nil {
		return err
	}
	return e.pw.Close()
}
