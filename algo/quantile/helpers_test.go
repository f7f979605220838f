package quantile

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
)

// dists draw values from continuous to heavily tied, with the floats that
// are hard for a key-space search: signed zeros, subnormals, neighbours,
// both ends of the range, infinities and NaNs.
var dists = map[string]func(r *rand.Rand) float64{
	"probability": func(r *rand.Rand) float64 { return 1 / (1 + math.Exp(-r.NormFloat64()*2)) },
	"lognormal":   func(r *rand.Rand) float64 { return math.Round(math.Exp(r.NormFloat64()*1.5+3)*100) / 100 },
	"few":         func(r *rand.Rand) float64 { return []float64{1, 2, 5}[r.IntN(3)] },
	"constant":    func(r *rand.Rand) float64 { return 10 },
	"zeros": func(r *rand.Rand) float64 {
		return []float64{0, math.Copysign(0, -1), 0, math.Copysign(0, -1), 1, -1}[r.IntN(6)]
	},
	"subnormal": func(r *rand.Rand) float64 {
		x := math.Float64frombits(uint64(r.IntN(8)))
		if r.IntN(2) == 0 {
			x = -x
		}
		return x
	},
	"extremes": func(r *rand.Rand) float64 {
		return []float64{math.MaxFloat64, -math.MaxFloat64, math.Inf(1), math.Inf(-1), math.SmallestNonzeroFloat64,
			-math.SmallestNonzeroFloat64, 1e300, -1e-300, math.Nextafter(math.MaxFloat64, 0), 0}[r.IntN(10)]
	},
	"neighbours": func(r *rand.Rand) float64 {
		x := 1.0
		for range r.IntN(40) {
			x = math.Nextafter(x, 2)
		}
		return x
	},
	"wide": func(r *rand.Rand) float64 {
		x := math.Ldexp(r.Float64(), r.IntN(2000)-1000)
		if r.IntN(2) == 0 {
			x = -x
		}
		return x
	},
	"nans": func(r *rand.Rand) float64 {
		if r.IntN(3) == 0 {
			return math.Float64frombits(0x7ff8000000000000 | uint64(r.IntN(100)) | uint64(r.IntN(2))<<63) // NaNs of either sign
		}
		return float64(r.IntN(20))
	},
}

func init() {
	// mixed draws from all the others, so each shard sees several scales.
	names := []string{"probability", "few", "zeros", "subnormal", "extremes", "neighbours", "wide", "nans"}
	dists["mixed"] = func(r *rand.Rand) float64 { return dists[names[r.IntN(len(names))]](r) }
}

func draw(r *rand.Rand, dist string, n int) []float64 {
	f := dists[dist]
	v := make([]float64, n)
	for i := range v {
		v[i] = f(r)
	}
	return v
}

// split deals values into n shards at random, keeping no order.
func split(r *rand.Rand, values []float64, n int) [][]float64 {
	out := make([][]float64, n)
	for _, x := range values {
		i := r.IntN(n)
		out[i] = append(out[i], x)
	}
	return out
}

// oracle sorts a column's non-NaN values in rank order with the sort
// package and takes the value at nearest rank ⌈j·N/Q⌉, computed in
// floating point; a zero is reported as +0.
func oracle(values []float64, q int, descending bool) []float64 {
	var v []float64
	for _, x := range values {
		if !math.IsNaN(x) {
			v = append(v, x)
		}
	}
	if len(v) == 0 {
		return nil
	}
	if descending {
		sort.Sort(sort.Reverse(sort.Float64Slice(v)))
	} else {
		sort.Float64s(v)
	}
	cuts := make([]float64, q-1)
	for j := 1; j < q; j++ {
		x := v[int(math.Ceil(float64(j)*float64(len(v))/float64(q)))-1]
		if x == 0 {
			x = 0
		}
		cuts[j-1] = x
	}
	return cuts
}

// sameBits reports whether a and b hold the same float64s bit for bit.
func sameBits(a, b []float64) bool {
	return slices.EqualFunc(a, b, func(x, y float64) bool { return math.Float64bits(x) == math.Float64bits(y) })
}

// job runs a job over shards (shards[i][c] is shard i's column c) as a
// leader would, round-tripping every Task, Result and the State through
// JSON (a new leader resuming each pass). It checks every Result's size
// and the pass bound, and returns the final State and the Tasks sent.
func job(t testing.TB, cfg Config, shards [][][]float64) (*State, []*Task) {
	t.Helper()
	cols := len(shards[0])
	s, err := New(cfg, cols)
	if err != nil {
		t.Fatal(err)
	}
	var tasks []*Task
	for {
		task, done := s.Next()
		if done {
			break
		}
		task = roundTrip(t, task)
		tasks = append(tasks, task)
		rs := make([]*Result, len(shards))
		for i, vals := range shards {
			res, err := RunTask(task, vals...)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Hist) > cols*(cfg.Q-1) || s.Step == 0 && len(res.Hist) != cols {
				t.Fatalf("pass %d: %d histograms for %d columns, Q %d", s.Step, len(res.Hist), cols, cfg.Q)
			}
			for _, h := range res.Hist {
				if len(h.Bin) > NumBins {
					t.Fatalf("pass %d: %d bins", s.Step, len(h.Bin))
				}
			}
			rs[i] = roundTrip(t, res)
		}
		if err := s.Absorb(rs); err != nil {
			t.Fatal(err)
		}
		s = roundTrip(t, s)
		if s.Step > 8 {
			t.Fatalf("%d passes, the bound is 8", s.Step)
		}
	}
	return s, tasks
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func roundTrip[T any](t testing.TB, v *T) *T {
	t.Helper()
	out := new(T)
	if err := json.Unmarshal([]byte(mustJSON(t, v)), out); err != nil {
		t.Fatal(err)
	}
	return out
}

// checkBuckets holds Bucket to its closed form 1 + ⌊Q·A/N⌋ for every
// value, A the number of values strictly ahead in rank order, and NaN to 0.
func checkBuckets(t *testing.T, values, cuts []float64, q int, descending bool) {
	t.Helper()
	var v []float64
	for _, x := range values {
		if !math.IsNaN(x) {
			v = append(v, x)
		}
	}
	sort.Float64s(v)
	n := len(v)
	for _, x := range values {
		got := Bucket(cuts, x, descending)
		want := 0
		if !math.IsNaN(x) {
			var ahead int
			if descending {
				ahead = n - sort.Search(n, func(k int) bool { return v[k] > x })
			} else {
				ahead = sort.Search(n, func(k int) bool { return v[k] >= x })
			}
			want = 1 + q*ahead/n
		}
		if got != want {
			t.Fatalf("Bucket(%v, descending %v) = %d, want %d (Q %d, N %d)", x, descending, got, want, q, n)
		}
	}
}
