package partition

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"runtime"
	"slices"
	"sort"
	"sync"

	"github.com/klauspost/compress/zstd"
	"github.com/parquet-go/parquet-go/deprecated"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
)

// A features shard file is written here directly, column by column, rather
// than through parquet-go's value API, which cost about a third of an
// import's CPU. The file is plain Parquet, read by [ReadShard] (parquet-go)
// like the files parquet-go wrote before, and by any other Parquet reader:
//
//   - the schema: a required BYTE_ARRAY (STRING) key column, then one
//     optional DOUBLE column per imported column;
//   - row groups of Options.RowGroupRows rows; in each, every column chunk
//     is a run of DATA_PAGE_V2 pages cut at pageBufferSize bytes of values;
//   - values PLAIN (keys as a 4-byte length and the bytes), definition
//     levels in the RLE/bit-packed hybrid, the values zstd-compressed at the
//     fastest level (generated doubles barely compress at any level; keys
//     and small integers still do, and decompression costs the same);
//   - no statistics, page index or bloom filter (no reader here uses them);
//   - the key/value metadata, sorted by key, as before.

// shardCreatedBy is the created_by of the files featureWriter writes; files
// from before it say "mathcrm version 1(build )".
const shardCreatedBy = "mathcrm version 2"

// shardEncoder compresses the pages of features shards. EncodeAll may be
// called from many goroutines at once.
var shardEncoder = sync.OnceValue(func() *zstd.Encoder {
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest),
		zstd.WithEncoderConcurrency(max(2, runtime.GOMAXPROCS(0))), zstd.WithEncoderCRC(false),
		zstd.WithLowerEncoderMem(true))
	if err != nil {
		panic(err) // only for invalid options
	}
	return enc
})

// featureWriter writes one features shard file: PAR1, the row groups, the
// footer.
type featureWriter struct {
	w       io.Writer
	off     int64
	key     string
	columns []string
	meta    []format.KeyValue
	groups  []format.RowGroup
	rows    int64
	page    []byte // a page's values, uncompressed
	comp    []byte // the same, compressed
	defs    []byte // a page's definition levels
	proto   thrift.CompactProtocol
}

// newFeatureWriter returns a writer of a features shard with the given key
// column, value columns and key/value metadata (name, value pairs).
func newFeatureWriter(w io.Writer, key string, columns []string, meta ...string) *featureWriter {
	fw := &featureWriter{w: w, key: key, columns: columns}
	for k := 0; k+1 < len(meta); k += 2 {
		fw.meta = append(fw.meta, format.KeyValue{Key: meta[k], Value: meta[k+1]})
	}
	sort.SliceStable(fw.meta, func(a, b int) bool { return fw.meta[a].Key < fw.meta[b].Key })
	return fw
}

func (fw *featureWriter) write(b []byte) error {
	n, err := fw.w.Write(b)
	fw.off += int64(n)
	return err
}

// group is one row group's rows, column-major: key i is
// arena[ends[i-1]:ends[i]] (from 0 for i = 0), values[j][i] is column j of
// row i, NaN for missing.
type group struct {
	arena  []byte
	ends   []int
	values [][]float64
	lines  []int // the line each row starts on (spills only)
}

// row sets vals to row i's values and returns it.
func (g *group) row(i int, vals []float64) []float64 {
	for j := range g.values {
		vals[j] = g.values[j][i]
	}
	return vals
}

func (g *group) rows() int { return len(g.ends) }

func (g *group) key(i int) []byte {
	start := 0
	if i > 0 {
		start = g.ends[i-1]
	}
	return g.arena[start:g.ends[i]]
}

func (g *group) reset(width int) {
	g.arena, g.ends = g.arena[:0], g.ends[:0]
	if len(g.values) != width {
		g.values = make([][]float64, width)
	}
	for j := range g.values {
		g.values[j] = g.values[j][:0]
	}
}

// grow makes room for n more rows of keys about as long as those seen.
func (g *group) grow(n int) {
	if cap(g.ends)-len(g.ends) < n {
		g.ends = slices.Grow(g.ends, n)
	}
	for j := range g.values {
		if cap(g.values[j])-len(g.values[j]) < n {
			g.values[j] = slices.Grow(g.values[j], n)
		}
	}
}

// groupPool holds row groups' buffers for reuse from shard to shard.
var groupPool = sync.Pool{New: func() any { return new(group) }}

// writeGroup writes g as the next row group; an empty g writes nothing.
func (fw *featureWriter) writeGroup(g *group) error {
	n := g.rows()
	if n == 0 {
		return nil
	}
	if fw.off == 0 {
		if err := fw.write([]byte("PAR1")); err != nil {
			return err
		}
	}
	rg := format.RowGroup{NumRows: int64(n), FileOffset: fw.off, Ordinal: int16(len(fw.groups))}
	cc, err := fw.keyChunk(g)
	if err != nil {
		return err
	}
	rg.Columns = append(rg.Columns, cc)
	for j, col := range g.values {
		cc, err := fw.valueChunk(fw.columns[j], col)
		if err != nil {
			return err
		}
		rg.Columns = append(rg.Columns, cc)
	}
	for _, c := range rg.Columns {
		rg.TotalByteSize += c.MetaData.TotalUncompressedSize
		rg.TotalCompressedSize += c.MetaData.TotalCompressedSize
	}
	fw.groups = append(fw.groups, rg)
	fw.rows += int64(n)
	return nil
}

