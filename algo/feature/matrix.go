package feature

import (
	"fmt"
	"math"
	"strings"

	"github.com/mathcrm/mathcrm/algo/step"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/partition"
)

// Matrix is a shard turned into what an algorithm reads: the training
// columns row-major (standardised if asked) and the profile columns in
// original units, for the rows that have every training value, in shard order.
type Matrix struct {
	X       []float64 // N×D
	N, D    int
	Prof    []float64 // N×P
	P       int
	Skipped int64 // rows left out for a missing training value
	// Y holds the target of each kept row and Keys its key, for
	// supervised models.
	Y    []float64
	Keys []string
}

// Size is the matrix's size in bytes, as a cache counts it.
func (m *Matrix) Size() int64 { return int64(len(m.X)+len(m.Prof)+len(m.Y)+2*len(m.Keys)) * 8 }

// PrepKey names the matrix a recipe makes of a shard object in the cache.
// It holds the whole recipe, in Go syntax (strings quoted, map keys
// sorted, each float64 in its shortest exact form): two jobs on the same
// columns with different targets or category dictionaries need different
// matrices. (The key once left the target out, and a logistic job then read
// the targets of a linear job on the same features.)
func PrepKey(object string, p proto.Prep) string {
	return fmt.Sprintf("%s|%#v", object, p)
}

// BuildMatrix prepares a shard as the recipe p says.
func BuildMatrix(s *partition.Shard, p proto.Prep) (*Matrix, error) {
	d := len(p.Columns)
	if len(p.Mean) != 0 && (len(p.Mean) != d || len(p.Scale) != d) {
		return nil, fmt.Errorf("feature: standardisation has %d means and %d scales for %d columns", len(p.Mean), len(p.Scale), d)
	}
	cols := make([][]float64, d)
	for j, name := range p.Columns {
		c, err := column(s, p, name)
		if err != nil {
			return nil, err
		}
		cols[j] = c
	}
	profs := make([][]float64, len(p.Profile))
	for j, name := range p.Profile {
		c, err := column(s, p, name)
		if err != nil {
			return nil, err
		}
		profs[j] = c
	}
	var target []float64
	if p.Target != "" {
		var err error
		if target, err = column(s, p, p.Target); err != nil {
			return nil, err
		}
	}
	rows := s.Rows()
	m := &Matrix{D: d, P: len(profs), X: make([]float64, 0, rows*d), Prof: make([]float64, 0, rows*len(profs))}
rowLoop:
	for i := 0; i < rows; i++ {
		if target != nil && math.IsNaN(target[i]) {
			m.Skipped++
			continue
		}
		for j := 0; j < d; j++ {
			if math.IsNaN(cols[j][i]) {
				m.Skipped++
				continue rowLoop
			}
		}
		for j := 0; j < d; j++ {
			v := cols[j][i]
			if len(p.Mean) != 0 {
				v = Standardize(v, p.Mean[j], p.Scale[j])
			}
			m.X = append(m.X, v)
		}
		for j := range profs {
			m.Prof = append(m.Prof, profs[j][i])
		}
		if target != nil {
			m.Y = append(m.Y, target[i])
			m.Keys = append(m.Keys, s.Keys[i])
		}
		m.N++
	}
	return m, nil
}

// feature returns one feature column of a shard: a stored column, or the
// one-hot column "c=v" of a categorical column c (1 where the row's value is
// v, 0 elsewhere, NaN where it is missing).
func column(s *partition.Shard, p proto.Prep, name string) ([]float64, error) {
	if c, ok := s.Column(name); ok {
		return c, nil
	}
	col, val, ok := strings.Cut(name, "=")
	codes, found := s.Column(col)
	if !ok || !found {
		return nil, step.Errorf("feature", ErrColumn, "shard has no column %q", name)
	}
	code := -1
	for i, v := range p.Categories[col] {
		if v == val {
			code = i
		}
	}
	if code < 0 {
		return nil, step.Errorf("feature", ErrColumn, "column %q has no value %q in the step's dictionary", col, val)
	}
	out := make([]float64, len(codes))
	for i, c := range codes {
		switch {
		case math.IsNaN(c):
			out[i] = math.NaN()
		case int(c) == code:
			out[i] = 1
		}
	}
	return out, nil
}
