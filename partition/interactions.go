package partition

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
)

// InteractionOptions configures [SplitInteractions]. Zero values of Shards,
// Delimiter and RowGroupRows select the defaults of [Options].
type InteractionOptions struct {
	// User and Item name the user id and item id columns; required.
	User, Item string
	// Value names an optional numeric column (a rating, a count); "" means
	// every interaction has value 1.
	Value string
	// Shards is the number of shards of each layout (default 64, at most
	// MaxShards).
	Shards int
	// TempDir is the existing directory the shard files (and, while the split
	// runs, its spill files) are written to; required.
	TempDir string
	// Input says how to read the file (delimiter, header) and what a value
	// that is not a number does; OnBadValue "missing" is not allowed.
	Input
	// RowGroupRows is the number of rows per Parquet row group (default 64Ki).
	RowGroupRows int
}

// Validate reports what is wrong with o, if anything.
func (o InteractionOptions) Validate() error {
	switch {
	case o.User == "":
		return badOptions("User is required")
	case o.Item == "":
		return badOptions("Item is required")
	case o.User == o.Item:
		return badOptions("User and Item name the same column %q", o.User)
	case o.Value != "" && (o.Value == o.User || o.Value == o.Item):
		return badOptions("Value names the id column %q", o.Value)
	}
	return validateCommon(o.TempDir, o.Shards, o.RowGroupRows, o.Input, false)
}

// InteractionResult describes a completed [SplitInteractions].
type InteractionResult struct {
	// Rows is the number of interactions (data rows) stored in each layout.
	Rows int64
	// Users and Items count distinct ids. They are exact: a shard holds all
	// of an id's rows, so they are sums of per-shard distinct counts.
	Users, Items int64
	// Value summarises the value column (every value 1 when
	// InteractionOptions.Value is "").
	Value ColumnStats
	// Findings counts the rows skipped for a value that is not a number
	// (OnBadValue "skip").
	Findings
	// ByUser holds every row, placed by ShardOf(user, Shards) and sorted by
	// (user, item); ByItem holds every row again, placed by
	// ShardOf(item, Shards) and sorted by (item, user).
	ByUser []ShardFile
	ByItem []ShardFile
}

// SplitInteractions streams the CSV file at path (plain or gzip, as [Split])
// and writes two layouts of it into opts.TempDir in one pass:
// byuser-shard-IIIII-of-NNNNN.parquet and byitem-shard-IIIII-of-NNNNN.parquet.
// Every row lands in exactly one shard of each layout. See the package
// comment for the file layout.
//
// On any error it removes every file it wrote. Data errors are *InputError
// values wrapping ErrMalformed, ErrNoColumn, ErrEmpty, ErrMissingKey (an
// empty user or item id), ErrMissingValue, ErrNotNumeric or
// ErrDuplicateColumn, and name the first problem in file order.
func SplitInteractions(ctx context.Context, path string, opts InteractionOptions) (*InteractionResult, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("partition: %w", err)
	}
	defer f.Close()
	return SplitInteractionsReader(ctx, path, f, opts)
}

// SplitInteractionsReader is SplitInteractions on a stream; name is used in
// errors and, when it ends in ".gz", to force gzip decoding.
func SplitInteractionsReader(ctx context.Context, name string, r io.Reader, opts InteractionOptions) (*InteractionResult, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts.Shards, opts.Input, opts.RowGroupRows = commonDefaults(opts.Shards, opts.Input, opts.RowGroupRows)
	rr, closer, err := openInput(name, r, opts.Input)
	if err != nil {
		return nil, err
	}
	defer closer.Close()
	sp := &interactionSplitter{rr: rr, opts: opts}
	res, err := sp.run(ctx)
	if err != nil {
		sp.abort()
		return nil, rr.located(err)
	}
	return res, nil
}

// Interactions spill records: the layout side's id, the other id, the value.

// interactionSplitter carries one SplitInteractions.
type interactionSplitter struct {
	rr                         *recordReader
	opts                       InteractionOptions
	userIdx, itemIdx, valueIdx int // valueIdx < 0: no value column
	cols                       interactionColumns
	byUser, byItem             layout
	created                    []string
	stats                      welford
	found                      Findings
	records, rows              int64
	scratch                    []byte
}

// interactionColumns names the columns of the shard files.
type interactionColumns struct {
	user, item, value string
}

func (sp *interactionSplitter) run(ctx context.Context) (*InteractionResult, error) {
	if err := sp.readHeader(); err != nil {
		return nil, err
	}
	sp.byUser = layout{dir: sp.opts.TempDir, prefix: "byuser-", count: sp.opts.Shards}
	sp.byItem = layout{dir: sp.opts.TempDir, prefix: "byitem-", count: sp.opts.Shards}
	if err := sp.byUser.create(&sp.created); err != nil {
		return nil, err
	}
	if err := sp.byItem.create(&sp.created); err != nil {
		return nil, err
	}
	for {
		rec, line, err := sp.rr.read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if err := sp.add(ctx, rec, line); err != nil {
			return nil, err
		}
	}
	if sp.rows == 0 {
		return nil, &InputError{File: sp.rr.name, Line: 1, Err: noDataRows("no data rows", sp.found.SkippedRows)}
	}
	return sp.finish(ctx)
}

