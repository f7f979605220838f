package partition

import (
	"fmt"
	"unicode/utf8"
)

// RowKey as Options.Key numbers the data rows instead of reading a key
// column: row n of the file (1-based, header not counted, skipped rows
// included) gets key "n", so importing the same file again gives the same
// keys and shards. The key column is called "row" (or "row_1", ... when the
// file has a column of that name).
const RowKey = "@row"

// Defaults applied to zero-valued [Options] fields.
const (
	DefaultShards       = 64
	DefaultSniffRows    = 1000
	DefaultRowGroupRows = 64 * 1024
)

// MaxLevels bounds the distinct values of one categorical column.
const MaxLevels = 10000

// MaxShards bounds Options.Shards: Split keeps a spill file and its write
// buffer open per shard while it reads the CSV.
const MaxShards = 4096

// Options configures [Split]. Zero values of Shards, Delimiter, SniffRows and
// RowGroupRows select the defaults above.
type Options struct {
	// Key is the key column (customer id), or RowKey; required.
	Key string
	// Columns lists the numeric columns to import, in the order they are
	// stored. Empty means every numeric-looking column except the key and
	// the Categorical ones, in header order: a column whose fields in the
	// first SniffRows data rows are all empty, or whose non-empty fields
	// there are more than half numbers. A column with an empty name is
	// never picked. Every value of an imported numeric column, wherever it
	// is in the file, must then be a number or empty (see
	// Input.OnBadValue). Columns not imported are reported in
	// Result.Ignored.
	Columns []string
	// Categorical lists text columns imported as categories: each distinct
	// value gets a code (0, 1, ... in order of first appearance in the file),
	// stored as a number; the dictionary is in Result.Columns[i].Levels and in
	// every shard file's "mathcrm.categories" metadata. An empty field is
	// missing. At most MaxLevels distinct values per column.
	Categorical []string
	// Shards is the number of shards (default 64, at most MaxShards).
	Shards int
	// Input says how to read the file (delimiter, header) and what a value
	// that is not a number does.
	Input
	// SniffRows is how many data rows decide which columns are numeric when
	// Columns is empty (default 1000).
	SniffRows int
	// TempDir is the existing directory the shard files (and, while Split
	// runs, its spill files) are written to; required.
	TempDir string
	// RowGroupRows is the number of rows per Parquet row group (default 64Ki).
	// A writer holds a row group in memory until it is complete, and Split
	// runs up to GOMAXPROCS writers, so this bounds memory.
	RowGroupRows int
	// ShardWritten, if set, receives each shard as soon as it is complete,
	// so that a caller can store shards while Split writes the others. A
	// small shard (up to 8 MiB of rows) comes as the file's bytes, which the
	// callee keeps, and no file is written (ShardFile.Path is empty); a
	// larger one is written to its file and comes with data nil. It is
	// called from Split's goroutines, possibly at once; it may block, which
	// bounds the shards in flight, and its error fails the Split. A shard
	// handed over before Split fails is not part of any result. The callee
	// may give the bytes back with RecycleShardBytes when done with them.
	ShardWritten func(sf ShardFile, data []byte) error
}

// Validate reports what is wrong with o, if anything. Zero values are valid
// and stand for the defaults.
func (o Options) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidOptions, fmt.Sprintf(format, args...))
	}
	switch {
	case o.Key == "":
		return bad("Key is required")
	case o.TempDir == "":
		return bad("TempDir is required")
	case o.Shards < 0:
		return bad("Shards is negative (%d)", o.Shards)
	case o.Shards > MaxShards:
		return bad("Shards is too high (%d > %d)", o.Shards, MaxShards)
	case o.SniffRows < 0:
		return bad("SniffRows is negative (%d)", o.SniffRows)
	case o.RowGroupRows < 0:
		return bad("RowGroupRows is negative (%d)", o.RowGroupRows)
	}
	if err := o.Input.validate(true); err != nil {
		return err
	}
	seen := make(map[string]bool, len(o.Columns)+len(o.Categorical))
	for _, c := range append(append([]string(nil), o.Columns...), o.Categorical...) {
		switch {
		case c == "":
			return bad("Columns contains an empty name")
		case c == o.Key:
			return bad("Columns contains the key column %q", c)
		case seen[c]:
			return bad("Columns names %q twice", c)
		}
		seen[c] = true
	}
	return nil
}

// validDelimiter mirrors encoding/csv's rules for Reader.Comma.
func validDelimiter(r rune) bool {
	return r != 0 && r != '"' && r != '\r' && r != '\n' &&
		utf8.ValidRune(r) && r != utf8.RuneError
}

// withDefaults returns o with zero fields replaced by their defaults.
func (o Options) withDefaults() Options {
	if o.Shards == 0 {
		o.Shards = DefaultShards
	}
	o.Input = o.Input.withDefaults()
	if o.SniffRows == 0 {
		o.SniffRows = DefaultSniffRows
	}
	if o.RowGroupRows == 0 {
		o.RowGroupRows = DefaultRowGroupRows
	}
	return o
}

// badOptions formats an error wrapping ErrInvalidOptions.
func badOptions(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidOptions, fmt.Sprintf(format, args...))
}

// validateCommon checks the options every kind of split shares.
func validateCommon(tempDir string, shards, rowGroupRows int, in Input, missingOK bool) error {
	switch {
	case tempDir == "":
		return badOptions("TempDir is required")
	case shards < 0:
		return badOptions("Shards is negative (%d)", shards)
	case shards > MaxShards:
		return badOptions("Shards is too high (%d > %d)", shards, MaxShards)
	case rowGroupRows < 0:
		return badOptions("RowGroupRows is negative (%d)", rowGroupRows)
	}
	return in.validate(missingOK)
}

// commonDefaults replaces zero Shards, Delimiter and RowGroupRows by their
// defaults.
func commonDefaults(shards int, in Input, rowGroupRows int) (int, Input, int) {
	if shards == 0 {
		shards = DefaultShards
	}
	if rowGroupRows == 0 {
		rowGroupRows = DefaultRowGroupRows
	}
	return shards, in.withDefaults(), rowGroupRows
}
