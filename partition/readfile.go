package partition

import (
	"fmt"
	"io"
	"math"
	"slices"

	"github.com/klauspost/compress/zstd"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
)

// recoverCorrupt turns a panic into an ErrCorrupt error. parquet-go is not
// hardened against hostile bytes; a panic in it on corrupt input is a data
// error here, not a crash of the worker. Use it deferred.
func recoverCorrupt(err *error) {
	if p := recover(); p != nil {
		*err = fmt.Errorf("%w: decoder panic: %v", ErrCorrupt, p)
	}
}

// openShardFile opens a Parquet shard file of a sorted kind and checks that
// its metadata names that kind.
func openShardFile(r io.ReaderAt, size int64, kind string) (*parquet.File, error) {
	if r == nil || size < 0 {
		return nil, fmt.Errorf("%w: no data", ErrCorrupt)
	}
	if err := checkFraming(r, size); err != nil {
		return nil, err
	}
	f, err := parquet.OpenFile(r, size, parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	if err := checkPages(f, r, size); err != nil {
		return nil, err
	}
	if got, _ := f.Lookup(metaKind); got != kind {
		return nil, fmt.Errorf("%w: %s is %q, not %q", ErrCorrupt, metaKind, got, kind)
	}
	return f, nil
}

// maxPageBytes bounds the uncompressed size of one page. Split cuts pages
// at 64KiB, so only a single value of tens of megabytes could make a larger
// one.
const maxPageBytes = 64 << 20

// checkPages checks every column chunk and page header against what shard
// files hold, before parquet-go decodes them: it allocates whatever a page
// header or a compressed frame claims, and its LZ4 codec doubles its buffer
// until a corrupt block decodes, so a few flipped bits could make it
// allocate gigabytes. Each chunk must be zstd-compressed and lie within the
// file, each page within its chunk, and neither a page's uncompressed size
// nor its zstd frame's size or window may exceed maxPageBytes.
func checkPages(f *parquet.File, r io.ReaderAt, size int64) error {
	var chunk []byte
	for g, rg := range f.Metadata().RowGroups {
		for c, cc := range rg.Columns {
			bad := func(format string, args ...any) error {
				return fmt.Errorf("%w: row group %d column %d: %s", ErrCorrupt, g, c, fmt.Sprintf(format, args...))
			}
			m := cc.MetaData
			if m.Codec != format.Zstd {
				return bad("compressed with %s, not ZSTD", m.Codec)
			}
			start, n := m.DataPageOffset, m.TotalCompressedSize
			if m.DictionaryPageOffset != 0 {
				start = m.DictionaryPageOffset
			}
			if start < 4 || n < 0 || n > size-12 || start > size-8-n {
				return bad("lies outside the file")
			}
			chunk = slices.Grow(chunk[:0], int(n))[:n]
			if err := readFull(r, chunk, start); err != nil {
				return err
			}
			for off := 0; off < len(chunk); {
				n, err := thriftStructLen(chunk[off:])
				if err != nil {
					return bad("page header: %v", err)
				}
				var h format.PageHeader
				rd := new(thrift.CompactProtocol).NewReaderFromBytes(chunk[off : off+n])
				if err := thrift.NewDecoder(rd).Decode(&h); err != nil {
					return bad("page header: %v", err)
				}
				off += n
				if h.CompressedPageSize < 0 || int(h.CompressedPageSize) > len(chunk)-off ||
					h.UncompressedPageSize < 0 || h.UncompressedPageSize > maxPageBytes {
					return bad("page sizes %d, %d", h.CompressedPageSize, h.UncompressedPageSize)
				}
				page := chunk[off : off+int(h.CompressedPageSize)]
				off += len(page)
				if v2 := h.DataPageHeaderV2; v2.Valid {
					levels := int64(v2.V.RepetitionLevelsByteLength) + int64(v2.V.DefinitionLevelsByteLength)
					if levels > int64(len(page)) {
						return bad("levels exceed the page")
					}
					if !v2.V.IsCompressed.Valid || v2.V.IsCompressed.V { // absent means compressed
						page = page[levels:]
					} else {
						page = nil
					}
				}
				if len(page) > 0 {
					var zh zstd.Header
					if err := zh.Decode(page); err != nil {
						return bad("zstd frame: %v", err)
					}
					if zh.FrameContentSize > maxPageBytes || zh.WindowSize > maxPageBytes {
						return bad("zstd frame of %d bytes, window %d", zh.FrameContentSize, zh.WindowSize)
					}
				}
			}
		}
	}
	return nil
}

// columnSpec is what a reader expects of one leaf column.
type columnSpec struct {
	name     string
	kind     parquet.Kind
	required bool         // else optional
	logical  parquet.Type // nil: any; else its logical type must match
}

// checkColumns checks that f's columns are exactly want, in order.
func checkColumns(f *parquet.File, want []columnSpec) error {
	cols := f.Root().Columns()
	if len(cols) != len(want) {
		return fmt.Errorf("%w: %d columns, want %d", ErrCorrupt, len(cols), len(want))
	}
	for j, c := range cols {
		w := want[j]
		ok := w.name != "" && c.Leaf() && c.Name() == w.name && c.Type().Kind() == w.kind &&
			!c.Repeated() && c.Required() == w.required && c.Optional() == !w.required
		if ok && w.logical != nil {
			got := c.Type().LogicalType()
			ok = got != nil && got.String() == w.logical.LogicalType().String()
		}
		if !ok {
			return fmt.Errorf("%w: column %d is not %q of the expected type", ErrCorrupt, j, w.name)
		}
	}
	return nil
}

// rowCount returns f's row count, checked for sanity.
func rowCount(f *parquet.File) (int64, error) {
	total := f.NumRows()
	if total < 0 {
		return 0, fmt.Errorf("%w: negative row count", ErrCorrupt)
	}
	return total, nil
}

// finiteDouble returns the finite DOUBLE v holds.
func finiteDouble(v parquet.Value, column string) (float64, error) {
	if v.IsNull() || v.Kind() != parquet.Double {
		return 0, fmt.Errorf("%w: bad value in column %q", ErrCorrupt, column)
	}
	x := v.Double()
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0, fmt.Errorf("%w: non-finite value in column %q", ErrCorrupt, column)
	}
	return x, nil
}
