package partition

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"
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
	// TimeFormat is a Go time layout, or "unix" for integer unix seconds.
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
	// Delimiter separates fields (default ',').
	Delimiter rune
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
	}
	names := map[string]string{}
	for _, c := range [][2]string{
		{"Key", o.Key}, {"Time", o.Time}, {"Amount", o.Amount},
		{"Quantity", o.Quantity}, {"Price", o.Price}, {"Invoice", o.Invoice},
	} {
		if c[1] == "" {
			continue
		}
		if other, dup := names[c[1]]; dup {
			return badOptions("%s and %s name the same column %q", other, c[0], c[1])
		}
		names[c[1]] = c[0]
	}
	return validateCommon(o.TempDir, o.Shards, o.RowGroupRows, o.Delimiter)
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
	// FirstTime and LastTime bound the stored rows' times, in UTC.
	FirstTime, LastTime time.Time
	// Amount summarises the stored amounts.
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
	return nil, errNotYet
}
