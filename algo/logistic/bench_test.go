package logistic

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"strconv"
	"sync"
	"testing"

	"github.com/mathcrm/mathcrm/algo/internal/kernel"
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
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cpu0 := threadCPU()
	for b.Loop() {
		if dst, err = RunTask(dst, t, in.x, n, d, in.y, nil, nil, 0); err != nil {
			b.Fatal(err)
		}
	}
	sinkResult = dst
	cpu := threadCPU() - cpu0
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/row")
	b.ReportMetric(float64(cpu)/float64(b.N)/float64(n), "cpu-ns/row")
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
	b.Run(fmt.Sprintf("n=%d/d=%d/exact/shards=64", s.n, s.d), func(b *testing.B) { benchShards(b, TaskEval, s.n, s.d, 64, true) })
}

// benchShards times a task over n rows split into shards of equal size,
// as a cluster runs it (an exact eval pass sorts each shard's scores).
func benchShards(b *testing.B, kind TaskKind, n, d, shards int, exact bool) {
	in := benchData(n, d)
	t := &Task{Kind: kind, D: d, Beta: in.beta, ClassWeights: [2]float64{1, 1}, ExactTrain: exact}
	per := n / shards
	var dst *Result
	var err error
	b.SetBytes(int64(per * shards * (d + 1) * 8))
	for b.Loop() {
		for i := range shards {
			lo := i * per
			if dst, err = RunTask(nil, t, in.x[lo*d:], per, d, in.y[lo:], nil, nil, i); err != nil {
				b.Fatal(err)
			}
		}
	}
	sinkResult = dst
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(per*shards), "ns/row")
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

// BenchmarkExactAUC times the leader's exact AUC over 1M rows from 64
// shards, listed as the workers list them (sorted) and in row order (as
// workers of earlier builds did, which the leader sorts itself).
func BenchmarkExactAUC(b *testing.B) {
	s := benchSizes[1]
	in := benchData(s.n, s.d)
	const shards = 64
	per := s.n / shards
	t := &Task{Kind: TaskEval, D: s.d, Beta: in.beta, ClassWeights: [2]float64{1, 1}, ExactTrain: true}
	var sorted, listed []*SetSums
	for i := range shards {
		r, err := RunTask(nil, t, in.x[i*per*s.d:], per, s.d, in.y[i*per:], nil, nil, i)
		if err != nil {
			b.Fatal(err)
		}
		sorted = append(sorted, r.Train)
		// The same rows in row order: the scores of the shard's rows.
		u := &SetSums{Scores: make([]float64, per), Labels: make([]bool, per)}
		for q := range per {
			row := in.x[(i*per+q)*s.d : (i*per+q+1)*s.d]
			u.Scores[q], u.Labels[q] = sigmoid(Shard{}.margin(row, in.beta)), in.y[i*per+q] == 1
		}
		listed = append(listed, u)
	}
	for _, c := range []struct {
		name  string
		parts []*SetSums
	}{{"sorted", sorted}, {"rows", listed}} {
		b.Run(fmt.Sprintf("n=%d/%s", s.n, c.name), func(b *testing.B) {
			for b.Loop() {
				sinkAUC, _ = exactAUC(c.parts)
			}
		})
	}
}

var sinkAUC float64

// BenchmarkLossBlock times the log-loss of a block of margins (expNeg,
// log1pUnit and rowLoss) on each path of the kernels, the rows in cache.
func BenchmarkLossBlock(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	var blk lossBlock
	y := make([]float64, marginBlock)
	for q := range marginBlock {
		blk.eta[q] = r.NormFloat64() * 2
		y[q] = float64(r.IntN(2))
	}
	for _, path := range kernelPaths {
		b.Run(path.String(), func(b *testing.B) {
			withPath(b, path, func() {
				for b.Loop() {
					kernel.LogLoss(blk.eta[:], y, blk.l[:], blk.res[:], blk.curv[:], blk.p[:])
				}
			})
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/marginBlock, "ns/row")
		})
	}
}
