package clv

import (
	"fmt"
	"math"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"gonum.org/v1/gonum/stat/distuv"
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
			_, out, _, err := scoreShard(m, s, sc, nil)
			if err != nil {
				b.Fatal(err)
			}
			scoreSink = out
		}
	})
}

// generateDays draws n customers as deploy/bench_clv.py gen does: the
// BG/NBD process with r = 1, α = 14 weeks, a = 1, b = 2.5, first purchases
// on a day uniform over 366 days, purchases on whole days (several on one
// day are one), the calibration end 911 days after the first day; times
// in weeks. The customers are dealt round-robin to shards summaries.
func generateDays(seed uint64, n, shards int) []*Summaries {
	src := rand.New(rand.NewPCG(seed, 0xda75))
	lam := distuv.Gamma{Alpha: 1, Beta: 14 * 7, Src: src} // a day
	drop := distuv.Beta{Alpha: 1, Beta: 2.5, Src: src}
	out := make([]*Summaries, shards)
	for i := range out {
		out[i] = &Summaries{}
	}
	const end = 911
	for c := range n {
		l, p := lam.Rand(), drop.Rand()
		first := float64(src.IntN(366))
		t, last, x := first, first, 0
		for {
			t += src.ExpFloat64() / l
			if math.Floor(t) > end {
				break
			}
			if d := math.Floor(t); d > last {
				x++
				last = d
			}
			if src.Float64() < p {
				break
			}
		}
		s := out[c%shards]
		s.Keys = append(s.Keys, fmt.Sprintf("c%07d", c))
		s.X = append(s.X, float64(x))
		s.Tx = append(s.Tx, (last-first)/7)
		s.T = append(s.T, (end-first)/7)
		mean := 0.0
		if x > 0 {
			mean = 20 + src.Float64()*10
		}
		s.Spend = append(s.Spend, mean)
	}
	return out
}

// BenchmarkScoreJob is a scoring job's work on the bench's data: 1,000,000
// customers in 64 shards, each shard scored as a worker scores it, one
// after the other (customers/s is per core), with the (x, T) terms kept
// per shard or shared by the shards as on a worker.
func BenchmarkScoreJob(b *testing.B) {
	m := &Model{Config: Config{CalibrationEnd: cdnowCalEnd, TimeUnit: Week},
		Purchase: FittedParams{Model: BGNBD, Values: []float64{1.0034, 14.314, 0.9899, 2.4722}},
		Spend:    FittedParams{Model: GammaGamma, Values: []float64{6.0327, 3.9823, 14.911}}}
	sc := ScoreConfigOf(Week, 52, DefaultValueConfig.Rate)
	n := 1_000_000
	if testing.Short() {
		n = 100_000
	}
	shards := generateDays(5, n, 64)
	for _, shared := range []bool{false, true} {
		b.Run(fmt.Sprintf("shared=%v", shared), func(b *testing.B) {
			cpu0 := cpuTime()
			for b.Loop() {
				var table *termsTable
				if shared {
					table = newTermsTable()
				}
				for _, s := range shards {
					_, out, _, err := scoreShard(m, s, sc, table)
					if err != nil {
						b.Fatal(err)
					}
					scoreSink = out
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "customers/s")
			b.ReportMetric(float64(n)*float64(b.N)/(cpuTime()-cpu0).Seconds(), "customers/cpu-s")
		})
	}
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
