package partition

import (
	"encoding/binary"
	"fmt"
	"hash"
	"io"
	"math"
	"runtime"
	"slices"
	"sort"
	"sync"
	"unsafe"

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
// footer. It builds the file in out and, with a writer, passes out on (and
// to the hash) whenever it holds flushBytes; without one, out is the file.
type featureWriter struct {
	out     []byte
	w       io.Writer // nil: the file stays in out
	h       hash.Hash // hashes the bytes passed to w; may be nil
	off     int64     // bytes written, passed on or not
	err     error     // the first error of w
	key     string
	columns []string
	meta    []format.KeyValue
	groups  []format.RowGroup
	rows    int64
	page    []byte // a page's values, uncompressed
	comp    []byte // the same, compressed
	defs    []byte // a page's definition levels
	pieces  [][]float64
	proto   thrift.CompactProtocol
}

// flushBytes is how much a featureWriter with a writer holds before
// passing it on.
const flushBytes = 1 << 20

// writerScratch holds featureWriters' page buffers for reuse from shard
// to shard.
var writerScratch = sync.Pool{New: func() any { return new(pageBuffers) }}

// pageBuffers are a featureWriter's buffers of one page at a time.
type pageBuffers struct{ page, comp, defs []byte }

// release gives fw's page buffers back for another writer; fw must not
// write again.
func (fw *featureWriter) release() {
	writerScratch.Put(&pageBuffers{page: fw.page[:0], comp: fw.comp[:0], defs: fw.defs[:0]})
	fw.page, fw.comp, fw.defs = nil, nil, nil
}

// newFeatureWriter returns a writer of a features shard with the given key
// column, value columns and key/value metadata (name, value pairs), to w
// (hashed by h, if set), or into out when w is nil. out's capacity is
// where the file starts.
func newFeatureWriter(w io.Writer, h hash.Hash, out []byte, key string, columns []string, meta ...string) *featureWriter {
	pb := writerScratch.Get().(*pageBuffers)
	fw := &featureWriter{w: w, h: h, out: out[:0], key: key, columns: columns, page: pb.page, comp: pb.comp, defs: pb.defs}
	if w != nil && cap(out) == 0 {
		fw.out = make([]byte, 0, flushBytes+pageBufferSize)
	}
	for k := 0; k+1 < len(meta); k += 2 {
		fw.meta = append(fw.meta, format.KeyValue{Key: meta[k], Value: meta[k+1]})
	}
	sort.SliceStable(fw.meta, func(a, b int) bool { return fw.meta[a].Key < fw.meta[b].Key })
	return fw
}

// emit appends b to the file.
func (fw *featureWriter) emit(b []byte) {
	fw.out = append(fw.out, b...)
	fw.off += int64(len(b))
}

// grown accounts for bytes appended to fw.out directly, and passes out on
// when it holds enough.
func (fw *featureWriter) grown(n int) {
	fw.off += int64(n)
	if fw.w != nil && len(fw.out) >= flushBytes {
		fw.flush()
	}
}

// flush passes out on to the writer, if there is one.
func (fw *featureWriter) flush() {
	if fw.w == nil || len(fw.out) == 0 || fw.err != nil {
		return
	}
	if fw.h != nil {
		fw.h.Write(fw.out)
	}
	if _, err := fw.w.Write(fw.out); err != nil {
		fw.err = err
	}
	fw.out = fw.out[:0]
}

// group is one row group's rows, column-major: key i is
// arena[ends[i-1]:ends[i]] (from 0 for i = 0), values[j][i] is column j of
// row i, NaN for missing.
type group struct {
	arena  []byte
	ends   []int
	values [][]float64
	lines  []int // the line each row starts on (spills only)
	shared bool  // a spill's block whose arrays others share: never grown
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

// segment is rows [lo, hi) of a group.
type segment struct {
	g      *group
	lo, hi int
}

// writeGroup writes g as the next row group; an empty g writes nothing.
func (fw *featureWriter) writeGroup(g *group) error {
	return fw.writeSegments([]segment{{g: g, hi: g.rows()}})
}

// writeSegments writes the rows of segs, in order, as the next row group,
// read where they are; no rows write nothing.
func (fw *featureWriter) writeSegments(segs []segment) error {
	n := 0
	for _, sg := range segs {
		n += sg.hi - sg.lo
	}
	if n == 0 {
		return fw.err
	}
	if fw.off == 0 {
		fw.emit([]byte("PAR1"))
	}
	rg := format.RowGroup{NumRows: int64(n), FileOffset: fw.off, Ordinal: int16(len(fw.groups))}
	cc, err := fw.keyChunk(segs, n)
	if err != nil {
		return err
	}
	rg.Columns = append(rg.Columns, cc)
	for j, name := range fw.columns {
		cc, err := fw.valueChunk(name, segs, j, n)
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
	return fw.err
}

// keyChunk writes the key column of the n rows of segs.
func (fw *featureWriter) keyChunk(segs []segment, n int) (format.ColumnChunk, error) {
	md := format.ColumnMetaData{Type: format.ByteArray, Encoding: []format.Encoding{format.Plain},
		PathInSchema: []string{fw.key}, Codec: format.Zstd, NumValues: int64(n), DataPageOffset: fw.off}
	s, r := 0, segs[0].lo // the next row: row r of segs[s]
	for a := 0; a < n; {
		fw.page = fw.page[:0]
		b := a
		for ; b < n && (b == a || len(fw.page) < pageBufferSize); b++ {
			for r == segs[s].hi {
				s++
				r = segs[s].lo
			}
			k := segs[s].g.key(r)
			r++
			fw.page = binary.LittleEndian.AppendUint32(fw.page, uint32(len(k)))
			fw.page = append(fw.page, k...)
		}
		fw.comp = shardEncoder().EncodeAll(fw.page, fw.comp[:0])
		if err := fw.pageHeader(&md, b-a, 0, nil, len(fw.page), len(fw.comp)); err != nil {
			return format.ColumnChunk{}, err
		}
		fw.emit(fw.comp)
		fw.grown(0)
		a = b
	}
	return format.ColumnChunk{MetaData: md}, nil
}

// valuesPerPage is how many doubles fill a page: 64 KiB, within one stored
// zstd block (at most 128 KiB).
const valuesPerPage = pageBufferSize / 8

// valueChunk writes one optional DOUBLE column, NaN as null. Pages are
// zstd-compressed while that saves at least a 32nd of their bytes (of a
// large page's first 8 KiB, tried first, and of the whole page); from the
// first page where it does not (generated doubles barely compress), the
// rest of the chunk is written as zstd frames of stored blocks, which cost
// no compression and are written in place.
func (fw *featureWriter) valueChunk(name string, segs []segment, j, n int) (format.ColumnChunk, error) {
	md := format.ColumnMetaData{Type: format.Double, Encoding: []format.Encoding{format.Plain, format.RLE},
		PathInSchema: []string{name}, Codec: format.Zstd, NumValues: int64(n), DataPageOffset: fw.off}
	stored := false
	s, r := 0, segs[0].lo // the next row: row r of segs[s]
	for a := 0; a < n; a += valuesPerPage {
		// The page's values, in the pieces of the segments they are in.
		count := min(valuesPerPage, n-a)
		vals := fw.pieces[:0]
		for left := count; left > 0; {
			for r == segs[s].hi {
				s++
				r = segs[s].lo
			}
			take := min(left, segs[s].hi-r)
			vals = append(vals, segs[s].g.values[j][r:r+take])
			r += take
			left -= take
		}
		fw.pieces = vals
		nulls := 0
		for _, p := range vals {
			for _, v := range p {
				if v != v { // NaN: missing
					nulls++
				}
			}
		}
		size := 8 * (count - nulls)
		fw.defs = appendLevels(fw.defs[:0], vals, count, nulls)
		if !stored {
			fw.page = appendDoubles(fw.page[:0], vals, count, nulls)
			if len(fw.page) > 2*compressSample && !pays(fw.page[:compressSample], &fw.comp) {
				stored = true // a sample says no: the page is not tried whole
			}
		}
		if !stored {
			fw.comp = shardEncoder().EncodeAll(fw.page, fw.comp[:0])
			if size == 0 || len(fw.comp) < size-size/32 {
				if err := fw.pageHeader(&md, count, nulls, fw.defs, size, len(fw.comp)); err != nil {
					return format.ColumnChunk{}, err
				}
				fw.emit(fw.comp)
				fw.grown(0)
				continue
			}
			stored = true
		}
		if err := fw.pageHeader(&md, count, nulls, fw.defs, size, storedFrameSize(size)); err != nil {
			return format.ColumnChunk{}, err
		}
		start := len(fw.out)
		fw.out = appendStoredFrameHeader(fw.out, size)
		fw.out = appendDoubles(fw.out, vals, count, nulls)
		fw.grown(len(fw.out) - start)
	}
	return format.ColumnChunk{MetaData: md}, nil
}

// nativeLittleEndian reports a little-endian machine, where a []float64's
// memory is its PLAIN encoding.
var nativeLittleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// compressSample is how many bytes of a large page are compressed first, to
// tell whether the whole page is worth compressing.
const compressSample = 8 << 10

// pays reports whether zstd saves a 32nd of b; comp is scratch space.
func pays(b []byte, comp *[]byte) bool {
	*comp = shardEncoder().EncodeAll(b, (*comp)[:0])
	return len(*comp) < len(b)-len(b)/32
}

// appendDoubles appends the PLAIN encoding of the n values in the pieces
// of vals, NaN left out; nulls of them are NaN.
func appendDoubles(b []byte, vals [][]float64, n, nulls int) []byte {
	b = slices.Grow(b, 8*n)
	for _, p := range vals {
		if nativeLittleEndian && len(p) > 0 && nulls == 0 {
			b = append(b, unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(p))), 8*len(p))...)
			continue
		}
		for _, v := range p {
			if v == v {
				b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
			}
		}
	}
	return b
}

