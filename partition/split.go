package partition

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"
)

// ctxCheckRows is how often (in rows) Split polls its context.
const ctxCheckRows = 4096

// Result describes a completed Split.
type Result struct {
	Key     string
	Rows    int64         // data rows read, = the sum of Shards[i].Rows
	Columns []ColumnStats // imported columns, in storage order
	Shards  []ShardFile   // one per shard, by index
	// Findings lists the header columns neither key nor imported (in
	// header order) and counts the values that were not numbers, under
	// OnBadValue "skip" or "missing".
	Findings
}

// Split streams the CSV file at path (plain, or gzip when the name ends in
// ".gz" or the bytes start with the gzip magic), or reads the Parquet file
// there, and writes one Parquet file per shard into opts.TempDir (or hands
// each to opts.ShardWritten); every shard exists, even with 0 rows. Files
// are named shard-IIIII-of-NNNNN.parquet and are never overwritten: an
// existing file of that name is an error. While it runs, Split may also
// keep hidden .shard-IIIII-of-NNNNN.spill files there (see the package
// comment); they are gone when it returns.
//
// On any error Split removes every file it wrote and returns the error. Data
// errors are *InputError values wrapping ErrMalformed, ErrNotNumeric,
// ErrNoKeyColumn, ErrNoColumn, ErrDuplicateKey, ErrEmpty, ErrMissingKey or
// ErrDuplicateColumn; an error always reports the first problem in file
// order, whether or not it lies among the first SniffRows rows.
func Split(ctx context.Context, path string, opts Options) (*Result, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("partition: %w", err)
	}
	defer f.Close()
	return SplitReader(ctx, path, f, opts)
}

// SplitReader is Split on a stream; name is used in errors and, when it ends
// in ".gz", to force gzip decoding.
func SplitReader(ctx context.Context, name string, r io.Reader, opts Options) (*Result, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	rr, closer, err := openInput(name, r, opts.Input)
	if err != nil {
		return nil, err
	}
	defer closer.Close()
	sp, err := newSplitter(rr, opts)
	if err != nil {
		return nil, rr.located(err)
	}
	res, err := sp.run(ctx)
	if err != nil {
		sp.abort()
		return nil, rr.located(err)
	}
	return res, nil
}

// splitter carries one Split from the header to the last shard footer.
type splitter struct {
	rr      *recordReader
	opts    Options
	header  []string
	keyIdx  int      // -1 for RowKey
	keyName string   // the key column's name in the shard files
	columns []string // imported columns, storage order
	colIdx  []int    // header index of each imported column
	stats   []welford
	cats    []*levels // by imported column; nil for a numeric one
	parser  *rowParser
	set     *shardSet
	spills  []*spillFile // by shard
	rowKey  []byte       // scratch: a RowKey key
	invalid []int64      // by imported column: values that were not numbers
	found   Findings
	records int64  // data records read, skipped ones included
	rows    int64  // data rows kept
	extra   *keyAt // the row of a category error, for the duplicate check
}

// newSplitter reads and checks the header and resolves Key and Columns.
func newSplitter(rr *recordReader, opts Options) (*splitter, error) {
	header, pos, line, err := rr.readHeader()
	if err != nil {
		return nil, err
	}
	sp := &splitter{rr: rr, opts: opts, header: header, keyIdx: -1, keyName: uniqueName("row", header...)}
	if opts.Key != RowKey {
		var ok bool
		if sp.keyIdx, ok = pos[opts.Key]; !ok {
			return nil, &InputError{File: rr.name, Line: line, Column: opts.Key, Err: ErrNoKeyColumn}
		}
		sp.keyName = header[sp.keyIdx]
	}
	for _, c := range append(append([]string(nil), opts.Columns...), opts.Categorical...) {
		i, ok := pos[c]
		if !ok {
			return nil, &InputError{File: rr.name, Line: line, Column: c, Err: ErrNoColumn}
		}
		if c == opts.Key {
			return nil, &InputError{File: rr.name, Line: line, Column: c, Err: fmt.Errorf("%w: the key column cannot be imported as a value", ErrInvalidOptions)}
		}
		sp.colIdx = append(sp.colIdx, i)
	}
	return sp, nil
}