func (sp *interactionSplitter) readHeader() error {
	header, pos, line, err := sp.rr.readHeader()
	if err != nil {
		return err
	}
	if sp.userIdx, err = columnIndex(sp.rr, pos, line, sp.opts.User); err != nil {
		return err
	}
	if sp.itemIdx, err = columnIndex(sp.rr, pos, line, sp.opts.Item); err != nil {
		return err
	}
	sp.valueIdx = -1
	sp.cols = interactionColumns{user: header[sp.userIdx], item: header[sp.itemIdx]}
	if sp.opts.Value != "" {
		if sp.valueIdx, err = columnIndex(sp.rr, pos, line, sp.opts.Value); err != nil {
			return err
		}
		sp.cols.value = sp.opts.Value
	} else {
		sp.cols.value = uniqueName("value", sp.cols.user, sp.cols.item)
	}
	return nil
}

// add checks one data record and spills it to both layouts.
func (sp *interactionSplitter) add(ctx context.Context, rec []string, line int) error {
	if sp.records%ctxCheckRows == 0 && ctx.Err() != nil {
		return ctx.Err()
	}
	sp.records++
	user, item := rec[sp.userIdx], rec[sp.itemIdx]
	if err := checkKey(user); err != nil {
		return &InputError{File: sp.rr.name, Line: line, Column: sp.cols.user, Err: err}
	}
	if err := checkKey(item); err != nil {
		return &InputError{File: sp.rr.name, Line: line, Column: sp.cols.item, Err: err}
	}
	v := 1.0
	if sp.valueIdx >= 0 {
		var err error
		if v, err = requiredNumber(rec[sp.valueIdx]); err != nil {
			if skipBadValue(err, sp.opts.OnBadValue) {
				sp.found.badValue(sp.cols.value)
				sp.found.SkippedRows++
				sp.stats.invalid++
				return nil
			}
			return &InputError{File: sp.rr.name, Line: line, Column: sp.cols.value, Err: err}
		}
	}
	sp.stats.add(v)
	sp.rows++
	if err := sp.spill(&sp.byUser, user, item, v); err != nil {
		return err
	}
	return sp.spill(&sp.byItem, item, user, v)
}

func (sp *interactionSplitter) spill(l *layout, key, other string, v float64) error {
	b := appendString(sp.scratch[:0], key)
	b = appendString(b, other)
	b = appendWord(b, math.Float64bits(v))
	sp.scratch = b
	return l.spills[ShardOf(key, l.count)].addRecord(b)
}

// skipBadValue reports whether err, from requiredNumber, is a value that
// is not a number and policy skips its row.
func skipBadValue(err error, policy BadValuePolicy) bool {
	return policy == BadValueSkip && errors.Is(err, ErrNotNumeric)
}

// requiredNumber parses a numeric field that must not be empty.
func requiredNumber(field string) (float64, error) {
	v, ok := parseNumber(field)
	switch {
	case !ok:
		return 0, fmt.Errorf("%w: %s", ErrNotNumeric, quoteField(field))
	case math.IsNaN(v):
		return 0, ErrMissingValue
	}
	return v, nil
}

// finish sorts and writes every shard of both layouts.
func (sp *interactionSplitter) finish(ctx context.Context) (*InteractionResult, error) {
	n := sp.opts.Shards
	files := make([]ShardFile, 2*n)
	distinct := make([]int64, 2*n)
	err := runParallel(ctx, 2*n, func(ctx context.Context, k int) error {
		l, cols, name := &sp.byUser, sp.cols, "by-user"
		if k >= n {
			l, cols, name = &sp.byItem, interactionColumns{user: sp.cols.item, item: sp.cols.user, value: sp.cols.value}, "by-item"
		}
		i := k % n
		sf, keys, err := writeInteractionShard(ctx, l, i, cols, name, sp.opts.RowGroupRows)
		if err != nil {
			return err
		}
		files[k], distinct[k] = sf, keys
		l.spills[i].remove()
		return nil
	})
	if err != nil {
		return nil, err
	}
	res := &InteractionResult{Rows: sp.rows, Value: sp.stats.stats(sp.cols.value), Findings: sp.found, ByUser: files[:n], ByItem: files[n:]}
	var userRows, itemRows int64
	for i := range n {
		res.Users += distinct[i]
		res.Items += distinct[n+i]
		userRows += files[i].Rows
		itemRows += files[n+i].Rows
	}
	if userRows != sp.rows || itemRows != sp.rows {
		return nil, fmt.Errorf("partition: internal error: %d rows read, %d and %d written", sp.rows, userRows, itemRows)
	}
	return res, nil
}

// abort removes every file this split created.
func (sp *interactionSplitter) abort() {
	sp.byUser.removeSpills()
	sp.byItem.removeSpills()
	for _, path := range sp.created {
		os.Remove(path)
	}
}
