package partition

import (
	"math"
	"strconv"
	"strings"
)

// ColumnStats summarises one imported column over the whole file. Std is the
// population standard deviation (ddof=0, as scikit-learn's StandardScaler
// uses), computed with Welford's algorithm in file order. Min, Max, Mean and
// Std are 0 when Count is 0, and never NaN or Inf.
type ColumnStats struct {
	Name           string
	Count, Missing int64
	Min, Max       float64
	Mean, Std      float64
	// Invalid counts the values that were not numbers, under
	// Input.OnBadValue "skip" (their rows were dropped) or "missing"
	// (they are counted in Missing too).
	Invalid int64
	// Levels and LevelCounts describe a categorical column: its values in
	// code order and how many rows have each. Min, Max, Mean and Std are 0.
	Levels      []string
	LevelCounts []int64
}

// welford accumulates ColumnStats in one pass. To keep M2 finite for values
// near the float64 limits, the running mean and M2 are held in units of 2^exp,
// where 2^exp bounds every |x| seen. Scaling by a power of two is exact, so for
// ordinary data (exp stays small) the result is bit-identical to textbook
// Welford.
type welford struct {
	count, missing int64
	invalid        int64 // set by the caller
	min, max       float64
	mean, m2       float64 // scaled by 2^-exp and 2^-2exp
	exp            int
	// bound is 2^exp: a finite x has Frexp exponent > exp exactly when
	// |x| >= bound. scale is 2^-exp while that is a normal number (exp <=
	// 1022), else 0; x*scale is then Ldexp(x, -exp), both correctly rounded.
	bound, scale float64
}

func (w *welford) add(x float64) {
	if math.IsNaN(x) {
		w.missing++
		return
	}
	if w.bound == 0 {
		w.bound, w.scale = 1, 1 // exp = 0
	}
	if math.Abs(x) >= w.bound {
		_, e := math.Frexp(x)
		w.mean = math.Ldexp(w.mean, w.exp-e)
		w.m2 = math.Ldexp(w.m2, 2*(w.exp-e))
		w.exp = e
		w.bound = math.Ldexp(1, e)
		w.scale = 0
		if e <= 1022 {
			w.scale = math.Ldexp(1, -e)
		}
	}
	w.count++
	if w.count == 1 || x < w.min {
		w.min = x
	}
	if w.count == 1 || x > w.max {
		w.max = x
	}
	// The explicit conversions keep every build from fusing a product and
	// a sum into one FMA: the statistics have the same bits whatever
	// GOAMD64, the race detector or the compiler's inlining.
	xs := float64(x * w.scale)
	if w.scale == 0 {
		xs = math.Ldexp(x, -w.exp)
	}
	delta := xs - w.mean
	w.mean += delta / float64(w.count)
	w.m2 += float64(delta * (xs - w.mean))
}

func (w *welford) stats(name string) ColumnStats {
	s := ColumnStats{Name: name, Count: w.count, Missing: w.missing, Invalid: w.invalid}
	if w.count == 0 {
		return s
	}
	s.Min, s.Max = w.min, w.max
	s.Mean = math.Ldexp(w.mean, w.exp)
	s.Std = math.Ldexp(math.Sqrt(math.Max(w.m2, 0)/float64(w.count)), w.exp)
	return s
}

// parseNumber parses one numeric field. Surrounding spaces are ignored; an
// empty field is missing (NaN). ok is false for anything that is not a finite
// decimal number, including "NaN", "Inf" and hexadecimal floats.
func parseNumber(field string) (v float64, ok bool) {
	s := strings.TrimSpace(field)
	if s == "" {
		return math.NaN(), true
	}
	if isHexFloat(s) {
		return 0, false
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false
	}
	return v, true
}

// isHexFloat reports a "0x" prefix (after an optional sign): ParseFloat
// accepts hexadecimal floats, but no CSV tool our users have writes them.
func isHexFloat(s string) bool {
	if s[0] == '+' || s[0] == '-' {
		s = s[1:]
	}
	return len(s) > 1 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')
}
