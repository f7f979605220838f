package partition

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/parquet-go/parquet-go"
)

// Key/value metadata stored in every shard file.
const (
	metaKey     = "mathcrm.key"
	metaColumns = "mathcrm.columns"
	// metaCategories holds the dictionaries of categorical columns (JSON:
	// column -> values in code order).
	metaCategories = "mathcrm.categories"
	metaShard      = "mathcrm.shard"
)

// shardCodec compresses every shard. zstd's default level takes about a
// quarter of Split's CPU; its fastest level saves most of that but left
// generated float data 35% larger, a worse trade for files that are stored
// and shipped to workers.
var shardCodec = &parquet.Zstd

// pageBufferSize is the uncompressed size at which a column's values are cut
// into a compressed page (parquet-go defaults to 256KiB).
const pageBufferSize = 64 << 10

// rowsPerBatch is how many rows are handed to the Parquet writer per call.
const rowsPerBatch = 128

// ShardFile describes one shard file written by Split.
type ShardFile struct {
	Index  int
	Path   string
	Rows   int64
	Size   int64
	SHA256 string // hex SHA-256 of the file's bytes
}

// orderedGroup is a parquet.Group whose fields keep the given order instead
// of the alphabetical order a Group uses, so the file's columns read as in
// the CSV: key first, then the numeric columns in import order.
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
	slices.SortStableFunc(fields, func(a, b parquet.Field) int {
		return rank[a.Name()] - rank[b.Name()]
	})
	return fields
}

// shardSet is the shape shared by all shard files of one Split.
type shardSet struct {
	dir          string
	count        int
	key          string
	columns      []string
	rowGroupRows int
	schema       *parquet.Schema
	meta         map[string]string
}

func newShardSet(dir string, count int, key string, columns []string, rowGroupRows int) *shardSet {
	g := parquet.Group{key: parquet.Required(parquet.String())}
	for _, c := range columns {
		g[c] = parquet.Optional(parquet.Leaf(parquet.DoubleType))
	}
	order := append([]string{key}, columns...)
	cols, _ := json.Marshal(append([]string{}, columns...)) // cannot fail for strings
	return &shardSet{
		dir: dir, count: count, key: key, columns: columns, rowGroupRows: rowGroupRows,
		schema: parquet.NewSchema("mathcrm_shard", orderedGroup{Group: g, order: order}),
		meta:   map[string]string{metaKey: key, metaColumns: string(cols)},
	}
}

// path is the path of shard i.
func (s *shardSet) path(i int) string {
	return filepath.Join(s.dir, shardFileName(i, s.count))
}

// shardFileName is the name of shard i of n.
func shardFileName(i, n int) string {
	return fmt.Sprintf("shard-%05d-of-%05d.parquet", i, n)
}

// reserve creates every shard file, empty. Split does this before reading the
// CSV so that a name clash fails fast, and so that it never overwrites or
// removes a file it did not create. It returns the paths it created.
func (s *shardSet) reserve() ([]string, error) {
	paths := make([]string, s.count)
	for i := range paths {
		paths[i] = s.path(i)
	}
	return reserveFiles(paths)
}

// reserveFiles creates each file, empty, failing if one exists. It returns
// the paths it created, also on error.
func reserveFiles(paths []string) ([]string, error) {
	var created []string
	for _, path := range paths {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return created, fmt.Errorf("partition: creating shard file: %w", err)
		}
		created = append(created, path)
		if err := f.Close(); err != nil {
			return created, fmt.Errorf("partition: creating shard file: %w", err)
		}
	}
	return created, nil
}

