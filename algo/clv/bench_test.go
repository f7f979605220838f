package clv

import (
	"fmt"
	"math"
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

// BenchmarkScoreShard is a scoring job's work on its shards' summaries:
// the generated customers with tₓ and T in whole days, as summaries of
// dated purchases are, the first purchases spread over 366 days.
func BenchmarkScoreShard(b *testing.B) {
	m := &Model{Config: Config{CalibrationEnd: cdnowCalEnd, TimeUnit: Week},
		Purchase: FittedParams{Model: BGNBD, Values: []float64{1.0, 14.3, 0.99, 2.47}},
		Spend:    FittedParams{Model: GammaGamma, Values: []float64{6.03, 3.98, 14.9}}}
	sc := ScoreConfigOf(Week, 52, DefaultDiscountRate)
	benchSizes(b, func(b *testing.B, shards []*Summaries) {
		for _, s := range shards {
			if len(s.Keys) > 0 && s.T[0] != math.Round(s.T[0]*7)/7 {
				for c := range s.Keys {
					s.T[c] = math.Round(s.T[c]*7*14) / 7 // 366 days of first purchases
					s.Tx[c] = min(math.Round(s.Tx[c]*7)/7, s.T[c])
				}
			}
			_, out, _, err := scoreShard(m, s, sc)
			if err != nil {
				b.Fatal(err)
			}
			scoreSink = out
		}
	})
}
