// Package scoreset stores score outputs: one Parquet file per shard of the
// scored dataset (encodings chosen for write speed, see buildSchema), with the dataset's key column under its own name
// and then the score columns of the model's kind, and streams them back out
// as CSV or Parquet. A row that could not be scored (a missing input) is
// kept after the scored rows with its score columns null: empty in CSV.
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
	"unsafe"

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
	case "neighbours":
		return []Column{{"rank", Int}, {"neighbour", String}, {"score", Float}}, nil
	case "values":
		return []Column{{"p_alive", Float}, {"expected_purchases", Float}, {"expected_spend", Float}, {"clv", Float}, {"value_tier", String}}, nil
	}
	return nil, fmt.Errorf("scoreset: unknown score set kind %q", kind)
}

// optional are the columns a score set of a kind may have after its own,
// when its column names list them: a basket model's recommendations name
// the rule that gave each, and the item's name where the dataset names
// items; a basket model's item neighbours the baskets holding both items
// and how they were ranked.
var optional = map[string][]Column{
	"recommendations": {{"rule", String}, {"name", String}},
	"neighbours":      {{"baskets", Int}, {"by", String}, {"name", String}},
}

// SchemaOf returns the score columns of a score set of kind whose columns
// are named names: the kind's columns, then those of its optional columns
// that names lists after them. A score set written before optional columns
// existed has the kind's columns.
func SchemaOf(kind string, names []string) ([]Column, error) {
	cols, err := Schema(kind)
	if err != nil || len(names) <= len(cols) {
		return cols, err
	}
	for _, name := range names[len(cols):] {
		i := slices.IndexFunc(optional[kind], func(c Column) bool { return c.Name == name })
		if i < 0 {
			return nil, fmt.Errorf("scoreset: a %s score set has no column %q", kind, name)
		}
		cols = append(cols, optional[kind][i])
	}
	return cols, nil
}

