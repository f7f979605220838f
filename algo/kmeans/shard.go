package kmeans

import (
	"errors"
	"math"
	"slices"
)

// The per-shard side of each task. Every function visits rows in order and
// accumulates in that order.

var errNonFinite = errors.New("the shard's rows contain NaN or ±Inf, or a sum overflowed")

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// sum returns s0 + v[0] + v[1] + … added in order. The running sum lives in
// a register here; a closure that adds to a captured variable keeps it in
// memory, which puts a store and a load on every add.
func sum(s0 float64, v []float64) float64 {
	for _, x := range v {
		s0 += x
	}
	return s0
}

func allFinite(s []float64) bool {
	for _, v := range s {
		if !finite(v) {
			return false
		}
	}
	return true
}

// runPick returns the M rows with the smallest priority u(seed, pick, shard,
// row), ordered by (priority, row).
func runPick(r *Result, t *Task, x []float64, n, shard int) error {
	d := t.D
	key := streamKey(t.Seed, purposePick, 0, shard)
	top := topM{m: t.M}
	for i := 0; i < n; i++ {
		top.offer(uniform(key, i), i)
	}
	for _, e := range top.sorted() {
		r.Rows = append(r.Rows, int64(e.row))
		r.Keys = append(r.Keys, e.key)
		r.X = append(r.X, x[e.row*d:(e.row+1)*d]...)
	}
	if !allFinite(r.X) {
		return errNonFinite
	}
	return nil
}

// runCost sums the squared distance of every row to its nearest candidate.
func runCost(r *Result, t *Task, x []float64, n int) error {
	d, c := t.D, t.C
	var kn kernelState
	kn.reset(c, t.K, d)
	cost := 0.0
	kn.scan(x, n, true, nil, func(_ int, _ []int, dist []float64) {
		cost = sum(cost, dist)
	})
	if !finite(cost) {
		return errNonFinite
	}
	r.Cost = cost
	return nil
}

// runSample keeps each row independently with probability
// min(1, ℓ·d²(x,C)/φ), deciding with the row's own uniform for the round.
func runSample(r *Result, t *Task, x []float64, n, shard int) error {
	d := t.D
	key := streamKey(t.Seed, purposeSample, t.Round, shard)
	var kn kernelState
	kn.reset(t.C, t.K, d)
	bad := false
	kn.scan(x, n, true, nil, func(lo int, _ []int, dist []float64) {
		for i, d2 := range dist {
			row := x[(lo+i)*d : (lo+i+1)*d]
			if !finite(d2) {
				bad = true
				return
			}
			if d2 > 0 && uniform(key, lo+i) < t.Oversample*d2/t.Phi {
				r.Rows = append(r.Rows, int64(lo+i))
				r.X = append(r.X, row...)
			}
		}
	})
	if bad {
		return errNonFinite
	}
	return nil
}

// runCounts counts the rows nearest each candidate.
func runCounts(r *Result, t *Task, x []float64, n int) {
	r.Counts = grow(r.Counts, t.K)
	clear(r.Counts)
	var kn kernelState
	kn.reset(t.C, t.K, t.D)
	kn.scan(x, n, false, nil, func(_ int, lab []int, _ []float64) {
		for _, l := range lab {
			r.Counts[l]++
		}
	})
}

// runLloyd computes the shard's partial of one Lloyd step: per-cluster sums
// and counts, the inertia, and the Far rows farthest from their centres.
func runLloyd(r *Result, t *Task, x []float64, n int) error {
	d, k, c := t.D, t.K, t.C
	r.Sums = grow(r.Sums, k*d)
	r.Counts = grow(r.Counts, k)
	clear(r.Sums)
	clear(r.Counts)
	sums, counts := r.Sums, r.Counts
	far := topM{m: t.Far}
	inertia := 0.0
	var kn kernelState
	kn.reset(c, k, d)
	kn.scan(x, n, true, sums, func(lo int, lab []int, dist []float64) {
		for _, l := range lab {
			counts[l]++
		}
		inertia = sum(inertia, dist)
		far.offerDist(dist, lo)
	})
	if !finite(inertia) || !allFinite(sums) {
		return errNonFinite
	}
	r.Cost = inertia
	for _, e := range far.sorted() {
		r.Rows = append(r.Rows, int64(e.row))
		r.Keys = append(r.Keys, -e.key)
		r.Labels = append(r.Labels, kn.One(x[e.row*d:(e.row+1)*d]))
		r.X = append(r.X, x[e.row*d:(e.row+1)*d]...)
	}
	return nil
}

