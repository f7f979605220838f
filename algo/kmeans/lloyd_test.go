package kmeans

import (
	"math"
	"testing"
)

// byHandCase is a Lloyd run whose results were worked out by hand.
type byHandCase struct {
	name       string
	d, k       int
	x          []float64
	prof       []float64 // one profile column, or nil
	given      []float64
	maxIter    int
	tol        float64
	centroids  []float64
	sizes      []int64
	inertia    float64 // final
	history    []Iter
	converged  bool
	profile    []float64
	profCounts []int64
}

// Expected values were worked out by hand from the definitions (nearest
// centre with ties to the lowest index, mean update, scikit-learn-style
// relocation).
var byHand = []byHandCase{{
	// {0,1,3} and {10,11}: means 4/3 and 10.5; pass inertia 0+1+9+0+1;
	// final inertia 16/9+1/9+25/9+1/4+1/4 = 31/6.
	name: "1d", d: 1, k: 2,
	x:     []float64{0, 1, 3, 10, 11},
	given: []float64{0, 10}, maxIter: 1,
	centroids: []float64{4.0 / 3, 10.5}, sizes: []int64{3, 2}, inertia: 31.0 / 6,
	history: []Iter{{Inertia: 11, Shift: 4.0 / 3}},
}, {
	// A square: each side's mean is the given centre; every row at
	// distance 1; shift 0 <= Tol stops after one iteration.
	name: "square", d: 2, k: 2,
	x:     []float64{0, 0, 0, 2, 4, 0, 4, 2},
	given: []float64{0, 1, 4, 1}, maxIter: 10, tol: 1e-9,
	centroids: []float64{0, 1, 4, 1}, sizes: []int64{2, 2}, inertia: 4,
	history: []Iter{{Inertia: 4, Shift: 0}}, converged: true,
}, {
	// Equal centres: both rows tie and go to cluster 0, cluster 1 is
	// empty. The farthest rows tie at distance 1; row 0 (x=0) comes
	// first and moves: cluster 0 keeps x=2, cluster 1 gets x=0.
	name: "relocate", d: 1, k: 2,
	x:     []float64{0, 2},
	given: []float64{1, 1}, maxIter: 1,
	centroids: []float64{2, 0}, sizes: []int64{1, 1}, inertia: 0,
	history: []Iter{{Inertia: 2, Shift: 1, Reseeded: 1}},
}, {
	// Relocation takes the farthest row: all rows tie to cluster 0 at
	// distances 1, 0, 9; x=4 moves to cluster 1, leaving {0,1}. Shift is
	// max(|0.5-1|, |4-1|) = 3; final inertia 1/4+1/4+0.
	name: "relocate farthest", d: 1, k: 2,
	x:     []float64{0, 1, 4},
	given: []float64{1, 1}, maxIter: 1,
	centroids: []float64{0.5, 4}, sizes: []int64{2, 1}, inertia: 0.5,
	history: []Iter{{Inertia: 10, Shift: 3, Reseeded: 1}},
}, {
	// Profile means skip NaN: cluster 0 = {0,1} with profile {5,NaN},
	// cluster 1 = {10} with profile 7. Final inertia 1/4+1/4+0.
	name: "profile", d: 1, k: 2,
	x: []float64{0, 1, 10}, prof: []float64{5, math.NaN(), 7},
	given: []float64{0, 10}, maxIter: 1,
	centroids: []float64{0.5, 10}, sizes: []int64{2, 1}, inertia: 0.5,
	history:    []Iter{{Inertia: 1, Shift: 0.5}},
	profile:    []float64{5, 7},
	profCounts: []int64{1, 1},
}}

// TestLloydByHand runs every hand-checked case unsharded and cut into two
// shards at every row; tolerance 1e-12 relative.
func TestLloydByHand(t *testing.T) {
	for _, tc := range byHand {
		n := len(tc.x) / tc.d
		for cut := 0; cut < n; cut++ { // cut=0 means one shard
			shards := [][]float64{tc.x}
			var profs [][]float64
			p := 0
			if tc.prof != nil {
				p, profs = 1, [][]float64{tc.prof}
			}
			if cut > 0 {
				shards = split(tc.x, tc.d, cut)
				if p > 0 {
					profs = split(tc.prof, 1, cut)
				}
			}
			cfg := Config{K: tc.k, Init: InitGiven, Given: tc.given, MaxIter: tc.maxIter, Tol: tc.tol}
			m, err := Reference(cfg, shards, tc.d, profs, p)
			if err != nil {
				t.Fatalf("%s cut %d: %v", tc.name, cut, err)
			}
			checkFloats(t, tc.name+" centroids", m.Centroids, tc.centroids, 1e-12)
			for c, s := range tc.sizes {
				if m.Sizes[c] != s {
					t.Fatalf("%s cut %d: sizes %v, want %v", tc.name, cut, m.Sizes, tc.sizes)
				}
			}
			if !relClose(m.Inertia, tc.inertia, 1e-12) || m.Converged != tc.converged || m.Iterations != len(tc.history) {
				t.Fatalf("%s cut %d: inertia %v converged %v iterations %d; want %v %v %d",
					tc.name, cut, m.Inertia, m.Converged, m.Iterations, tc.inertia, tc.converged, len(tc.history))
			}
			for i, h := range tc.history {
				g := m.History[i]
				if !relClose(g.Inertia, h.Inertia, 1e-12) || !relClose(g.Shift, h.Shift, 1e-12) || g.Reseeded != h.Reseeded {
					t.Fatalf("%s cut %d: history[%d] = %+v, want %+v", tc.name, cut, i, g, h)
				}
			}
			checkFloats(t, tc.name+" profile", m.Profile, tc.profile, 1e-12)
			for i, c := range tc.profCounts {
				if m.ProfileCount[i] != c {
					t.Fatalf("%s: profile counts %v, want %v", tc.name, m.ProfileCount, tc.profCounts)
				}
			}
		}
	}
}

