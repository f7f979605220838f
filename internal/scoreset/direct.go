package scoreset

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"sync"
	"unsafe"

	"github.com/parquet-go/parquet-go/deprecated"
	"github.com/parquet-go/parquet-go/encoding/delta"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
)

// A score shard is written here directly, column by column, rather than
// through parquet-go's value API, which cost more than scoring the rows:
// every value became a parquet.Value, was copied into the column buffers
// and encoded from there. The file is the same Parquet that Writer writes
// (the schema, the encodings of buildSchema, no compression), read by
// Decode and by any other Parquet reader:
//
//   - row groups of rowGroupRows rows, the scored rows first, then the
//     unscored ones; in each, every column chunk is a run of DATA_PAGE_V2
//     pages of pageRows rows;
//   - keys and String columns DELTA_LENGTH_BYTE_ARRAY (the lengths
//     DELTA_BINARY_PACKED by parquet-go's encoder, then the bytes), Int
//     columns DELTA_BINARY_PACKED, Float columns PLAIN;
//   - with unscored rows the score columns are optional: their definition
//     levels are at most two RLE runs (the scored rows', then the
//     unscored rows'), and the unscored rows have no values;
//   - no statistics, page index or bloom filter (no reader here uses
//     them).

// createdBy is the created_by of the score shards marshalDirect writes;
// those written through Writer say "mathcrm version 1(build )".
const createdBy = "mathcrm version 2"

// pageRows is how many rows a data page of a score shard holds: half a
// MiB of distances.
const pageRows = 1 << 16

// directWriter builds one score shard file in out.
type directWriter struct {
	out      []byte
	t        *Table
	nullable bool
	groups   []format.RowGroup
	lens     []int32 // a page's byte array lengths
	scratch  []byte  // a page's encoded lengths or ints
	levels   []byte  // a page's definition levels
	proto    thrift.CompactProtocol
}

var (
	deltaInts    delta.BinaryPackedEncoding
	plainDoubles = func(v []float64) []byte {
		return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(v))), 8*len(v))
	}
	littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1
)

// writers holds directWriters, for their page buffers.
var writers = sync.Pool{New: func() any { return new(directWriter) }}

// marshalDirect appends t's score shard file to dst[:0].
func marshalDirect(dst []byte, t *Table) ([]byte, error) {
	if err := check(t); err != nil {
		return nil, err
	}
	w := writers.Get().(*directWriter)
	defer func() {
		w.out, w.t, w.groups = nil, nil, nil
		writers.Put(w)
	}()
	w.out, w.t, w.nullable = append(dst[:0], "PAR1"...), t, len(t.Unscored) > 0
	all := t.AllRows()
	for lo := 0; lo < all; lo += rowGroupRows {
		if err := w.rowGroup(lo, min(all, lo+rowGroupRows)); err != nil {
			return nil, err
		}
	}
	if err := w.footer(); err != nil {
		return nil, err
	}
	return w.out, nil
}

// check refuses a table whose columns do not hold a value for every
// scored row, or whose schema cannot be written.
func check(t *Table) error {
	if _, err := buildSchema(t.Key, t.Columns, false, false); err != nil {
		return err
	}
	n := t.Rows()
	for j, c := range t.Columns {
		var m int
		switch c.Type {
		case Float:
			m = len(t.Floats[j])
		case Int:
			m = len(t.Ints[j])
		case String:
			m = len(t.Strings[j])
		default:
			return fmt.Errorf("scoreset: column %q of unknown type %d", c.Name, c.Type)
		}
		if m != n {
			return fmt.Errorf("scoreset: column %q holds %d values for %d rows", c.Name, m, n)
		}
	}
	return nil
}

// rowGroup writes rows lo to hi (scored, then unscored) as a row group.
func (w *directWriter) rowGroup(lo, hi int) error {
	rg := format.RowGroup{NumRows: int64(hi - lo), FileOffset: int64(len(w.out)), Ordinal: int16(len(w.groups))}
	for j := -1; j < len(w.t.Columns); j++ {
		cc, err := w.chunk(j, lo, hi)
		if err != nil {
			return err
		}
		rg.TotalByteSize += cc.MetaData.TotalUncompressedSize
		rg.TotalCompressedSize += cc.MetaData.TotalCompressedSize
		rg.Columns = append(rg.Columns, cc)
	}
	w.groups = append(w.groups, rg)
	return nil
}

