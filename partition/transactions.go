package partition

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"time"
	"unicode/utf8"
)

// TransactionOptions configures [SplitTransactions]. Zero values of Shards,
// Delimiter and RowGroupRows select the defaults of [Options].
type TransactionOptions struct {
	// Key names the customer id column and Time the timestamp column;
	// both are required.
	Key, Time string
	// Amount names the amount column. Alternatively Quantity and Price name
	// two columns whose float64 product is the amount. Exactly one of
	// Amount or Quantity+Price must be set.
	Amount          string
	Quantity, Price string
	// Invoice optionally names an invoice id column.
	Invoice string
	// Item optionally names the item (product) id column of each line; a
	// blank field is a line without an item. ItemName optionally names a
	// column of display names (it needs Item): an item's name is the first
	// non-blank one in file order, the same on every row of that item in
	// every shard.
	Item, ItemName string
	// TimeFormat is a Go time layout, or TimeFormatUnix for integer unix
	// seconds.
	// "" detects the layout from the first stored row's value among RFC 3339,
	// "2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02 15:04",
	// "2006-01-02" and unix seconds; every row must then match it.
	TimeFormat string
	// Location interprets layouts without a zone; nil means UTC.
	Location *time.Location
	// SkipMissingKey counts and skips rows whose customer id is empty;
	// otherwise the first such row is an error.
	SkipMissingKey bool
	// Shards is the number of shards (default 64, at most MaxShards).
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
func (o TransactionOptions) Validate() error {
	switch {
	case o.Key == "":
		return badOptions("Key is required")
	case o.Time == "":
		return badOptions("Time is required")
	case o.Amount == "" && o.Quantity == "" && o.Price == "":
		return badOptions("Amount, or Quantity and Price, is required")
	case o.Amount != "" && (o.Quantity != "" || o.Price != ""):
		return badOptions("Amount and Quantity/Price are exclusive")
	case o.Amount == "" && (o.Quantity == "" || o.Price == ""):
		return badOptions("Quantity and Price go together")
	case o.ItemName != "" && o.Item == "":
		return badOptions("ItemName needs Item")
	}
	names := map[string]string{}
	for _, c := range [][2]string{
		{"Key", o.Key}, {"Time", o.Time}, {"Amount", o.Amount},
		{"Quantity", o.Quantity}, {"Price", o.Price}, {"Invoice", o.Invoice},
		{"Item", o.Item}, {"ItemName", o.ItemName},
	} {
		if c[1] == "" {
			continue
		}
		if other, dup := names[c[1]]; dup {
			return badOptions("%s and %s name the same column %q", other, c[0], c[1])
		}
		names[c[1]] = c[0]
	}
	return validateCommon(o.TempDir, o.Shards, o.RowGroupRows, o.Input, false)
}

// TransactionResult describes a completed [SplitTransactions].
type TransactionResult struct {
	// Rows is the number of rows stored, = the sum of Shards[i].Rows.
	Rows int64
	// Customers counts distinct customer ids (exact: a shard holds all of a
	// customer's rows).
	Customers int64
	// SkippedMissingKey counts rows skipped for an empty customer id.
	SkippedMissingKey int64
	// Returns counts stored rows flagged as returns (amount < 0, or
	// quantity < 0).
	Returns int64
	// Items counts distinct item ids (0 without TransactionOptions.Item)
	// and Named those of them with a display name.
	Items, Named int64
	// FirstTime and LastTime bound the stored rows' times, in UTC.
	FirstTime, LastTime time.Time
	// Findings counts the rows skipped for a value that is not a number
	// (OnBadValue "skip").
	Findings
	// Amount summarises the stored amounts; Amount.Invalid counts rows
	// skipped because an amount, quantity or price was not a number.
	Amount ColumnStats
	// Shards holds every stored row, placed by ShardOf(customer, Shards).
	Shards []ShardFile
}

// SplitTransactions streams the CSV file at path (plain or gzip, as [Split])
// and writes one Parquet file per shard into opts.TempDir, named
// txn-shard-IIIII-of-NNNNN.parquet, rows sorted by (customer, time, invoice).
// Returns (negative amounts or quantities) are kept and flagged. See the
// package comment for the file layout.
//
// On any error it removes every file it wrote. Data errors are *InputError
// values wrapping ErrMalformed, ErrNoColumn, ErrEmpty, ErrMissingKey,
// ErrMissingValue, ErrNotNumeric, ErrBadTime or ErrDuplicateColumn, and name
// the first problem in file order.
func SplitTransactions(ctx context.Context, path string, opts TransactionOptions) (*TransactionResult, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("partition: %w", err)
	}
	defer f.Close()
	return SplitTransactionsReader(ctx, path, f, opts)
}

