package partition

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"unsafe"

	"github.com/parquet-go/parquet-go"
)

// The interactions and transactions kinds sort each shard's rows. They spill
// rows while reading the CSV like Split, then load one shard's spill at a
// time into memory, sort it and write its Parquet file. Up to GOMAXPROCS
// shards are converted at once, so memory is bounded by that many shards'
// rows (the spill bytes plus 40 to 56 bytes per row), not by the input.

// More key/value metadata of the sorted kinds' shard files.
const (
	metaKind    = "mathcrm.kind"    // "interactions" or "transactions"
	metaLayout  = "mathcrm.layout"  // interactions: "by-user" or "by-item"
	metaOther   = "mathcrm.other"   // interactions: the other side's id column
	metaValue   = "mathcrm.value"   // interactions: the value column
	metaTime    = "mathcrm.time"    // transactions: the time column
	metaAmount  = "mathcrm.amount"  // transactions: the amount column
	metaInvoice = "mathcrm.invoice" // transactions: the invoice column, "" if none
	metaReturn  = "mathcrm.return"  // transactions: the return flag column
)

// maxShardRows bounds the rows of one sorted shard: Ptr offsets are int32.
const maxShardRows = math.MaxInt32

// layout is one set of shard files of a sorted kind, and their spills.
type layout struct {
	dir, prefix string
	count       int
	spills      []*spillFile
}

func (l *layout) path(i int) string {
	return filepath.Join(l.dir, l.prefix+shardFileName(i, l.count))
}

// create reserves the shard files and creates the spills. Paths it created
// are appended to *created, also on error, for the caller to remove.
func (l *layout) create(created *[]string) error {
	paths := make([]string, l.count)
	for i := range paths {
		paths[i] = l.path(i)
	}
	done, err := reserveFiles(paths)
	*created = append(*created, done...)
	if err != nil {
		return err
	}
	for i := range l.count {
		spill, err := createSpill(l.dir, l.prefix, i, l.count)
		if err != nil {
			return err
		}
		l.spills = append(l.spills, spill)
	}
	return nil
}

// removeSpills removes the spills that are left.
func (l *layout) removeSpills() {
	for _, spill := range l.spills {
		spill.remove()
	}
}

// loadSpill reads the whole spill of shard i, checking its row count
// against the bound of a sorted shard.
func (l *layout) loadSpill(i int) ([]byte, error) {
	spill := l.spills[i]
	if spill.rows > maxShardRows {
		return nil, fmt.Errorf("partition: shard %d would hold %d rows, more than %d; use more shards", i, spill.rows, int64(maxShardRows))
	}
	return spill.contents()
}

// writeShardFile writes shard file i with write, which returns the rows it
// wrote, and describes the file.
func (l *layout) writeShardFile(i int, write func(w io.Writer) (int64, error)) (ShardFile, error) {
	f, err := os.OpenFile(l.path(i), os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return ShardFile{}, fmt.Errorf("partition: opening shard file: %w", err)
	}
	defer f.Close() // after a successful Close, a no-op
	sink := &countingHash{w: f, h: sha256.New()}
	rows, err := write(sink)
	if err == nil && rows != l.spills[i].rows {
		err = fmt.Errorf("partition: internal error: spilled %d rows, wrote %d", l.spills[i].rows, rows)
	}
	if err == nil {
		err = f.Close()
	}
	if err != nil {
		return ShardFile{}, fmt.Errorf("partition: writing shard %d: %w", i, err)
	}
	return ShardFile{
		Index: i, Path: l.path(i), Rows: rows, Size: sink.size,
		SHA256: hex.EncodeToString(sink.h.Sum(nil)),
	}, nil
}

// rowWriter batches rows for a Parquet writer.
type rowWriter struct {
	pw   *parquet.GenericWriter[any]
	rows []parquet.Row
	n    int
}

func newRowWriter(pw *parquet.GenericWriter[any], width int) *rowWriter {
	rows := make([]parquet.Row, rowsPerBatch)
	for r := range rows {
		rows[r] = make(parquet.Row, width)
	}
	return &rowWriter{pw: pw, rows: rows}
}

// next returns the row to fill, flushing a full batch first.
func (w *rowWriter) next() (parquet.Row, error) {
	if w.n == len(w.rows) {
		if err := w.flush(); err != nil {
			return nil, err
		}
	}
	w.n++
	return w.rows[w.n-1], nil
}

func (w *rowWriter) flush() error {
	_, err := w.pw.WriteRows(w.rows[:w.n])
	w.n = 0
	return err
}

// close writes the last batch and the footer.
func (w *rowWriter) close() error {
	if err := w.flush(); err != nil {
		return err
	}
	return w.pw.Close()
}

// bytesOf is s's bytes without a copy; they must not be modified.
func bytesOf(s string) []byte {
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

// uniqueName returns base, or base_1, base_2, ... whichever first differs
// from every name in taken.
func uniqueName(base string, taken ...string) string {
	name := base
	for n := 1; ; n++ {
		clash := false
		for _, t := range taken {
			clash = clash || t == name
		}
		if !clash {
			return name
		}
		name = fmt.Sprintf("%s_%d", base, n)
	}
}

// isBlank reports an empty or all-blank field.
func isBlank(s string) bool {
	return strings.TrimSpace(s) == ""
}

// columnIndex returns the header index of column name, or an InputError
// naming the header line.
func columnIndex(rr *recordReader, pos map[string]int, line int, name string) (int, error) {
	i, ok := pos[name]
	if !ok {
		return 0, &InputError{File: rr.name, Line: line, Column: name, Err: ErrNoColumn}
	}
	return i, nil
}

// stringArena collects strings read from a file into one allocation.
type stringArena struct {
	buf  []byte
	ends []int
}

func (a *stringArena) add(b []byte) {
	a.buf = append(a.buf, b...)
	a.ends = append(a.ends, len(a.buf))
}

func (a *stringArena) last() []byte {
	if len(a.ends) == 0 {
		return nil
	}
	start := 0
	if len(a.ends) > 1 {
		start = a.ends[len(a.ends)-2]
	}
	return a.buf[start:]
}

// strings returns the collected strings, sharing one backing string.
func (a *stringArena) strings() []string {
	all := string(a.buf)
	out := make([]string, len(a.ends))
	start := 0
	for i, end := range a.ends {
		out[i] = all[start:end]
		start = end
	}
	return out
}
