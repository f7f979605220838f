package quantile

import "slices"

// Bucket returns the bucket, 1..len(cuts)+1, of value x given one column's
// cuts as State.Cuts returns them (in rank order: ascending, or descending
// for a Descending job, as descending says). Bucket 1 is the first in rank
// order: the smallest values, or the largest when descending.
//
// A value's bucket is 1 plus the number of cuts it is strictly past in
// rank order, so ties share a bucket and a value equal to a cut takes the
// earlier bucket: the lower number, which for descending deciles is the
// better decile. Equivalently, with A the number of the N ranked values
// strictly ahead of x (smaller, or larger when descending), the bucket is
// 1 + ⌊Q·A/N⌋; at least ⌈j·N/Q⌉ values are in buckets 1..j, and bucket j
// is empty when ties span a whole group. A NaN has no bucket: 0.
func Bucket(cuts []float64, x float64, descending bool) int {
	if x != x {
		return 0
	}
	// The cuts are monotone in rank order: count those strictly before x
	// by a binary search.
	var n int
	if descending {
		n, _ = slices.BinarySearchFunc(cuts, x, func(c, x float64) int {
			if c > x {
				return -1
			}
			return 1
		})
	} else {
		n, _ = slices.BinarySearchFunc(cuts, x, func(c, x float64) int {
			if c < x {
				return -1
			}
			return 1
		})
	}
	return 1 + n
}

// Reference computes the cuts of each column in one process by sorting a
// copy of its values, as State.Cuts would give them for the same values
// however they were sharded. It is the plain implementation the
// distributed one is tested against, and the one to use when the values
// fit in memory.
func Reference(cfg Config, values ...[]float64) ([][]float64, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if len(values) < 1 {
		return nil, errorf(ErrConfig, "no columns")
	}
	out := make([][]float64, len(values))
	for c, col := range values {
		v := make([]float64, 0, len(col))
		for _, x := range col {
			switch {
			case x != x: // missing
			case x == 0:
				v = append(v, 0) // −0 is +0
			default:
				v = append(v, x)
			}
		}
		if len(v) == 0 {
			continue
		}
		slices.Sort(v)
		n := int64(len(v))
		for j := 1; j < cfg.Q; j++ {
			out[c] = append(out[c], v[cfg.rank(j, n)-1])
		}
	}
	return out, nil
}
