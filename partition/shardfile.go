package partition

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"unsafe"

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

// shardCodec compresses the shard files parquet-go writes (interactions,
// transactions, filtered features, exports); features shards from Split
// compress their pages themselves (see featureWriter).
var shardCodec = &parquet.Zstd

// maxHandOver is the largest shard (in bytes of rows, uncompressed) Split
// hands over in memory under Options.ShardWritten; a larger one is written
// to its file, so the memory of shards in flight does not grow with them.
var maxHandOver int64 = 8 << 20

// pageBufferSize is the uncompressed size at which a column's values are cut
// into a compressed page (parquet-go defaults to 256KiB).
const pageBufferSize = 64 << 10

// rowsPerBatch is how many rows are handed to the Parquet writer per call.
const rowsPerBatch = 128

// ShardFile describes one shard file written by Split.
type ShardFile struct {
	Index int
	Path  string
	Rows  int64
	Size  int64
	// SHA256 is the hex SHA-256 of the file's bytes; empty for a shard
	// handed over in memory (Options.ShardWritten with data), whose callee
	// hashes the bytes as it stores them rather than have them hashed twice.
	SHA256 string
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
	meta         map[string]string
	mu           sync.Mutex
	created      []string // shard files created, by path
}

func newShardSet(dir string, count int, key string, columns []string, rowGroupRows int) *shardSet {
	cols, _ := json.Marshal(append([]string{}, columns...)) // cannot fail for strings
	return &shardSet{
		dir: dir, count: count, key: key, columns: columns, rowGroupRows: rowGroupRows,
		meta: map[string]string{metaKey: key, metaColumns: string(cols)},
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

// check fails if a shard file exists already. Split does this before
// reading the CSV so that a name clash fails fast; a shard file is created
// only when it is written (a shard handed over in memory never is), and
// then it must not exist either, so Split never overwrites or removes a
// file it did not create.
func (s *shardSet) check() error {
	for i := range s.count {
		if _, err := os.Lstat(s.path(i)); !errors.Is(err, fs.ErrNotExist) {
			if err == nil {
				err = &fs.PathError{Op: "open", Path: s.path(i), Err: fs.ErrExist}
			}
			return fmt.Errorf("partition: creating shard file: %w", err)
		}
	}
	return nil
}

// create creates shard file i, which must not exist, and records it for
// removeCreated.
func (s *shardSet) create(i int) (*os.File, error) {
	f, err := os.OpenFile(s.path(i), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, fmt.Errorf("partition: creating shard file: %w", err)
	}
	s.mu.Lock()
	s.created = append(s.created, s.path(i))
	s.mu.Unlock()
	return f, nil
}

// removeCreated removes every shard file create created.
func (s *shardSet) removeCreated() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, path := range s.created {
		os.Remove(path)
	}
	s.created = nil
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
// goroutines, each holding one row group in memory at a time, and checks
// each shard's keys for duplicates on the way (a key's rows all land in
// its shard). Spills are removed as they are converted; done, if set, is
// told of each finished file. It returns the duplicate that comes first in
// the file, if any, or the first other error.
func (s *shardSet) writeAll(ctx context.Context, spills []*spillFile, dups bool, done func(ShardFile, []byte) error) ([]ShardFile, *duplicate, error) {
	files := make([]ShardFile, len(spills))
	found := make([]*duplicate, len(spills))
	err := runParallel(ctx, len(spills), func(ctx context.Context, i int) error {
		var data []byte
		// Room for the rows uncompressed, so the buffer never grows; a
		// larger shard is written to its file.
		if size := 4<<10 + spills[i].rows*int64(10+8*len(s.columns)); done != nil && size <= maxHandOver {
			data = handOverBuffer(int(size))
		}
		sf, data, dup, err := s.write(ctx, i, spills[i], dups, data)
		if err != nil {
			return err
		}
		if dup != nil {
			found[i] = dup
			return nil
		}
		files[i] = sf
		spills[i].remove()
		if done != nil && data != nil {
			return done(sf, data)
		}
		if done != nil {
			return done(sf, nil)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	if dup := firstDuplicate(found); dup != nil {
		return nil, dup, nil
	}
	return files, nil, nil
}

// handOverPool holds the buffers of shards handed over in memory that
// their receivers gave back (RecycleShardBytes), for later shards: fresh
// memory costs a page fault per 4 KiB as it is first written, about a
// tenth of a split's time when every shard's bytes were new.
var handOverPool sync.Pool // of *[]byte

// handOverBuffer returns an empty buffer of at least size bytes.
func handOverBuffer(size int) []byte {
	if p, _ := handOverPool.Get().(*[]byte); p != nil && cap(*p) >= size {
		return (*p)[:0]
	}
	return make([]byte, 0, size+size/8) // room for the next, slightly larger shard
}

// RecycleShardBytes gives back the bytes of a shard Split handed over in
// memory (see Options.ShardWritten) once the receiver is done with them, for
// a later shard of any Split to reuse; the caller must not touch them again.
func RecycleShardBytes(b []byte) {
	if cap(b) > 0 {
		b = b[:0]
		handOverPool.Put(&b)
	}
}

// duplicate is a key found again on a later line.
type duplicate struct {
	key         []byte
	line, first int
}

// firstDuplicate returns the duplicate on the earliest line.
func firstDuplicate(found []*duplicate) *duplicate {
	var first *duplicate
	for _, d := range found {
		if d != nil && (first == nil || d.line < first.line) {
			first = d
		}
	}
	return first
}

// findDuplicates checks the spilled rows that start before line (and
// extra, when set) for a key seen twice, without writing any shard, and
// returns the one on the earliest line.
func findDuplicates(ctx context.Context, spills []*spillFile, width, line int, extra *keyAt) (*duplicate, error) {
	found := make([]*duplicate, len(spills))
	err := runParallel(ctx, len(spills), func(ctx context.Context, i int) error {
		in, err := spills[i].rewind(width)
		if err != nil {
			return err
		}
		idx := newKeyIndex()
		var arena []byte
		var values []float64
		for {
			var l int
			arena, values, l, err = in.next(arena[:0], values[:0])
			if err == io.EOF || err == nil && l >= line {
				break
			}
			if err != nil {
				return err
			}
			if first, fresh := idx.insert(unsafe.String(unsafe.SliceData(arena), len(arena)), int64(l)); !fresh {
				found[i] = &duplicate{key: bytes.Clone(arena), line: l, first: int(first)}
				return nil
			}
		}
		if extra != nil && ShardOf(extra.key, len(spills)) == i {
			if first, fresh := idx.insert(extra.key, int64(extra.line)); !fresh {
				found[i] = &duplicate{key: []byte(extra.key), line: extra.line, first: int(first)}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return firstDuplicate(found), nil
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

// write converts one spill into shard file i, or, when mem is not nil,
// into memory starting with mem's capacity, and describes the result and
// returns the bytes in memory. With dups it checks the keys for duplicates
// and stops at the first one.
func (s *shardSet) write(ctx context.Context, i int, spill *spillFile, dups bool, mem []byte) (ShardFile, []byte, *duplicate, error) {
	in, err := spill.rewind(len(s.columns))
	if err != nil {
		return ShardFile{}, nil, nil, err
	}
	path := ""
	var f *os.File
	var w io.Writer // nil: into memory
	var h hash.Hash
	if mem == nil {
		path = s.path(i)
		if f, err = s.create(i); err != nil {
			return ShardFile{}, nil, nil, err
		}
		defer f.Close() // after a successful Close, a no-op
		w, h = f, sha256.New()
	}
	fw := newFeatureWriter(w, h, mem, s.key, s.columns,
		metaKey, s.meta[metaKey],
		metaColumns, s.meta[metaColumns],
		metaShard, shardMeta(i, s.count),
		metaCategories, s.meta[metaCategories],
	)
	defer fw.release()
	var idx *keyIndex
	if dups {
		idx = keyIndexPool.Get().(*keyIndex)
		defer keyIndexPool.Put(idx)
		idx.reset(int(spill.rows))
	}
	rows, dup, err := copyRows(ctx, fw, in, spill.rows, len(s.columns), s.rowGroupRows, idx)
	if dup != nil {
		return ShardFile{}, nil, dup, nil
	}
	if err == nil && rows != spill.rows {
		err = fmt.Errorf("partition: internal error: shard %d spilled %d rows, wrote %d", i, spill.rows, rows)
	}
	if err == nil {
		err = fw.close()
	}
	if f != nil && err == nil {
		err = f.Close()
	}
	if err != nil {
		return ShardFile{}, nil, nil, fmt.Errorf("partition: writing shard %d: %w", i, err)
	}
	sf := ShardFile{Index: i, Path: path, Rows: rows, Size: fw.off}
	if h != nil {
		sf.SHA256 = hex.EncodeToString(h.Sum(nil))
		return sf, nil, nil, nil
	}
	return sf, fw.out, nil, nil
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

// copyRows writes every row of in, expect of them, to fw, a row group at a
// time, and, with idx, stops at the first key idx has seen before.
func copyRows(ctx context.Context, fw *featureWriter, in *spillReader, expect int64, width, rowGroupRows int, idx *keyIndex) (int64, *duplicate, error) {
	if in.br == nil { // in memory
		return copyBlocks(ctx, fw, in.blocks, rowGroupRows, idx)
	}
	g := groupPool.Get().(*group)
	defer groupPool.Put(g)
	g.reset(width)
	g.grow(int(min(expect, int64(rowGroupRows))))
	var rows int64
	for {
		if err := ctx.Err(); err != nil {
			return rows, nil, err
		}
		start := len(g.arena)
		var (
			line int
			err  error
		)
		g.arena, line, err = in.nextColumns(g.arena, g.values)
		if err == io.EOF {
			return rows, nil, fw.writeGroup(g)
		}
		if err != nil {
			return rows, nil, err
		}
		if idx != nil {
			key := g.arena[start:]
			if first, fresh := idx.insert(unsafe.String(unsafe.SliceData(key), len(key)), int64(line)); !fresh {
				return rows, &duplicate{key: bytes.Clone(key), line: line, first: int(first)}, nil
			}
		}
		g.ends = append(g.ends, len(g.arena))
		rows++
		if g.rows() == rowGroupRows {
			if err := fw.writeGroup(g); err != nil {
				return rows, nil, err
			}
			g.reset(width)
		}
	}
}

// copyBlocks is copyRows for a spill held in memory: it writes the blocks'
// rows where they are, a row group's worth of block runs at a time.
func copyBlocks(ctx context.Context, fw *featureWriter, blocks []*group, rowGroupRows int, idx *keyIndex) (int64, *duplicate, error) {
	var rows int64
	var segs []segment
	n := 0 // rows in segs
	for _, b := range blocks {
		if err := ctx.Err(); err != nil {
			return rows, nil, err
		}
		for lo := 0; lo < b.rows(); {
			hi := min(b.rows(), lo+rowGroupRows-n)
			if idx != nil {
				for i := lo; i < hi; i++ {
					key := b.key(i)
					if first, fresh := idx.insert(unsafe.String(unsafe.SliceData(key), len(key)), int64(b.lines[i])); !fresh {
						return rows, &duplicate{key: bytes.Clone(key), line: b.lines[i], first: int(first)}, nil
					}
				}
			}
			segs = append(segs, segment{g: b, lo: lo, hi: hi})
			n += hi - lo
			rows += int64(hi - lo)
			lo = hi
			if n == rowGroupRows {
				if err := fw.writeSegments(segs); err != nil {
					return rows, nil, err
				}
				segs, n = segs[:0], 0
			}
		}
	}
	return rows, nil, fw.writeSegments(segs)
}

// countingHash is the sink behind a shard file: it tees bytes into the
// SHA-256 (unless h is nil) and counts them, so no file needs to be re-read.
type countingHash struct {
	w    io.Writer
	h    hash.Hash
	size int64
}

func (c *countingHash) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	if c.h != nil {
		c.h.Write(p[:n])
	}
	c.size += int64(n)
	return n, err
}