// storedFrameSize is the size of a zstd frame holding n bytes (n <= 128
// KiB) in one stored ("raw") block.
func storedFrameSize(n int) int { return n + 12 }

// appendStoredFrameHeader appends the header of a zstd frame of one stored
// block of n bytes (n <= 128 KiB), for the n bytes to follow: the magic
// number, a descriptor (single segment, a 4-byte content size, no
// checksum), the content size and the block header (last block, raw, n).
func appendStoredFrameHeader(b []byte, n int) []byte {
	b = append(b, 0x28, 0xb5, 0x2f, 0xfd, 0xa0)
	b = binary.LittleEndian.AppendUint32(b, uint32(n))
	h := uint32(n)<<3 | 1
	return append(b, byte(h), byte(h>>8), byte(h>>16))
}

// appendLevels appends the definition levels of the n values in the pieces
// of vals (1 for a value, 0 for NaN) in the RLE/bit-packed hybrid of bit
// width 1: one RLE run when they are all equal, else one bit-packed run.
func appendLevels(b []byte, vals [][]float64, n, nulls int) []byte {
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
	i := 0
	for _, p := range vals {
		for _, v := range p {
			if v == v {
				b[start+i/8] |= 1 << (i % 8)
			}
			i++
		}
	}
	return b
}

