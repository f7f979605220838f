package kmeans

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"

	"github.com/mathcrm/mathcrm/algo/internal/kernel"
)

// Sinks keep the compiler from discarding benchmarked work.
var (
	sinkResult *Result
	sinkModel  *Model
)

var benchCache sync.Map // "n/d/k" -> benchInput

type benchInput struct{ x, c []float64 }

// benchData returns n roughly normal rows around k roughly normal centres
// (so the clusters overlap, as in standardised real data) and k rows as
// centroids; cached across benchmarks.
func benchData(n, d, k int) benchInput {
	key := fmt.Sprint(n, "/", d, "/", k)
	if v, ok := benchCache.Load(key); ok {
		return v.(benchInput)
	}
	r := rand.New(rand.NewPCG(uint64(n), uint64(d*1000+k)))
	centres := make([]float64, k*d)
	for i := range centres {
		centres[i] = 2 * normish(r)
	}
	x := make([]float64, n*d)
	for i := range n {
		c := r.IntN(k)
		for j := range d {
			x[i*d+j] = centres[c*d+j] + normish(r)
		}
	}
	in := benchInput{x: x, c: append([]float64(nil), x[:k*d]...)}
	benchCache.Store(key, in)
	return in
}

var benchSizes = []struct{ n, d, k int }{
	{100_000, 16, 16},
	{1_000_000, 16, 16},
}

// benchTask times one shard's task of the given kind over n rows.
func benchTask(b *testing.B, kind TaskKind, n, d, k int) {
	if !fmaNative && kernel.Current() == kernel.Portable {
		b.Log("GOAMD64 < v3: every math.FMA tests a CPU flag; build with GOAMD64=v3 for full speed")
	}
	in := benchData(n, d, k)
	t := &Task{Kind: kind, K: k, D: d, C: in.c, Far: k}
	var dst *Result
	var err error
	b.SetBytes(int64(n * d * 8))
	b.ResetTimer()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cpu0 := threadCPU()
	for b.Loop() {
		if dst, err = RunTask(dst, t, in.x, n, d, nil, 0, 0); err != nil {
			b.Fatal(err)
		}
	}
	sinkResult = dst
	cpu := threadCPU() - cpu0
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/row")
	b.ReportMetric(float64(cpu)/float64(b.N)/float64(n), "cpu-ns/row")
}

// BenchmarkLloyd times one Lloyd pass over one shard: assignment, sums,
// counts, exact inertia and the farthest rows.
func BenchmarkLloyd(b *testing.B) {
	for _, s := range benchSizes {
		b.Run(fmt.Sprintf("n=%d/d=%d/k=%d", s.n, s.d, s.k), func(b *testing.B) {
			benchTask(b, TaskLloyd, s.n, s.d, s.k)
		})
	}
}

// BenchmarkFinal times the final assignment pass (no profile columns).
func BenchmarkFinal(b *testing.B) {
	s := benchSizes[0]
	b.Run(fmt.Sprintf("n=%d/d=%d/k=%d", s.n, s.d, s.k), func(b *testing.B) {
		benchTask(b, TaskFinal, s.n, s.d, s.k)
	})
}

// BenchmarkReference times a whole job (k-means|| and 10 Lloyd iterations)
// over 4 shards.
func BenchmarkReference(b *testing.B) {
	s := benchSizes[0]
	in := benchData(s.n, s.d, s.k)
	shards := split(in.x, s.d, s.n/4, s.n/4, s.n/4)
	cfg := Config{K: s.k, MaxIter: 10, Seed: 1}
	b.Run(fmt.Sprintf("n=%d/d=%d/k=%d", s.n, s.d, s.k), func(b *testing.B) {
		for b.Loop() {
			m, err := Reference(cfg, shards, s.d, nil, 0)
			if err != nil {
				b.Fatal(err)
			}
			sinkModel = m
		}
	})
}

// BenchmarkPaths times a Lloyd pass and Assign (labels and exact
// distances, as scoring uses it) over 100,000 rows on each kernel path the
// build and CPU have.
func BenchmarkPaths(b *testing.B) {
	s := benchSizes[0]
	in := benchData(s.n, s.d, s.k)
	for _, p := range kernelPaths {
		b.Run(fmt.Sprintf("path=%s/lloyd/n=%d/d=%d/k=%d", p, s.n, s.d, s.k), func(b *testing.B) {
			withPath(b, p, func() { benchTask(b, TaskLloyd, s.n, s.d, s.k) })
		})
		b.Run(fmt.Sprintf("path=%s/assign/n=%d/d=%d/k=%d", p, s.n, s.d, s.k), func(b *testing.B) {
			withPath(b, p, func() {
				lab, dist := make([]int, s.n), make([]float64, s.n)
				b.SetBytes(int64(s.n * s.d * 8))
				for b.Loop() {
					lab, dist = Assign(lab, dist, in.c, s.k, s.d, in.x)
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(s.n), "ns/row")
			})
		})
	}
}