// SplitTransactionsReader is SplitTransactions on a stream; name is used in
// errors and, when it ends in ".gz", to force gzip decoding.
func SplitTransactionsReader(ctx context.Context, name string, r io.Reader, opts TransactionOptions) (*TransactionResult, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts.Shards, opts.Input, opts.RowGroupRows = commonDefaults(opts.Shards, opts.Input, opts.RowGroupRows)
	rr, closer, err := openInput(name, r, opts.Input)
	if err != nil {
		return nil, err
	}
	defer closer.Close()
	sp := &txnSplitter{rr: rr, opts: opts, times: newTimeParser(opts.TimeFormat, opts.Location)}
	res, err := sp.run(ctx)
	if err != nil {
		sp.abort()
		return nil, rr.located(err)
	}
	return res, nil
}

// Transactions spill records: the customer id, the time (unix seconds), the
// amount's bits, a flag byte (txnReturn, txnInvoice, txnItem, txnQuantity)
// and, when their flag is set, the invoice id, the item id and the
// quantity's bits. Item names are not spilled: the splitter keeps one per
// item and writes it with every row of the item.
const (
	txnReturn   = 1 << 0
	txnInvoice  = 1 << 1
	txnItem     = 1 << 2
	txnQuantity = 1 << 3
)

// txnSplitter carries one SplitTransactions.
type txnSplitter struct {
	rr      *recordReader
	opts    TransactionOptions
	times   *timeParser
	idx     txnIndex
	cols    txnColumns
	shards  layout
	created []string
	stats   welford
	found   Findings
	scratch []byte
	// names holds every item seen, with its name ("" until a row names it).
	names map[string]string

	rows, skipped, returns int64
	first, last            int64
}

// txnIndex holds the header index of each input column; -1 when unused.
type txnIndex struct {
	key, time, amount, quantity, price, invoice, item, itemName int
}

// txnColumns names the columns of the shard files; invoice, item,
// itemName and quantity are "" when the import has none.
type txnColumns struct {
	key, time, invoice, item, itemName, quantity, amount, ret string
}

func (sp *txnSplitter) run(ctx context.Context) (*TransactionResult, error) {
	if err := sp.readHeader(); err != nil {
		return nil, err
	}
	sp.shards = layout{dir: sp.opts.TempDir, prefix: "txn-", count: sp.opts.Shards}
	if err := sp.shards.create(&sp.created); err != nil {
		return nil, err
	}
	var lines int64
	for {
		rec, line, err := sp.rr.read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if lines++; lines%ctxCheckRows == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if err := sp.add(rec, line); err != nil {
			return nil, err
		}
	}
	if sp.rows == 0 {
		return nil, &InputError{File: sp.rr.name, Line: 1, Err: noDataRows("no data rows with a customer id", sp.found.SkippedRows)}
	}
	return sp.finish(ctx)
}

func (sp *txnSplitter) readHeader() error {
	_, pos, line, err := sp.rr.readHeader()
	if err != nil {
		return err
	}
	o := sp.opts
	sp.idx = txnIndex{amount: -1, quantity: -1, price: -1, invoice: -1, item: -1, itemName: -1}
	for _, c := range []struct {
		name string
		idx  *int
	}{
		{o.Key, &sp.idx.key}, {o.Time, &sp.idx.time}, {o.Amount, &sp.idx.amount},
		{o.Quantity, &sp.idx.quantity}, {o.Price, &sp.idx.price}, {o.Invoice, &sp.idx.invoice},
		{o.Item, &sp.idx.item}, {o.ItemName, &sp.idx.itemName},
	} {
		if c.name == "" {
			continue
		}
		if *c.idx, err = columnIndex(sp.rr, pos, line, c.name); err != nil {
			return err
		}
	}
	sp.cols = txnColumns{key: o.Key, time: o.Time, invoice: o.Invoice, item: o.Item, itemName: o.ItemName, amount: o.Amount}
	if sp.cols.amount == "" {
		sp.cols.amount = uniqueName("amount", o.Key, o.Time, o.Invoice, o.Item, o.ItemName)
	}
	if o.Item != "" && o.Quantity != "" {
		// A line's quantity is kept with its item: ALS can weigh a
		// customer's items by the quantities bought.
		sp.cols.quantity = o.Quantity
	}
	sp.cols.ret = uniqueName("is_return", o.Key, o.Time, o.Invoice, o.Item, o.ItemName, sp.cols.amount)
	if o.Item != "" {
		sp.names = map[string]string{}
	}
	return nil
}

