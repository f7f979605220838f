package kmeans

import (
	"math"
	"slices"
)

// The leader side of Lloyd: combining partials in shard order, re-seeding
// empty clusters, moving the centroids, and building the model.

func (s *State) absorbLloyd(results []*Result) error {
	k, d := s.Config.K, s.D
	if total := s.totalRows(); total == 0 {
		return errorf(ErrNoRows, "all %d shards are empty", len(results))
	} else if total < int64(k) {
		return errorf(ErrTooFewRows, "%d rows for K=%d", total, k)
	}
	sums := make([]float64, k*d)
	counts := make([]int64, k)
	inertia := 0.0
	for _, r := range results {
		for i, v := range r.Sums {
			sums[i] += v
		}
		for i, c := range r.Counts {
			counts[i] += c
		}
		inertia += r.Cost
	}
	if !finite(inertia) || !allFinite(sums) {
		return errorf(ErrNonFinite, "Lloyd sums overflowed in iteration %d", s.Iter+1)
	}
	reseeded := relocate(sums, counts, results, d)
	old := s.Centroids
	next := make([]float64, k*d)
	shift := 0.0
	for c := range k {
		nc, oc := next[c*d:(c+1)*d], old[c*d:(c+1)*d]
		if counts[c] == 0 {
			copy(nc, oc) // no far row could take it; try again next pass
			continue
		}
		n := float64(counts[c])
		for j := range nc {
			nc[j] = sums[c*d+j] / n
		}
		shift = max(shift, math.Sqrt(sqDist(nc, oc)))
	}
	s.Centroids = next
	s.Iter++
	s.Inertia = inertia
	s.LastShift = shift
	s.History = append(slices.Clip(s.History), Iter{Inertia: inertia, Shift: shift, Reseeded: reseeded})
	s.Converged = s.Config.Tol > 0 && shift <= s.Config.Tol
	if s.Converged || s.Iter >= s.Config.MaxIter {
		s.Stage = TaskFinal
	}
	return nil
}

// far is a row reported as far from its centre.
type far struct {
	dist       float64
	shard, row int
	label      int
	x          []float64
}

// relocate moves each empty cluster, in index order, to the farthest row
// not yet used, taking that row out of its own cluster's sum and count, as
// scikit-learn does. A row at distance 0, or the last row of its cluster,
// is skipped: moving it could not help. It returns the clusters moved.
func relocate(sums []float64, counts []int64, results []*Result, d int) int {
	var empty []int
	for c, n := range counts {
		if n == 0 {
			empty = append(empty, c)
		}
	}
	if len(empty) == 0 {
		return 0
	}
	var rows []far
	for i, r := range results {
		for j, row := range r.Rows {
			rows = append(rows, far{r.Keys[j], i, int(row), r.Labels[j], r.X[j*d : (j+1)*d]})
		}
	}
	slices.SortFunc(rows, func(a, b far) int {
		switch {
		case a.dist != b.dist:
			return cmpFloat(b.dist, a.dist)
		case a.shard != b.shard:
			return a.shard - b.shard
		}
		return a.row - b.row
	})
	moved := 0
	for _, c := range empty {
		for len(rows) > 0 && (rows[0].dist == 0 || counts[rows[0].label] <= 1) {
			rows = rows[1:]
		}
		if len(rows) == 0 {
			break
		}
		f := rows[0]
		rows = rows[1:]
		from := sums[f.label*d : (f.label+1)*d]
		for j, v := range f.x {
			from[j] -= v
		}
		counts[f.label]--
		copy(sums[c*d:(c+1)*d], f.x)
		counts[c] = 1
		moved++
	}
	return moved
}

func (s *State) absorbFinal(results []*Result) error {
	k, d, p := s.Config.K, s.D, s.Config.NProfile
	m := &Model{
		K: k, D: d, P: p,
		Centroids:    clone(s.Centroids),
		Sizes:        make([]int64, k),
		Iterations:   s.Iter,
		Converged:    s.Converged,
		Profile:      make([]float64, k*p),
		ProfileCount: make([]int64, k*p),
		History:      slices.Clone(s.History),
	}
	for _, r := range results {
		for i, c := range r.Counts {
			m.Sizes[i] += c
		}
		m.Inertia += r.Cost
		for i, v := range r.ProfSums {
			m.Profile[i] += v
		}
		for i, c := range r.ProfCounts {
			m.ProfileCount[i] += c
		}
	}
	if !finite(m.Inertia) || !allFinite(m.Profile) {
		return errorf(ErrNonFinite, "final inertia or profile sums overflowed")
	}
	for i, c := range m.ProfileCount {
		if c > 0 {
			m.Profile[i] /= float64(c)
		}
	}
	s.Final = m
	s.Stage = stageDone
	return nil
}
