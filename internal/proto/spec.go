package proto

import (
	"errors"
	"fmt"
	"math"
)

// The parameters of a job spec are checked twice with the same rules: by the
// CLI before anything is sent, and by the leader before a job exists. A field
// left out of a spec's JSON takes the algorithm's default (from the algo
// package's DefaultConfig, filled in on decoding, or a nil pointer the
// algorithm resolves); a field given with a value out of range is an error,
// never replaced, 0 included.

// ErrParam reports a job parameter out of its allowed range.
var ErrParam = errors.New("proto: invalid parameter")

// ParamError names the parameter that is wrong, as an API field and as a
// CLI flag, and says what it may be.
type ParamError struct {
	Field string // API field: the algorithm's name, a dot, the field
	Flag  string // CLI flag, e.g. "--max-iter"
	Value string // the value given
	Want  string // the allowed values, e.g. "an integer from 1 to 10000"
}

func (e *ParamError) Error() string {
	return fmt.Sprintf("%s %s is out of range: must be %s", e.Field, e.Value, e.Want)
}

// FlagError is the message for a CLI user: the flag, not the API field.
func (e *ParamError) FlagError() string {
	return fmt.Sprintf("%s %s is out of range: must be %s", e.Flag, e.Value, e.Want)
}

func (e *ParamError) Unwrap() error { return ErrParam }

// Limits shared by the algorithms: the features of a model, and the items
// per row of a recommendations score set.
const (
	MaxFeatures = 4096
	MaxTop      = 1000
	DefaultTop  = 10
)

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// IntParam checks an integer parameter against [lo, hi].
func IntParam(field, flag string, v, lo, hi int) error { return intParam(field, flag, v, lo, hi) }

// FloatParam checks a float parameter: ok says whether it is in range,
// want says what the range is; a NaN or infinity is never in range.
func FloatParam(field, flag string, v float64, ok bool, want string) error {
	return floatParam(field, flag, v, ok, want)
}

// OneOf checks a string parameter against its allowed values.
func OneOf(field, flag, v string, allowed ...string) error { return oneOf(field, flag, v, allowed...) }

func intParam(field, flag string, v, lo, hi int) error {
	if v < lo || v > hi {
		return &ParamError{Field: field, Flag: flag, Value: fmt.Sprint(v), Want: fmt.Sprintf("an integer from %d to %d", lo, hi)}
	}
	return nil
}

func floatParam(field, flag string, v float64, ok bool, want string) error {
	if !ok || !finite(v) {
		return &ParamError{Field: field, Flag: flag, Value: fmt.Sprint(v), Want: want}
	}
	return nil
}

func oneOf(field, flag, v string, allowed ...string) error {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	want := ""
	for i, a := range allowed {
		switch {
		case i == 0:
		case i == len(allowed)-1:
			want += " or "
		default:
			want += ", "
		}
		want += fmt.Sprintf("%q", a)
	}
	return &ParamError{Field: field, Flag: flag, Value: fmt.Sprintf("%q", v), Want: want}
}

// DatasetCheck asks the leader, before an import reads its file, whether a
// version of this kind may be written under this name.
type DatasetCheck struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
	// Key and Columns, when known before the file is read, must match the
	// dataset's latest version too.
	Key     string   `json:"key,omitempty"`
	Columns []string `json:"columns,omitempty"`
	Replace bool     `json:"replace,omitempty"`
}
