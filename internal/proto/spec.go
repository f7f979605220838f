package proto

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/mathcrm/mathcrm/algo/als"
	"github.com/mathcrm/mathcrm/algo/logistic"
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
	Field string // API field, e.g. "als.rank"
	Flag  string // CLI flag, e.g. "--rank"
	Value string // the value given
	Want  string // the allowed values, e.g. "an integer from 1 to 512"
}

func (e *ParamError) Error() string {
	return fmt.Sprintf("%s %s is out of range: must be %s", e.Field, e.Value, e.Want)
}

// FlagError is the message for a CLI user: the flag, not the API field.
func (e *ParamError) FlagError() string {
	return fmt.Sprintf("%s %s is out of range: must be %s", e.Flag, e.Value, e.Want)
}

func (e *ParamError) Unwrap() error { return ErrParam }

// Parameter limits beyond the algorithms' own.
const (
	MaxK            = 10000
	MaxLogisticIter = 100000
	MaxFeatures     = 4096
	MaxTop          = 1000
	DefaultTop      = 10
)

// UnmarshalJSON fills every field left out with its default.
func (s *ALSSpec) UnmarshalJSON(b []byte) error {
	type plain ALSSpec
	d := als.DefaultConfig()
	p := plain{Rank: d.Rank, Lambda: d.Lambda, Iterations: d.Iterations, Alpha: d.Alpha, RegScaling: d.RegScaling}
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*s = ALSSpec(p)
	return nil
}

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

// CheckParams checks the parameters of a spec that do not depend on the
// dataset: the algorithm's part is present and every value in its range. It
// changes nothing. A field left out (nil) is not checked: it takes the
// algorithm's default.
func (s *JobSpec) CheckLegacyParams() error {
	if s.DatasetVersion < 0 {
		return &ParamError{Field: "dataset_version", Flag: "--dataset-version", Value: fmt.Sprint(s.DatasetVersion),
			Want: "a version number, or 0 for the latest"}
	}
	missing := func(part string) error { return fmt.Errorf("%w: %s parameters missing", ErrParam, part) }
	switch s.Algo {
	case "linear":
		if s.Linear == nil {
			return missing("linear")
		}
		return s.Linear.check("linear")
	case "logistic":
		if s.Logistic == nil {
			return missing("logistic")
		}
		return s.Logistic.check("logistic")
	case "als":
		if s.ALS == nil {
			return missing("als")
		}
		return s.ALS.check()
	case "rfm":
		if s.RFM == nil {
			return missing("rfm")
		}
		if !s.RFM.AsOf.IsZero() && !s.RFM.AsOf.Equal(s.RFM.AsOf.Truncate(24*time.Hour)) {
			return &ParamError{Field: "rfm.as_of", Flag: "--as-of", Value: s.RFM.AsOf.Format(time.RFC3339), Want: "a whole day, UTC midnight"}
		}
		return nil
	}
	return fmt.Errorf("%w: unknown algorithm %q (kmeans, linear, logistic, als, rfm, score)", ErrParam, s.Algo)
}

func (rs *RegressionSpec) check(algo string) error {
	if rs.Target == "" {
		return fmt.Errorf("%w: %s.target: a target column is required", ErrParam, algo)
	}
	if err := floatParam(algo+".holdout", "--holdout", rs.Holdout, rs.Holdout >= 0 && rs.Holdout < 1, "at least 0 and less than 1"); err != nil {
		return err
	}
	if len(rs.Features) > MaxFeatures {
		return &ParamError{Field: algo + ".features", Flag: "--features", Value: fmt.Sprintf("(%d columns)", len(rs.Features)),
			Want: fmt.Sprintf("at most %d columns", MaxFeatures)}
	}
	if algo == "linear" {
		return floatParam("linear.l2", "--l2", rs.L2, rs.L2 >= 0, "a finite number of at least 0")
	}
	if rs.C != nil {
		if err := floatParam("logistic.c", "--c", *rs.C, *rs.C > 0, "a finite number greater than 0"); err != nil {
			return err
		}
	}
	if rs.MaxIter != nil {
		if err := intParam("logistic.max_iter", "--max-iter", *rs.MaxIter, 1, MaxLogisticIter); err != nil {
			return err
		}
	}
	if rs.Tol != nil {
		if err := floatParam("logistic.tol", "--tol", *rs.Tol, *rs.Tol > 0, "a finite number greater than 0"); err != nil {
			return err
		}
	}
	if rs.ClassWeight != "" {
		if err := oneOf("logistic.class_weight", "--class-weight", rs.ClassWeight, logistic.Balanced); err != nil {
			return err
		}
	}
	if rs.Penalty != "" {
		if err := oneOf("logistic.penalty", "--penalty", rs.Penalty, logistic.PenaltyL2, logistic.PenaltyNone); err != nil {
			return err
		}
	}
	if rs.Solver != "" {
		return oneOf("logistic.solver", "--solver", rs.Solver, logistic.SolverAuto, logistic.SolverNewton, logistic.SolverLBFGS)
	}
	return nil
}

func (as *ALSSpec) check() error {
	if err := intParam("als.rank", "--rank", as.Rank, 1, als.MaxRank); err != nil {
		return err
	}
	if err := floatParam("als.lambda", "--lambda", as.Lambda, as.Lambda > 0, "a finite number greater than 0"); err != nil {
		return err
	}
	if err := intParam("als.iterations", "--iterations", as.Iterations, 1, als.MaxIterations); err != nil {
		return err
	}
	if as.Implicit {
		if err := floatParam("als.alpha", "--alpha", as.Alpha, as.Alpha > 0, "a finite number greater than 0"); err != nil {
			return err
		}
	}
	if as.RegScaling != "" {
		if err := oneOf("als.reg_scaling", "--reg-scaling", as.RegScaling, als.RegWeighted, als.RegNone); err != nil {
			return err
		}
	}
	return floatParam("als.holdout", "--holdout", as.Holdout, as.Holdout >= 0 && as.Holdout < 1, "at least 0 and less than 1")
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
