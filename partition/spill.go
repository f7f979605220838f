package partition

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"unsafe"
)

// Split writes each shard's rows to a spill file while it reads the CSV and
// converts the spill files to Parquet afterwards, one shard per goroutine at
// a time. A Parquet writer must hold a whole row group in memory; with the
// spill, Split holds one row group per converting goroutine instead of one
// per shard, and its memory no longer depends on the number of shards.
//
// A features spill record is the key's length (uvarint), the key's bytes,
// the line the row starts on (uvarint, for the duplicate-key check), then
// one little-endian float64 per numeric column, NaN for missing.

// spillBufferSize is the write buffer of each spill file.
const spillBufferSize = 32 << 10

// maxSpillKey bounds a key length read back from a spill file; the CSV reader
// cannot produce a longer field than the input, but a damaged spill could
// claim anything.
const maxSpillKey = 1 << 30

// spillMemory is how many bytes of rows the spills of one features split
// keep in memory; past it, the spill that would grow beyond it moves to its
// file, and so does every later one. Memory thus stays bounded whatever the
// input's size, and a file of up to about a million rows of 16 columns never
// touches the disk twice.
var spillMemory int64 = 192 << 20

// memBlockRows is the rows of a full block of a spill held in memory; a
// shard's first block starts at 64 rows and grows fourfold up to it, so a
// spill of a few rows stays small.
const memBlockRows = 4096

// spillBudget is the memory the spills of one split may still take. Only
// the goroutine storing rows uses it.
type spillBudget struct{ left int64 }

// spillFile holds the rows of one shard between the two passes of Split:
// in memory while its budget allows (with a budget), then in its file.
// In memory, a features spill keeps its rows column-major, in blocks of up
// to memBlockRows rows, as the shard writer takes them.
type spillFile struct {
	path    string
	f       *os.File
	bw      *bufio.Writer
	scratch []byte
	rows    int64
	budget  *spillBudget
	mem     []*group // blocks of rows not in the file; all full but the last
	disk    bool     // the rows are in the file
}

// addMem appends a features row to the blocks in memory if the budget
// allows, charging it for every allocation, and reports whether it did.
func (s *spillFile) addMem(key []byte, line int, values []float64) bool {
	if n := len(s.mem); n > 0 {
		if g := s.mem[n-1]; len(g.ends) < cap(g.ends) && len(g.arena)+len(key) <= cap(g.arena) {
			g.arena = append(g.arena, key...) // no allocation: nothing to charge
			g.ends = append(g.ends, len(g.arena))
			g.lines = append(g.lines, line)
			r := len(g.ends) - 1
			for j, v := range values {
				g.values[j] = g.values[j][:r+1]
				g.values[j][r] = v
			}
			return true
		}
	}
	var g *group
	if n := len(s.mem); n > 0 && s.mem[n-1].rows() < memBlockRows && !s.mem[n-1].shared {
		g = s.mem[n-1]
	}
	rowBytes := int64(16 + 8*len(values)) // ends, lines, values
	var need int64
	rowCap := 0
	if g == nil || len(g.ends) == cap(g.ends) {
		rowCap = 64
		if len(s.mem) > 0 { // the first block was full
			rowCap = memBlockRows
		}
		if g != nil {
			rowCap = min(4*cap(g.ends), memBlockRows)
			need -= int64(cap(g.ends)) * rowBytes // the old arrays become garbage
		}
		need += int64(rowCap) * rowBytes
	}
	arenaCap := 0
	if g == nil || len(g.arena)+len(key) > cap(g.arena) {
		arenaCap = max(len(key), 1024)
		if g != nil {
			arenaCap = max(2*cap(g.arena), len(g.arena)+len(key))
		}
		need += int64(arenaCap)
	}
	if need > s.budget.left {
		return false
	}
	s.budget.left -= need
	if g == nil {
		g = &group{values: make([][]float64, len(values))}
		s.mem = append(s.mem, g)
	}
	if rowCap > 0 {
		g.ends = slices.Grow(g.ends, rowCap-len(g.ends))
		g.lines = slices.Grow(g.lines, rowCap-len(g.lines))
		for j := range g.values {
			g.values[j] = slices.Grow(g.values[j], rowCap-len(g.values[j]))
		}
	}
	if arenaCap > 0 {
		g.arena = slices.Grow(g.arena, arenaCap-len(g.arena))
	}
	g.arena = append(g.arena, key...)
	g.ends = append(g.ends, len(g.arena))
	g.lines = append(g.lines, line)
	for j, v := range values {
		g.values[j] = append(g.values[j], v)
	}
	return true
}

