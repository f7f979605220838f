package logistic

import (
	"fmt"
	"math/rand/v2"
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
	x, y, beta []float64
	keys       []string
}

// benchData returns n rows of d roughly normal features, labels drawn from
// a logistic model and that model's coefficients; cached across benchmarks.
func benchData(n, d int) benchInput {
	key := fmt.Sprint(n, "/", d)
	if v, ok := benchCache.Load(key); ok {
		return v.(benchInput)
	}
	r := rand.New(rand.NewPCG(uint64(n), uint64(d)))
	in := benchInput{x: make([]float64, n*d), y: make([]float64, n), beta: make([]float64, d+1), keys: make([]string, n)}
	for j := range d {
		in.beta[j] = r.NormFloat64() / float64(d)
	}
	in.beta[d] = -1
	for i := range n {
		for j := range d {
			in.x[i*d+j] = r.NormFloat64()
		}
		p := sigmoid(Shard{}.margin(in.x[i*d:(i+1)*d], in.beta))
		if r.Float64() < p {
			in.y[i] = 1
		}
		in.keys[i] = "customer-" + strconv.Itoa(i)
	}
	benchCache.Store(key, in)
	return in
}

func (Shard) margin(x, beta []float64) float64 {
	d := len(x)
	eta := beta[d]
	for j, v := range x {
		eta += v * beta[j]
	}
	return eta
}

var benchSizes = []struct{ n, d int }{
	{100_000, 8},
	{1_000_000, 32},
}

// benchTask times one shard's task over n rows.
func benchTask(b *testing.B, kind TaskKind, n, d int, exact bool) {
	in := benchData(n, d)
	t := &Task{Kind: kind, D: d, Beta: in.beta, ClassWeights: [2]float64{1, 1}, ExactTrain: exact}
	var dst *Result
	var err error
	b.SetBytes(int64(n * (d + 1) * 8))
	for b.Loop() {
		if dst, err = RunTask(dst, t, in.x, n, d, in.y, nil, nil, 0); err != nil {
			b.Fatal(err)
		}
	}
	sinkResult = dst
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/row")
}

// BenchmarkNewton times a Newton pass: margins, log-losses, gradient and
// the (d+1)² Hessian.
func BenchmarkNewton(b *testing.B) {
	for _, s := range benchSizes {
		b.Run(fmt.Sprintf("n=%d/d=%d", s.n, s.d), func(b *testing.B) { benchTask(b, TaskNewton, s.n, s.d, false) })
	}
}

// BenchmarkGrad times an L-BFGS pass: margins, log-losses and gradient.
func BenchmarkGrad(b *testing.B) {
	for _, s := range benchSizes {
		b.Run(fmt.Sprintf("n=%d/d=%d", s.n, s.d), func(b *testing.B) { benchTask(b, TaskGrad, s.n, s.d, false) })
	}
}

// BenchmarkEval times the metrics pass, with score histograms and with
// every score listed.
func BenchmarkEval(b *testing.B) {
	s := benchSizes[1]
	b.Run(fmt.Sprintf("n=%d/d=%d/hist", s.n, s.d), func(b *testing.B) { benchTask(b, TaskEval, s.n, s.d, false) })
	b.Run(fmt.Sprintf("n=%d/d=%d/exact", s.n, s.d), func(b *testing.B) { benchTask(b, TaskEval, s.n, s.d, true) })
}

// BenchmarkReference times a whole Newton job over 8 shards.
func BenchmarkReference(b *testing.B) {
	s := benchSizes[0]
	in := benchData(s.n, s.d)
	var shards []Shard
	per := s.n / 8
	for i := range 8 {
		shards = append(shards, Shard{X: in.x[i*per*s.d : (i+1)*per*s.d], Y: in.y[i*per : (i+1)*per]})
	}
	for _, solver := range []string{SolverNewton, SolverLBFGS} {
		b.Run(fmt.Sprintf("n=%d/d=%d/%s", s.n, s.d, solver), func(b *testing.B) {
			for b.Loop() {
				m, err := Reference(Config{Solver: solver}, s.d, shards...)
				if err != nil {
					b.Fatal(err)
				}
				sinkModel = m
			}
		})
	}
}
