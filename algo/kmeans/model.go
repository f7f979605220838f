package kmeans

import "github.com/mathcrm/mathcrm/algo/step"

// Model is the result of a k-means job.
type Model struct {
	K int `json:"k"`
	D int `json:"d"`
	// Centroids holds K*D centroids in training space, row-major.
	Centroids []float64 `json:"centroids"`
	// Sizes holds the number of rows nearest each centroid.
	Sizes []int64 `json:"sizes"`
	// Inertia is Σ of squared distances of rows to their final centroid.
	Inertia float64 `json:"inertia"`
	// Iterations is the number of Lloyd iterations run.
	Iterations int `json:"iterations"`
	// Converged reports that the last shift was at most Tol (Tol > 0).
	Converged bool `json:"converged"`
	// P is the number of profile columns.
	P int `json:"p"`
	// Profile holds K*P per-cluster means of the profile columns in original
	// units; a cluster with no non-missing value in a column gets 0 there
	// and ProfileCount 0.
	Profile      []float64 `json:"profile,omitempty"`
	ProfileCount []int64   `json:"profile_count,omitempty"`
	// History holds one entry per Lloyd iteration.
	History []Iter `json:"history,omitempty"`
}

// Iter records one Lloyd iteration.
type Iter struct {
	// Inertia of the pass, with respect to the centroids it started from.
	Inertia float64 `json:"inertia"`
	// Shift is the largest Euclidean move of a centroid in the update.
	Shift float64 `json:"shift"`
	// Reseeded counts empty clusters moved to far rows in the update.
	Reseeded int `json:"reseeded"`
}

// Reference runs the whole state machine in one process over shards in
// order: shards[i] is shard i's n_i×d row-major matrix and profs[i] its
// n_i×p profile matrix (profs may be nil when p is 0). p overrides
// cfg.NProfile. The model is bit-identical to a distributed run over the same
// shards.
func Reference(cfg Config, shards [][]float64, d int, profs [][]float64, p int) (*Model, error) {
	if d < 1 {
		return nil, errorf(ErrShape, "need at least 1 training column, got %d", d)
	}
	if p < 0 || (p > 0 && len(profs) != len(shards)) {
		return nil, errorf(ErrShape, "%d profile matrices for %d shards with p=%d", len(profs), len(shards), p)
	}
	for i, x := range shards {
		if len(x)%d != 0 {
			return nil, errorf(ErrShape, "shard %d holds %d values, not a multiple of d=%d", i, len(x), d)
		}
		if p > 0 && len(profs[i]) != len(x)/d*p {
			return nil, errorf(ErrShape, "shard %d has %d rows but %d profile values for p=%d", i, len(x)/d, len(profs[i]), p)
		}
	}
	cfg.NProfile = p
	s, err := New(cfg, d)
	if err != nil {
		return nil, err
	}
	err = step.Run(s, len(shards), func(prev *Result, t *Task, i int) (*Result, error) {
		var prof []float64
		if p > 0 {
			prof = profs[i]
		}
		return RunTask(prev, t, shards[i], len(shards[i])/d, d, prof, p, i)
	})
	if err != nil {
		return nil, err
	}
	return s.Model(), nil
}