// levels is the dictionary of one categorical column.
type levels struct {
	code   map[string]int
	names  []string
	counts []int64
}

// codeOf returns the code of v, adding it when new.
func (l *levels) codeOf(v string) (int, error) {
	if c, ok := l.code[v]; ok {
		l.counts[c]++
		return c, nil
	}
	if len(l.names) >= MaxLevels {
		return 0, fmt.Errorf("%w: more than %d", ErrTooManyLevels, MaxLevels)
	}
	if !utf8.ValidString(v) {
		return 0, fmt.Errorf("%w: value %s is not valid UTF-8", ErrMalformed, quoteField(v))
	}
	c := len(l.names)
	v = strings.Clone(v) // v may share a reused buffer
	l.code[v] = c
	l.names = append(l.names, v)
	l.counts = append(l.counts, 1)
	return c, nil
}

// run streams the data rows. It returns the first error in file order.
func (sp *splitter) run(ctx context.Context) (*Result, error) {
	err := sp.read(ctx)
	if err == nil {
		return sp.finish(ctx)
	}
	// A duplicate key is found only when the shards are written; one
	// before this error comes first.
	var ie *InputError
	if errors.As(err, &ie) && sp.keyIdx >= 0 && sp.spills != nil {
		dup, derr := findDuplicates(ctx, sp.spills, len(sp.columns), ie.Line, sp.extra)
		if derr != nil {
			return nil, derr
		}
		if dup != nil {
			return nil, sp.duplicateError(dup)
		}
	}
	return nil, err
}

// read stores every data row in the spills.
func (sp *splitter) read(ctx context.Context) error {
	var pending [][]string
	var pendingLines []int
	var readErr error
	if len(sp.opts.Columns) == 0 {
		pending, pendingLines, readErr = sp.sniff()
	} else {
		sp.setColumns(sp.colIdx)
	}
	if err := sp.createFiles(); err != nil {
		return err
	}
	i := 0
	err := sp.readRecords(ctx, func() ([]string, int, error) {
		if i < len(pending) {
			i++
			return pending[i-1], pendingLines[i-1], nil
		}
		if readErr != nil {
			return nil, 0, readErr
		}
		return nil, 0, io.EOF
	})
	if err != nil || readErr != nil {
		return err
	}
	if sp.rr.pq != nil {
		return sp.readParquet(ctx)
	}
	if delim := sp.opts.Delimiter; sp.rr.cr != nil && len(delim) == 1 && delim[0] < utf8.RuneSelf {
		rest, line, err := sp.readParallel(ctx, sp.rr.br, sp.rr.lines, delim[0])
		if err != nil || rest == nil {
			return err
		}
		sp.rr.resume(rest, line)
	}
	return sp.readRecords(ctx, sp.rr.read)
}

// recordBatch is how many records the sequential reader puts in a batch.
const recordBatch = 1024

