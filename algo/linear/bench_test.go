package linear

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"strconv"
	"sync"
	"testing"
)

// Sinks keep the compiler from discarding benchmarked work.
var (
	sinkResult *Result
	sinkModel  *Model
)

var benchCache sync.Map // "n/d" -> benchInput

type benchInput struct {
	x, y []float64
	keys []string
}

// benchData returns n rows of d roughly normal features, a linear target
// with noise and keys; cached across benchmarks.
func benchData(n, d int) benchInput {
	key := fmt.Sprint(n, "/", d)
	if v, ok := benchCache.Load(key); ok {
		return v.(benchInput)
	}
	r := rand.New(rand.NewPCG(uint64(n), uint64(d)))
	in := benchInput{x: make([]float64, n*d), y: make([]float64, n), keys: make([]string, n)}
	for i := range n {
		s := 0.0
		for j := range d {
			v := r.NormFloat64()
			in.x[i*d+j] = v
			s += float64(j%5) * v
		}
		in.y[i] = s + r.NormFloat64()
		in.keys[i] = "customer-" + strconv.Itoa(i)
	}
	benchCache.Store(key, in)
	return in
}

var benchSizes = []struct{ n, d int }{
	{100_000, 8},
	{1_000_000, 32},
}

// benchTask times one shard's task over n rows; holdout > 0 also hashes
// every row's key, and unit > 0 asks an eval pass for residual histograms.
func benchTask(b *testing.B, kind TaskKind, n, d int, holdout float64, unit ...float64) {
	in := benchData(n, d)
	t := &Task{Kind: kind, D: d, Holdout: holdout, Coefficients: make([]float64, d)}
	if len(unit) > 0 {
		t.ResidualUnit = unit[0]
	}
	var keys []string
	if holdout > 0 {
		keys = in.keys
	}
	var dst *Result
	var err error
	b.SetBytes(int64(n * (d + 1) * 8))
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cpu0 := threadCPU()
	for b.Loop() {
		if dst, err = RunTask(dst, t, in.x, n, d, in.y, nil, keys, 0); err != nil {
			b.Fatal(err)
		}
	}
	sinkResult = dst
	cpu := threadCPU() - cpu0
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/row")
	b.ReportMetric(float64(cpu)/float64(b.N)/float64(n), "cpu-ns/row")
}

// BenchmarkGram times the fitting pass: means, centring and the (d+1)²
// cross-products.
func BenchmarkGram(b *testing.B) {
	for _, s := range benchSizes {
		b.Run(fmt.Sprintf("n=%d/d=%d", s.n, s.d), func(b *testing.B) { benchTask(b, TaskGram, s.n, s.d, 0) })
	}
	s := benchSizes[1]
	b.Run(fmt.Sprintf("n=%d/d=%d/holdout", s.n, s.d), func(b *testing.B) { benchTask(b, TaskGram, s.n, s.d, 0.2) })
}

// BenchmarkEval times the metrics pass, without and with residual
// histograms.
func BenchmarkEval(b *testing.B) {
	for _, s := range benchSizes {
		b.Run(fmt.Sprintf("n=%d/d=%d", s.n, s.d), func(b *testing.B) { benchTask(b, TaskEval, s.n, s.d, 0) })
		b.Run(fmt.Sprintf("n=%d/d=%d/residuals", s.n, s.d), func(b *testing.B) { benchTask(b, TaskEval, s.n, s.d, 0, 1.5) })
	}
}

// BenchmarkAddGram times the bare kernel over n rows of d+1 columns, fed
// in the L1-sized chunks runGram uses: the floor of a gram pass.
func BenchmarkAddGram(b *testing.B) {
	for _, s := range benchSizes {
		d := s.d + 1
		st := GramStride(d)
		chunk := max(8, gramBlockFloats/st)
		a := make([]float64, chunk*st)
		for i := range a {
			a[i] = math.Sin(float64(i))
		}
		g := make([]float64, st*st)
		b.Run(fmt.Sprintf("n=%d/d=%d", s.n, d), func(b *testing.B) {
			for b.Loop() {
				for lo := 0; lo < s.n; lo += chunk {
					AddGram(g, a, a, chunk, d)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(s.n), "ns/row")
		})
	}
}

// BenchmarkReference times a whole job over 8 shards.
func BenchmarkReference(b *testing.B) {
	s := benchSizes[0]
	in := benchData(s.n, s.d)
	var shards []Shard
	per := s.n / 8
	for i := range 8 {
		shards = append(shards, Shard{X: in.x[i*per*s.d : (i+1)*per*s.d], Y: in.y[i*per : (i+1)*per]})
	}
	b.Run(fmt.Sprintf("n=%d/d=%d", s.n, s.d), func(b *testing.B) {
		for b.Loop() {
			m, err := Reference(Config{Lambda: 1}, s.d, shards...)
			if err != nil {
				b.Fatal(err)
			}
			sinkModel = m
		}
	})
}
