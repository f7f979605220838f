package partition

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"
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
// ".gz" or the bytes start with the gzip magic) and writes one Parquet file
// per shard into opts.TempDir; every shard file exists, even with 0 rows.
// Files are named shard-IIIII-of-NNNNN.parquet and are never overwritten: an
// existing file of that name is an error. While it runs, Split also keeps
// hidden .shard-IIIII-of-NNNNN.spill files there (see the package comment);
// they are gone when it returns.
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
	in, closer, err := decodeInput(name, r)
	if err != nil {
		return nil, err
	}
	defer closer.Close()
	rr := newRecordReader(name, in, opts.Input)
	sp, err := newSplitter(rr, opts)
	if err != nil {
		return nil, err
	}
	res, err := sp.run(ctx)
	if err != nil {
		sp.abort()
		return nil, err
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
	keys    *keyIndex
	set     *shardSet
	created []string     // shard files reserved, to remove on error
	spills  []*spillFile // by shard
	values  []float64    // scratch: one parsed row
	invalid []int64      // by imported column: values that were not numbers
	found   Findings
	records int64 // data records read, skipped ones included
	rows    int64 // data rows kept
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
		sp.keyName, sp.keys = header[sp.keyIdx], newKeyIndex()
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
	l.code[v] = c
	l.names = append(l.names, v)
	l.counts = append(l.counts, 1)
	return c, nil
}

// run streams the data rows. It returns the first error in file order.
func (sp *splitter) run(ctx context.Context) (*Result, error) {
	var pending [][]string
	var pendingLines []int
	var readErr error
	if len(sp.opts.Columns) == 0 {
		pending, pendingLines, readErr = sp.sniff()
	} else {
		sp.setColumns(sp.colIdx)
	}
	if err := sp.createFiles(); err != nil {
		return nil, err
	}
	for i, rec := range pending {
		if err := sp.add(ctx, rec, pendingLines[i]); err != nil {
			return nil, err
		}
	}
	if readErr == io.EOF {
		return sp.finish(ctx)
	}
	if readErr != nil {
		return nil, readErr
	}
	for {
		rec, line, err := sp.rr.read()
		if err == io.EOF {
			return sp.finish(ctx)
		}
		if err != nil {
			return nil, err
		}
		if err := sp.add(ctx, rec, line); err != nil {
			return nil, err
		}
	}
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
	sp.values = make([]float64, len(idx))
	sp.invalid = make([]int64, len(idx))
	sp.cats = make([]*levels, len(idx))
	for j, name := range sp.columns {
		for _, c := range sp.opts.Categorical {
			if c == name {
				sp.cats[j] = &levels{code: map[string]int{}}
			}
		}
	}
}

// createFiles reserves the shard files and creates the spill files.
func (sp *splitter) createFiles() error {
	sp.set = newShardSet(sp.opts.TempDir, sp.opts.Shards, sp.keyName, sp.columns, sp.opts.RowGroupRows)
	var err error
	if sp.created, err = sp.set.reserve(); err != nil {
		return err
	}
	for i := range sp.opts.Shards {
		spill, err := createSpill(sp.opts.TempDir, "", i, sp.opts.Shards)
		if err != nil {
			return err
		}
		sp.spills = append(sp.spills, spill)
	}
	return nil
}

// add checks one data record and routes it to its shard, or counts it as
// skipped.
func (sp *splitter) add(ctx context.Context, rec []string, line int) error {
	if sp.records%ctxCheckRows == 0 && ctx.Err() != nil {
		return ctx.Err()
	}
	sp.records++
	fail := func(column string, err error) error {
		return &InputError{File: sp.rr.name, Line: line, Column: column, Err: err}
	}
	var key string
	if sp.keyIdx < 0 {
		key = strconv.FormatInt(sp.records, 10)
	} else {
		key = rec[sp.keyIdx]
		if err := checkKey(key); err != nil {
			return fail(sp.keyName, err)
		}
	}
	// Numbers before categories and the key index, so that a skipped row
	// leaves no trace in either.
	skip := false
	for j, i := range sp.colIdx {
		if sp.cats[j] != nil {
			continue
		}
		v, ok := parseNumber(rec[i])
		if !ok {
			if p := sp.opts.OnBadValue; p != BadValueSkip && p != BadValueMissing {
				return fail(sp.columns[j], fmt.Errorf("%w: %s", ErrNotNumeric, quoteField(rec[i])))
			}
			sp.found.badValue(sp.columns[j])
			sp.invalid[j]++
			v, skip = math.NaN(), skip || sp.opts.OnBadValue == BadValueSkip
		}
		sp.values[j] = v
	}
	if skip {
		sp.found.SkippedRows++
		return nil
	}
	if sp.keys != nil {
		if first, fresh := sp.keys.insert(key, int64(line)); !fresh {
			return fail(sp.keyName, fmt.Errorf("%w %s also on line %d", ErrDuplicateKey, quoteField(key), first))
		}
	}
	for j, i := range sp.colIdx {
		if l := sp.cats[j]; l != nil {
			sp.values[j] = math.NaN()
			if f := strings.TrimSpace(rec[i]); f != "" {
				c, err := l.codeOf(f)
				if err != nil {
					return fail(sp.columns[j], err)
				}
				sp.values[j] = float64(c)
			}
		}
	}
	for j, v := range sp.values {
		sp.stats[j].add(v)
	}
	sp.rows++
	return sp.spills[ShardOf(key, len(sp.spills))].add(key, sp.values)
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
	files, err := sp.set.writeAll(ctx, sp.spills)
	if err != nil {
		return nil, err
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
	for _, path := range sp.created {
		os.Remove(path)
	}
}