// memBytes is what the blocks in memory were charged.
func (s *spillFile) memBytes() int64 {
	var n int64
	for _, g := range s.mem {
		n += int64(cap(g.ends))*int64(16+8*len(g.values)) + int64(cap(g.arena))
	}
	return n
}

// toDisk moves the rows held in memory to the file, for good.
func (s *spillFile) toDisk() error {
	if s.f == nil {
		if err := s.create(); err != nil {
			return err
		}
	}
	charged := s.memBytes()
	blocks := s.mem
	s.mem, s.disk = nil, true
	var vals []float64
	for _, g := range blocks {
		vals = slices.Grow(vals[:0], len(g.values))[:len(g.values)]
		for i := range g.rows() {
			if err := s.writeRow(g.key(i), g.lines[i], g.row(i, vals)); err != nil {
				return err
			}
		}
	}
	s.budget.left += charged
	return nil
}

// createSpill creates the spill file for shard i of n of the layout whose
// shard file names start with prefix. It never overwrites an existing file.
func createSpill(dir, prefix string, i, n int) (*spillFile, error) {
	s := newSpill(dir, prefix, i, n, nil)
	return s, s.create()
}

// newSpill is createSpill for a features spill holding rows in memory
// within budget: its file is created only when the rows move there.
func newSpill(dir, prefix string, i, n int, budget *spillBudget) *spillFile {
	return &spillFile{path: filepath.Join(dir, fmt.Sprintf(".%sshard-%05d-of-%05d.spill", prefix, i, n)), budget: budget}
}

// create creates the spill's file, which must not exist.
func (s *spillFile) create() error {
	f, err := os.OpenFile(s.path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("partition: creating spill file: %w", err)
	}
	s.f, s.bw = f, bufio.NewWriterSize(f, spillBufferSize)
	return nil
}

// addPart appends the rows of g, a group of its own that shares its arrays
// with others (see batch.scatter), in memory if the budget allows, else to
// the file.
func (s *spillFile) addPart(g *group) error {
	if s.budget != nil && !s.disk {
		g.shared = true
		need := int64(cap(g.ends))*int64(16+8*len(g.values)) + int64(cap(g.arena))
		if need <= s.budget.left {
			s.budget.left -= need
			s.mem = append(s.mem, g)
			s.rows += int64(g.rows())
			return nil
		}
		if err := s.toDisk(); err != nil {
			return err
		}
	}
	vals := make([]float64, len(g.values))
	for i := range g.rows() {
		if err := s.writeRow(g.key(i), g.lines[i], g.row(i, vals)); err != nil {
			return err
		}
		s.rows++
	}
	return nil
}

// addRow appends one features row: its key, the line it starts on and its
// values, NaN for missing.
func (s *spillFile) addRow(key []byte, line int, values []float64) error {
	if s.budget != nil && !s.disk {
		if s.addMem(key, line, values) {
			s.rows++
			return nil
		}
		if err := s.toDisk(); err != nil {
			return err
		}
	}
	if err := s.writeRow(key, line, values); err != nil {
		return err
	}
	s.rows++
	return nil
}

