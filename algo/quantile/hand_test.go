package quantile

import (
	"slices"
	"testing"
)

// runJob drives a job over shards (each a set of columns) as a leader
// would and returns the final cuts and the number of passes.
func runJob(t testing.TB, cfg Config, shards [][][]float64) ([][]float64, int) {
	t.Helper()
	s, err := New(cfg, len(shards[0]))
	if err != nil {
		t.Fatal(err)
	}
	for {
		task, done := s.Next()
		if done {
			break
		}
		rs := make([]*Result, len(shards))
		for i, cols := range shards {
			if rs[i], err = RunTask(task, cols...); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Absorb(rs); err != nil {
			t.Fatal(err)
		}
	}
	return s.Cuts(), int(s.Step)
}

// Hand-computed: eight values, quartiles at ranks 2, 4, 6, ascending and
// descending, over two shards.
func TestHandQuartiles(t *testing.T) {
	shards := [][][]float64{{{5, 1, 4}}, {{2, 3, 8, 7, 6}}}
	if cuts, _ := runJob(t, Config{Q: 4}, shards); !slices.Equal(cuts[0], []float64{2, 4, 6}) {
		t.Errorf("ascending cuts %v, want [2 4 6]", cuts)
	}
	if cuts, _ := runJob(t, Config{Q: 4, Descending: true}, shards); !slices.Equal(cuts[0], []float64{7, 5, 3}) {
		t.Errorf("descending cuts %v, want [7 5 3]", cuts)
	}
}
