package clv

import (
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"
)

var genCustomers = flag.Int("clv.customers", 30_000, "customers of the generated BG/NBD set in TestGeneratedRecovery")

// truth are the parameters the generated sets are drawn with.
var (
	truthBG = []float64{0.25, 4, 0.8, 2.5}
	truthGG = []float64{6, 4, 15}
)

// generate draws n customers from the BG/NBD process (Fader, Hardie & Lee
// 2005, section 2): λ ~ Gamma(r, α), p ~ Beta(a, b); from a first purchase
// at 0, purchases follow a Poisson process of rate λ and after each repeat
// purchase the customer drops out with probability p; the calibration end
// T is uniform in [26, 52). Each purchase's spend is Gamma(p, ν) with ν ~
// Gamma(q, v) (Fader & Hardie 2013). The customers are dealt round-robin to
// shards summaries.
func generate(seed uint64, n, shards int) []*Summaries {
	return generateBG(seed, n, shards, truthBG)
}

// generateBG is generate with the BG/NBD parameters bg (r, α, a, b).
func generateBG(seed uint64, n, shards int, bg []float64) []*Summaries {
	src := rand.New(rand.NewPCG(seed, 0x5eed))
	lam := distuv.Gamma{Alpha: bg[0], Beta: bg[1], Src: src}
	drop := distuv.Beta{Alpha: bg[2], Beta: bg[3], Src: src}
	nu := distuv.Gamma{Alpha: truthGG[1], Beta: truthGG[2], Src: src}
	out := make([]*Summaries, shards)
	for i := range out {
		out[i] = &Summaries{}
	}
	for c := range n {
		l, p := lam.Rand(), drop.Rand()
		T := 26 + 26*src.Float64()
		t, x, tx := 0.0, 0, 0.0
		for {
			t += src.ExpFloat64() / l
			if t > T {
				break
			}
			x++
			tx = t
			if src.Float64() < p {
				break
			}
		}
		mean := 0.0
		if x > 0 {
			spend := distuv.Gamma{Alpha: truthGG[0], Beta: nu.Rand(), Src: src}
			sum := 0.0
			for range x {
				sum += spend.Rand()
			}
			mean = sum / float64(x)
		}
		s := out[c%shards]
		s.Keys = append(s.Keys, fmt.Sprintf("c%08d", c))
		s.X = append(s.X, float64(x))
		s.Tx = append(s.Tx, tx)
		s.T = append(s.T, T)
		s.Spend = append(s.Spend, mean)
		s.Counts.Customers++
		s.Counts.PositiveT++
		if x > 0 {
			s.Counts.Repeat++
			s.Counts.Spend++
		}
	}
	return out
}

// fitSummaries runs a job over shards' summaries in one process.
func fitSummaries(cfg Config, shards []*Summaries) (*Model, error) {
	s, err := New(cfg)
	if err != nil {
		return nil, err
	}
	results := make([]*Result, len(shards))
	for {
		t, done := s.Next()
		if done {
			return s.Model(), nil
		}
		if err := t.check(); err != nil {
			return nil, err
		}
		for i, sh := range shards {
			if results[i], err = runOn(t, sh, i); err != nil {
				return nil, err
			}
		}
		if err := s.Absorb(results); err != nil {
			return nil, err
		}
	}
}

