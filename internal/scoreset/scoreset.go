// Package scoreset stores score outputs: one Parquet file (zstd) per shard
// of the scored dataset, with the dataset's key column under its own name
// and then the score columns of the model's kind, and streams them back out
// as CSV or Parquet.
package scoreset

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"

	"github.com/parquet-go/parquet-go"
)

// ErrCorrupt reports a score shard that does not decode as one.
var ErrCorrupt = errors.New("scoreset: corrupt score shard")

// Type is a column's type.
type Type int

// Column types.
const (
	Float Type = iota
	Int
	String
)

// Column names one score column and its type.
type Column struct {
	Name string
	Type Type
}

// Schema returns the score columns of a score set kind (see proto).
func Schema(kind string) ([]Column, error) {
	switch kind {
	case "segments":
		return []Column{{"segment", Int}, {"distance", Float}}, nil
	case "predictions":
		return []Column{{"prediction", Float}}, nil
	case "probabilities":
		return []Column{{"probability", Float}, {"decile", Int}}, nil
	case "recommendations":
		return []Column{{"rank", Int}, {"item", String}, {"score", Float}}, nil
	}
	return nil, fmt.Errorf("scoreset: unknown score set kind %q", kind)
}

// Table is one score shard in memory, column-major: Keys[i] with the i-th
// value of each column (Floats, Ints or Strings by the column's type, indexed
// by column position).
type Table struct {
	Key     string
	Columns []Column
	Keys    []string
	Floats  [][]float64
	Ints    [][]int64
	Strings [][]string
}

// NewTable returns an empty table with room for n rows.
func NewTable(key string, cols []Column, n int) *Table {
	t := &Table{Key: key, Columns: cols, Keys: make([]string, 0, n),
		Floats: make([][]float64, len(cols)), Ints: make([][]int64, len(cols)), Strings: make([][]string, len(cols))}
	for j, c := range cols {
		switch c.Type {
		case Float:
			t.Floats[j] = make([]float64, 0, n)
		case Int:
			t.Ints[j] = make([]int64, 0, n)
		case String:
			t.Strings[j] = make([]string, 0, n)
		}
	}
	return t
}

// Rows returns the number of rows.
func (t *Table) Rows() int { return len(t.Keys) }

// Cell returns row i of column j as text, as CSV export writes it.
func (t *Table) Cell(i, j int) string {
	switch t.Columns[j].Type {
	case Float:
		return strconv.FormatFloat(t.Floats[j][i], 'g', -1, 64)
	case Int:
		return strconv.FormatInt(t.Ints[j][i], 10)
	}
	return t.Strings[j][i]
}

// orderedGroup keeps the schema's columns in the given order.
type orderedGroup struct {
	parquet.Group
	order []string
}

func (g orderedGroup) Fields() []parquet.Field {
	fields := g.Group.Fields()
	rank := make(map[string]int, len(g.order))
	for i, name := range g.order {
		rank[name] = i
	}
	slices.SortStableFunc(fields, func(a, b parquet.Field) int { return rank[a.Name()] - rank[b.Name()] })
	return fields
}

func schema(key string, cols []Column) (*parquet.Schema, error) {
	g := parquet.Group{key: parquet.Required(parquet.String())}
	order := []string{key}
	for _, c := range cols {
		if _, dup := g[c.Name]; dup {
			return nil, fmt.Errorf("scoreset: column %q twice (is the key column named like a score column?)", c.Name)
		}
		switch c.Type {
		case Float:
			g[c.Name] = parquet.Required(parquet.Leaf(parquet.DoubleType))
		case Int:
			g[c.Name] = parquet.Required(parquet.Int(64))
		case String:
			g[c.Name] = parquet.Required(parquet.String())
		}
		order = append(order, c.Name)
	}
	return parquet.NewSchema("mathcrm_scores", orderedGroup{Group: g, order: order}), nil
}

// Writer appends tables to one Parquet stream with a fixed schema.
type Writer struct {
	pw   *parquet.GenericWriter[any]
	cols []Column
	rows []parquet.Row
}

// NewWriter starts a Parquet stream of score rows.
func NewWriter(w io.Writer, key string, cols []Column) (*Writer, error) {
	s, err := schema(key, cols)
	if err != nil {
		return nil, err
	}
	pw := parquet.NewGenericWriter[any](w, s, parquet.Compression(&parquet.Zstd), parquet.CreatedBy("mathcrm", "1", ""),
		parquet.MaxRowsPerRowGroup(1<<16))
	return &Writer{pw: pw, cols: cols}, nil
}