// pageHeader writes the header of a DATA_PAGE_V2 of n values, nulls of
// them null, size bytes of values uncompressed and comp compressed, and its
// definition levels; the caller writes the values. It accounts for the page
// in md.
func (fw *featureWriter) pageHeader(md *format.ColumnMetaData, n, nulls int, defs []byte, size, comp int) error {
	h := format.PageHeader{
		Type:                 format.DataPageV2,
		UncompressedPageSize: int32(len(defs) + size),
		CompressedPageSize:   int32(len(defs) + comp),
		DataPageHeaderV2: thrift.New(format.DataPageHeaderV2{
			NumValues: int32(n), NumNulls: int32(nulls), NumRows: int32(n), Encoding: format.Plain,
			DefinitionLevelsByteLength: int32(len(defs)), IsCompressed: thrift.New(true),
		}),
	}
	hb, err := thrift.Marshal(&fw.proto, &h)
	if err != nil {
		return fmt.Errorf("partition: encoding a page header: %w", err)
	}
	fw.emit(hb)
	fw.emit(defs)
	md.TotalUncompressedSize += int64(len(hb)) + int64(h.UncompressedPageSize)
	md.TotalCompressedSize += int64(len(hb)) + int64(h.CompressedPageSize)
	return nil
}

// close writes the footer and passes the rest of the file on. A file
// without rows is PAR1, the footer, PAR1.
func (fw *featureWriter) close() error {
	if fw.off == 0 {
		fw.emit([]byte("PAR1"))
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
	fw.emit(append(b, "PAR1"...))
	fw.flush()
	return fw.err
}