// readRecords stores the records next returns, up to io.EOF or an error.
func (sp *splitter) readRecords(ctx context.Context, next func() ([]string, int, error)) error {
	b := sp.newBatch()
	var fields [][]byte
	for {
		rec, line, err := next()
		if err == nil {
			fields = fields[:0]
			for _, f := range rec {
				fields = append(fields, bytesOf(f))
			}
			err = sp.parser.add(b, fields, line)
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

// newBatch returns an empty batch for this split's columns.
func (sp *splitter) newBatch() *batch {
	return &batch{invalid: make([]int64, len(sp.columns))}
}

// store finishes the rows of b, the next batch in file order, and appends
// them to their spills, then returns b.err. What it does depends on the
// rows before: RowKey keys, category codes, statistics.
func (sp *splitter) store(ctx context.Context, b *batch) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	w, cats := len(sp.columns), sp.parser.catCols
	// The rows to finish one by one: none when the parser has split
	// them by shard already, and only statistics are left.
	n := b.rows()
	if b.parts != nil {
		n = 0
		for i := range b.rows() {
			for j, v := range b.vals[i*w : (i+1)*w] {
				sp.stats[j].add(v)
			}
		}
		for _, p := range b.parts {
			if err := sp.spills[p.shard].addPart(p.g); err != nil {
				return err
			}
		}
		b.parts = nil
	}
	for i := range n {
		key, shard := b.bytes(b.key[i]), int(b.shard[i])
		if sp.keyIdx < 0 {
			sp.rowKey = strconv.AppendInt(sp.rowKey[:0], sp.records+b.recNo[i]+1, 10)
			key = sp.rowKey
			shard = ShardOf(unsafe.String(unsafe.SliceData(key), len(key)), len(sp.spills))
		}
		vals := b.vals[i*w : (i+1)*w]
		for c, j := range cats {
			if f := b.bytes(b.cat[i*len(cats)+c]); len(f) > 0 {
				code, err := sp.cats[j].codeOf(unsafe.String(unsafe.SliceData(f), len(f)))
				if err != nil {
					sp.extra = &keyAt{key: string(key), line: b.lines[i]}
					return &InputError{File: sp.rr.name, Line: b.lines[i], Column: sp.columns[j], Err: err}
				}
				vals[j] = float64(code)
			}
		}
		for j, v := range vals {
			sp.stats[j].add(v)
		}
		if err := sp.spills[shard].addRow(key, b.lines[i], vals); err != nil {
			return err
		}
	}
	sp.records += b.records
	sp.rows += int64(b.rows())
	sp.found.SkippedRows += b.skipped
	for j, n := range b.invalid {
		if n > 0 {
			sp.invalid[j] += n
			if sp.found.BadValues == nil {
				sp.found.BadValues = map[string]int64{}
			}
			sp.found.BadValues[sp.columns[j]] += n
		}
	}
	return b.err
}

// duplicateError is the error for dup.
func (sp *splitter) duplicateError(dup *duplicate) error {
	return &InputError{File: sp.rr.name, Line: dup.line, Column: sp.keyName,
		Err: fmt.Errorf("%w %s also on %s %d", ErrDuplicateKey, quoteField(string(dup.key)), sp.rr.lineWord(), dup.first)}
}

// sniff buffers up to SniffRows records and picks the numeric-looking
// columns from them (see Options.Columns). A read error (io.EOF included)
// stops the buffering and is returned for run to report after the buffered
// rows, keeping errors in file order.
func (sp *splitter) sniff() (recs [][]string, lines []int, readErr error) {
	for len(recs) < sp.opts.SniffRows {
		rec, line, err := sp.rr.read()
		if err != nil {
			readErr = err
			break
		}
		recs = append(recs, append([]string(nil), rec...))
		lines = append(lines, line)
	}
	categorical := make(map[int]bool, len(sp.colIdx))
	for _, i := range sp.colIdx { // only categorical columns are named here
		categorical[i] = true
	}
	var numeric []int
	for i := range sp.header {
		if i != sp.keyIdx && sp.header[i] != "" && !categorical[i] && numericLooking(recs, i) {
			numeric = append(numeric, i)
		}
	}
	sp.setColumns(append(numeric, sp.colIdx...))
	return recs, lines, readErr
}

// numericLooking reports whether column i of recs holds numbers: its
// fields are all empty, or more than half of its non-empty ones parse. A
// typo among numbers thus makes a numeric column whose typo stops the
// split (or is counted, see Input.OnBadValue) like one after the sniffed
// rows would, instead of turning the whole column into ignored text; a
// text column with a few number-like values stays text.
func numericLooking(recs [][]string, i int) bool {
	var filled, numbers int
	for _, rec := range recs {
		if isBlank(rec[i]) {
			continue
		}
		filled++
		if _, ok := parseNumber(rec[i]); ok {
			numbers++
		}
	}
	return filled == 0 || 2*numbers > filled
}

// setColumns fixes the imported columns by header index.
func (sp *splitter) setColumns(idx []int) {
	sp.colIdx = idx
	sp.columns = make([]string, len(idx))
	for j, i := range idx {
		sp.columns[j] = sp.header[i]
	}
	sp.stats = make([]welford, len(idx))
	sp.invalid = make([]int64, len(idx))
	sp.cats = make([]*levels, len(idx))
	p := &rowParser{file: sp.rr.name, keyIdx: sp.keyIdx, keyName: sp.keyName, colIdx: idx, columns: sp.columns,
		isCat: make([]bool, len(idx)), fields: len(sp.header), policy: sp.opts.OnBadValue, shards: sp.opts.Shards,
		names: sp.opts.Names != nil}
	for j, name := range sp.columns {
		for _, c := range sp.opts.Categorical {
			if c == name {
				sp.cats[j] = &levels{code: map[string]int{}}
				p.isCat[j] = true
				p.catCols = append(p.catCols, j)
			}
		}
	}
	p.setRoles()
	sp.parser = p
}

// createFiles checks that no shard file exists yet and sets up the
// spills, whose files are created when rows move there.
func (sp *splitter) createFiles() error {
	sp.set = newShardSet(sp.opts.TempDir, sp.opts.Shards, sp.keyName, sp.columns, sp.opts.RowGroupRows)
	if err := sp.set.check(); err != nil {
		return err
	}
	budget := &spillBudget{left: spillMemory}
	for i := range sp.opts.Shards {
		sp.spills = append(sp.spills, newSpill(sp.opts.TempDir, "", i, sp.opts.Shards, budget))
	}
	return nil
}

func checkKey(key string) error {
	blank := true
	for i := 0; i < len(key); i++ {
		if c := key[i]; c != ' ' && c != '\t' {
			blank = false
			break
		}
	}
	switch {
	case blank:
		return ErrMissingKey
	case !utf8.ValidString(key):
		return fmt.Errorf("%w: key %s is not valid UTF-8", ErrMalformed, quoteField(key))
	}
	return nil
}

// finish closes every shard and assembles the Result.
func (sp *splitter) finish(ctx context.Context) (*Result, error) {
	if sp.rows == 0 {
		return nil, &InputError{File: sp.rr.name, Line: 1, Err: noDataRows("no data rows", sp.found.SkippedRows)}
	}
	res := &Result{Key: sp.keyName, Rows: sp.rows, Findings: sp.found}
	dicts := map[string][]string{}
	for j, name := range sp.columns {
		cs := sp.stats[j].stats(name)
		cs.Invalid = sp.invalid[j]
		if l := sp.cats[j]; l != nil {
			cs.Min, cs.Max, cs.Mean, cs.Std = 0, 0, 0, 0
			cs.Levels, cs.LevelCounts = l.names, l.counts
			dicts[name] = l.names
		}
		res.Columns = append(res.Columns, cs)
	}
	if len(dicts) > 0 {
		b, _ := json.Marshal(dicts) // cannot fail for strings
		sp.set.meta[metaCategories] = string(b)
	}
	imported := make(map[int]bool, len(sp.colIdx))
	for _, i := range sp.colIdx {
		imported[i] = true
	}
	for i, name := range sp.header {
		if i != sp.keyIdx && !imported[i] {
			res.Ignored = append(res.Ignored, name)
		}
	}
	files, dup, err := sp.set.writeAll(ctx, sp.spills, sp.keyIdx >= 0, sp.opts.ShardWritten)
	if err != nil {
		return nil, err
	}
	if dup != nil {
		return nil, sp.duplicateError(dup)
	}
	var total int64
	for _, sf := range files {
		total += sf.Rows
	}
	res.Shards = files
	if total != sp.rows {
		return nil, fmt.Errorf("partition: internal error: %d rows read, %d written", sp.rows, total)
	}
	return res, nil
}

// abort removes every file this split created.
func (sp *splitter) abort() {
	for _, spill := range sp.spills {
		spill.remove()
	}
	if sp.set != nil {
		sp.set.removeCreated()
	}
}
