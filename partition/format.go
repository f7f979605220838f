package partition

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Input says how to read the text of a CSV file and what a value that is
// not a number does. [Options], [InteractionOptions] and
// [TransactionOptions] embed it; its zero value reads a comma-separated
// file with a header row and stops at the first bad value.
type Input struct {
	// Delimiter separates fields (default ","). One character is read as
	// CSV, with RFC 4180 quoting. A longer one, such as MovieLens's "::",
	// splits each line literally: quotes are ordinary characters and a
	// field holds neither the delimiter nor a line break.
	Delimiter string
	// Names, when set, names the columns of a file that has no header row:
	// every line is data and must have len(Names) fields. The names must be
	// distinct, non-empty and valid UTF-8.
	Names []string
	// OnBadValue says what a value that is not a number does in a numeric
	// column (a features column, an interaction's value, a transaction's
	// amount, quantity or price): BadValueStop (or "") fails the split with
	// an [*InputError]; BadValueSkip drops the row; BadValueMissing, for
	// features only, stores the value as missing. Either way the result
	// counts them.
	OnBadValue BadValuePolicy
}

// BadValuePolicy is the value of [Input.OnBadValue].
type BadValuePolicy string

// The policies for a value that does not parse as a number.
const (
	BadValueStop    BadValuePolicy = "stop"
	BadValueSkip    BadValuePolicy = "skip"
	BadValueMissing BadValuePolicy = "missing"
)

// DefaultDelimiter is the field delimiter of a zero [Input].
const DefaultDelimiter = ","

// Findings is what a split found in the data besides its rows.
type Findings struct {
	// Ignored lists the header columns neither key nor imported, in header
	// order (features only).
	Ignored []string
	// SkippedRows counts rows dropped for a bad value (OnBadValue "skip").
	SkippedRows int64
	// BadValues counts, by column, the values that did not parse as numbers
	// and were skipped or made missing.
	BadValues map[string]int64
}

// noDataRows is ErrEmpty with what, saying how many rows were skipped.
func noDataRows(what string, skipped int64) error {
	if skipped > 0 {
		return fmt.Errorf("%w: %s (%d skipped for a value that is not a number)", ErrEmpty, what, skipped)
	}
	return fmt.Errorf("%w: %s", ErrEmpty, what)
}

// badValue counts one bad value of column.
func (f *Findings) badValue(column string) {
	if f.BadValues == nil {
		f.BadValues = map[string]int64{}
	}
	f.BadValues[column]++
}

// validate checks in, allowing missing only where the kind can store a
// missing value.
func (in Input) validate(missingOK bool) error {
	d := in.Delimiter
	switch {
	case utf8.RuneCountInString(d) == 1:
		if r, _ := utf8.DecodeRuneInString(d); !validDelimiter(r) {
			return badOptions("Delimiter %q cannot separate CSV fields", d)
		}
	case !utf8.ValidString(d) || strings.ContainsAny(d, "\r\n"):
		return badOptions("Delimiter %q cannot separate fields", d)
	}
	switch in.OnBadValue {
	case "", BadValueStop, BadValueSkip:
	case BadValueMissing:
		if !missingOK {
			return badOptions("OnBadValue %q: this kind of dataset has no missing values; use %q", in.OnBadValue, BadValueSkip)
		}
	default:
		return badOptions("OnBadValue %q is not %q, %q or %q", in.OnBadValue, BadValueStop, BadValueSkip, BadValueMissing)
	}
	if in.Names != nil {
		if err := CheckNames(in.Names); err != nil {
			return badOptions("Names: %v", err)
		}
	}
	return nil
}

// CheckNames reports what is wrong with a list of column names given for a
// file without a header row: none, an empty one, one that is not valid
// UTF-8, or one given twice. Its message names the problem only, for the
// caller to say where the names came from (Validate: "Names: ...", the
// CLI: "--names: ...").
func CheckNames(names []string) error {
	if len(names) == 0 {
		return fmt.Errorf("no names")
	}
	seen := make(map[string]int, len(names))
	for i, n := range names {
		switch {
		case n == "":
			return fmt.Errorf("name %d is empty", i+1)
		case !utf8.ValidString(n):
			return fmt.Errorf("name %d, %s, is not valid UTF-8", i+1, quoteField(n))
		}
		if j, dup := seen[n]; dup {
			return fmt.Errorf("%s is given twice (names %d and %d)", quoteField(n), j+1, i+1)
		}
		seen[n] = i
	}
	return nil
}

// withDefaults fills in the default delimiter.
func (in Input) withDefaults() Input {
	if in.Delimiter == "" {
		in.Delimiter = DefaultDelimiter
	}
	return in
}

// maxQuoted bounds the bytes of one field that an error message quotes.
const maxQuoted = 200

// quoteField quotes s for an error message. A field longer than maxQuoted
// bytes is cut at a character boundary, marked with an ellipsis and its
// length, so that one runaway field (a missing closing quote swallows the
// rest of the file into it) cannot flood a terminal or a log.
func quoteField(s string) string {
	if len(s) <= maxQuoted {
		return strconv.Quote(s)
	}
	cut := maxQuoted
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut]) + fmt.Sprintf("… (%d bytes)", len(s))
}
