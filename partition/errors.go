package partition

import (
	"errors"
	"strconv"
	"strings"
)

// Data errors. Split wraps each of them in an [*InputError] that says where
// in the file the problem is; test for them with errors.Is.
var (
	// ErrMalformed reports bad CSV quoting or a row whose field count differs
	// from the header's.
	ErrMalformed = errors.New("partition: malformed CSV")
	// ErrNotNumeric reports a value in a numeric column that is not a finite
	// number (NaN and Inf are rejected too).
	ErrNotNumeric = errors.New("partition: value is not a number")
	// ErrNoKeyColumn reports that the key column is not in the header.
	ErrNoKeyColumn = errors.New("partition: key column not in header")
	// ErrNoColumn reports that a requested numeric column is not in the header.
	ErrNoColumn = errors.New("partition: column not in header")
	// ErrDuplicateKey reports a key seen on an earlier line.
	ErrDuplicateKey = errors.New("partition: duplicate key")
	// ErrEmpty reports an input without a header row or without data rows.
	ErrEmpty = errors.New("partition: empty input")
	// ErrMissingKey reports an empty (or all-blank) key field.
	ErrMissingKey = errors.New("partition: key is empty")
	// ErrDuplicateColumn reports a header that names a column twice.
	ErrDuplicateColumn = errors.New("partition: duplicate column in header")
	// ErrMissingValue reports an empty field in a column that must have a
	// value (an interaction's value, a transaction's time or amount).
	ErrMissingValue = errors.New("partition: value is missing")
	// ErrBadTime reports a timestamp that does not parse with the layout in
	// use, or whose layout cannot be told from the first value.
	ErrBadTime = errors.New("partition: not a timestamp")
)

// ErrInvalidOptions is wrapped by the error [Options.Validate] returns.
var ErrInvalidOptions = errors.New("partition: invalid options")

// ErrCorrupt is wrapped by every error [ReadShard] returns for bytes that are
// not a shard file written by [Split].
var ErrCorrupt = errors.New("partition: corrupt shard file")

// InputError locates a data error in the input file. Line is the physical
// line (1-based) on which the offending record starts; header errors use the
// header's line. Column is empty when the error concerns the whole record.
type InputError struct {
	File   string
	Line   int
	Column string
	Err    error
	// Rows says that Line counts the data rows of a Parquet file (from 1),
	// which has no lines.
	Rows bool
}

// Error reads like `telco.csv:17: column "TotalCharges": partition: value is
// not a number: "abc"`, or `telco.parquet: row 17: ...` for a Parquet file.
func (e *InputError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	switch {
	case e.Line > 0 && e.Rows:
		b.WriteString(": row ")
		b.WriteString(strconv.Itoa(e.Line))
	case e.Line > 0:
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(e.Line))
	}
	b.WriteString(": ")
	if e.Column != "" {
		b.WriteString("column ")
		b.WriteString(quoteField(e.Column))
		b.WriteString(": ")
	}
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the underlying error, which wraps one of the ErrX values.
func (e *InputError) Unwrap() error { return e.Err }

// ErrTooManyLevels reports a categorical column with more than MaxLevels values.
var ErrTooManyLevels = errors.New("partition: too many distinct values for a categorical column")