// writeRow encodes a features row into the file.
func (s *spillFile) writeRow(key []byte, line int, values []float64) error {
	b := binary.AppendUvarint(s.scratch[:0], uint64(len(key)))
	b = append(b, key...)
	b = binary.AppendUvarint(b, uint64(line))
	for _, v := range values {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
	}
	s.scratch = b
	if _, err := s.bw.Write(b); err != nil {
		return fmt.Errorf("partition: writing spill file: %w", err)
	}
	return nil
}

// addRecord appends one row encoded by a recEncoder.
func (s *spillFile) addRecord(b []byte) error {
	if _, err := s.bw.Write(b); err != nil {
		return fmt.Errorf("partition: writing spill file: %w", err)
	}
	s.rows++
	return nil
}

// contents flushes the spill and returns all of its bytes.
func (s *spillFile) contents() ([]byte, error) {
	if err := s.bw.Flush(); err != nil {
		return nil, fmt.Errorf("partition: writing spill file: %w", err)
	}
	st, err := s.f.Stat()
	if err != nil {
		return nil, fmt.Errorf("partition: reading spill file: %w", err)
	}
	b := make([]byte, st.Size())
	if _, err := s.f.ReadAt(b, 0); err != nil {
		return nil, spillErr(err)
	}
	return b, nil
}

// rewind flushes the spill and returns a reader of its rows from the start.
func (s *spillFile) rewind(width int) (*spillReader, error) {
	if s.budget != nil && !s.disk {
		return &spillReader{blocks: s.mem, width: width}, nil
	}
	if err := s.bw.Flush(); err != nil {
		return nil, fmt.Errorf("partition: writing spill file: %w", err)
	}
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("partition: rewinding spill file: %w", err)
	}
	return &spillReader{br: bufio.NewReaderSize(s.f, spillBufferSize), width: width}, nil
}

// remove closes and deletes the spill file, if it was created.
func (s *spillFile) remove() {
	s.mem = nil
	if s.f != nil {
		s.f.Close()
		s.f = nil
		os.Remove(s.path)
	}
}

// spillReader decodes the records of a spill file, or reads the blocks of
// one held in memory.
type spillReader struct {
	br     *bufio.Reader
	blocks []*group // in memory: the blocks, and the next row in blocks[0]
	row    int
	width  int
	word   [8]byte
}

// block returns the block holding the next row in memory, and the row, or
// nil at the end.
func (r *spillReader) block() (*group, int) {
	for len(r.blocks) > 0 && r.row == r.blocks[0].rows() {
		r.blocks, r.row = r.blocks[1:], 0
	}
	if len(r.blocks) == 0 {
		return nil, 0
	}
	return r.blocks[0], r.row
}

// next appends the next row's key to arena and its values to values, and
// returns its line. It returns io.EOF after the last row.
func (r *spillReader) next(arena []byte, values []float64) ([]byte, []float64, int, error) {
	if r.br == nil {
		g, i := r.block()
		if g == nil {
			return arena, values, 0, io.EOF
		}
		r.row++
		for j := range g.values {
			values = append(values, g.values[j][i])
		}
		return append(arena, g.key(i)...), values, g.lines[i], nil
	}
	n, err := binary.ReadUvarint(r.br)
	if err != nil {
		return arena, values, 0, err // io.EOF at a record boundary
	}
	if n > maxSpillKey {
		return arena, values, 0, errors.New("partition: damaged spill file")
	}
	start := len(arena)
	arena = slices.Grow(arena, int(n))[:start+int(n)]
	if _, err := io.ReadFull(r.br, arena[start:]); err != nil {
		return arena, values, 0, spillErr(err)
	}
	line, err := binary.ReadUvarint(r.br)
	if err != nil {
		return arena, values, 0, spillErr(err)
	}
	if b, err := r.br.Peek(8 * r.width); err == nil {
		for k := 0; k < len(b); k += 8 {
			values = append(values, math.Float64frombits(binary.LittleEndian.Uint64(b[k:])))
		}
		r.br.Discard(len(b))
		return arena, values, int(line), nil
	}
	for range r.width { // a row wider than the buffer, or a short file
		if _, err := io.ReadFull(r.br, r.word[:]); err != nil {
			return arena, values, 0, spillErr(err)
		}
		values = append(values, math.Float64frombits(binary.LittleEndian.Uint64(r.word[:])))
	}
	return arena, values, int(line), nil
}