// add checks one data record and spills it, or counts it as skipped.
func (sp *txnSplitter) add(rec []string, line int) error {
	fail := func(column string, err error) error {
		return &InputError{File: sp.rr.name, Line: line, Column: column, Err: err}
	}
	key := rec[sp.idx.key]
	if err := checkKey(key); err != nil {
		if err == ErrMissingKey && sp.opts.SkipMissingKey {
			sp.skipped++
			return nil
		}
		return fail(sp.cols.key, err)
	}
	t, err := sp.times.parse(rec[sp.idx.time], line)
	if err != nil {
		return fail(sp.cols.time, err)
	}
	var flags byte
	var amount, q float64
	number := func(column string, idx int) (float64, error) {
		v, err := requiredNumber(rec[idx])
		if err != nil {
			if skipBadValue(err, sp.opts.OnBadValue) {
				sp.found.badValue(column)
				sp.found.SkippedRows++
				sp.stats.invalid++
				return 0, errSkipRow
			}
			return 0, fail(column, err)
		}
		return v, nil
	}
	if sp.idx.amount >= 0 {
		if amount, err = number(sp.cols.amount, sp.idx.amount); err != nil {
			return skipped(err)
		}
	} else {
		q, err = number(sp.opts.Quantity, sp.idx.quantity)
		if err != nil {
			return skipped(err)
		}
		p, err := number(sp.opts.Price, sp.idx.price)
		if err != nil {
			return skipped(err)
		}
		if amount = q * p; math.IsInf(amount, 0) {
			return fail(sp.opts.Price, fmt.Errorf("%w: %s × %s overflows", ErrNotNumeric, quoteField(rec[sp.idx.quantity]), quoteField(rec[sp.idx.price])))
		}
		if q < 0 {
			flags |= txnReturn
		}
	}
	if amount < 0 {
		flags |= txnReturn
	}
	var quantity float64
	if sp.cols.quantity != "" {
		quantity = q
		flags |= txnQuantity
	}
	var invoice string
	if sp.idx.invoice >= 0 && !isBlank(rec[sp.idx.invoice]) {
		invoice = rec[sp.idx.invoice]
		if !utf8.ValidString(invoice) {
			return fail(sp.cols.invoice, fmt.Errorf("%w: value %s is not valid UTF-8", ErrMalformed, quoteField(invoice)))
		}
		flags |= txnInvoice
	}
	var item string
	if sp.idx.item >= 0 && !isBlank(rec[sp.idx.item]) {
		item = rec[sp.idx.item]
		if !utf8.ValidString(item) {
			return fail(sp.cols.item, fmt.Errorf("%w: value %s is not valid UTF-8", ErrMalformed, quoteField(item)))
		}
		flags |= txnItem
		name, seen := sp.names[item]
		if sp.idx.itemName >= 0 && name == "" && !isBlank(rec[sp.idx.itemName]) {
			name = strings.TrimSpace(rec[sp.idx.itemName])
			if !utf8.ValidString(name) {
				return fail(sp.cols.itemName, fmt.Errorf("%w: value %s is not valid UTF-8", ErrMalformed, quoteField(name)))
			}
			sp.names[item] = name
		} else if !seen {
			sp.names[item] = ""
		}
	}
	if sp.rows == 0 || t < sp.first {
		sp.first = t
	}
	if sp.rows == 0 || t > sp.last {
		sp.last = t
	}
	if flags&txnReturn != 0 {
		sp.returns++
	}
	sp.stats.add(amount)
	sp.rows++
	b := appendString(sp.scratch[:0], key)
	b = appendWord(b, uint64(t))
	b = appendWord(b, math.Float64bits(amount))
	b = append(b, flags)
	if flags&txnInvoice != 0 {
		b = appendString(b, invoice)
	}
	if flags&txnItem != 0 {
		b = appendString(b, item)
	}
	if flags&txnQuantity != 0 {
		b = appendWord(b, math.Float64bits(quantity))
	}
	sp.scratch = b
	return sp.shards.spills[ShardOf(key, sp.shards.count)].addRecord(b)
}

// errSkipRow tells add that a bad value's row was counted and skipped.
var errSkipRow = errors.New("partition: row skipped")

// skipped turns errSkipRow into a skipped row (nil) and passes other
// errors on.
func skipped(err error) error {
	if err == errSkipRow {
		return nil
	}
	return err
}

// finish sorts and writes every shard.
func (sp *txnSplitter) finish(ctx context.Context) (*TransactionResult, error) {
	n := sp.opts.Shards
	files := make([]ShardFile, n)
	distinct := make([]int64, n)
	err := runParallel(ctx, n, func(ctx context.Context, i int) error {
		sf, keys, err := writeTransactionShard(ctx, &sp.shards, i, sp.cols, sp.names, sp.opts.RowGroupRows)
		if err != nil {
			return err
		}
		files[i], distinct[i] = sf, keys
		sp.shards.spills[i].remove()
		return nil
	})
	if err != nil {
		return nil, err
	}
	res := &TransactionResult{
		Rows:              sp.rows,
		SkippedMissingKey: sp.skipped,
		Findings:          sp.found,
		Returns:           sp.returns,
		FirstTime:         time.Unix(sp.first, 0).UTC(),
		LastTime:          time.Unix(sp.last, 0).UTC(),
		Amount:            sp.stats.stats(sp.cols.amount),
		Shards:            files,
	}
	res.Items = int64(len(sp.names))
	for _, name := range sp.names {
		if name != "" {
			res.Named++
		}
	}
	var rows int64
	for i := range n {
		res.Customers += distinct[i]
		rows += files[i].Rows
	}
	if rows != sp.rows {
		return nil, fmt.Errorf("partition: internal error: %d rows read, %d written", sp.rows, rows)
	}
	return res, nil
}

// abort removes every file this split created.
func (sp *txnSplitter) abort() {
	sp.shards.removeSpills()
	for _, path := range sp.created {
		os.Remove(path)
	}
}