// keyChunk writes the key column of g.
func (fw *featureWriter) keyChunk(g *group) (format.ColumnChunk, error) {
	md := format.ColumnMetaData{Type: format.ByteArray, Encoding: []format.Encoding{format.Plain},
		PathInSchema: []string{fw.key}, Codec: format.Zstd, NumValues: int64(g.rows()), DataPageOffset: fw.off}
	for a := 0; a < g.rows(); {
		fw.page = fw.page[:0]
		b := a
		for ; b < g.rows() && (b == a || len(fw.page) < pageBufferSize); b++ {
			k := g.key(b)
			fw.page = binary.LittleEndian.AppendUint32(fw.page, uint32(len(k)))
			fw.page = append(fw.page, k...)
		}
		if err := fw.writePage(&md, b-a, 0, nil); err != nil {
			return format.ColumnChunk{}, err
		}
		a = b
	}
	return format.ColumnChunk{MetaData: md}, nil
}

// valuesPerPage is how many doubles fill a page.
const valuesPerPage = pageBufferSize / 8

// valueChunk writes one optional DOUBLE column, NaN as null.
func (fw *featureWriter) valueChunk(name string, col []float64) (format.ColumnChunk, error) {
	md := format.ColumnMetaData{Type: format.Double, Encoding: []format.Encoding{format.Plain, format.RLE},
		PathInSchema: []string{name}, Codec: format.Zstd, NumValues: int64(len(col)), DataPageOffset: fw.off}
	for a := 0; a < len(col); a += valuesPerPage {
		vals := col[a:min(a+valuesPerPage, len(col))]
		fw.page = fw.page[:0]
		nulls := 0
		for _, v := range vals {
			if v != v { // NaN: missing
				nulls++
				continue
			}
			fw.page = binary.LittleEndian.AppendUint64(fw.page, math.Float64bits(v))
		}
		fw.defs = appendLevels(fw.defs[:0], vals, nulls)
		if err := fw.writePage(&md, len(vals), nulls, fw.defs); err != nil {
			return format.ColumnChunk{}, err
		}
	}
	return format.ColumnChunk{MetaData: md}, nil
}

// appendLevels appends the definition levels of vals (1 for a value, 0 for
// NaN) in the RLE/bit-packed hybrid of bit width 1: one RLE run when they
// are all equal, else one bit-packed run.
func appendLevels(b []byte, vals []float64, nulls int) []byte {
	n := len(vals)
	switch nulls {
	case 0:
		return append(binary.AppendUvarint(b, uint64(n)<<1), 1)
	case n:
		return append(binary.AppendUvarint(b, uint64(n)<<1), 0)
	}
	groups := (n + 7) / 8
	b = binary.AppendUvarint(b, uint64(groups)<<1|1)
	start := len(b)
	b = append(b, make([]byte, groups)...)
	for i, v := range vals {
		if v == v {
			b[start+i/8] |= 1 << (i % 8)
		}
	}
	return b
}

// writePage compresses fw.page and writes it as a DATA_PAGE_V2 of n values,
// nulls of them null, after its definition levels, and accounts for it in md.
func (fw *featureWriter) writePage(md *format.ColumnMetaData, n, nulls int, defs []byte) error {
	fw.comp = shardEncoder().EncodeAll(fw.page, fw.comp[:0])
	h := format.PageHeader{
		Type:                 format.DataPageV2,
		UncompressedPageSize: int32(len(defs) + len(fw.page)),
		CompressedPageSize:   int32(len(defs) + len(fw.comp)),
		DataPageHeaderV2: thrift.New(format.DataPageHeaderV2{
			NumValues: int32(n), NumNulls: int32(nulls), NumRows: int32(n), Encoding: format.Plain,
			DefinitionLevelsByteLength: int32(len(defs)), IsCompressed: thrift.New(true),
		}),
	}
	hb, err := thrift.Marshal(&fw.proto, &h)
	if err != nil {
		return fmt.Errorf("partition: encoding a page header: %w", err)
	}
	for _, b := range [][]byte{hb, defs, fw.comp} {
		if err := fw.write(b); err != nil {
			return err
		}
	}
	md.TotalUncompressedSize += int64(len(hb)) + int64(h.UncompressedPageSize)
	md.TotalCompressedSize += int64(len(hb)) + int64(h.CompressedPageSize)
	return nil
}

// close writes the footer. A file without rows is PAR1, the footer, PAR1.
func (fw *featureWriter) close() error {
	if fw.off == 0 {
		if err := fw.write([]byte("PAR1")); err != nil {
			return err
		}
	}
	schema := []format.SchemaElement{{Name: "mathcrm_shard", NumChildren: thrift.New(int32(1 + len(fw.columns)))}, {
		Type: thrift.New(format.ByteArray), RepetitionType: thrift.New(format.Required), Name: fw.key,
		ConvertedType: thrift.New(deprecated.UTF8), LogicalType: format.LogicalType{Value: &format.StringType{}},
	}}
	for _, c := range fw.columns {
		schema = append(schema, format.SchemaElement{Type: thrift.New(format.Double), RepetitionType: thrift.New(format.Optional), Name: c})
	}
	fm := format.FileMetaData{Version: 2, Schema: schema, NumRows: fw.rows, RowGroups: fw.groups,
		KeyValueMetadata: fw.meta, CreatedBy: shardCreatedBy}
	b, err := thrift.Marshal(&fw.proto, &fm)
	if err != nil {
		return fmt.Errorf("partition: encoding the footer: %w", err)
	}
	b = binary.LittleEndian.AppendUint32(b, uint32(len(b)))
	return fw.write(append(b, "PAR1"...))
}
