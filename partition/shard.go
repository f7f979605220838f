package partition

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"unsafe"

	"github.com/parquet-go/parquet-go"
)

// Shard is one shard in memory, column-major.
type Shard struct {
	Key     string      // name of the key column
	Keys    []string    // one per row, in file order
	Columns []string    // numeric column names
	Values  [][]float64 // Values[j][i] = column j, row i; NaN = missing
}

// Rows is the number of rows in the shard.
func (s *Shard) Rows() int { return len(s.Keys) }

// Column returns the values of the named column.
func (s *Shard) Column(name string) ([]float64, bool) {
	if i := slices.Index(s.Columns, name); i >= 0 {
		return s.Values[i], true
	}
	return nil, false
}

// SizeBytes approximates the shard's in-memory footprint (headers, string
// bytes and slice capacities), for a byte-budgeted cache.
func (s *Shard) SizeBytes() int64 {
	const (
		stringHeader = int64(unsafe.Sizeof(""))
		sliceHeader  = int64(unsafe.Sizeof([]byte(nil)))
	)
	n := int64(unsafe.Sizeof(*s)) + int64(len(s.Key))
	n += int64(cap(s.Keys)) * stringHeader
	for _, k := range s.Keys {
		n += int64(len(k))
	}
	n += int64(cap(s.Columns)) * stringHeader
	for _, c := range s.Columns {
		n += int64(len(c))
	}
	n += int64(cap(s.Values)) * sliceHeader
	for _, v := range s.Values {
		n += int64(cap(v)) * 8
	}
	return n
}

// readBatch is how many parquet values ReadShard decodes per call.
const readBatch = 1024

// ReadShard decodes a shard file written by Split. Any input that is not such
// a file yields an error wrapping ErrCorrupt, never a panic.
func ReadShard(r io.ReaderAt, size int64) (s *Shard, err error) {
	if r == nil || size < 0 {
		return nil, fmt.Errorf("%w: no data", ErrCorrupt)
	}
	// parquet-go is not hardened against hostile bytes; a panic in it on
	// corrupt input is a data error here, not a crash of the worker.
	defer func() {
		if p := recover(); p != nil {
			s, err = nil, fmt.Errorf("%w: decoder panic: %v", ErrCorrupt, p)
		}
	}()
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
	s, err = shardLayout(f)
	if err != nil {
		return nil, err
	}
	total := f.NumRows()
	if total < 0 {
		return nil, fmt.Errorf("%w: negative row count", ErrCorrupt)
	}
	// Never trust a row count for a big allocation: a corrupt footer could
	// claim anything. Decoded values are bounded by the bytes actually read.
	hint := int(min(total, size/8+1))
	s.Keys = make([]string, 0, hint)
	for j := range s.Values {
		s.Values[j] = make([]float64, 0, hint)
	}
	buf := make([]parquet.Value, readBatch)
	for _, rg := range f.RowGroups() {
		if err := s.readRowGroup(rg, buf); err != nil {
			return nil, err
		}
	}
	if int64(s.Rows()) != total {
		return nil, fmt.Errorf("%w: footer says %d rows, row groups hold %d", ErrCorrupt, total, s.Rows())
	}
	return s, nil
}

// checkFraming checks the Parquet magic at both ends, that the footer
// length fits in the file, before parquet-go allocates a buffer of whatever
// length the last bytes claim, and that the footer's Thrift lengths fit in
// the footer (see thriftStructLen).
func checkFraming(r io.ReaderAt, size int64) error {
	const magic = "PAR1"
	if size < 12 {
		return fmt.Errorf("%w: %d bytes is too short for Parquet", ErrCorrupt, size)
	}
	var head [4]byte
	var tail [8]byte
	if err := readFull(r, head[:], 0); err != nil {
		return err
	}
	if err := readFull(r, tail[:], size-8); err != nil {
		return err
	}
	if string(head[:]) != magic || string(tail[4:]) != magic {
		return fmt.Errorf("%w: no Parquet magic", ErrCorrupt)
	}
	footer := int64(binary.LittleEndian.Uint32(tail[:4]))
	if footer > size-12 {
		return fmt.Errorf("%w: footer length %d exceeds the file", ErrCorrupt, footer)
	}
	meta := make([]byte, footer)
	if err := readFull(r, meta, size-8-footer); err != nil {
		return err
	}
	if _, err := thriftStructLen(meta); err != nil {
		return fmt.Errorf("%w: footer: %w", ErrCorrupt, err)
	}
	return nil
}