// nextColumns is next for a column-major row group: it appends the next
// row's key to arena and value j to values[j].
func (r *spillReader) nextColumns(arena []byte, values [][]float64) ([]byte, int, error) {
	if r.br == nil {
		g, i := r.block()
		if g == nil {
			return arena, 0, io.EOF
		}
		r.row++
		for j := range g.values {
			values[j] = append(values[j], g.values[j][i])
		}
		return append(arena, g.key(i)...), g.lines[i], nil
	}
	n, err := binary.ReadUvarint(r.br)
	if err != nil {
		return arena, 0, err // io.EOF at a record boundary
	}
	if n > maxSpillKey {
		return arena, 0, errors.New("partition: damaged spill file")
	}
	if b, err := r.br.Peek(int(n)); err == nil {
		arena = append(arena, b...)
		r.br.Discard(len(b))
	} else {
		start := len(arena)
		arena = slices.Grow(arena, int(n))[:start+int(n)]
		if _, err := io.ReadFull(r.br, arena[start:]); err != nil {
			return arena, 0, spillErr(err)
		}
	}
	line, err := binary.ReadUvarint(r.br)
	if err != nil {
		return arena, 0, spillErr(err)
	}
	if b, err := r.br.Peek(8 * r.width); err == nil {
		for j := range values {
			values[j] = append(values[j], math.Float64frombits(binary.LittleEndian.Uint64(b[8*j:])))
		}
		r.br.Discard(len(b))
		return arena, int(line), nil
	}
	for j := range r.width { // a row wider than the buffer, or a short file
		if _, err := io.ReadFull(r.br, r.word[:]); err != nil {
			return arena, 0, spillErr(err)
		}
		values[j] = append(values[j], math.Float64frombits(binary.LittleEndian.Uint64(r.word[:])))
	}
	return arena, int(line), nil
}

func spillErr(err error) error {
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("partition: reading spill file: %w", err)
}

// The sorted kinds (interactions, transactions) spill records of strings
// (uvarint length, then the bytes), little-endian 64-bit words and flag
// bytes, in an order each kind fixes, and read a whole shard's spill back at
// once to sort it.

// appendString appends a length-prefixed string to b.
func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// appendWord appends a little-endian 64-bit word to b.
func appendWord(b []byte, w uint64) []byte {
	return binary.LittleEndian.AppendUint64(b, w)
}

// recDecoder reads the fields of spilled records from one buffer. Strings
// it returns share the buffer's memory, which must not change afterwards.
// After the first damaged field, err is set and every read returns zero.
type recDecoder struct {
	b   []byte
	err error
}

var errDamagedSpill = errors.New("partition: damaged spill file")

func (d *recDecoder) more() bool { return d.err == nil && len(d.b) > 0 }

func (d *recDecoder) str() string {
	n, k := binary.Uvarint(d.b)
	if k <= 0 || n > uint64(len(d.b)-k) {
		d.fail()
		return ""
	}
	s := unsafe.String(unsafe.SliceData(d.b[k:]), int(n))
	d.b = d.b[k+int(n):]
	return s
}

func (d *recDecoder) word() uint64 {
	if len(d.b) < 8 {
		d.fail()
		return 0
	}
	w := binary.LittleEndian.Uint64(d.b)
	d.b = d.b[8:]
	return w
}

func (d *recDecoder) flags() byte {
	if len(d.b) < 1 {
		d.fail()
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *recDecoder) fail() {
	if d.err == nil {
		d.err = errDamagedSpill
	}
	d.b = nil
}
