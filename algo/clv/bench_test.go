package clv

import (
	"fmt"
	"testing"
)

// benchSink keeps benchmark results alive.
var benchSink *Model

// benchSizes runs f for each generated set size, the summaries split into
// two shards.
func benchSizes(b *testing.B, f func(b *testing.B, shards []*Summaries)) {
	for _, n := range []int{10_000, 100_000, 1_000_000} {
		if testing.Short() && n > 100_000 {
			continue
		}
		shards := generate(7, n, 2)
		b.Run(fmt.Sprintf("customers=%d", n), func(b *testing.B) {
			for b.Loop() {
				f(b, shards)
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "customers/s")
		})
	}
}

// BenchmarkFit fits BG/NBD and Gamma-Gamma on generated summaries (the
// summaries are not rebuilt from transactions).
func BenchmarkFit(b *testing.B) {
	benchSizes(b, func(b *testing.B, shards []*Summaries) {
		m, err := fitSummaries(Config{CalibrationEnd: cdnowCalEnd}, shards)
		if err != nil {
			b.Fatal(err)
		}
		benchSink = m
	})
}

// BenchmarkPass is one evaluation pass of both fits over every customer.
func BenchmarkPass(b *testing.B) {
	benchSizes(b, func(b *testing.B, shards []*Summaries) {
		t := &Task{CalibrationEnd: cdnowCalEnd, TimeUnit: Week, Evals: []Eval{
			{Model: BGNBD, LogParams: []float64{-1.4, 1.4, -0.2, 0.9}},
			{Model: GammaGamma, LogParams: []float64{1.8, 1.4, 2.7}},
		}}
		for i, s := range shards {
			if _, err := runOn(t, s, i); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// scoreSink keeps scoring results alive.
var scoreSink []Scores

// BenchmarkScore scores every customer (P(alive), expected purchases over
// 52 weeks, expected spend, 12-month CLV) with CDNOW's published fits.
func BenchmarkScore(b *testing.B) {
	m := &Model{Config: Config{CalibrationEnd: cdnowCalEnd, TimeUnit: Week},
		Purchase: FittedParams{Model: BGNBD, Values: []float64{0.243, 4.414, 0.793, 2.426}},
		Spend:    FittedParams{Model: GammaGamma, Values: []float64{6.25, 3.74, 15.44}}}
	sc := ScoreConfigOf(Week, 52, DefaultDiscountRate)
	benchSizes(b, func(b *testing.B, shards []*Summaries) {
		for _, s := range shards {
			out, err := m.Score(scoreSink[:0], s, sc)
			if err != nil {
				b.Fatal(err)
			}
			scoreSink = out
		}
	})
}
