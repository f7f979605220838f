package kmeans

import (
	"errors"
	"math"
	"testing"
)

var planted = [][]float64{{0, 0, 0, 0}, {10, 0, 0, 0}, {0, 10, 0, 0}, {0, 0, 10, 0}, {5, 5, 5, 10}}

// k-means|| finds well separated planted clusters: for seeds 1..5 every
// planted centre has a centroid within 0.1 (blob sd 0.5, 1500 rows each, so
// the sample mean is within about 0.013 per coordinate).
func TestKMeansParallelRecoversBlobs(t *testing.T) {
	const d = 4
	x := blobs(99, planted, 1500, 0.5)
	shards := split(x, d, 2000, 1, 3000)
	for seed := uint64(1); seed <= 5; seed++ {
		cfg := DefaultConfig(len(planted))
		cfg.Seed = seed
		m, err := Reference(cfg, shards, d, nil, 0)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		for i, c := range planted {
			best := math.Inf(1)
			for q := range m.K {
				best = min(best, math.Sqrt(sqDist(c, m.Centroids[q*d:(q+1)*d])))
			}
			if best > 0.1 {
				t.Errorf("seed %d: planted centre %d %v is %v from the nearest centroid; centroids %v", seed, i, c, best, m.Centroids)
			}
		}
		if !m.Converged {
			t.Errorf("seed %d: did not converge in %d iterations", seed, m.Iterations)
		}
		recompute(t, m, shards)
	}
}

// The initial centroids are distinct, and for random init they are data
// rows; check by stepping the state machine to the first Lloyd task.
func TestInitialCentroidsAreDistinctRows(t *testing.T) {
	const d = 4
	x := blobs(5, planted, 300, 0.5)
	shards := split(x, d, 500, 500)
	rows := map[[d]float64]bool{}
	for i := 0; i < len(x)/d; i++ {
		rows[[d]float64(x[i*d:(i+1)*d])] = true
	}
	for _, init := range []string{InitKMeansParallel, InitRandom} {
		for seed := uint64(1); seed <= 5; seed++ {
			s, err := New(Config{K: 7, Init: init, Seed: seed}, d)
			if err != nil {
				t.Fatal(err)
			}
			task := stepUntil(t, s, shards, d, TaskLloyd)
			seen := map[[d]float64]bool{}
			for q := range task.K {
				c := [d]float64(task.C[q*d : (q+1)*d])
				if seen[c] || (init == InitRandom && !rows[c]) {
					t.Fatalf("%s seed %d: initial centroid %d %v is repeated or not a data row", init, seed, q, c)
				}
				seen[c] = true
			}
		}
	}
}

// stepUntil runs passes until the next task has the given kind.
func stepUntil(t *testing.T, s *State, shards [][]float64, d int, kind TaskKind) *Task {
	t.Helper()
	for {
		task, done := s.Next()
		if done {
			t.Fatalf("done before a %s task", kind)
		}
		if task.Kind == kind {
			return task
		}
		absorbAll(t, s, task, shards, d)
	}
}

func absorbAll(t *testing.T, s *State, task *Task, shards [][]float64, d int) {
	t.Helper()
	results := make([]*Result, len(shards))
	for i, x := range shards {
		var err error
		if results[i], err = RunTask(nil, task, x, len(x)/d, d, nil, 0, i); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Absorb(results); err != nil {
		t.Fatal(err)
	}
}

// Random init yields a valid model whose Lloyd inertia never rises.
func TestRandomInit(t *testing.T) {
	const d = 4
	x := blobs(8, planted, 500, 0.5)
	shards := split(x, d, 1000, 700)
	for seed := uint64(1); seed <= 5; seed++ {
		m, err := Reference(Config{K: 5, Init: InitRandom, Seed: seed, Tol: 1e-6, MaxIter: 50}, shards, d, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		recompute(t, m, shards)
		for i := 1; i < len(m.History); i++ {
			if m.History[i].Inertia > m.History[i-1].Inertia*(1+1e-12) {
				t.Fatalf("seed %d: inertia rose at iteration %d: %+v", seed, i+1, m.History)
			}
		}
	}
}

// Data with exactly K distinct rows among many duplicates: both inits must
// find all of them (k-means|| through φ = 0, random through fill rounds),
// and the clustering is then exact.
func TestExactlyKDistinctRows(t *testing.T) {
	const d = 2
	pts := [][]float64{{0, 0}, {1, 0}, {0, 1}, {50, 50}}
	var x []float64
	for i := range 400 {
		switch {
		case i%97 == 5:
			x = append(x, pts[2]...)
		case i == 333:
			x = append(x, pts[3]...)
		default:
			x = append(x, pts[i%2]...)
		}
	}
	shards := split(x, d, 100, 100)
	for _, init := range []string{InitKMeansParallel, InitRandom} {
		for seed := uint64(1); seed <= 3; seed++ {
			m, err := Reference(Config{K: 4, Init: init, Seed: seed}, shards, d, nil, 0)
			if err != nil {
				t.Fatalf("%s seed %d: %v", init, seed, err)
			}
			if m.Inertia != 0 {
				t.Fatalf("%s seed %d: inertia %v, want 0; centroids %v", init, seed, m.Inertia, m.Centroids)
			}
		}
	}
}

func TestTooFewDistinctRows(t *testing.T) {
	const d = 2
	var x []float64
	for i := range 300 {
		x = append(x, float64(i%3), 1)
	}
	for _, init := range []string{InitKMeansParallel, InitRandom} {
		_, err := Reference(Config{K: 4, Init: init}, split(x, d, 100), d, nil, 0)
		if !errors.Is(err, ErrTooFewRows) {
			t.Errorf("%s with 3 distinct rows and K=4: err = %v, want ErrTooFewRows", init, err)
		}
	}
	// -0 and +0 are the same point.
	y := []float64{0, 1, math.Copysign(0, -1), 1, 2, 2}
	if _, err := Reference(Config{K: 3}, [][]float64{y}, d, nil, 0); !errors.Is(err, ErrTooFewRows) {
		t.Errorf("rows (0,1), (-0,1), (2,2) with K=3: err = %v, want ErrTooFewRows", err)
	}
}
