package kernel

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/mathcrm/mathcrm/algo/internal/kernel/kerneltest"
)

func init() {
	primitives = append(primitives,
		primitive{"kmeans/assign", 400, kmeansCase(false)},
		primitive{"kmeans/assign-nonfinite", 100, kmeansCase(true)},
	)
}

// kmeansCase returns the runner of case i: a shape, centres and rows with
// ties on purpose (pathCase), optionally with NaN, ±Inf and centres so large
// that ½‖c‖² overflows, and one of the four uses of Assign (labels only,
// with distances, with sums, with both). The outputs are the labels, the
// distances, the sums and One on a few rows.
func kmeansCase(nonFinite bool) func(i int) []float64 {
	ns := []int{0, 1, 3, 4, 15, 16, 17, 33, 255, 256, 257, 529}
	specials := []float64{math.NaN(), math.Inf(1), math.Inf(-1), 1e300, -1e300, 1e200}
	return func(i int) []float64 {
		r := rand.New(rand.NewPCG(11, uint64(i)))
		d, k, n := 1+r.IntN(40), 1+r.IntN(40), ns[r.IntN(len(ns))]
		x, c := kerneltest.KMeansCase(r, n, k, d)
		if nonFinite {
			for range n / 4 {
				x[r.IntN(len(x))] = specials[r.IntN(len(specials))]
			}
			if k > 1 {
				c[r.IntN(len(c))] = specials[3+r.IntN(3)]
			}
		}
		var km KMeans
		km.Reset(c, k, d)
		lab := make([]int, n)
		var dist, sums []float64
		if i%2 == 1 {
			dist = make([]float64, n)
		}
		if i%4 >= 2 {
			sums = make([]float64, k*d)
			for j := range sums {
				sums[j] = float64(j % 3)
			}
		}
		km.Assign(lab, dist, sums, x)
		out := make([]float64, 0, n+len(dist)+len(sums)+3)
		for _, l := range lab {
			out = append(out, float64(l))
		}
		out = append(out, dist...)
		out = append(out, sums...)
		for j := 0; j < n; j += 1 + n/3 {
			out = append(out, float64(km.One(x[j*d:(j+1)*d])))
		}
		return out
	}
}

// TestKMeansOneIsTheScan holds the portable labels to the definition: the
// first centre of the smallest score ½‖c‖² − x·c by a strict < scan.
func TestKMeansOneIsTheScan(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for range 200 {
		d, k, n := 1+r.IntN(12), 1+r.IntN(12), 1+r.IntN(40)
		x, c := kerneltest.KMeansCase(r, n, k, d)
		var km KMeans
		onPath(Portable, func() []float64 { km.Reset(c, k, d); return nil })
		lab := make([]int, n)
		km.Assign(lab, nil, nil, x)
		for i := range n {
			row := x[i*d : (i+1)*d]
			best, bi := math.Inf(1), 0
			for ci := range k {
				s := 0.0
				for j, v := range row {
					s = math.FMA(v, c[ci*d+j], s)
				}
				if v := HalfNorm(c[ci*d:(ci+1)*d]) - s; v < best {
					best, bi = v, ci
				}
			}
			if lab[i] != bi {
				t.Fatalf("k=%d d=%d row %d: label %d, scan %d", k, d, i, lab[i], bi)
			}
		}
	}
}
