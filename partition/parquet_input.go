package partition

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strconv"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"
)

// A Parquet input file is read as a table: its columns (top-level, neither
// nested nor repeated) are the header, its rows the records, and its row
// numbers (from 1) stand for lines. Values become the text a CSV file would
// hold: null is an empty field, integers and floating-point numbers their
// shortest exact decimal, booleans 1 and 0, DATE 2006-01-02 and TIMESTAMP
// RFC 3339 in UTC. Features read numeric columns as numbers directly, with
// no text in between. The file is read one window of rows at a time,
// column by column, so memory depends on the window, not on the file.

var parquetMagic = []byte("PAR1")

// parquetWindow is how many rows are decoded at once.
const parquetWindow = 4096

// ErrParquetInput reports a Parquet file whose shape cannot be imported.
var ErrParquetInput = errors.New("partition: unsupported Parquet input")

// parquetKind is how one input column's values are read.
type parquetKind int

const (
	pqText parquetKind = iota
	pqInt
	pqFloat
	pqDouble
	pqBool
	pqDate
	pqTimestamp
)

// parquetRecords reads the records of a Parquet file (see above).
type parquetRecords struct {
	name   string
	file   *parquet.File
	names  []string
	kinds  []parquetKind
	unit   []time.Duration // TIMESTAMP columns: the unit
	groups []parquet.RowGroup
	group  int
	pages  []parquet.Pages // by column, in the current row group
	page   []parquet.ValueReader
	left   int64 // rows of the current row group not yet in a window
	win    [][]parquet.Value
	pos, n int  // next row of the window, rows in it
	row    int  // rows returned
	header bool // the header was returned
	rec    []string
	text   []byte
}

// openParquetInput opens r, which starts with the Parquet magic, as records. It
// needs the whole file: r must be an io.ReaderAt that knows its size.
func openParquetInput(name string, r io.Reader, in Input) (*parquetRecords, error) {
	ra, ok := r.(interface {
		io.ReaderAt
		Stat() (fs.FileInfo, error)
	})
	if !ok {
		return nil, fmt.Errorf("%w: %s is Parquet; it can only be read from a file", ErrParquetInput, name)
	}
	if in.Names != nil {
		return nil, badOptions("Names: %s is Parquet, whose columns have names", name)
	}
	st, err := ra.Stat()
	if err != nil {
		return nil, fmt.Errorf("partition: reading %s: %w", name, err)
	}
	p := &parquetRecords{name: name}
	if err := p.open(ra, st.Size()); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *parquetRecords) open(r io.ReaderAt, size int64) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("%w: %s: %v", ErrMalformed, p.name, v)
		}
	}()
	f, err := parquet.OpenFile(r, size, parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		return fmt.Errorf("%w: %s is not a readable Parquet file: %v", ErrMalformed, p.name, err)
	}
	p.file, p.groups = f, f.RowGroups()
	for _, c := range f.Root().Columns() {
		if !c.Leaf() || c.Repeated() {
			return fmt.Errorf("%w: %s: column %q is nested or repeated; only flat columns can be imported", ErrParquetInput, p.name, c.Name())
		}
		kind, unit := pqText, time.Duration(0)
		switch t := c.Type(); t.Kind() {
		case parquet.Boolean:
			kind = pqBool
		case parquet.Int32, parquet.Int64:
			kind = pqInt
			if lt := t.LogicalType(); lt != nil {
				switch v := lt.Value.(type) {
				case *format.DateType:
					kind = pqDate
				case *format.TimestampType:
					if v.Unit.Value != nil {
						kind, unit = pqTimestamp, v.Unit.Value.Duration()
					}
				}
			}
		case parquet.Float:
			kind = pqFloat
		case parquet.Double:
			kind = pqDouble
		}
		p.names = append(p.names, c.Name())
		p.kinds = append(p.kinds, kind)
		p.unit = append(p.unit, unit)
	}
	p.rec = make([]string, len(p.names))
	p.win = make([][]parquet.Value, len(p.names))
	for c := range p.win {
		p.win[c] = make([]parquet.Value, parquetWindow)
	}
	return nil
}

// numeric reports whether column c holds numbers.
func (p *parquetRecords) numeric(c int) bool {
	k := p.kinds[c]
	return k == pqInt || k == pqFloat || k == pqDouble || k == pqBool
}

// read returns the header first (line 0), then each row with its number.
func (p *parquetRecords) read() ([]string, int, error) {
	if !p.header {
		p.header = true
		return p.names, 0, nil
	}
	if err := p.fill(); err != nil {
		return nil, 0, err
	}
	p.text = p.text[:0]
	ends := make([]int, 0, 32)
	for c := range p.win {
		p.text = p.appendText(p.text, c, p.win[c][p.pos])
		ends = append(ends, len(p.text))
	}
	s := string(p.text) // one allocation per row
	start := 0
	for c, end := range ends {
		p.rec[c] = s[start:end]
		start = end
	}
	p.pos++
	p.row++
	return p.rec, p.row, nil
}

// appendText appends the CSV text of v, a value of column c.
func (p *parquetRecords) appendText(b []byte, c int, v parquet.Value) []byte {
	if v.IsNull() {
		return b
	}
	switch p.kinds[c] {
	case pqBool:
		if v.Boolean() {
			return append(b, '1')
		}
		return append(b, '0')
	case pqInt:
		return strconv.AppendInt(b, intOf(v), 10)
	case pqFloat:
		return strconv.AppendFloat(b, float64(v.Float()), 'g', -1, 32)
	case pqDouble:
		return strconv.AppendFloat(b, v.Double(), 'g', -1, 64)
	case pqDate:
		return time.Unix(intOf(v)*86400, 0).UTC().AppendFormat(b, time.DateOnly)
	case pqTimestamp:
		return p.timestamp(c, v).AppendFormat(b, time.RFC3339Nano)
	}
	if k := v.Kind(); k == parquet.ByteArray || k == parquet.FixedLenByteArray {
		return append(b, v.ByteArray()...)
	}
	return append(b, v.String()...)
}

