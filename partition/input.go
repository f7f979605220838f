package partition

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/klauspost/compress/gzip"
)

const readBufferSize = 256 << 10

var (
	gzipMagic = []byte{0x1f, 0x8b}
	utf8BOM   = []byte{0xef, 0xbb, 0xbf}
)

// decodeInput returns the CSV text of r: gunzipped when name ends in ".gz" or
// the bytes start with the gzip magic, with a leading UTF-8 BOM removed. The
// returned closer releases the gzip reader, if any.
func decodeInput(name string, r io.Reader) (*bufio.Reader, io.Closer, error) {
	br := bufio.NewReaderSize(r, readBufferSize)
	var closer io.Closer = nopCloser{}
	head, err := br.Peek(len(gzipMagic))
	if err != nil && err != io.EOF {
		return nil, nil, fmt.Errorf("partition: reading %s: %w", name, err)
	}
	if strings.HasSuffix(name, ".gz") || bytes.Equal(head, gzipMagic) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, fmt.Errorf("partition: reading %s: %w", name, err)
		}
		closer = zr
		br = bufio.NewReaderSize(zr, readBufferSize)
	}
	head, err = br.Peek(len(utf8BOM))
	if err != nil && err != io.EOF {
		closer.Close()
		return nil, nil, fmt.Errorf("partition: reading %s: %w", name, err)
	}
	if bytes.Equal(head, utf8BOM) {
		br.Discard(len(utf8BOM))
	}
	return br, closer, nil
}

// recordReader reads CSV records and reports where each one starts.
type recordReader struct {
	name   string
	cr     *csv.Reader
	fields int // header width, once the header is read
}

func newRecordReader(name string, r io.Reader, delim rune) *recordReader {
	cr := csv.NewReader(r)
	cr.Comma = delim
	cr.ReuseRecord = true
	cr.FieldsPerRecord = 0 // the header fixes the width
	return &recordReader{name: name, cr: cr}
}

// read returns the next record (valid until the next call), the line it
// starts on, and io.EOF at the end. Data errors are *InputError values.
func (r *recordReader) read() ([]string, int, error) {
	rec, err := r.cr.Read()
	if err == nil {
		line, _ := r.cr.FieldPos(0)
		if r.fields == 0 {
			r.fields = len(rec)
		}
		return rec, line, nil
	}
	if err == io.EOF {
		return nil, 0, io.EOF
	}
	var pe *csv.ParseError
	if !errors.As(err, &pe) {
		return nil, 0, fmt.Errorf("partition: reading %s: %w", r.name, err)
	}
	var detail error
	switch {
	case errors.Is(pe.Err, csv.ErrFieldCount):
		detail = fmt.Errorf("%w: record has %d fields, header has %d", ErrMalformed, len(rec), r.fields)
	case pe.Line != pe.StartLine:
		detail = fmt.Errorf("%w: %v (at line %d, column %d)", ErrMalformed, pe.Err, pe.Line, pe.Column)
	default:
		detail = fmt.Errorf("%w: %v (at column %d)", ErrMalformed, pe.Err, pe.Column)
	}
	return nil, 0, &InputError{File: r.name, Line: pe.StartLine, Err: detail}
}

// readHeader reads the header row and checks that its names are valid UTF-8
// and distinct. It returns the names, each name's index and the header's
// line.
func (r *recordReader) readHeader() ([]string, map[string]int, int, error) {
	rec, line, err := r.read()
	if err == io.EOF {
		return nil, nil, 0, &InputError{File: r.name, Line: 1, Err: fmt.Errorf("%w: no header row", ErrEmpty)}
	}
	if err != nil {
		return nil, nil, 0, err
	}
	header := append([]string(nil), rec...)
	pos := make(map[string]int, len(header))
	for i, name := range header {
		if !utf8.ValidString(name) {
			return nil, nil, 0, &InputError{File: r.name, Line: line, Err: fmt.Errorf("%w: column name %q is not valid UTF-8", ErrMalformed, name)}
		}
		if _, dup := pos[name]; dup {
			return nil, nil, 0, &InputError{File: r.name, Line: line, Column: name, Err: ErrDuplicateColumn}
		}
		pos[name] = i
	}
	return header, pos, line, nil
}

// openInput decodes r (see decodeInput) and returns a record reader on it.
func openInput(name string, r io.Reader, delim rune) (*recordReader, io.Closer, error) {
	in, closer, err := decodeInput(name, r)
	if err != nil {
		return nil, nil, err
	}
	return newRecordReader(name, in, delim), closer, nil
}

type nopCloser struct{}

func (nopCloser) Close() error { return nil }
