package als

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/mathcrm/mathcrm/algo/internal/kernel"
)

// withTopNVec runs f on the AVX2 kernels (where the build and the CPU have
// them) or on the portable ones.
func withTopNVec(t testing.TB, on bool, f func()) {
	t.Helper()
	p := kernel.Portable
	if on {
		p = kernel.AVX2
	}
	old := kernel.SetPath(p)
	defer kernel.SetPath(old)
	f()
}

// rankCase is a random item table with ties, untrained items and
// exclusions: item factors drawn from a few values so that scores repeat,
// ids in an order unrelated to the table's.
type rankCase struct {
	items *Table
	users [][]float64
	ex    [][]int32 // table positions, ascending
	exIDs [][]string
}

func newRankCase(t testing.TB, rng *rand.Rand, r, nItems, nUsers, shards int) *rankCase {
	t.Helper()
	perm := rng.Perm(nItems)
	fs := make([]*Factors, shards)
	for s := range fs {
		fs[s] = &Factors{Rank: r}
	}
	for i := range nItems {
		s := i * shards / nItems
		fs[s].IDs = append(fs[s].IDs, fmt.Sprintf("i%05d", perm[i]))
	}
	for _, f := range fs {
		slices.Sort(f.IDs)
		for range f.IDs {
			cold := rng.IntN(7) == 0
			for range r {
				v := float64(rng.IntN(3) - 1)
				if rng.IntN(4) == 0 {
					v = kernelValue(rng)
				}
				if cold {
					v = 0
				}
				f.F = append(f.F, v)
			}
			c := int32(1 + rng.IntN(5))
			if cold {
				c = 0
			}
			f.Count = append(f.Count, c)
		}
	}
	tab, err := NewTable(nil, fs)
	if err != nil {
		t.Fatal(err)
	}
	rc := &rankCase{items: tab}
	for range nUsers {
		u := make([]float64, r)
		for k := range u {
			u[k] = kernelValue(rng)
			if rng.IntN(3) == 0 {
				u[k] = float64(rng.IntN(3) - 1)
			}
		}
		rc.users = append(rc.users, u)
		var ex []int32
		for i := range nItems {
			if rng.IntN(10) == 0 {
				ex = append(ex, int32(i))
			}
		}
		var ids []string
		for _, p := range ex {
			ids = append(ids, tab.IDs[p])
		}
		slices.Sort(ids)
		rc.ex = append(rc.ex, ex)
		rc.exIDs = append(rc.exIDs, ids)
	}
	return rc
}

func sameScored(a, b []Scored) bool {
	return slices.EqualFunc(a, b, func(x, y Scored) bool { return x.ID == y.ID && sameBits(x.Score, y.Score) })
}

// TestRankerMatchesTopN: Ranker.TopN returns, for every user, exactly
// what TopN returns (ids, order and score bits), on both paths, for ranks
// around the multiples of eight, item counts around the panel, chunk and
// batch sizes, n up to more than the items, with and without exclusions.
func TestRankerMatchesTopN(t *testing.T) {
	if !slices.Contains(kernel.Paths(), kernel.AVX2) {
		t.Log("no AVX2 top-N in this build or on this CPU: comparing the portable path with TopN")
	}
	rng := rand.New(rand.NewPCG(31, 32))
	var s RankScratch
	var got []Scored
	var want []Scored
	for _, r := range []int{1, 3, 8, 9, 16, 31, 32, 33, 64} {
		for _, nItems := range []int{1, 3, 4, 5, 8, 63, 64, 65, 130, 300} {
			nUsers := 1 + rng.IntN(2*rankUsers+3)
			rc := newRankCase(t, rng, r, nItems, nUsers, 1+rng.IntN(3))
			rk := NewRanker(rc.items)
			ends := make([]int, nUsers)
			for _, n := range []int{1, 3, 10, nItems + 5} {
				for _, excl := range []bool{false, true} {
					for _, vec := range []bool{false, true} {
						var ex [][]int32
						if excl {
							ex = rc.ex
						}
						withTopNVec(t, vec, func() { got = rk.TopN(got, ends, rc.users, ex, n, &s) })
						lo := 0
						for i, u := range rc.users {
							var exIDs []string
							if excl {
								exIDs = rc.exIDs[i]
							}
							want = TopN(want, u, rc.items, exIDs, n)
							if !sameScored(got[lo:ends[i]], want) {
								t.Fatalf("r=%d items=%d n=%d excl=%v vec=%v user %d: Ranker %v, TopN %v",
									r, nItems, n, excl, vec, i, got[lo:ends[i]], want)
							}
							lo = ends[i]
						}
					}
				}
			}
		}
	}
}