// Write appends every row of t.
func (w *Writer) Write(t *Table) error {
	for i, key := range t.Keys {
		row := make(parquet.Row, 1+len(w.cols))
		row[0] = parquet.ByteArrayValue([]byte(key)).Level(0, 0, 0)
		for j, c := range w.cols {
			switch c.Type {
			case Float:
				row[j+1] = parquet.DoubleValue(t.Floats[j][i]).Level(0, 0, j+1)
			case Int:
				row[j+1] = parquet.Int64Value(t.Ints[j][i]).Level(0, 0, j+1)
			case String:
				row[j+1] = parquet.ByteArrayValue([]byte(t.Strings[j][i])).Level(0, 0, j+1)
			}
		}
		w.rows = append(w.rows, row)
		if len(w.rows) == 256 {
			if err := w.flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

func (w *Writer) flush() error {
	_, err := w.pw.WriteRows(w.rows)
	w.rows = w.rows[:0]
	return err
}

// Close flushes the stream; the underlying writer stays open.
func (w *Writer) Close() error {
	if err := w.flush(); err != nil {
		return err
	}
	return w.pw.Close()
}

// Encode writes one score shard and returns its bytes and hex SHA-256.
func Encode(t *Table) ([]byte, string, error) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, t.Key, t.Columns)
	if err != nil {
		return nil, "", err
	}
	if err := w.Write(t); err != nil {
		return nil, "", err
	}
	if err := w.Close(); err != nil {
		return nil, "", err
	}
	sum := sha256.Sum256(buf.Bytes())
	return buf.Bytes(), hex.EncodeToString(sum[:]), nil
}

// Decode reads a score shard Encode wrote, with the columns cols after the
// key column key. Any other input is an error wrapping ErrCorrupt.
func Decode(b []byte, key string, cols []Column) (t *Table, err error) {
	defer func() {
		if r := recover(); r != nil { // parquet-go panics on some malformed input
			t, err = nil, fmt.Errorf("%w: %v", ErrCorrupt, r)
		}
	}()
	f, err := parquet.OpenFile(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	want, err := schema(key, cols)
	if err != nil {
		return nil, err
	}
	if !parquet.EqualNodes(f.Schema(), want) {
		return nil, fmt.Errorf("%w: schema %v, want %v", ErrCorrupt, f.Schema(), want)
	}
	n := int(f.NumRows())
	t = NewTable(key, cols, n)
	r := parquet.NewGenericReader[any](f, want)
	defer r.Close()
	rows := make([]parquet.Row, 256)
	for {
		k, err := r.ReadRows(rows)
		for _, row := range rows[:k] {
			if len(row) != 1+len(cols) {
				return nil, fmt.Errorf("%w: a row of %d values", ErrCorrupt, len(row))
			}
			t.Keys = append(t.Keys, string(row[0].ByteArray()))
			for j, c := range cols {
				v := row[j+1]
				switch c.Type {
				case Float:
					t.Floats[j] = append(t.Floats[j], v.Double())
				case Int:
					t.Ints[j] = append(t.Ints[j], v.Int64())
				case String:
					t.Strings[j] = append(t.Strings[j], string(v.ByteArray()))
				}
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
		}
	}
	if len(t.Keys) != n {
		return nil, fmt.Errorf("%w: %d rows, footer says %d", ErrCorrupt, len(t.Keys), n)
	}
	return t, nil
}

// Exporter streams score shards out as CSV or Parquet.
type Exporter interface {
	Write(t *Table) error
	Close() error
}

// NewExporter returns an exporter in format "csv" or "parquet".
func NewExporter(format string, w io.Writer, key string, cols []Column) (Exporter, error) {
	switch format {
	case "parquet":
		return NewWriter(w, key, cols)
	case "csv":
		cw := csv.NewWriter(w)
		header := []string{key}
		for _, c := range cols {
			header = append(header, c.Name)
		}
		if err := cw.Write(header); err != nil {
			return nil, err
		}
		return &csvExporter{w: cw, rec: make([]string, len(header))}, nil
	}
	return nil, fmt.Errorf("scoreset: export format %q is not csv or parquet", format)
}

type csvExporter struct {
	w   *csv.Writer
	rec []string
}

func (e *csvExporter) Write(t *Table) error {
	for i, key := range t.Keys {
		e.rec[0] = key
		for j := range t.Columns {
			e.rec[j+1] = t.Cell(i, j)
		}
		if err := e.w.Write(e.rec); err != nil {
			return err
		}
	}
	return nil
}

func (e *csvExporter) Close() error {
	e.w.Flush()
	return e.w.Error()
}
