package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

func init() {
	primitives = append(primitives,
		primitive{"logistic/loss", 300, lossCase},
		primitive{"logistic/fill", 100, fillCase},
	)
}

// lossCase is LogLoss over margins of every size class: the rare branches
// (NaN, ±Inf, zeros, |η| below 2⁻²⁸ or beyond 708), margins near the
// log1p reduction's boundaries, and ordinary ones; labels 0 and 1.
func lossCase(i int) []float64 {
	r := rand.New(rand.NewPCG(41, uint64(i)))
	n := r.IntN(300)
	specials := []float64{math.NaN(), math.Inf(1), math.Inf(-1), 0, math.Copysign(0, -1),
		1e-9, -1e-9, 1.0 / (1 << 28), -1.0 / (1 << 28), 708, -708, 709, -745.2, -746, 745.2,
		math.Log(math.Sqrt2 - 1), -math.Log(math.Sqrt2 - 1), 36.7, -36.7, 1e300}
	eta, y := make([]float64, n), make([]float64, n)
	for q := range eta {
		switch r.IntN(8) {
		case 0:
			eta[q] = specials[r.IntN(len(specials))]
		case 1:
			eta[q] = math.Ldexp(r.Float64()-0.5, -r.IntN(40))
		case 2:
			eta[q] = r.NormFloat64() * 200
		default:
			eta[q] = r.NormFloat64() * 4
		}
		y[q] = float64(r.IntN(2))
	}
	l, res, curv, p := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	LogLoss(eta, y, l, res, curv, p)
	return append(append(append(l, res...), curv...), p...)
}

// fillCase is FillRows for d from 1 to 40 over rows in any order, the
// operands prefilled with a marker so that entries it must leave alone are
// compared too.
func fillCase(i int) []float64 {
	r := rand.New(rand.NewPCG(42, uint64(i)))
	d := 1 + r.IntN(40)
	s := (d + 2 + 7) &^ 7
	x, w, idx := rowsInput(r, 1+r.IntN(30), d)
	m := len(idx)
	gw, cw := make([]float64, m), make([]float64, m)
	for q := range m {
		gw[q], cw[q] = r.NormFloat64(), w[r.IntN(len(w))]
	}
	a, b := make([]float64, m*s), make([]float64, m*s)
	for j := range a {
		a[j], b[j] = -7, -7
	}
	FillRows(a, b, s, x, d, idx, gw, cw)
	return append(a, b...)
}

// TestLogLossMatchesRowLoss holds LogLoss on every path to RowLoss bit
// for bit on margins from every branch of ExpNeg and Log1pUnit: both
// zeros, the edges of the small-margin and underflow branches, the edge
// of log1p's √2 − 1 split, subnormal and huge results, NaN and ±Inf, and a
// spread of ordinary values, with both labels.
func TestLogLossMatchesRowLoss(t *testing.T) {
	r := rand.New(rand.NewPCG(47, 48))
	edges := []float64{0, math.Copysign(0, -1), 0x1p-28, 0x1p-29, 0x1p-27, 1e-300, 5e-324,
		0.8813735870195429, 0.881373587019543, 0.8813735870195431, math.Ln2, 1, 20.0, 20.1, 36.7, 37.5,
		700, 707.7, 708.3, 708.4, 708.5, 709, 744.4, 745.1, 745.2, 746, 1e10, math.MaxFloat64,
		math.Inf(1), math.NaN()}
	var eta []float64
	for _, e := range edges {
		eta = append(eta, e, -e, math.Nextafter(e, 0), -math.Nextafter(e, 0), math.Nextafter(e, math.Inf(1)), -math.Nextafter(e, math.Inf(1)))
	}
	// Every margin within 400 ulps of −log(√2 − 1), where Log1pUnit splits
	// on x < √2 − 1 and then on 1+x's fraction against √2's.
	for v, k := 0.8813735870195430, 0; k < 400; k++ {
		v = math.Nextafter(v, 1)
		w := 0.8813735870195430
		for range k {
			w = math.Nextafter(w, 0)
		}
		eta = append(eta, v, -v, w, -w)
	}
	// Margins within a few ulps of where ExpNeg's k = int(log₂e·t − ½)
	// steps, from k = 0 (t = −½/log₂e, where truncation gives −0 in
	// floating point) to its last normal 2ᵏ.
	for _, k := range []int{0, 1, 2, 3, 7, 30, 500, 1019, 1020, 1021, 1022} {
		v := (float64(k) + 0.5) / 1.44269504088896338700e+00
		for range 4 {
			v = math.Nextafter(v, 0)
		}
		for range 9 {
			eta = append(eta, v, -v)
			v = math.Nextafter(v, math.Inf(1))
		}
	}
	for range 20000 {
		v := r.NormFloat64() * math.Pow(10, float64(r.IntN(9)-5))
		if r.IntN(10) == 0 {
			v = math.Log(1/math.Sqrt2-1+float64(r.IntN(3)-1)*1e-12) * float64(1-2*r.IntN(2)) // near √2 − 1
		}
		eta = append(eta, v)
	}
	eta = append(eta, 1, 2, 3) // a tail shorter than a vector
	n := len(eta)
	y := make([]float64, n)
	for i := range y {
		y[i] = float64(r.IntN(2))
	}
	for _, path := range Paths() {
		out := [4][]float64{make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)}
		old := SetPath(path)
		for lo := 0; lo < n; lo += 256 {
			hi := min(n, lo+256)
			LogLoss(eta[lo:hi], y[lo:hi], out[0][lo:hi], out[1][lo:hi], out[2][lo:hi], out[3][lo:hi])
		}
		SetPath(old)
		for i, e := range eta {
			l, res, curv, p := RowLoss(e, y[i] == 1)
			for k, want := range []float64{l, res, curv, p} {
				if got := out[k][i]; math.Float64bits(got) != math.Float64bits(want) && !(math.IsNaN(got) && math.IsNaN(want)) {
					t.Fatalf("%s: η = %v (%#x), y = %v: output %d is %v, RowLoss gives %v", path, e, math.Float64bits(e), y[i], k, got, want)
				}
			}
		}
	}
}