// TestRankerTies: with every score equal, the top is the smallest ids, in
// order, whatever the table order.
func TestRankerTies(t *testing.T) {
	f := &Factors{Rank: 2}
	for i := range 100 {
		f.IDs = append(f.IDs, strconv.Itoa(1000+i))
		f.F = append(f.F, 1, 1)
		f.Count = append(f.Count, 1)
	}
	g := &Factors{Rank: 2, IDs: []string{"0998", "0999"}, F: []float64{1, 1, 1, 1}, Count: []int32{1, 1}}
	tab, err := NewTable(nil, []*Factors{f, g})
	if err != nil {
		t.Fatal(err)
	}
	rk := NewRanker(tab)
	ends := make([]int, 1)
	got := rk.TopN(nil, ends, [][]float64{{0.5, 0.25}}, [][]int32{{100}}, 3, &RankScratch{})
	if fmt.Sprint(got) != "[{0999 0.75} {1000 0.75} {1001 0.75}]" || ends[0] != 3 {
		t.Errorf("TopN = %v, ends %v", got, ends)
	}
}

// TestRankerNaN: a score that is NaN (an overflow of ∞ − ∞) enters a top
// that is not full, and no other, as in TopN.
func TestRankerNaN(t *testing.T) {
	big := math.MaxFloat64
	f := &Factors{Rank: 2, IDs: []string{"a", "b", "c", "d"}, F: []float64{big, -big, 1, 0, 2, 0, 3, 0}, Count: []int32{1, 1, 1, 1}}
	tab, err := NewTable(nil, []*Factors{f})
	if err != nil {
		t.Fatal(err)
	}
	rk := NewRanker(tab)
	u := []float64{2, 2}
	for _, n := range []int{1, 2, 5} {
		for _, vec := range []bool{false, true} {
			var got []Scored
			withTopNVec(t, vec, func() { got = rk.TopN(nil, make([]int, 1), [][]float64{u}, nil, n, &RankScratch{}) })
			if want := TopN(nil, u, tab, nil, n); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("n=%d vec=%v: Ranker %v, TopN %v", n, vec, got, want)
			}
		}
	}
}

// TestRankerAllocs: TopN allocates nothing once its scratch and buffers
// have grown.
func TestRankerAllocs(t *testing.T) {
	rc := newRankCase(t, rand.New(rand.NewPCG(1, 2)), 32, 500, 100, 2)
	rk := NewRanker(rc.items)
	var s RankScratch
	ends := make([]int, len(rc.users))
	dst := rk.TopN(nil, ends, rc.users, rc.ex, 10, &s)
	if a := testing.AllocsPerRun(5, func() { dst = rk.TopN(dst, ends, rc.users, rc.ex, 10, &s) }); a != 0 {
		t.Errorf("%v allocations per TopN", a)
	}
}

var rankSink []Scored

// BenchmarkTopN ranks 20,000 items (a seventh untrained) for users at
// rank 32, top 10, 50 exclusions per user: the batched Ranker against
// TopN one user at a time. The per-user figure times 100,000 is the
// whole population on one core.
func BenchmarkTopN(b *testing.B) {
	const r, nItems, nUsers, n = 32, 20000, 512, 10
	rng := rand.New(rand.NewPCG(5, 6))
	f := &Factors{Rank: r}
	for i := range nItems {
		f.IDs = append(f.IDs, fmt.Sprintf("i%05d", i))
		c := int32(1 + rng.IntN(9))
		if i%7 == 0 {
			c = 0
		}
		for range r {
			v := rng.NormFloat64() * 0.3
			if c == 0 {
				v = 0
			}
			f.F = append(f.F, v)
		}
		f.Count = append(f.Count, c)
	}
	items, err := NewTable(nil, []*Factors{f})
	if err != nil {
		b.Fatal(err)
	}
	users := make([][]float64, nUsers)
	ex := make([][]int32, nUsers)
	exIDs := make([][]string, nUsers)
	for i := range users {
		users[i] = make([]float64, r)
		for k := range users[i] {
			users[i][k] = rng.NormFloat64() * 0.3
		}
		for range 50 {
			ex[i] = append(ex[i], int32(rng.IntN(nItems)))
		}
		slices.Sort(ex[i])
		ex[i] = slices.Compact(ex[i])
		for _, p := range ex[i] {
			exIDs[i] = append(exIDs[i], items.IDs[p])
		}
		slices.Sort(exIDs[i])
	}
	b.Run("ranker", func(b *testing.B) {
		rk := NewRanker(items)
		var s RankScratch
		ends := make([]int, nUsers)
		for b.Loop() {
			rankSink = rk.TopN(rankSink, ends, users, ex, n, &s)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*nUsers), "ns/user")
	})
	b.Run("topn", func(b *testing.B) {
		for b.Loop() {
			for i, u := range users {
				rankSink = TopN(rankSink, u, items, exIDs[i], n)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*nUsers), "ns/user")
	})
}
