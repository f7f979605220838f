package quantile

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

var benchSink *Result

// shardValues is one shard of a ten-million-row scoring job over 64
// workers: 156,250 predicted probabilities, a few of them missing.
func shardValues(n int) []float64 {
	r := rand.New(rand.NewPCG(15, 16))
	v := make([]float64, n)
	for i := range v {
		v[i] = 1 / (1 + math.Exp(-(r.NormFloat64()*1.5 - 2)))
		if r.IntN(1000) == 0 {
			v[i] = math.NaN()
		}
	}
	return v
}

// benchRunTask times one shard's answer to the task of each pass of a job
// over that shard alone; ns/value is per value read.
func benchRunTask(b *testing.B, n int, cfg Config) {
	vals := shardValues(n)
	s, err := New(cfg, 1)
	if err != nil {
		b.Fatal(err)
	}
	for !s.Done() {
		task, _ := s.Next()
		b.Run(fmt.Sprintf("pass%d-%dbrackets", s.Step, len(task.Brackets)), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				r, err := RunTask(task, vals)
				if err != nil {
					b.Fatal(err)
				}
				benchSink = r
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/value")
		})
		r, err := RunTask(task, vals)
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Absorb([]*Result{r}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRunTaskDeciles156k(b *testing.B) {
	benchRunTask(b, 156_250, Config{Q: 10, Descending: true})
}
func BenchmarkRunTaskPercentiles156k(b *testing.B) { benchRunTask(b, 156_250, Config{Q: 100}) }
