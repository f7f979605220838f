package partition

import (
	"bufio"
	"bytes"
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

// spillBlock is the size of the blocks a spill keeps in memory.
const spillBlock = 64 << 10

// spillBudget is the memory the spills of one split may still take. Only
// the goroutine storing rows uses it.
type spillBudget struct{ left int64 }

// spillFile holds the rows of one shard between the two passes of Split:
// in memory while its budget allows (with a budget), then in its file.
type spillFile struct {
	path    string
	f       *os.File
	bw      *bufio.Writer
	scratch []byte
	rows    int64
	budget  *spillBudget
	mem     [][]byte // blocks of rows not in the file; all full but the last
	disk    bool     // the rows are in the file
}

// write appends the bytes of whole rows.
func (s *spillFile) write(b []byte) error {
	if s.budget != nil && !s.disk {
		if s.budget.left >= int64(len(b)) {
			s.budget.left -= int64(len(b))
			for len(b) > 0 {
				if len(s.mem) == 0 || len(s.mem[len(s.mem)-1]) == spillBlock {
					s.mem = append(s.mem, make([]byte, 0, spillBlock))
				}
				last := &s.mem[len(s.mem)-1]
				n := min(len(b), spillBlock-len(*last))
				*last = append(*last, b[:n]...)
				b = b[n:]
			}
			return nil
		}
		if err := s.toDisk(); err != nil {
			return err
		}
	}
	if _, err := s.bw.Write(b); err != nil {
		return fmt.Errorf("partition: writing spill file: %w", err)
	}
	return nil
}

// toDisk moves the rows held in memory to the file, for good.
func (s *spillFile) toDisk() error {
	for _, blk := range s.mem {
		if _, err := s.bw.Write(blk); err != nil {
			return fmt.Errorf("partition: writing spill file: %w", err)
		}
		s.budget.left += int64(len(blk))
	}
	s.mem, s.disk = nil, true
	return nil
}

// createSpill creates the spill file for shard i of n of the layout whose
// shard file names start with prefix. It never overwrites an existing file.
func createSpill(dir, prefix string, i, n int) (*spillFile, error) {
	path := filepath.Join(dir, fmt.Sprintf(".%sshard-%05d-of-%05d.spill", prefix, i, n))
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("partition: creating spill file: %w", err)
	}
	return &spillFile{path: path, f: f, bw: bufio.NewWriterSize(f, spillBufferSize)}, nil
}

// addRow appends one features row: its key, the line it starts on and its
// values, NaN for missing.
func (s *spillFile) addRow(key []byte, line int, values []float64) error {
	b := binary.AppendUvarint(s.scratch[:0], uint64(len(key)))
	b = append(b, key...)
	b = binary.AppendUvarint(b, uint64(line))
	for _, v := range values {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
	}
	s.scratch = b
	if err := s.write(b); err != nil {
		return err
	}
	s.rows++
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
		rs := make([]io.Reader, len(s.mem))
		for i, blk := range s.mem {
			rs[i] = bytes.NewReader(blk)
		}
		return &spillReader{br: bufio.NewReaderSize(io.MultiReader(rs...), spillBufferSize), width: width}, nil
	}
	if err := s.bw.Flush(); err != nil {
		return nil, fmt.Errorf("partition: writing spill file: %w", err)
	}
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("partition: rewinding spill file: %w", err)
	}
	return &spillReader{br: bufio.NewReaderSize(s.f, spillBufferSize), width: width}, nil
}

// remove closes and deletes the spill file.
func (s *spillFile) remove() {
	s.mem = nil
	if s.f != nil {
		s.f.Close()
		s.f = nil
	}
	os.Remove(s.path)
}

// spillReader decodes the records of a spill file.
type spillReader struct {
	br    *bufio.Reader
	width int
	word  [8]byte
}

// next appends the next row's key to arena and its values to values, and
// returns its line. It returns io.EOF after the last row.
func (r *spillReader) next(arena []byte, values []float64) ([]byte, []float64, int, error) {
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
