package als

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mathcrm/mathcrm/algo/internal/kernel"
)

// Sinks keep the compiler from discarding benchmarked work.
var (
	sinkResult  *Result
	sinkFactors *Factors
	sinkModel   *Model
)

// The benchmark shape of the issue: 100,000 users, 20,000 items, 5,000,000
// interactions, rank 32, the shape of make bench's ratings (Zipf(0.8)
// item popularity, log-normal user activity, a planted rank-32 model),
// generated in process. The whole job against numpy on those files is
// make bench's (mathcrm-bench --only als).
const (
	benchUsers  = 100_000
	benchItems  = 20_000
	benchNNZ    = 5_000_000
	benchRank   = 32
	benchShards = 8
)

type benchSet struct {
	byUser, byItem []*Block
	nnz            int
}

var benchCache sync.Map // key -> *benchSet

// planted generates nnz distinct (user, item) pairs over u users and i
// items with Zipf(0.8) item popularity and log-normal user activity, and
// values from a planted rank-r model: explicit stars round(3 + s + noise)
// clipped to 1..5, or implicit counts 1 + a geometric draw with mean
// exp(0.5 + s). It is deterministic.
func planted(u, i, nnz, r int, implicit bool, seed uint64) (users, items []string, values []float64) {
	rng := rand.New(rand.NewPCG(seed, 99))
	sd := 1 / math.Sqrt(math.Sqrt(float64(r)))
	P := make([]float64, u*r)
	Q := make([]float64, i*r)
	for k := range P {
		P[k] = float64(sd * normish(rng))
	}
	for k := range Q {
		Q[k] = float64(sd * normish(rng))
	}
	// Item popularity: Zipf(0.8) over a random permutation of the items.
	cum := make([]float64, i)
	perm := rng.Perm(i)
	total := 0.0
	for k := range i {
		total += 1 / math.Pow(float64(perm[k]+1), 0.8)
		cum[k] = total
	}
	// User activity: log-normal, scaled to nnz in all, at most i/2 each.
	act := make([]float64, u)
	sum := 0.0
	for k := range act {
		act[k] = math.Exp(normish(rng))
		sum += act[k]
	}
	seen := make(map[int]bool)
	for uu := range u {
		n := min(int(math.Round(act[uu]/sum*float64(nnz))), i/2)
		clear(seen)
		for len(seen) < n {
			x := rng.Float64() * total
			it, _ := slices.BinarySearch(cum, x)
			if seen[it] {
				continue
			}
			seen[it] = true
			s := dot(P[uu*r:(uu+1)*r], Q[it*r:(it+1)*r])
			var v float64
			if implicit {
				mean := math.Exp(0.5 + max(-5, min(4, s)))
				v = 1 + math.Floor(math.Log(1-rng.Float64())/math.Log(mean/(1+mean)))
				v = min(v, 1000)
			} else {
				v = max(1, min(5, math.Round(3+s+0.5*normish(rng))))
			}
			users = append(users, "u"+strconv.Itoa(uu))
			items = append(items, "i"+strconv.Itoa(it))
			values = append(values, v)
		}
	}
	return users, items, values
}

func benchData(b testing.TB, u, i, nnz, r, shards int, implicit bool) *benchSet {
	key := fmt.Sprint(u, i, nnz, r, shards, implicit)
	if v, ok := benchCache.Load(key); ok {
		return v.(*benchSet)
	}
	users, items, values := planted(u, i, nnz, r, implicit, 3)
	bu, bi := BuildBlocks(shards, shardOf(shards), users, items, values)
	set := &benchSet{byUser: bu, byItem: bi, nnz: len(users)}
	benchCache.Store(key, set)
	return set
}

// benchPass prepares a pass of kind over every shard of set (tables and
// preps built once, as a worker keeps them) and returns a function that
// runs it.
func benchPass(b *testing.B, set *benchSet, cfg Config, kind TaskKind) func() {
	// Factors of both sides: a trained-looking state (init, then one users
	// pass), so that counts and values are realistic.
	init := &Task{Kind: TaskInit, Side: Items, Config: cfg}
	items := make([]*Factors, len(set.byItem))
	for s, blk := range set.byItem {
		_, f, err := RunTask(init, blk, nil, nil, nil, s)
		if err != nil {
			b.Fatal(err)
		}
		items[s] = f
	}
	itab, err := NewTable(nil, items)
	if err != nil {
		b.Fatal(err)
	}
	ut := &Task{Kind: TaskUsers, Side: Users, Iteration: 1, Config: cfg}
	users := make([]*Factors, len(set.byUser))
	for s, blk := range set.byUser {
		_, f, err := RunTask(ut, blk, itab, nil, nil, s)
		if err != nil {
			b.Fatal(err)
		}
		users[s] = f
	}
	utab, err := NewTable(nil, users)
	if err != nil {
		b.Fatal(err)
	}
	t, blocks, tab := ut, set.byUser, itab
	if kind == TaskItems {
		t = &Task{Kind: TaskItems, Side: Items, Iteration: 1, Config: cfg}
		blocks, tab = set.byItem, utab
	}
	preps := make([]*Prep, len(blocks))
	for s, blk := range blocks {
		if preps[s], err = Prepare(t, blk, tab); err != nil {
			b.Fatal(err)
		}
	}
	return func() {
		for s, blk := range blocks {
			res, f, err := RunTask(t, blk, tab, preps[s], nil, s)
			if err != nil {
				b.Fatal(err)
			}
			sinkResult, sinkFactors = res, f
		}
	}
}

