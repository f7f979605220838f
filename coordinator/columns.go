package coordinator

import (
	"fmt"
	"math"
	"strings"

	"github.com/mathcrm/mathcrm/internal/proto"
)

// Feature columns. A numeric column is used as it is; a categorical column
// "c" stands for its one-hot columns "c=v", one per value v in the dataset's
// dictionary, and a single "c=v" may be named too. The worker encodes them
// with the dictionary carried in the step (proto.Prep.Categories), so every
// shard — and, later, scoring — encodes the same way.

// expandColumns resolves names to feature columns.
func expandColumns(ver *proto.DatasetVersion, names []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	add := func(c string) error {
		if seen[c] {
			return fmt.Errorf("%w: column %q named twice", ErrInvalid, c)
		}
		seen[c] = true
		out = append(out, c)
		return nil
	}
	for _, name := range names {
		if cs := columnStats(ver, name); cs != nil {
			if !cs.Categorical() {
				if err := add(name); err != nil {
					return nil, err
				}
				continue
			}
			for _, v := range cs.Levels {
				if err := add(name + "=" + v); err != nil {
					return nil, err
				}
			}
			continue
		}
		if _, _, err := oneHot(ver, name); err != nil {
			return nil, err
		}
		if err := add(name); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// oneHot resolves "c=v" to the categorical column c and the code of v.
func oneHot(ver *proto.DatasetVersion, name string) (*proto.ColumnStats, int, error) {
	col, val, ok := strings.Cut(name, "=")
	cs := columnStats(ver, col)
	if !ok || cs == nil || !cs.Categorical() {
		return nil, 0, fmt.Errorf("%w: dataset has no column %q (it has %s)", ErrInvalid, name, strings.Join(columnNames(ver), ", "))
	}
	for code, v := range cs.Levels {
		if v == val {
			return cs, code, nil
		}
	}
	return nil, 0, fmt.Errorf("%w: column %q has no value %q", ErrInvalid, col, val)
}

// allFeatures is every feature column of a version, categoricals one-hot.
func allFeatures(ver *proto.DatasetVersion) []string {
	out, _ := expandColumns(ver, columnNames(ver)) // every name exists
	return out
}

// featureStats returns the mean and population standard deviation of a
// feature column, a one-hot column's from its value counts.
func featureStats(ver *proto.DatasetVersion, name string) (mean, std float64) {
	if cs := columnStats(ver, name); cs != nil {
		return cs.Mean, cs.Std
	}
	cs, code, err := oneHot(ver, name)
	if err != nil || cs.Count == 0 {
		return 0, 0
	}
	p := float64(cs.LevelCounts[code]) / float64(cs.Count)
	return p, math.Sqrt(p * (1 - p))
}

// categories returns the dictionaries the one-hot columns in names refer to.
func categories(ver *proto.DatasetVersion, names ...[]string) map[string][]string {
	out := map[string][]string{}
	for _, list := range names {
		for _, name := range list {
			if cs, _, err := oneHot(ver, name); err == nil {
				out[cs.Name] = cs.Levels
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