// chunk writes rows lo to hi of column j (-1: the key column).
func (w *directWriter) chunk(j, lo, hi int) (format.ColumnChunk, error) {
	name, typ, enc := w.t.Key, format.ByteArray, format.DeltaLengthByteArray
	optional := false
	if j >= 0 {
		c := w.t.Columns[j]
		name, optional = c.Name, w.nullable
		switch c.Type {
		case Float:
			typ, enc = format.Double, format.Plain
		case Int:
			typ, enc = format.Int64, format.DeltaBinaryPacked
		}
	}
	encs := []format.Encoding{enc}
	if optional {
		encs = append(encs, format.RLE)
	}
	md := format.ColumnMetaData{Type: typ, Encoding: encs, PathInSchema: []string{name}, Codec: format.Uncompressed,
		NumValues: int64(hi - lo), DataPageOffset: int64(len(w.out))}
	scored := w.t.Rows()
	for a := lo; a < hi; a += pageRows {
		b := min(hi, a+pageRows)
		// Rows a to b: the scored ones sa to sb, then nulls.
		sa, sb := min(a, scored), min(b, scored)
		nulls := (b - a) - (sb - sa)
		w.levels = w.levels[:0]
		if optional {
			if sb > sa {
				w.levels = append(binary.AppendUvarint(w.levels, uint64(sb-sa)<<1), 1)
			}
			if nulls > 0 {
				w.levels = append(binary.AppendUvarint(w.levels, uint64(nulls)<<1), 0)
			}
		}
		var err error
		var values []byte // the page's values, or the start of them
		var strs [2][]string
		size := 0 // the bytes of strs, to follow values
		switch {
		case j < 0:
			strs, values, size, err = w.byteArrays(w.t.Keys, w.t.Unscored, a, b)
		case w.t.Columns[j].Type == String:
			strs, values, size, err = w.byteArrays(w.t.Strings[j], nil, sa, sb)
		case w.t.Columns[j].Type == Int:
			w.scratch, err = deltaInts.EncodeInt64(w.scratch[:0], w.t.Ints[j][sa:sb])
			values = w.scratch
		case littleEndian:
			values = plainDoubles(w.t.Floats[j][sa:sb])
		default:
			w.scratch = w.scratch[:0]
			for _, v := range w.t.Floats[j][sa:sb] {
				w.scratch = binary.LittleEndian.AppendUint64(w.scratch, math.Float64bits(v))
			}
			values = w.scratch
		}
		if err != nil {
			return format.ColumnChunk{}, fmt.Errorf("scoreset: encoding column %q: %w", name, err)
		}
		if j < 0 {
			nulls = 0 // the key column has a value in every row
		}
		if err := w.pageHeader(&md, b-a, nulls, enc, len(values)+size); err != nil {
			return format.ColumnChunk{}, err
		}
		w.out = append(w.out, w.levels...)
		w.out = append(w.out, values...)
		w.appendBytes(strs, size)
	}
	return format.ColumnChunk{FileOffset: md.DataPageOffset, MetaData: md}, nil
}

// byteArrays returns rows a to b of first followed by second, and the
// start of their DELTA_LENGTH_BYTE_ARRAY encoding: the lengths
// delta-encoded. The bytes follow, as they are (appendBytes).
func (w *directWriter) byteArrays(first, second []string, a, b int) (parts [2][]string, lengths []byte, size int, err error) {
	parts = [2][]string{first[min(a, len(first)):min(b, len(first))],
		second[max(a, len(first))-len(first) : max(b, len(first))-len(first)]}
	lens := w.lens[:0]
	for _, part := range parts {
		for _, s := range part {
			if len(s) > math.MaxInt32 {
				return parts, nil, 0, fmt.Errorf("a value of %d bytes", len(s))
			}
			lens = append(lens, int32(len(s)))
			size += len(s)
		}
	}
	w.lens = lens
	w.scratch, err = deltaInts.EncodeInt32(w.scratch[:0], lens)
	return parts, w.scratch, size, err
}

