package partition

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"

	"github.com/parquet-go/parquet-go"
)

// FilterResult describes the shard file [FilterRows] wrote.
type FilterResult struct {
	// Rows are the rows kept, Removed those left out.
	Rows, Removed int64
	// Size and SHA256 are the written file's size and hex SHA-256.
	Size   int64
	SHA256 string
}

// FilterRows copies a shard file written by this package (a features,
// interactions or transactions shard, of either interactions layout) to w
// without the rows whose value in the string column named column satisfies
// drop. The copy has the original's schema, key/value metadata and
// compression, and its rows in the original order, so that whatever reads
// the original reads the copy. It is how a customer's rows are erased: the
// key column of a features or transactions shard, the user column of
// either interactions layout.
//
// A file that does not decode, or has no such required string column, yields
// an error wrapping ErrCorrupt, never a panic.
func FilterRows(r io.ReaderAt, size int64, w io.Writer, column string, drop func(key string) bool) (res FilterResult, err error) {
	defer recoverCorrupt(&err)
	if r == nil || size < 0 {
		return res, fmt.Errorf("%w: no data", ErrCorrupt)
	}
	if err := checkFraming(r, size); err != nil {
		return res, err
	}
	f, err := parquet.OpenFile(r, size, parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		return res, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	if err := checkPages(f, r, size); err != nil {
		return res, err
	}
	if f.NumRows() < 0 {
		return res, fmt.Errorf("%w: negative row count", ErrCorrupt)
	}
	// Every shard file is flat: one value of every column per row.
	for _, fl := range f.Schema().Fields() {
		if !fl.Leaf() || fl.Repeated() {
			return res, fmt.Errorf("%w: column %q is not a flat column", ErrCorrupt, fl.Name())
		}
	}
	leaf, ok := f.Schema().Lookup(column)
	if !ok || leaf.Node.Type().Kind() != parquet.ByteArray || !leaf.Node.Required() {
		return res, fmt.Errorf("%w: no required string column %q", ErrCorrupt, column)
	}
	col := leaf.ColumnIndex
	var meta []string
	for _, kv := range f.Metadata().KeyValueMetadata {
		meta = append(meta, kv.Key, kv.Value)
	}
	sink := &countingHash{w: w, h: sha256.New()}
	pw := newShardWriter(sink, f.Schema(), DefaultRowGroupRows, meta...)
	rows := make([]parquet.Row, rowsPerBatch)
	keep := make([]parquet.Row, 0, rowsPerBatch)
	for _, rg := range f.RowGroups() {
		rr := rg.Rows()
		for {
			n, rerr := rr.ReadRows(rows)
			keep = keep[:0]
			for _, row := range rows[:n] {
				if col >= len(row) || row[col].Column() != col {
					rr.Close()
					return res, fmt.Errorf("%w: row shape", ErrCorrupt)
				}
				if drop(string(row[col].ByteArray())) {
					res.Removed++
					continue
				}
				keep = append(keep, row)
			}
			if _, werr := pw.WriteRows(keep); werr != nil {
				rr.Close()
				return res, fmt.Errorf("partition: filtering shard: %w", werr)
			}
			res.Rows += int64(len(keep))
			if rerr == io.EOF {
				break
			}
			if rerr != nil {
				rr.Close()
				return res, fmt.Errorf("%w: %w", ErrCorrupt, rerr)
			}
		}
		if err := rr.Close(); err != nil {
			return res, fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
	}
	if err := pw.Close(); err != nil {
		return res, fmt.Errorf("partition: filtering shard: %w", err)
	}
	if res.Rows+res.Removed != f.NumRows() {
		return res, fmt.Errorf("%w: footer says %d rows, row groups hold %d", ErrCorrupt, f.NumRows(), res.Rows+res.Removed)
	}
	res.Size, res.SHA256 = sink.size, hex.EncodeToString(sink.h.Sum(nil))
	return res, nil
}