// writeAll converts every spill to its shard file, on up to GOMAXPROCS
// goroutines, each holding one row group in memory at a time. Spills are
// removed as they are converted. It returns the first error.
func (s *shardSet) writeAll(ctx context.Context, spills []*spillFile) ([]ShardFile, error) {
	files := make([]ShardFile, len(spills))
	err := runParallel(ctx, len(spills), func(ctx context.Context, i int) error {
		sf, err := s.write(ctx, i, spills[i])
		if err != nil {
			return err
		}
		files[i] = sf
		spills[i].remove()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return files, nil
}

// runParallel calls task(ctx, i) for every i in [0, n) on up to GOMAXPROCS
// goroutines and waits for them. The first error cancels the tasks not yet
// started and is returned; so is ctx's error.
func runParallel(ctx context.Context, n int, task func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	for range max(1, min(runtime.GOMAXPROCS(0), n)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := task(ctx, i); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					cancel()
					return
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}

// write converts one spill into shard file i and describes the result.
func (s *shardSet) write(ctx context.Context, i int, spill *spillFile) (ShardFile, error) {
	in, err := spill.rewind(len(s.columns))
	if err != nil {
		return ShardFile{}, err
	}
	f, err := os.OpenFile(s.path(i), os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return ShardFile{}, fmt.Errorf("partition: opening shard file: %w", err)
	}
	defer f.Close() // after a successful Close, a no-op
	sink := &countingHash{w: f, h: sha256.New()}
	pw := newShardWriter(sink, s.schema, s.rowGroupRows,
		metaKey, s.meta[metaKey],
		metaColumns, s.meta[metaColumns],
		metaShard, shardMeta(i, s.count),
		metaCategories, s.meta[metaCategories],
	)
	rows, err := copyRows(ctx, pw, in, len(s.columns))
	if err == nil && rows != spill.rows {
		err = fmt.Errorf("partition: internal error: shard %d spilled %d rows, wrote %d", i, spill.rows, rows)
	}
	if err == nil {
		err = pw.Close()
	}
	if err == nil {
		err = f.Close()
	}
	if err != nil {
		return ShardFile{}, fmt.Errorf("partition: writing shard %d: %w", i, err)
	}
	return ShardFile{
		Index: i, Path: s.path(i), Rows: rows, Size: sink.size,
		SHA256: hex.EncodeToString(sink.h.Sum(nil)),
	}, nil
}

// newShardWriter returns the Parquet writer of every shard file: zstd, the
// given row group size, and the key/value metadata given as name, value
// pairs, in that order.
func newShardWriter(w io.Writer, schema *parquet.Schema, rowGroupRows int, meta ...string) *parquet.GenericWriter[any] {
	opts := []parquet.WriterOption{
		schema,
		parquet.Compression(shardCodec),
		parquet.MaxRowsPerRowGroup(int64(rowGroupRows)),
		parquet.PageBufferSize(pageBufferSize),
		parquet.CreatedBy("mathcrm", "1", ""),
	}
	for k := 0; k+1 < len(meta); k += 2 {
		opts = append(opts, parquet.KeyValueMetadata(meta[k], meta[k+1]))
	}
	return parquet.NewGenericWriter[any](w, opts...)
}

// shardMeta is the "mathcrm.shard" value of shard i of n.
func shardMeta(i, n int) string {
	return strconv.Itoa(i) + "/" + strconv.Itoa(n)
}

// copyRows writes every row of in to pw, rowsPerBatch at a time.
func copyRows(ctx context.Context, pw *parquet.GenericWriter[any], in *spillReader, width int) (int64, error) {
	rows := make([]parquet.Row, rowsPerBatch)
	for r := range rows {
		rows[r] = make(parquet.Row, 1+width)
	}
	var (
		arena  []byte
		values []float64
		total  int64
	)
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		arena, values = arena[:0], values[:0]
		var ends [rowsPerBatch]int // end of each key in arena
		n := 0
		var err error
		for ; n < rowsPerBatch; n++ {
			if arena, values, err = in.next(arena, values); err != nil {
				break
			}
			ends[n] = len(arena)
		}
		if err != nil && err != io.EOF {
			return total, err
		}
		for r := range n {
			start := 0
			if r > 0 {
				start = ends[r-1]
			}
			fillRow(rows[r], arena[start:ends[r]], values[r*width:(r+1)*width])
		}
		if _, werr := pw.WriteRows(rows[:n]); werr != nil {
			return total, werr
		}
		total += int64(n)
		if err == io.EOF {
			return total, nil
		}
	}
}

// fillRow sets row to key followed by values, NaN as null.
func fillRow(row parquet.Row, key []byte, values []float64) {
	row[0] = parquet.ByteArrayValue(key).Level(0, 0, 0)
	for j, v := range values {
		if v != v { // NaN: missing
			row[j+1] = parquet.NullValue().Level(0, 0, j+1)
		} else {
			row[j+1] = parquet.DoubleValue(v).Level(0, 1, j+1)
		}
	}
}

// countingHash is the sink behind a shard file: it tees bytes into the
// SHA-256 and counts them, so no file needs to be re-read.
type countingHash struct {
	w    io.Writer
	h    hash.Hash
	size int64
}

func (c *countingHash) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.h.Write(p[:n])
	c.size += int64(n)
	return n, err
}