// readFull reads len(p) bytes at off. Running out of data means the size was
// wrong, a corrupt input; other errors are the reader's own.
func readFull(r io.ReaderAt, p []byte, off int64) error {
	n, err := r.ReadAt(p, off)
	switch {
	case n == len(p):
		return nil
	case err == nil || err == io.EOF || err == io.ErrUnexpectedEOF:
		return fmt.Errorf("%w: short read at offset %d", ErrCorrupt, off)
	}
	return fmt.Errorf("partition: reading shard: %w", err)
}

// shardLayout checks that f has a shard's schema and metadata and returns an
// empty Shard with Key and Columns set.
func shardLayout(f *parquet.File) (*Shard, error) {
	key, ok := f.Lookup(metaKey)
	if !ok {
		return nil, fmt.Errorf("%w: no %s metadata", ErrCorrupt, metaKey)
	}
	cols := f.Root().Columns()
	if len(cols) == 0 || cols[0].Name() != key || !cols[0].Leaf() || !cols[0].Required() ||
		cols[0].Type().Kind() != parquet.ByteArray {
		return nil, fmt.Errorf("%w: first column is not the required string key %q", ErrCorrupt, key)
	}
	s := &Shard{Key: key}
	seen := map[string]bool{key: true}
	for _, c := range cols[1:] {
		if !c.Leaf() || !c.Optional() || c.Type().Kind() != parquet.Double || seen[c.Name()] {
			return nil, fmt.Errorf("%w: column %q is not a distinct optional double", ErrCorrupt, c.Name())
		}
		seen[c.Name()] = true
		s.Columns = append(s.Columns, c.Name())
	}
	if meta, ok := f.Lookup(metaColumns); ok {
		var want []string
		if err := json.Unmarshal([]byte(meta), &want); err != nil || !slices.Equal(want, s.Columns) {
			return nil, fmt.Errorf("%w: schema columns do not match %s metadata", ErrCorrupt, metaColumns)
		}
	}
	s.Values = make([][]float64, len(s.Columns))
	return s, nil
}

// readRowGroup appends one row group's rows to s; buf is scratch space.
func (s *Shard) readRowGroup(rg parquet.RowGroup, buf []parquet.Value) error {
	n := rg.NumRows()
	chunks := rg.ColumnChunks()
	if n < 0 || len(chunks) != 1+len(s.Columns) {
		return fmt.Errorf("%w: row group shape", ErrCorrupt)
	}
	start := int64(len(s.Keys))
	err := readChunk(chunks[0], n, buf, func(v parquet.Value) error {
		if v.IsNull() || v.Kind() != parquet.ByteArray {
			return fmt.Errorf("%w: bad key value", ErrCorrupt)
		}
		s.Keys = append(s.Keys, string(v.ByteArray()))
		return nil
	})
	if err != nil {
		return err
	}
	for j := range s.Columns {
		col := s.Values[j]
		err := readChunk(chunks[j+1], n, buf, func(v parquet.Value) error {
			switch {
			case v.IsNull():
				col = append(col, math.NaN())
			case v.Kind() != parquet.Double:
				return fmt.Errorf("%w: bad value kind in column %q", ErrCorrupt, s.Columns[j])
			default:
				x := v.Double()
				if math.IsNaN(x) || math.IsInf(x, 0) {
					return fmt.Errorf("%w: non-finite value in column %q", ErrCorrupt, s.Columns[j])
				}
				col = append(col, x)
			}
			return nil
		})
		if err != nil {
			return err
		}
		s.Values[j] = col
	}
	if int64(len(s.Keys))-start != n {
		return fmt.Errorf("%w: row group holds %d keys, says %d rows", ErrCorrupt, int64(len(s.Keys))-start, n)
	}
	return nil
}

// errTooManyValues stops a chunk that holds more values than its row group.
var errTooManyValues = errors.New("more values than rows")

// readChunk feeds every value of a column chunk to use and checks that there
// are exactly n of them.
func readChunk(chunk parquet.ColumnChunk, n int64, buf []parquet.Value, use func(parquet.Value) error) error {
	pages := chunk.Pages()
	defer pages.Close()
	var got int64
	for {
		page, err := pages.ReadPage()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
		err = readPage(page, buf, func(v parquet.Value) error {
			if got++; got > n {
				return errTooManyValues
			}
			return use(v)
		})
		parquet.Release(page)
		if err != nil {
			if errors.Is(err, ErrCorrupt) {
				return err
			}
			return fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
	}
	if got != n {
		return fmt.Errorf("%w: column chunk holds %d values, row group %d rows", ErrCorrupt, got, n)
	}
	return nil
}

func readPage(page parquet.Page, buf []parquet.Value, use func(parquet.Value) error) error {
	vr := page.Values()
	for {
		k, err := vr.ReadValues(buf)
		for _, v := range buf[:k] {
			if uerr := use(v); uerr != nil {
				return uerr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