// BenchmarkHalfIteration times one half-iteration over every shard of the
// bench shape, on one goroutine: the users pass (users solved from item
// factors) and the items pass (items solved from user factors, with the
// objective). ns/interaction is per interaction of the pass.
func BenchmarkHalfIteration(b *testing.B) {
	for _, implicit := range []bool{false, true} {
		for _, kind := range []TaskKind{TaskUsers, TaskItems} {
			name := fmt.Sprintf("explicit/%s/r=%d", kind, benchRank)
			if implicit {
				name = fmt.Sprintf("implicit/%s/r=%d", kind, benchRank)
			}
			b.Run(name, func(b *testing.B) {
				set := benchData(b, benchUsers, benchItems, benchNNZ, benchRank, benchShards, implicit)
				cfg := DefaultConfig()
				cfg.Rank, cfg.Implicit, cfg.Lambda = benchRank, implicit, 1
				if implicit {
					cfg.RegScaling = RegNone
				}
				run := benchPass(b, set, cfg.withDefaults(), kind)
				timePass(b, set.nnz, "interaction", run)
			})
		}
	}
}

// timePass times run, which handles nnz units (interactions, rows),
// reporting wall time and the thread's CPU time per unit: on a shared
// machine the CPU time is the steadier of the two.
func timePass(b *testing.B, nnz int, unit string, run func()) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.ResetTimer()
	cpu0 := threadCPU()
	for b.Loop() {
		run()
	}
	cpu := threadCPU() - cpu0
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(nnz), "ns/"+unit)
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N)/float64(nnz), "cpu-ns/"+unit)
}

// threadCPU returns the CPU time of the calling OS thread.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkRowKernels times the row kernels at the bench rank on every
// path the build and the CPU have: the Gram and right-hand side of a chunk
// of gathered rows (ns/interaction), the factorisation and solve of a
// row's normal equations, eight at a time where the path batches them
// (ns/row), and a dot product (ns/dot).
func BenchmarkRowKernels(b *testing.B) {
	for _, path := range kernelPaths {
		b.Run(fmt.Sprintf("gram/%s/r=%d", path, benchRank), func(b *testing.B) {
			withPath(b, path, func() { benchGram(b, benchRank) })
		})
		b.Run(fmt.Sprintf("factor/%s/r=%d", path, benchRank), func(b *testing.B) {
			withPath(b, path, func() { benchFactor(b, benchRank) })
		})
		b.Run(fmt.Sprintf("dot/%s/r=%d", path, benchRank), func(b *testing.B) {
			withPath(b, path, func() { benchDot(b, benchRank) })
		})
	}
}

func benchDot(b *testing.B, r int) {
	ys, _, _ := kernelSystem(r)
	rp := padRank(r)
	s := 0.0
	timePass(b, 1, "dot", func() { s += dot(ys[:r], ys[rp:rp+r]) })
	sinkFactors = &Factors{F: []float64{s}}
}

// kernelSystem returns chunkRows gathered rows of rank r and the normal
// equations they make with λ = 1.
func kernelSystem(r int) (ys, a, rhs []float64) {
	rng := rand.New(rand.NewPCG(5, 6))
	rp := padRank(r)
	ys = make([]float64, chunkRows*rp)
	for j := range chunkRows {
		for k := range r {
			ys[j*rp+k] = rng.NormFloat64()
		}
	}
	a, rhs = make([]float64, rp*rp), make([]float64, rp)
	accGram(a, nil, r, rp, ys, ys, chunkRows)
	for k := range r {
		a[k*rp+k]++
		rhs[k] = rng.NormFloat64()
	}
	return ys, a, rhs
}

func benchGram(b *testing.B, r int) {
	rp := padRank(r)
	ys, _, _ := kernelSystem(r)
	z := make([]float64, chunkRows)
	a, rhs := make([]float64, rp*rp), make([]float64, rp)
	timePass(b, chunkRows, "interaction", func() {
		accGram(a, a, r, rp, ys, ys, chunkRows)
		accVec(rhs, r, rp, z, ys, chunkRows)
	})
	sinkFactors = &Factors{F: a}
}

func benchFactor(b *testing.B, r int) {
	rp := padRank(r)
	_, a0, b0 := kernelSystem(r)
	a, rhs, x := make([]float64, rp*rp), make([]float64, rp), make([]float64, r)
	bt := kernel.NewALSBatch(r)
	if bt == nil {
		timePass(b, 1, "row", func() {
			copy(a, a0)
			copy(rhs, b0)
			cholesky(a, r, rp)
			cholSolve(a, r, rp, rhs)
		})
		return
	}
	timePass(b, kernel.BatchLanes, "row", func() {
		for l := range kernel.BatchLanes {
			bt.Put(a0, rp, b0, l, x)
		}
		bt.Run()
	})
	sinkFactors = &Factors{F: x}
}
