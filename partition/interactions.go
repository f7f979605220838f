package partition

import (
	"context"
	"fmt"
	"io"
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
	// Delimiter separates fields (default ',').
	Delimiter rune
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
	return validateCommon(o.TempDir, o.Shards, o.RowGroupRows, o.Delimiter)
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
	return nil, errNotYet
}
