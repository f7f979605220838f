package linear

import (
	"math"

	"gonum.org/v1/gonum/mat"
)

// SymFactor solves a symmetric positive semi-definite system A·x = b of
// small order, as the leaders of the linear and logistic jobs need: normal
// equations and Newton steps.
//
// A is first equilibrated, Ã = S⁻¹AS⁻¹ with S = diag(√A_jj) (1 where
// A_jj = 0), so that the condition test is about the problem, not about the
// units of its columns. Ã is factorised by Cholesky (gonum mat.Cholesky);
// when that fails or the factor's condition estimate exceeds maxCond, the
// solve falls back to the pseudo-inverse of Ã from its eigendecomposition,
// dropping the eigenvalues at most λ_max/maxCond: the minimum-norm
// solution in the equilibrated coordinates, with the directions the data
// cannot identify set to zero.
type SymFactor struct {
	n     int
	scale []float64
	chol  mat.Cholesky
	cond  float64
	pinv  []float64 // n×n pseudo-inverse of Ã, row-major; nil for Cholesky
	rank  int
}

// FactorSym factorises the n×n row-major symmetric matrix a, reading its
// upper triangle only. maxCond must be at least 1.
func FactorSym(a []float64, n int, maxCond float64) *SymFactor {
	f := &SymFactor{n: n, scale: make([]float64, n), rank: n}
	eq := make([]float64, n*n)
	for j := range n {
		f.scale[j] = 1
		if v := a[j*n+j]; v > 0 {
			f.scale[j] = math.Sqrt(v)
		}
	}
	for j := range n {
		for k := j; k < n; k++ {
			v := a[j*n+k] / f.scale[j] / f.scale[k]
			eq[j*n+k], eq[k*n+j] = v, v
		}
	}
	sym := mat.NewSymDense(n, eq)
	if f.chol.Factorize(sym) {
		f.cond = f.chol.Cond()
		if f.cond <= maxCond {
			return f
		}
	}
	f.eigenPinv(sym, maxCond)
	return f
}

// eigenPinv sets f.pinv to the truncated pseudo-inverse of the
// equilibrated matrix.
func (f *SymFactor) eigenPinv(sym *mat.SymDense, maxCond float64) {
	n := f.n
	f.pinv = make([]float64, n*n)
	f.rank = 0
	f.cond = math.Inf(1)
	var eig mat.EigenSym
	if !eig.Factorize(sym, true) {
		return // no usable direction: the solution is zero
	}
	vals := eig.Values(nil)
	var vecs mat.Dense
	eig.VectorsTo(&vecs)
	top := 0.0
	for _, v := range vals {
		top = max(top, v)
	}
	if !(top > 0) {
		return
	}
	low := top
	for i, v := range vals {
		if v <= top/maxCond {
			continue
		}
		f.rank++
		low = min(low, v)
		for j := range n {
			vj := float64(vecs.At(j, i) / v)
			for k := range n {
				f.pinv[j*n+k] = math.FMA(vj, vecs.At(k, i), f.pinv[j*n+k])
			}
		}
	}
	if f.rank == n {
		f.cond = top / low
	}
}

// Solve sets dst to the solution of A·x = b (the minimum-norm one in the
// equilibrated coordinates when PseudoInverse) and returns it; nil dst
// allocates.
func (f *SymFactor) Solve(dst, b []float64) []float64 {
	n := f.n
	if cap(dst) < n {
		dst = make([]float64, n)
	}
	dst = dst[:n]
	z := make([]float64, n)
	for j := range n {
		z[j] = b[j] / f.scale[j]
	}
	if f.pinv == nil {
		var v mat.VecDense
		// The factor is square and was checked; SolveVecTo reports only a
		// condition warning, which Cond carries.
		_ = f.chol.SolveVecTo(&v, mat.NewVecDense(n, z))
		for j := range n {
			dst[j] = v.AtVec(j) / f.scale[j]
		}
		return dst
	}
	for j := range n {
		s := 0.0
		for k, zk := range z {
			s = math.FMA(f.pinv[j*n+k], zk, s)
		}
		dst[j] = s / f.scale[j]
	}
	return dst
}

// InverseDiag returns the diagonal of A⁻¹ (of the pseudo-inverse when
// PseudoInverse).
func (f *SymFactor) InverseDiag() []float64 {
	out := make([]float64, f.n)
	e := make([]float64, f.n)
	col := make([]float64, f.n)
	for j := range f.n {
		e[j] = 1
		col = f.Solve(col, e)
		out[j] = col[j]
		e[j] = 0
	}
	return out
}

// Cond returns the condition estimate of the equilibrated matrix: the
// Cholesky factor's (1-norm) estimate, the ratio of extreme eigenvalues
// when the pseudo-inverse kept every direction, or +Inf when it dropped
// some.
func (f *SymFactor) Cond() float64 { return f.cond }

// PseudoInverse reports whether the solve fell back to the pseudo-inverse.
func (f *SymFactor) PseudoInverse() bool { return f.pinv != nil }

// Rank returns the number of directions the solve kept: n for Cholesky.
func (f *SymFactor) Rank() int { return f.rank }
