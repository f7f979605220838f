package feature

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

// Expand resolves names to feature columns.
func Expand(ver *proto.DatasetVersion, names []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	add := func(c string) error {
		if seen[c] {
			return fmt.Errorf("%w: column %q named twice", proto.ErrInvalid, c)
		}
		seen[c] = true
		out = append(out, c)
		return nil
	}
	for _, name := range names {
		if cs := Column(ver, name); cs != nil {
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
		if _, _, err := OneHot(ver, name); err != nil {
			return nil, err
		}
		if err := add(name); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// OneHot resolves "c=v" to the categorical column c and the code of v.
func OneHot(ver *proto.DatasetVersion, name string) (*proto.ColumnStats, int, error) {
	col, val, ok := strings.Cut(name, "=")
	cs := Column(ver, col)
	if !ok || cs == nil || !cs.Categorical() {
		return nil, 0, fmt.Errorf("%w: dataset has no column %q (it has %s)", proto.ErrInvalid, name, strings.Join(Names(ver), ", "))
	}
	for code, v := range cs.Levels {
		if v == val {
			return cs, code, nil
		}
	}
	return nil, 0, fmt.Errorf("%w: column %q has no value %q", proto.ErrInvalid, col, val)
}

// All is every feature column of a version, categoricals one-hot.
func All(ver *proto.DatasetVersion) []string {
	out, _ := Expand(ver, Names(ver)) // every name exists
	return out
}

// Stats returns the mean and population standard deviation of a
// feature column, a one-hot column's from its value counts.
func Stats(ver *proto.DatasetVersion, name string) (mean, std float64) {
	if cs := Column(ver, name); cs != nil {
		return cs.Mean, cs.Std
	}
	cs, code, err := OneHot(ver, name)
	if err != nil || cs.Count == 0 {
		return 0, 0
	}
	p := float64(cs.LevelCounts[code]) / float64(cs.Count)
	return p, math.Sqrt(p * (1 - p))
}

// Categories returns the dictionaries the one-hot columns in names refer to.
func Categories(ver *proto.DatasetVersion, names ...[]string) map[string][]string {
	out := map[string][]string{}
	for _, list := range names {
		for _, name := range list {
			if cs, _, err := OneHot(ver, name); err == nil {
				out[cs.Name] = cs.Levels
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// Column returns a column's statistics by name, or nil.
func Column(ver *proto.DatasetVersion, name string) *proto.ColumnStats {
	for i := range ver.Columns {
		if ver.Columns[i].Name == name {
			return &ver.Columns[i]
		}
	}
	return nil
}

// Names are a version's column names.
func Names(ver *proto.DatasetVersion) []string {
	out := make([]string, len(ver.Columns))
	for i, c := range ver.Columns {
		out[i] = c.Name
	}
	return out
}
