package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

func init() {
	primitives = append(primitives, primitive{"gather/rows", 200, gatherCase})
}

// gatherCase is GatherRows for d from 1 to 24 over blocks of 0 to 40 rows
// starting anywhere in the columns, with and without standardisation,
// values including NaN, ±Inf, −0, subnormals and huge ones, x prefilled
// with a marker so that entries past the block are compared too. The last
// value is whether every value was a number.
func gatherCase(i int) []float64 {
	r := rand.New(rand.NewPCG(61, uint64(i)))
	d, n := 1+r.IntN(24), 60
	lo := r.IntN(20)
	hi := lo + r.IntN(n-lo+1)
	if i%10 == 0 {
		hi = lo + 4*r.IntN((n-lo)/4+1) // whole tiles
	}
	specials := []float64{math.Inf(1), math.Inf(-1), math.Copysign(0, -1), 0, 5e-324, 1e308, -1e-310}
	cols := make([][]float64, d)
	nan := i%3 == 0
	for j := range cols {
		cols[j] = make([]float64, n)
		for q := range cols[j] {
			switch r.IntN(10) {
			case 0:
				cols[j][q] = specials[r.IntN(len(specials))]
			case 1:
				if nan {
					cols[j][q] = math.NaN()
					continue
				}
				fallthrough
			default:
				cols[j][q] = r.NormFloat64() * math.Ldexp(1, r.IntN(20)-10)
			}
		}
	}
	var mean, scale []float64
	if i%4 != 1 {
		mean, scale = make([]float64, d), make([]float64, d)
		for j := range mean {
			mean[j], scale[j] = r.NormFloat64()*3, math.Ldexp(0.5+r.Float64(), r.IntN(8)-4)
			if r.IntN(8) == 0 {
				scale[j] = 1 // a constant column's scale
			}
		}
	}
	x := make([]float64, n*d+5)
	for q := range x {
		x[q] = -7
	}
	ok := GatherRows(x, cols, lo, hi, mean, scale)
	return append(x, map[bool]float64{true: 1, false: 0}[ok])
}

// TestGatherRowsDefinition holds GatherRows on every path to its
// definition, value by value, and its NaN report to the values read.
func TestGatherRowsDefinition(t *testing.T) {
	for _, p := range Paths() {
		old := SetPath(p)
		r := rand.New(rand.NewPCG(62, 63))
		for range 200 {
			d, lo := 1+r.IntN(20), r.IntN(9)
			hi := lo + r.IntN(33)
			cols := make([][]float64, d)
			mean, scale := make([]float64, d), make([]float64, d)
			hasNaN := false
			for j := range cols {
				cols[j] = make([]float64, hi)
				for q := range cols[j] {
					cols[j][q] = r.NormFloat64() * 10
					if r.IntN(200) == 0 {
						cols[j][q] = math.NaN()
						hasNaN = hasNaN || q >= lo
					}
				}
				mean[j], scale[j] = r.NormFloat64(), 0.1+r.Float64()
			}
			x := make([]float64, (hi-lo)*d)
			if ok := GatherRows(x, cols, lo, hi, mean, scale); ok == hasNaN {
				t.Fatalf("%v: reported %v for a block with NaN %v", p, ok, hasNaN)
			}
			for q := lo; q < hi; q++ {
				for j := range d {
					want := (cols[j][q] - mean[j]) / scale[j]
					if got := x[(q-lo)*d+j]; !sameBits(got, want) {
						t.Fatalf("%v: row %d column %d: %v, want %v", p, q, j, got, want)
					}
				}
			}
		}
		SetPath(old)
	}
}

func BenchmarkGatherRows(b *testing.B) {
	const n, d = 2048, 16
	r := rand.New(rand.NewPCG(1, 2))
	cols := make([][]float64, d)
	mean, scale := make([]float64, d), make([]float64, d)
	for j := range cols {
		cols[j] = make([]float64, 64*n)
		for q := range cols[j] {
			cols[j][q] = r.NormFloat64()
		}
		mean[j], scale[j] = r.NormFloat64(), 1+r.Float64()
	}
	x := make([]float64, n*d)
	for _, p := range Paths() {
		b.Run(p.String(), func(b *testing.B) {
			old := SetPath(p)
			defer SetPath(old)
			b.SetBytes(n * d * 8)
			lo := 0
			for b.Loop() {
				GatherRows(x, cols, lo, lo+n, mean, scale)
				lo = (lo + n) % (63 * n)
			}
		})
	}
}