func checkFloats(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if !relClose(got[i], want[i], tol) {
			t.Fatalf("%s[%d] = %v, want %v (tolerance %g relative)", what, i, got[i], want[i], tol)
		}
	}
}

// naiveLloyd is the textbook algorithm on all rows at once: assign by exact
// distance, replace each centroid by its cluster's mean.
func naiveLloyd(x []float64, d int, c []float64, iters int) ([]float64, []int64) {
	k := len(c) / d
	c = append([]float64(nil), c...)
	n := len(x) / d
	lab := make([]int, n)
	assign := func() []int64 {
		sizes := make([]int64, k)
		for i := range n {
			best := math.Inf(1)
			for q := range k {
				s := 0.0
				for j := range d {
					t := x[i*d+j] - c[q*d+j]
					s += t * t
				}
				if s < best {
					best, lab[i] = s, q
				}
			}
			sizes[lab[i]]++
		}
		return sizes
	}
	for range iters {
		sizes := assign()
		sums := make([]float64, k*d)
		for i := range n {
			for j := range d {
				sums[lab[i]*d+j] += x[i*d+j]
			}
		}
		for q := range k {
			if sizes[q] > 0 {
				for j := range d {
					c[q*d+j] = sums[q*d+j] / float64(sizes[q])
				}
			}
		}
	}
	return c, assign()
}

// The distributed Lloyd over uneven shards agrees with the textbook version
// from the same starting centroids: centroids within 1e-9 relative (the sums
// are taken in different orders), sizes equal.
func TestLloydMatchesNaive(t *testing.T) {
	centres := [][]float64{{0, 0, 0}, {3, 0, 1}, {0, 4, -1}, {-3, -3, 2}, {2, 2, 2}}
	const d, k, iters = 3, 5, 8
	x := blobs(11, centres, 400, 1.2)
	given := append([]float64(nil), x[:k*d]...) // the first K rows
	want, wantSizes := naiveLloyd(x, d, given, iters)
	shards := split(x, d, 17, 0, 900, 333)
	m, err := Reference(Config{K: k, Init: InitGiven, Given: given, MaxIter: iters}, shards, d, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if m.Iterations != iters {
		t.Fatalf("ran %d iterations, want %d", m.Iterations, iters)
	}
	checkFloats(t, "centroids", m.Centroids, want, 1e-9)
	for q := range k {
		if m.Sizes[q] != wantSizes[q] {
			t.Fatalf("sizes %v, want %v", m.Sizes, wantSizes)
		}
	}
	recompute(t, m, shards)
	for i := 1; i < len(m.History); i++ {
		if m.History[i].Inertia > m.History[i-1].Inertia*(1+1e-12) {
			t.Fatalf("inertia rose from %v to %v at iteration %d", m.History[i-1].Inertia, m.History[i].Inertia, i+1)
		}
	}
}

// A given centroid far from all data owns no row; it is re-seeded to the
// farthest row and every cluster ends non-empty.
func TestEmptyClusterReseeded(t *testing.T) {
	centres := [][]float64{{0, 0}, {10, 0}, {0, 10}}
	const d = 2
	x := blobs(2, centres, 200, 1)
	given := []float64{0, 0, 10, 0, 1000, 1000}
	shards := split(x, d, 150, 150)
	m, err := Reference(Config{K: 3, Init: InitGiven, Given: given, MaxIter: 20, Tol: 1e-6}, shards, d, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if m.History[0].Reseeded != 1 {
		t.Fatalf("history[0] = %+v, want one re-seeded cluster", m.History[0])
	}
	for c, s := range m.Sizes {
		if s == 0 {
			t.Fatalf("cluster %d is empty: sizes %v", c, m.Sizes)
		}
	}
	if m.Centroids[4] > 100 {
		t.Fatalf("cluster 2 still at %v", m.Centroids[4:6])
	}
	recompute(t, m, shards)
}
