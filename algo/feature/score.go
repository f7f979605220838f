package feature

import (
	"math"
	"slices"
	"strings"

	"github.com/mathcrm/mathcrm/algo/step"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/partition"
)

// ScoreColumn returns a model input column of a shard: a stored column, or
// the one-hot column "c=v" of a categorical column c, 1 where the row holds
// v, 0 elsewhere (also when this version has no row with v) and NaN where c
// is missing. levels are the scored version's dictionaries.
func ScoreColumn(s *partition.Shard, levels map[string][]string, name string) ([]float64, error) {
	if c, ok := s.Column(name); ok {
		return c, nil
	}
	col, val, ok := strings.Cut(name, "=")
	codes, found := s.Column(col)
	if !ok || !found {
		return nil, step.Errorf("feature", ErrColumn, "the scored dataset has no column %q", name)
	}
	code := slices.Index(levels[col], val)
	out := make([]float64, len(codes))
	for i, c := range codes {
		switch {
		case math.IsNaN(c):
			out[i] = math.NaN()
		case code >= 0 && int(c) == code:
			out[i] = 1
		}
	}
	return out, nil
}

// ScoreRows turns a shard into a model's input rows: the named columns,
// standardised when mean and scale are given, for every row with all of
// them, with the rows' keys, and the keys of the rows with a missing value.
func ScoreRows(s *partition.Shard, levels map[string][]string, names []string, mean, scale []float64) (x []float64, keys, unscored []string, err error) {
	d := len(names)
	cols := make([][]float64, d)
	for j, n := range names {
		if cols[j], err = ScoreColumn(s, levels, n); err != nil {
			return nil, nil, nil, err
		}
	}
	x = make([]float64, 0, s.Rows()*d)
	keys = make([]string, 0, s.Rows())
rows:
	for i := range s.Rows() {
		for j := range d {
			if math.IsNaN(cols[j][i]) {
				unscored = append(unscored, s.Keys[i])
				continue rows
			}
		}
		for j := range d {
			v := cols[j][i]
			if mean != nil {
				v = Standardize(v, mean[j], scale[j])
			}
			x = append(x, v)
		}
		keys = append(keys, s.Keys[i])
	}
	return x, keys, unscored, nil
}

// Standardize is x' = (x - mean) / scale, as training and scoring both
// compute it.
func Standardize(x, mean, scale float64) float64 { return (x - mean) / scale }

// Invert is Standardize's inverse, x = x'·scale + mean, never fused into
// one FMA: the same bits on every build.
func Invert(x, mean, scale float64) float64 { return float64(x*scale) + mean }

// Standardization returns the means and scales of the named feature columns
// from a version's statistics; a constant column's scale is 1, so it stays
// constant.
func Standardization(ver *proto.DatasetVersion, names []string) (mean, scale []float64) {
	for _, n := range names {
		m, s := Stats(ver, n)
		if s == 0 {
			s = 1
		}
		mean, scale = append(mean, m), append(scale, s)
	}
	return mean, scale
}
