package linear

import (
	"math"
	"testing"
)

func TestFactorSym(t *testing.T) {
	// Columns in wildly different units: equilibration keeps the
	// condition estimate about the problem.
	a := []float64{
		4e6, 2e3, 0,
		2e3, 3, 1e-3,
		0, 1e-3, 2e-6,
	}
	want := []float64{1e-3, -2, 5e3}
	b := make([]float64, 3)
	for j := range 3 {
		for k := range 3 {
			b[j] += a[min(j, k)*3+max(j, k)] * want[k]
		}
	}
	f := FactorSym(a, 3, 1e12)
	if f.PseudoInverse() || f.Rank() != 3 || f.Cond() > 100 {
		t.Fatalf("pinv %v rank %d cond %v; want Cholesky, rank 3, a small condition", f.PseudoInverse(), f.Rank(), f.Cond())
	}
	got := f.Solve(nil, b)
	for j := range 3 {
		if relErr(got[j], want[j], 1e-300) > 1e-12 {
			t.Errorf("x[%d] = %v, want %v", j, got[j], want[j])
		}
	}
	// Singular: a rank-one matrix.
	s := FactorSym([]float64{1, 2, 2, 4}, 2, 1e12)
	if !s.PseudoInverse() || s.Rank() != 1 || !math.IsInf(s.Cond(), 1) {
		t.Fatalf("rank-one: pinv %v rank %d cond %v", s.PseudoInverse(), s.Rank(), s.Cond())
	}
	x := s.Solve(nil, []float64{1, 2}) // consistent: any x with x₀ + 2x₁ = 1
	if math.Abs(x[0]+2*x[1]-1) > 1e-14 {
		t.Errorf("rank-one solve %v does not satisfy the system", x)
	}
	// All zero: every coefficient 0.
	z := FactorSym([]float64{0, 0, 0, 0}, 2, 1e12)
	if x := z.Solve(nil, []float64{0, 0}); x[0] != 0 || x[1] != 0 || z.Rank() != 0 {
		t.Errorf("zero matrix: x %v rank %d", x, z.Rank())
	}
}