// Table is one score shard in memory, column-major: Keys[i] with the i-th
// value of each column (Floats, Ints or Strings by the column's type, indexed
// by column position). Unscored holds the keys of the rows without scores,
// which come after the scored rows with every score column null.
type Table struct {
	Key      string
	Columns  []Column
	Keys     []string
	Floats   [][]float64
	Ints     [][]int64
	Strings  [][]string
	Unscored []string
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

// Rows returns the number of scored rows.
func (t *Table) Rows() int { return len(t.Keys) }

// AllRows returns the number of rows, scored and unscored.
func (t *Table) AllRows() int { return len(t.Keys) + len(t.Unscored) }

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

// schema is the score shard schema of a key column and score columns, as
// readers see it: the key and String columns UTF-8 strings, Int columns
// INT64, Float columns DOUBLE, all required.
func schema(key string, cols []Column, nullable bool) (*parquet.Schema, error) {
	return buildSchema(key, cols, false, nullable)
}

// buildSchema returns the schema, with the writer's encodings and
// compression per column when encoded is set (they change the file's bytes,
// not its logical schema). They are chosen for speed, since a scoring job
// writes every row of a dataset and the store's throughput is not the
// bottleneck: strings as DELTA_LENGTH_BYTE_ARRAY (the lengths bit-packed,
// the bytes as they are), Int columns DELTA_BINARY_PACKED (a segment, rank
// or decile takes a few bits) and Float columns PLAIN (the mantissas of
// distances and probabilities do not compress), all uncompressed: zstd, even
// at its fastest level, doubled the time to write a k-means score shard to
// save a fifth of its bytes. With nullable the score columns are optional,
// for unscored rows; a shard without any is written with required columns,
// byte for byte as before unscored rows were kept.
func buildSchema(key string, cols []Column, encoded, nullable bool) (*parquet.Schema, error) {
	opt := parquet.Required
	if nullable {
		opt = parquet.Optional
	}
	str := func() parquet.Node {
		n := parquet.String()
		if encoded {
			n = parquet.Compressed(parquet.Encoded(n, &parquet.DeltaLengthByteArray), &parquet.Uncompressed)
		}
		return parquet.Required(n)
	}
	g := parquet.Group{key: str()}
	order := []string{key}
	for _, c := range cols {
		if _, dup := g[c.Name]; dup {
			return nil, fmt.Errorf("scoreset: column %q twice (is the key column named like a score column?)", c.Name)
		}
		var n parquet.Node
		switch c.Type {
		case Float:
			n = parquet.Leaf(parquet.DoubleType)
			if encoded {
				n = parquet.Compressed(parquet.Encoded(n, &parquet.Plain), &parquet.Uncompressed)
			}
			n = opt(n)
		case Int:
			n = parquet.Int(64)
			if encoded {
				n = parquet.Compressed(parquet.Encoded(n, &parquet.DeltaBinaryPacked), &parquet.Uncompressed)
			}
			n = opt(n)
		case String:
			n = str()
			if nullable {
				n = parquet.Optional(parquet.String())
				if encoded {
					n = parquet.Optional(parquet.Compressed(parquet.Encoded(parquet.String(), &parquet.DeltaLengthByteArray), &parquet.Uncompressed))
				}
			}
		}
		g[c.Name] = n
		order = append(order, c.Name)
	}
	return parquet.NewSchema("mathcrm_scores", orderedGroup{Group: g, order: order}), nil
}

// rowGroupRows bounds a row group; a score shard of up to this many rows is
// one row group.
const rowGroupRows = 1 << 18

// batchRows is how many values Write hands a column writer at a time.
const batchRows = 4096

// Writer appends tables to one Parquet stream with a fixed schema.
type Writer struct {
	pw       *parquet.GenericWriter[any]
	cw       []*parquet.ColumnWriter
	cols     []Column
	vals     []parquet.Value
	group    int  // rows in the current row group
	nullable bool // score columns optional: a table may have unscored rows
}

// NewWriter starts a Parquet stream of rows whose columns are all
// required: a table with unscored rows is refused.
func NewWriter(w io.Writer, key string, cols []Column) (*Writer, error) {
	return newWriter(w, key, cols, false)
}

// NewNullableWriter starts a Parquet stream of score rows whose score
// columns are optional, so that unscored rows are written with null scores.
func NewNullableWriter(w io.Writer, key string, cols []Column) (*Writer, error) {
	return newWriter(w, key, cols, true)
}

// newWriter starts a Parquet stream of score rows. Pages hold up to 1 MiB
// and carry no statistics of their own; the column index keeps the bounds
// of every page except the key column's, whose values are in hash order
// and whose byte comparisons cost more than the rest of the page.
func newWriter(w io.Writer, key string, cols []Column, nullable bool) (*Writer, error) {
	s, err := buildSchema(key, cols, true, nullable)
	if err != nil {
		return nil, err
	}
	pw := parquet.NewGenericWriter[any](w, s, parquet.Compression(&parquet.Uncompressed), parquet.CreatedBy("mathcrm", "1", ""),
		parquet.PageBufferSize(1<<20), parquet.DataPageStatistics(false), parquet.SkipPageBounds(key))
	return &Writer{pw: pw, cw: pw.ColumnWriters(), cols: cols, vals: make([]parquet.Value, 0, batchRows), nullable: nullable}, nil
}

// Write appends every row of t, column by column: the scored rows, then
// the unscored ones with null scores.
func (w *Writer) Write(t *Table) error {
	if len(t.Columns) != len(w.cols) {
		return fmt.Errorf("scoreset: a table of %d score columns, the stream has %d", len(t.Columns), len(w.cols))
	}
	if len(t.Unscored) > 0 && !w.nullable {
		return fmt.Errorf("scoreset: a table with %d unscored rows on a stream of required columns", len(t.Unscored))
	}
	for _, part := range []struct {
		n     int
		batch func(t *Table, lo, hi int) error
	}{{t.Rows(), w.writeBatch}, {len(t.Unscored), w.writeUnscored}} {
		for lo := 0; lo < part.n; {
			hi := min(part.n, lo+batchRows, lo+rowGroupRows-w.group)
			if err := part.batch(t, lo, hi); err != nil {
				return err
			}
			w.group += hi - lo
			lo = hi
			if w.group == rowGroupRows {
				if err := w.pw.Flush(); err != nil {
					return err
				}
				w.group = 0
			}
		}
	}
	return nil
}

// writeUnscored writes unscored rows lo to hi: the key, every score null.
func (w *Writer) writeUnscored(t *Table, lo, hi int) error {
	for _, k := range t.Unscored[lo:hi] {
		w.vals = append(w.vals, parquet.ByteArrayValue([]byte(k)))
	}
	if _, err := w.cw[0].WriteRowValues(w.vals); err != nil {
		return err
	}
	for j := range w.cols {
		w.vals = w.vals[:0]
		for range hi - lo {
			w.vals = append(w.vals, parquet.NullValue().Level(0, 0, j+1))
		}
		if _, err := w.cw[j+1].WriteRowValues(w.vals); err != nil {
			return err
		}
	}
	w.vals = w.vals[:0]
	return nil
}

// writeBatch writes rows lo to hi of every column. The values point into
// t's keys and strings without copying them: the column writers copy the
// bytes before writeBatch returns.
func (w *Writer) writeBatch(t *Table, lo, hi int) error {
	put := func(j int) error {
		_, err := w.cw[j].WriteRowValues(w.vals)
		w.vals = w.vals[:0]
		return err
	}
	for _, k := range t.Keys[lo:hi] {
		w.vals = append(w.vals, parquet.ByteArrayValue(unsafe.Slice(unsafe.StringData(k), len(k))))
	}
	if err := put(0); err != nil {
		return err
	}
	for j, c := range w.cols {
		switch c.Type {
		case Float:
			for _, v := range t.Floats[j][lo:hi] {
				w.vals = append(w.vals, parquet.DoubleValue(v))
			}
		case Int:
			for _, v := range t.Ints[j][lo:hi] {
				w.vals = append(w.vals, parquet.Int64Value(v))
			}
		case String:
			for _, v := range t.Strings[j][lo:hi] {
				w.vals = append(w.vals, parquet.ByteArrayValue(unsafe.Slice(unsafe.StringData(v), len(v))))
			}
		}
		if w.nullable { // present values of an optional column
			for i := range w.vals {
				w.vals[i] = w.vals[i].Level(0, 1, j+1)
			}
		}
		if err := put(j + 1); err != nil {
			return err
		}
	}
	return nil
}

// Close flushes the stream; the underlying writer stays open.
func (w *Writer) Close() error {
	return w.pw.Close()
}

// Encode writes one score shard and returns its bytes and hex SHA-256.
func Encode(t *Table) ([]byte, string, error) {
	b, err := Marshal(t)
	if err != nil {
		return nil, "", err
	}
	sum := sha256.Sum256(b)
	return b, hex.EncodeToString(sum[:]), nil
}

// Marshal writes one score shard, for a caller whose store computes the
// checksum of what it stores.
func Marshal(t *Table) ([]byte, error) { return MarshalTo(nil, t) }

// MarshalTo is Marshal writing into dst's storage when its capacity
// suffices (a new buffer otherwise), so that a caller encoding shard after
// shard can reuse one buffer.
func MarshalTo(dst []byte, t *Table) ([]byte, error) {
	if n := encodedSize(t); cap(dst) < n {
		dst = make([]byte, 0, n)
	}
	return marshalDirect(dst, t)
}

// encodedSize is a little more than the bytes Encode writes for t, so that
// its buffer is allocated once: lengths and plain doubles, about 2 bytes a
// value for delta-encoded ints, and a page header per page of every column.
func encodedSize(t *Table) int {
	n := 1 << 12
	strs := func(s []string) {
		for _, v := range s {
			n += 4 + len(v)
		}
	}
	strs(t.Keys)
	strs(t.Unscored)
	n += len(t.Unscored) * len(t.Columns)
	for j, c := range t.Columns {
		switch c.Type {
		case Float:
			n += 8 * len(t.Floats[j])
		case Int:
			n += 2 * len(t.Ints[j])
		case String:
			strs(t.Strings[j])
		}
	}
	return n + n/64
}

// Decode reads a score shard Encode wrote, with the columns cols after the
// key column key; rows whose score columns are null come back as Unscored
// (in an export of several shards they are not all at the end).
// Any other input is an error wrapping ErrCorrupt.
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
	want, err := schema(key, cols, false)
	if err != nil {
		return nil, err
	}
	if !parquet.EqualNodes(f.Schema(), want) {
		if want, err = schema(key, cols, true); err != nil {
			return nil, err
		}
		if !parquet.EqualNodes(f.Schema(), want) {
			return nil, fmt.Errorf("%w: schema %v, want %v", ErrCorrupt, f.Schema(), want)
		}
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
			if nulls := countNulls(row[1:]); nulls == len(cols) {
				t.Unscored = append(t.Unscored, string(row[0].ByteArray()))
				continue
			} else if nulls > 0 {
				return nil, fmt.Errorf("%w: a row with %d of %d scores null", ErrCorrupt, nulls, len(cols))
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
	if t.AllRows() != n {
		return nil, fmt.Errorf("%w: %d rows, footer says %d", ErrCorrupt, t.AllRows(), n)
	}
	return t, nil
}

func countNulls(vals []parquet.Value) int {
	n := 0
	for _, v := range vals {
		if v.IsNull() {
			n++
		}
	}
	return n
}

// Exporter streams score shards out as CSV or Parquet.
type Exporter interface {
	Write(t *Table) error
	Close() error
}

// NewExporter returns an exporter in format "csv" or "parquet"; its
// Parquet columns are required.
func NewExporter(format string, w io.Writer, key string, cols []Column) (Exporter, error) {
	return newExporter(format, w, key, cols, false)
}

// NewScoresExporter returns an exporter of score sets in format "csv" or
// "parquet": an unscored row has empty fields in CSV, nulls in Parquet.
func NewScoresExporter(format string, w io.Writer, key string, cols []Column) (Exporter, error) {
	return newExporter(format, w, key, cols, true)
}

func newExporter(format string, w io.Writer, key string, cols []Column, nullable bool) (Exporter, error) {
	switch format {
	case "parquet":
		return newWriter(w, key, cols, nullable)
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
	for _, key := range t.Unscored {
		e.rec[0] = key
		for j := range t.Columns {
			e.rec[j+1] = ""
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