// TestGeneratedRecovery fits a set drawn from the BG/NBD and Gamma-Gamma
// processes with known parameters: every estimate is within 4 standard
// errors of the truth. -clv.customers sets the size (200000 for the
// issue's set; about 2 s per 100,000 customers).
func TestGeneratedRecovery(t *testing.T) {
	n := *genCustomers
	if raceEnabled {
		n = min(n, 10_000)
	}
	shards := generate(1, n, 4)
	m, err := fitSummaries(Config{CalibrationEnd: cdnowCalEnd}, shards)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		fp    FittedParams
		truth []float64
	}{{m.Purchase, truthBG}, {m.Spend, truthGG}} {
		if len(c.fp.StdErrors) != len(c.truth) {
			t.Fatalf("%s: no standard errors (%v)", c.fp.Model, m.Warnings)
		}
		for i, w := range c.truth {
			z := (c.fp.Values[i] - w) / c.fp.StdErrors[i]
			t.Logf("%s %s = %.4f ± %.4f, truth %v (z %.2f)", c.fp.Model, c.fp.Names[i], c.fp.Values[i], c.fp.StdErrors[i], w, z)
			if math.Abs(z) > 4 {
				t.Errorf("%s %s = %v ± %v, truth %v: %.1f standard errors off", c.fp.Model, c.fp.Names[i], c.fp.Values[i], c.fp.StdErrors[i], w, z)
			}
		}
	}
}

// truthPareto are the parameters the Pareto/NBD set is drawn with.
var truthPareto = []float64{0.55, 10, 0.6, 12}

// generatePareto draws n customers from the Pareto/NBD process
// (Schmittlein, Morrison & Colombo 1987): λ ~ Gamma(r, α), μ ~ Gamma(s, β),
// a lifetime τ ~ Exp(μ) from the first purchase at 0, purchases a Poisson
// process of rate λ while alive; T is uniform in [26, 52). Spends are drawn
// as in generate.
func generatePareto(seed uint64, n int) *Summaries {
	src := rand.New(rand.NewPCG(seed, 0xbeef))
	lam := distuv.Gamma{Alpha: truthPareto[0], Beta: truthPareto[1], Src: src}
	mu := distuv.Gamma{Alpha: truthPareto[2], Beta: truthPareto[3], Src: src}
	nu := distuv.Gamma{Alpha: truthGG[1], Beta: truthGG[2], Src: src}
	s := &Summaries{}
	for c := range n {
		l, tau := lam.Rand(), src.ExpFloat64()/mu.Rand()
		T := 26 + 26*src.Float64()
		end := min(tau, T)
		t, x, tx := 0.0, 0, 0.0
		for {
			t += src.ExpFloat64() / l
			if t > end {
				break
			}
			x++
			tx = t
		}
		s.Keys = append(s.Keys, fmt.Sprintf("p%08d", c))
		s.X = append(s.X, float64(x))
		s.Tx = append(s.Tx, tx)
		s.T = append(s.T, T)
		mean := 0.0
		if x > 0 {
			spend := distuv.Gamma{Alpha: truthGG[0], Beta: nu.Rand(), Src: src}
			for range x {
				mean += spend.Rand()
			}
			mean /= float64(x)
		}
		s.Spend = append(s.Spend, mean)
		s.Counts.Customers++
		s.Counts.PositiveT++
		if x > 0 {
			s.Counts.Repeat++
			s.Counts.Spend++
		}
	}
	return s
}

// TestGeneratedParetoRecovery fits the Pareto/NBD on a set drawn from its
// process: every estimate is within 4 standard errors of the truth.
func TestGeneratedParetoRecovery(t *testing.T) {
	n := 8_000
	if raceEnabled {
		n = 4_000
	}
	m, err := fitSummaries(Config{CalibrationEnd: cdnowCalEnd, Model: ParetoNBD}, []*Summaries{generatePareto(5, n)})
	if err != nil {
		t.Fatal(err)
	}
	fp := m.Purchase
	if len(fp.StdErrors) != 4 {
		t.Fatalf("no standard errors: %v", m.Warnings)
	}
	for i, w := range truthPareto {
		z := (fp.Values[i] - w) / fp.StdErrors[i]
		t.Logf("%s = %.4f ± %.4f, truth %v (z %.2f)", fp.Names[i], fp.Values[i], fp.StdErrors[i], w, z)
		if math.Abs(z) > 4 {
			t.Errorf("%s = %v ± %v, truth %v: %.1f standard errors off", fp.Names[i], fp.Values[i], fp.StdErrors[i], w, z)
		}
	}
}
