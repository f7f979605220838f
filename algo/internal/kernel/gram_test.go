package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

func init() {
	primitives = append(primitives,
		primitive{"gram/add", 200, gramCase},
		primitive{"rows/colsums", 200, colSumsCase},
		primitive{"rows/centre", 100, centreCase},
		primitive{"rows/scale", 100, scaleCase},
	)
}

var gramDims = []int{1, 2, 3, 4, 5, 7, 8, 9, 13, 16, 17, 24, 33, 34, 40, 41, 57, 63, 64, 65, 70, 130}

// gramOperands returns n rows of stride s = d rounded up to 8, with NaN in
// the padding (which must reach scratch entries only) unless clean, and
// values of wide magnitudes.
func gramOperands(r *rand.Rand, n, d int, clean bool) (a, b []float64, s int) {
	s = (d + 7) &^ 7
	a, b = make([]float64, n*s), make([]float64, n*s)
	for i := range a {
		if i%s >= d {
			if !clean {
				a[i], b[i] = math.NaN(), math.NaN()
			}
			continue
		}
		a[i], b[i] = r.NormFloat64(), r.NormFloat64()*math.Pow(10, float64(r.IntN(7)-3))
	}
	return a, b, s
}

// gramCase is AddGram of a shape from gramDims and a row count that ends a
// row block anywhere, added onto a random start; the outputs are the upper
// triangle.
func gramCase(i int) []float64 {
	r := rand.New(rand.NewPCG(31, uint64(i)))
	d := gramDims[i%len(gramDims)]
	n := []int{0, 1, 3, 61, 62, 63, 300, 1000}[r.IntN(8)]
	a, b, s := gramOperands(r, n, d, false)
	if r.IntN(3) == 0 {
		b = a
	}
	g := make([]float64, s*s)
	for j := range g {
		g[j] = r.NormFloat64()
	}
	AddGram(g, a, b, n, d, s)
	var out []float64
	for j := range d {
		out = append(out, g[j*s+j:j*s+d]...)
	}
	return out
}

// rowsInput returns m rows of d columns with constant columns, repeated
// rows, signed zeros and specials, weights, and an index list of rows in
// any order.
func rowsInput(r *rand.Rand, m, d int) (x, w []float64, idx []int) {
	x, w = make([]float64, m*d), make([]float64, m)
	specials := []float64{math.NaN(), math.Inf(1), math.Inf(-1), math.Copysign(0, -1), 0}
	for i := range m {
		row := x[i*d : (i+1)*d]
		for j := range row {
			switch {
			case j%5 == 0:
				row[j] = float64(j) - 2.5
			case r.IntN(40) == 0:
				row[j] = specials[r.IntN(len(specials))]
			default:
				row[j] = r.NormFloat64() * math.Pow(10, float64(r.IntN(7)-3))
			}
		}
		w[i] = float64(r.IntN(5)) * 0.75
	}
	for range r.IntN(2 * m) {
		idx = append(idx, r.IntN(m))
	}
	return x, w, idx
}

func colSumsCase(i int) []float64 {
	r := rand.New(rand.NewPCG(32, uint64(i)))
	d := 1 + r.IntN(40)
	x, w, idx := rowsInput(r, 1+r.IntN(60), d)
	if i%2 == 0 {
		w = nil
	}
	sum, varies := make([]float64, d), make([]bool, d)
	for j := range sum {
		sum[j] = float64(j % 3)
	}
	ref := x[:d]
	ColSums(sum, varies, ref, x, w, d, idx)
	for _, v := range varies {
		sum = append(sum, map[bool]float64{false: 0, true: 1}[v])
	}
	return sum
}

func centreCase(i int) []float64 {
	r := rand.New(rand.NewPCG(33, uint64(i)))
	d := 1 + r.IntN(40)
	s := d + r.IntN(9)
	x, _, idx := rowsInput(r, 1+r.IntN(60), d)
	mean := make([]float64, d)
	for j := range mean {
		mean[j] = r.NormFloat64()
	}
	a := make([]float64, len(idx)*s)
	CentreRows(a, s, x, d, idx, mean)
	return a
}

func scaleCase(i int) []float64 {
	r := rand.New(rand.NewPCG(34, uint64(i)))
	s := 1 + r.IntN(40)
	a, w, idx := rowsInput(r, 1+r.IntN(60), s)
	aw := make([]float64, len(idx)*s)
	a = a[:min(len(a), len(aw))]
	if len(a) < len(aw) {
		a = append(a, make([]float64, len(aw)-len(a))...)
	}
	ScaleRows(aw, a, s, w, idx)
	return aw
}

// TestAddGramMatchesDefinition holds the portable kernel to the definition,
// one FMA chain per entry in row order.
func TestAddGramMatchesDefinition(t *testing.T) {
	defer SetPath(SetPath(Portable))
	r := rand.New(rand.NewPCG(1, 2))
	for _, d := range gramDims {
		for _, n := range []int{1, 63, 300} {
			a, b, s := gramOperands(r, n, d, false)
			g := make([]float64, s*s)
			AddGram(g, a, b, n, d, s)
			for j := range d {
				for k := j; k < d; k++ {
					want := 0.0
					for i := range n {
						want = math.FMA(a[i*s+j], b[i*s+k], want)
					}
					if math.Float64bits(g[j*s+k]) != math.Float64bits(want) {
						t.Fatalf("d=%d n=%d entry (%d,%d): %v, want %v", d, n, j, k, g[j*s+k], want)
					}
				}
			}
		}
	}
}

// TestAddGramStaysInG holds every path to the s×s entries of g: a tile
// that ends past the stride must not spill its last columns beyond g's
// last row.
func TestAddGramStaysInG(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, p := range Paths() {
		old := SetPath(p)
		for _, d := range gramDims {
			a, b, s := gramOperands(r, 9, d, false)
			buf := make([]float64, s*s+s)
			for i := s * s; i < len(buf); i++ {
				buf[i] = 42
			}
			AddGram(buf[:s*s:s*s], a, b, 9, d, s)
			for i, v := range buf[s*s:] {
				if v != 42 {
					t.Errorf("%s d=%d: AddGram wrote %v at g[s*s+%d]", p, d, v, i)
				}
			}
		}
		SetPath(old)
	}
}

func TestRowIndexOutOfRange(t *testing.T) {
	for _, p := range Paths() {
		old := SetPath(p)
		func() {
			defer func() {
				if got := recover(); got != "kernel: row index out of range" {
					t.Errorf("%s: recover() = %v, want the range panic", p, got)
				}
			}()
			ColSums(make([]float64, 4), make([]bool, 4), make([]float64, 4), make([]float64, 8), nil, 4, []int{0, 2})
		}()
		SetPath(old)
	}
}
