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

// recordReader reads records and reports where each one starts: CSV with
// a one-character delimiter, literal lines split by a longer one.
type recordReader struct {
	name   string
	cr     *csv.Reader   // one-character delimiter
	lr     *lineSplitter // longer delimiter
	names  []string      // Input.Names: no header row
	fields int           // header width, once the header is read
	br     *bufio.Reader // the text, read no further than the records returned
	base   int           // lines before the text cr reads
	lines  int           // lines consumed by the records returned (CSV)
	pq     *parquetRecords
}

func newRecordReader(name string, r *bufio.Reader, in Input) *recordReader {
	rr := &recordReader{name: name, names: in.Names, fields: len(in.Names), br: r}
	if utf8.RuneCountInString(in.Delimiter) > 1 {
		rr.lr = &lineSplitter{br: r, delim: in.Delimiter}
		return rr
	}
	rr.cr = newCSVReader(r, in.Delimiter, len(in.Names)) // 0: the header fixes the width
	return rr
}

func newCSVReader(r io.Reader, delim string, fields int) *csv.Reader {
	cr := csv.NewReader(r)
	cr.Comma, _ = utf8.DecodeRuneInString(delim)
	cr.ReuseRecord = true
	cr.FieldsPerRecord = fields
	return cr
}

// resume makes r read CSV records from text, which starts after the
// line-th line of the input.
func (r *recordReader) resume(text io.Reader, line int) {
	r.cr = newCSVReader(text, string(r.cr.Comma), r.fields)
	r.base, r.lines = line, line
}

// read returns the next record (valid until the next call), the line it
// starts on, and io.EOF at the end. Data errors are *InputError values.
func (r *recordReader) read() ([]string, int, error) {
	if r.lr != nil {
		return r.readLine()
	}
	if r.pq != nil {
		return r.pq.read()
	}
	rec, err := r.cr.Read()
	if err == nil {
		line, _ := r.cr.FieldPos(0)
		if r.fields == 0 {
			r.fields = len(rec)
		}
		last, _ := r.cr.FieldPos(len(rec) - 1)
		r.lines = r.base + last + strings.Count(rec[len(rec)-1], "\n")
		return rec, r.base + line, nil
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
		detail = r.fieldCountError(len(rec))
	case pe.Line != pe.StartLine:
		detail = fmt.Errorf("%w: %v (at line %d, column %d)", ErrMalformed, pe.Err, r.base+pe.Line, pe.Column)
	default:
		detail = fmt.Errorf("%w: %v (at column %d)", ErrMalformed, pe.Err, pe.Column)
	}
	return nil, 0, &InputError{File: r.name, Line: r.base + pe.StartLine, Err: detail}
}

// lineWord is what the input's record numbers count: lines, or the rows
// of a Parquet file.
func (r *recordReader) lineWord() string {
	if r.pq != nil {
		return "row"
	}
	return "line"
}

// readLine is read for a multi-character delimiter.
func (r *recordReader) readLine() ([]string, int, error) {
	rec, line, err := r.lr.read()
	if err == io.EOF {
		return nil, 0, io.EOF
	}
	if err != nil {
		return nil, 0, fmt.Errorf("partition: reading %s: %w", r.name, err)
	}
	if r.fields == 0 {
		r.fields = len(rec)
	}
	if len(rec) != r.fields {
		return nil, 0, &InputError{File: r.name, Line: line, Err: r.fieldCountError(len(rec))}
	}
	return rec, line, nil
}

func (r *recordReader) fieldCountError(n int) error {
	if r.names != nil {
		return fmt.Errorf("%w: record has %d fields, %d names given", ErrMalformed, n, r.fields)
	}
	return fmt.Errorf("%w: record has %d fields, header has %d", ErrMalformed, n, r.fields)
}

// readHeader reads the header row, or takes Input.Names when the file has
// none, and checks that its names are valid UTF-8 and distinct. It returns
// the names, each name's index and the header's line (0 for Names).
func (r *recordReader) readHeader() ([]string, map[string]int, int, error) {
	if r.names != nil {
		pos := make(map[string]int, len(r.names))
		for i, name := range r.names {
			pos[name] = i // Validate checked that they are distinct
		}
		return r.names, pos, 0, nil
	}
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
			return nil, nil, 0, &InputError{File: r.name, Line: line, Err: fmt.Errorf("%w: column name %s is not valid UTF-8", ErrMalformed, quoteField(name))}
		}
		if _, dup := pos[name]; dup {
			return nil, nil, 0, &InputError{File: r.name, Line: line, Column: name, Err: ErrDuplicateColumn}
		}
		pos[name] = i
	}
	return header, pos, line, nil
}

// openInput decodes r (see decodeInput) and returns a record reader on it:
// of a Parquet file when r is one (see parquetRecords), else of CSV text.
func openInput(name string, r io.Reader, in Input) (*recordReader, io.Closer, error) {
	br, closer, err := decodeInput(name, r)
	if err != nil {
		return nil, nil, err
	}
	if isParquet(br) {
		closer.Close()
		pq, err := openParquetInput(name, r, in)
		if err != nil {
			return nil, nil, err
		}
		return &recordReader{name: name, pq: pq}, pq, nil
	}
	return newRecordReader(name, br, in), closer, nil
}

// located marks the *InputError of a Parquet input as counting rows.
func (r *recordReader) located(err error) error {
	var ie *InputError
	if r.pq != nil && errors.As(err, &ie) {
		ie.Rows = true
	}
	return err
}

// lineSplitter reads lines and splits each at every occurrence of a
// delimiter, with no quoting. Like encoding/csv it takes "\r\n" as a line
// end and skips empty lines.
type lineSplitter struct {
	br    *bufio.Reader
	delim string
	line  int // lines consumed
	buf   []byte
	rec   []string
}

// read returns the next non-empty line's fields (valid until the next
// call) and its line number, or io.EOF.
func (s *lineSplitter) read() ([]string, int, error) {
	for {
		b, err := s.next()
		if len(b) == 0 && err != nil {
			return nil, 0, err
		}
		s.line++
		b = bytes.TrimSuffix(b, []byte("\n"))
		b = bytes.TrimSuffix(b, []byte("\r"))
		if len(b) == 0 {
			continue
		}
		text := string(b)
		s.rec = s.rec[:0]
		for {
			i := strings.Index(text, s.delim)
			if i < 0 {
				break
			}
			s.rec = append(s.rec, text[:i])
			text = text[i+len(s.delim):]
		}
		s.rec = append(s.rec, text)
		return s.rec, s.line, nil
	}
}

// next returns the next line with its "\n", or the bytes before the end of
// the input with io.EOF.
func (s *lineSplitter) next() ([]byte, error) {
	b, err := s.br.ReadSlice('\n')
	if err != bufio.ErrBufferFull {
		return b, err
	}
	s.buf = append(s.buf[:0], b...)
	for err == bufio.ErrBufferFull {
		b, err = s.br.ReadSlice('\n')
		s.buf = append(s.buf, b...)
	}
	return s.buf, err
}

type nopCloser struct{}

func (nopCloser) Close() error { return nil }