// appendBytes appends the bytes of parts' strings to w.out.
func (w *directWriter) appendBytes(parts [2][]string, size int) {
	out := slices.Grow(w.out, size)
	for _, part := range parts {
		for _, s := range part {
			out = append(out, s...)
		}
	}
	w.out = out
}

// pageHeader writes the header of an uncompressed DATA_PAGE_V2 of n rows,
// nulls of them null, with w.levels as its definition levels and size
// bytes of values to follow, and accounts for it in md.
func (w *directWriter) pageHeader(md *format.ColumnMetaData, n, nulls int, enc format.Encoding, size int) error {
	total := len(w.levels) + size
	if total > math.MaxInt32 {
		return fmt.Errorf("scoreset: a page of %d bytes in column %q", total, md.PathInSchema[0])
	}
	h := format.PageHeader{
		Type:                 format.DataPageV2,
		UncompressedPageSize: int32(total),
		CompressedPageSize:   int32(total),
		DataPageHeaderV2: thrift.New(format.DataPageHeaderV2{
			NumValues: int32(n), NumNulls: int32(nulls), NumRows: int32(n), Encoding: enc,
			DefinitionLevelsByteLength: int32(len(w.levels)), IsCompressed: thrift.New(false),
		}),
	}
	hb, err := thrift.Marshal(&w.proto, &h)
	if err != nil {
		return fmt.Errorf("scoreset: encoding a page header: %w", err)
	}
	w.out = append(w.out, hb...)
	md.TotalUncompressedSize += int64(len(hb) + total)
	md.TotalCompressedSize += int64(len(hb) + total)
	return nil
}

// footer writes the file's metadata and the closing magic.
func (w *directWriter) footer() error {
	str := func(name string, rep format.FieldRepetitionType) format.SchemaElement {
		return format.SchemaElement{Type: thrift.New(format.ByteArray), RepetitionType: thrift.New(rep), Name: name,
			ConvertedType: thrift.New(deprecated.UTF8), LogicalType: format.LogicalType{Value: &format.StringType{}}}
	}
	rep := format.Required
	if w.nullable {
		rep = format.Optional
	}
	schema := []format.SchemaElement{{Name: "mathcrm_scores", NumChildren: thrift.New(int32(1 + len(w.t.Columns)))},
		str(w.t.Key, format.Required)}
	// The elements are those parquet-go writes for buildSchema's schema,
	// down to the type length of 64 it gives DOUBLE and INT64 columns.
	for _, c := range w.t.Columns {
		switch c.Type {
		case Float:
			schema = append(schema, format.SchemaElement{Type: thrift.New(format.Double), TypeLength: thrift.New(int32(64)),
				RepetitionType: thrift.New(rep), Name: c.Name})
		case Int:
			schema = append(schema, format.SchemaElement{Type: thrift.New(format.Int64), TypeLength: thrift.New(int32(64)),
				RepetitionType: thrift.New(rep), Name: c.Name,
				ConvertedType: thrift.New(deprecated.Int64), LogicalType: format.LogicalType{Value: &format.IntType{BitWidth: 64, IsSigned: true}}})
		case String:
			schema = append(schema, str(c.Name, rep))
		}
	}
	fm := format.FileMetaData{Version: 2, Schema: schema, NumRows: int64(w.t.AllRows()), RowGroups: w.groups, CreatedBy: createdBy}
	b, err := thrift.Marshal(&w.proto, &fm)
	if err != nil {
		return fmt.Errorf("scoreset: encoding the footer: %w", err)
	}
	w.out = append(w.out, b...)
	w.out = binary.LittleEndian.AppendUint32(w.out, uint32(len(b)))
	w.out = append(w.out, "PAR1"...)
	return nil
}