// intOf is an INT32 or INT64 value as an int64.
func intOf(v parquet.Value) int64 {
	if v.Kind() == parquet.Int32 {
		return int64(v.Int32())
	}
	return v.Int64()
}

func (p *parquetRecords) timestamp(c int, v parquet.Value) time.Time {
	u := p.unit[c]
	x := v.Int64()
	return time.Unix(x/int64(time.Second/u), x%int64(time.Second/u)*int64(u)).UTC()
}

// number returns v, a value of numeric column c, as a float64.
func (p *parquetRecords) number(c int, v parquet.Value) float64 {
	switch p.kinds[c] {
	case pqBool:
		if v.Boolean() {
			return 1
		}
		return 0
	case pqInt:
		return float64(intOf(v))
	case pqFloat:
		f, _ := strconv.ParseFloat(strconv.FormatFloat(float64(v.Float()), 'g', -1, 32), 64)
		return f // the decimal the file's writer meant, as the text reader reads it
	}
	return v.Double()
}

// fill makes sure the window holds the next row, or returns io.EOF.
func (p *parquetRecords) fill() (err error) {
	if p.pos < p.n {
		return nil
	}
	defer func() {
		if v := recover(); v != nil {
			err = p.corrupt(fmt.Errorf("%v", v))
		}
	}()
	for p.left == 0 {
		p.closePages()
		if p.group == len(p.groups) {
			return io.EOF
		}
		rg := p.groups[p.group]
		p.group++
		p.left = rg.NumRows()
		for _, cc := range rg.ColumnChunks() {
			p.pages = append(p.pages, cc.Pages())
			p.page = append(p.page, nil)
		}
	}
	n := int(min(p.left, parquetWindow))
	for c := range p.win {
		if err := p.readColumn(c, p.win[c][:n]); err != nil {
			return err
		}
	}
	p.left -= int64(n)
	p.pos, p.n = 0, n
	return nil
}

// readColumn reads the next len(dst) values of column c.
func (p *parquetRecords) readColumn(c int, dst []parquet.Value) error {
	for len(dst) > 0 {
		if p.page[c] == nil {
			pg, err := p.pages[c].ReadPage()
			if err != nil {
				if err == io.EOF {
					err = errors.New("fewer values than rows")
				}
				return p.corrupt(fmt.Errorf("column %q: %w", p.names[c], err))
			}
			p.page[c] = pg.Values()
		}
		k, err := p.page[c].ReadValues(dst)
		for i := range dst[:k] {
			dst[i] = dst[i].Clone() // a page's byte arrays do not outlive it
		}
		dst = dst[k:]
		if err == io.EOF {
			p.page[c] = nil
		} else if err != nil {
			return p.corrupt(fmt.Errorf("column %q: %w", p.names[c], err))
		}
	}
	return nil
}

func (p *parquetRecords) corrupt(err error) error {
	return &InputError{File: p.name, Line: p.row + 1, Err: fmt.Errorf("%w: %v", ErrMalformed, err), Rows: true}
}

func (p *parquetRecords) closePages() {
	for _, pg := range p.pages {
		pg.Close()
	}
	p.pages, p.page = p.pages[:0], p.page[:0]
}

// close releases the pages being read.
func (p *parquetRecords) Close() error {
	p.closePages()
	return nil
}

// isParquet reports whether the text br starts with the Parquet magic.
func isParquet(br *bufio.Reader) bool {
	head, _ := br.Peek(len(parquetMagic))
	return bytes.Equal(head, parquetMagic)
}

// readParquet stores the rows of a Parquet input (after the rows the sniff
// read), taking numeric columns' values as numbers.
func (sp *splitter) readParquet(ctx context.Context) error {
	pq := sp.rr.pq
	b := sp.newBatch()
	fields := make([][]byte, len(pq.names))
	nums := make([]float64, len(pq.names))
	isNum := make([]bool, len(pq.names))
	asNumber := make([]bool, len(pq.names))
	for j, i := range sp.colIdx {
		asNumber[i] = !sp.parser.isCat[j] && pq.numeric(i)
	}
	var text []byte
	for {
		err := pq.fill()
		if err == nil {
			text = text[:0]
			var ends [64]int
			offs := ends[:0]
			for c := range pq.win {
				v := pq.win[c][pq.pos]
				isNum[c] = asNumber[c] && !v.IsNull()
				if isNum[c] {
					nums[c] = pq.number(c, v)
				} else if c == sp.keyIdx || !asNumber[c] {
					text = pq.appendText(text, c, v)
				}
				offs = append(offs, len(text))
			}
			start := 0
			for c, end := range offs {
				fields[c] = text[start:end]
				start = end
			}
			pq.pos++
			pq.row++
			err = sp.parser.addTyped(b, fields, nums, isNum, pq.row)
		}
		if err != nil || b.records >= recordBatch {
			if err != io.EOF {
				b.err = err
			}
			if serr := sp.store(ctx, b); serr != nil || err != nil {
				return serr
			}
			b.reset()
		}
	}
}