// runFinal assigns every row to the final centroids and accumulates sizes,
// inertia, and sums and counts of the non-missing profile values. A profile
// value that is NaN or ±Inf counts as missing.
func runFinal(r *Result, t *Task, x []float64, n int, prof []float64, p int) error {
	d, k, c := t.D, t.K, t.C
	r.Counts = grow(r.Counts, k)
	r.ProfSums = grow(r.ProfSums, k*p)
	r.ProfCounts = grow(r.ProfCounts, k*p)
	clear(r.Counts)
	clear(r.ProfSums)
	clear(r.ProfCounts)
	inertia := 0.0
	var kn kernelState
	kn.reset(c, k, d)
	kn.scan(x, n, true, nil, func(lo int, lab []int, dist []float64) {
		inertia = sum(inertia, dist)
		for i, l := range lab {
			r.Counts[l]++
			if p == 0 {
				continue
			}
			pr := prof[(lo+i)*p : (lo+i+1)*p]
			ps := r.ProfSums[l*p : (l+1)*p][:len(pr)]
			pc := r.ProfCounts[l*p : (l+1)*p][:len(pr)]
			for q, v := range pr {
				if finite(v) {
					ps[q] += v
					pc[q]++
				}
			}
		}
	})
	if !finite(inertia) || !allFinite(r.ProfSums) {
		return errNonFinite
	}
	r.Cost = inertia
	return nil
}

// topM keeps the m smallest (key, row) pairs offered in increasing row
// order, in a max-heap so the worst kept pair is at the root.
type topM struct {
	m int
	h []entry
}

type entry struct {
	key float64
	row int
}

func (a entry) less(b entry) bool {
	return a.key < b.key || (a.key == b.key && a.row < b.row)
}

// offer considers (key, row). Rows arrive in increasing order, so a pair
// whose key equals the root's is worse than the root and is skipped.
func (t *topM) offer(key float64, row int) {
	if len(t.h) == t.m && (t.m == 0 || !(key < t.h[0].key)) {
		return
	}
	t.insert(entry{key, row})
}

// offerDist is offer(−dist[i], lo+i) for every i in order, keeping the
// rows farthest from their centres. Once the heap is full, offer keeps −v
// only if −v < root, that is v > −root, so most rows cost one compare.
func (t *topM) offerDist(dist []float64, lo int) {
	i := 0
	for ; i < len(dist) && len(t.h) < t.m; i++ {
		t.insert(entry{-dist[i], lo + i})
	}
	if len(t.h) == 0 {
		return
	}
	thr := -t.h[0].key
	for ; i < len(dist); i++ {
		if v := dist[i]; v > thr {
			t.insert(entry{-v, lo + i})
			thr = -t.h[0].key
		}
	}
}

func (t *topM) insert(e entry) {
	h := t.h
	if len(h) < t.m {
		h = append(h, e)
		for i := len(h) - 1; i > 0; {
			p := (i - 1) / 2
			if !h[p].less(h[i]) {
				break
			}
			h[p], h[i] = h[i], h[p]
			i = p
		}
		t.h = h
		return
	}
	h[0] = e
	for i := 0; ; {
		big, l, r := i, 2*i+1, 2*i+2
		if l < len(h) && h[big].less(h[l]) {
			big = l
		}
		if r < len(h) && h[big].less(h[r]) {
			big = r
		}
		if big == i {
			return
		}
		h[i], h[big] = h[big], h[i]
		i = big
	}
}

// sorted returns the kept pairs in increasing (key, row) order.
func (t *topM) sorted() []entry {
	slices.SortFunc(t.h, func(a, b entry) int {
		if a.less(b) {
			return -1
		}
		if b.less(a) {
			return 1
		}
		return 0
	})
	return t.h
}
