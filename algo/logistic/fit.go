package logistic

import (
	"fmt"
	"math"

	"github.com/mathcrm/mathcrm/algo/linear"
)

// The leader side of the fit: class weights and the starting point from the
// count pass, then one accepted or rejected step per loss pass. Both
// solvers share the backtracking line search: a step is accepted when it
// decreases the objective F(θ) = Σw·ℓ + ½λ‖β‖² enough (Armijo, c₁ = 1e-4),
// and halved otherwise. A Newton step almost always passes at once; the
// search guards the first steps from a poor start and separable data.

func (s *State) absorbCount(results []*Result) error {
	for _, r := range results {
		for k := range r.Counts {
			s.Counts[k] += r.Counts[k]
			s.Weights[k] += r.Weights[k]
		}
	}
	n0, n1 := s.Counts[0], s.Counts[1]
	if n0 == 0 || n1 == 0 {
		return errorf(ErrOneClass, "the %d training rows hold %d of class 0 and %d of class 1", n0+n1, n0, n1)
	}
	cw := [2]float64{1, 1}
	switch {
	case s.Config.ClassWeight == Balanced:
		n := float64(n0 + n1)
		cw = [2]float64{n / float64(2*n0), n / float64(2*n1)}
	case len(s.Config.ClassWeights) == 2:
		cw = [2]float64{s.Config.ClassWeights[0], s.Config.ClassWeights[1]}
	}
	w0, w1 := float64(cw[0]*s.Weights[0]), float64(cw[1]*s.Weights[1])
	if !(w0 > 0 && w1 > 0) || !finite(w0) || !finite(w1) {
		return errorf(ErrOneClass, "the training rows' weights are %v on class 0 and %v on class 1", w0, w1)
	}
	s.ClassWeights = cw
	// Start at β = 0 with the intercept that is optimal for it.
	s.Point = make([]float64, s.D+1)
	s.Point[s.D] = logRatio(w1, w0)
	s.Stage = TaskNewton
	if s.Solver == SolverLBFGS {
		s.Stage = TaskGrad
	}
	return nil
}

// logRatio returns log(a/b) for positive a and b, from log1pUnit so that it
// has the same bits everywhere.
func logRatio(a, b float64) float64 {
	frac, exp := math.Frexp(a / b) // a/b = frac·2^exp, frac in [½, 1)
	return float64(float64(exp-1)*math.Ln2) + log1pUnit(2*frac-1)
}

// objective returns F and its gradient at θ from the summed loss and loss
// gradient.
func (s *State) objective(theta []float64, loss float64, lgrad []float64) (float64, []float64) {
	lam := s.Config.lambda()
	d := s.D
	g := clone(lgrad)
	pen := 0.0
	for j := range d {
		pen = math.FMA(theta[j], theta[j], pen)
		g[j] = math.FMA(lam, theta[j], g[j])
	}
	return loss + float64(float64(0.5*lam)*pen), g
}

func (s *State) absorbLoss(results []*Result) error {
	d1 := s.D + 1
	// The pass summed the eval pass's metrics at its point too when every
	// shard has them: a fit that ends at this point needs no eval pass.
	evalled := s.Line != nil && s.Line.Eval
	for _, r := range results {
		evalled = evalled && r.Train != nil
	}
	loss, lgrad, hess := 0.0, make([]float64, d1), []float64(nil)
	if s.Stage == TaskNewton {
		hess = make([]float64, upperLen(d1))
	}
	overflow := false
	for _, r := range results {
		overflow = overflow || r.Overflow
		loss += r.Loss
		for j, v := range r.Grad {
			lgrad[j] += v
		}
		for j, v := range r.Hess {
			hess[j] += v
		}
	}
	f, g := s.objective(s.Point, loss, lgrad)
	overflow = overflow || !finite(f) || !allFinite(g) || !allFinite(hess)
	if s.Line == nil && overflow {
		return errorf(ErrNonFinite, "the loss overflowed at the starting point")
	}
	if s.Line != nil {
		if done := s.judgeStep(f, g, overflow); done || s.Line != nil {
			return nil // finished, or a shorter step is on trial
		}
	}
	s.Obj = f
	if s.Converged || s.Iter >= s.Config.MaxIter {
		if !s.Converged {
			s.warn(fmt.Sprintf("did not converge in %d iterations (MaxIter)", s.Config.MaxIter))
		}
		s.Stage = TaskEval
		if evalled {
			return s.absorbEval(results)
		}
		return nil
	}
	s.startStep(f, g, hess)
	return nil
}

// judgeStep accepts or rejects the step on trial, whose objective is f and
// gradient g. On rejection it halves the step (s.Line stays set) or, past
// maxHalvings, ends the fit at the line search's base and reports done.
func (s *State) judgeStep(f float64, g []float64, overflow bool) (done bool) {
	ln := s.Line
	ok, measured := s.acceptable(f, g)
	if overflow || !ok {
		if ln.Halvings >= maxHalvings {
			s.warn(fmt.Sprintf("line search failed to decrease the objective after %d halvings; stopped at the last accepted point", maxHalvings))
			s.Point, s.Obj, s.Line, s.Stage = clone(ln.Base), ln.BaseObj, nil, TaskEval
			return true
		}
		next := *ln
		next.T, next.Halvings = float64(0.5*ln.T), ln.Halvings+1
		next.Eval = false // the step did not end the fit as expected
		s.Line = &next
		s.Point = along(ln.Base, next.T, ln.Dir)
		return false
	}
	step, sv, yv := 0.0, make([]float64, len(g)), make([]float64, len(g))
	for j := range g {
		sv[j] = s.Point[j] - ln.Base[j]
		yv[j] = g[j] - ln.BaseGrad[j]
		step = max(step, math.Abs(sv[j]))
	}
	s.Iter++
	s.History = append(s.History[:len(s.History):len(s.History)], Iter{Objective: f, Step: step, Gradient: maxAbs(g), Halvings: ln.Halvings})
	if s.Solver == SolverLBFGS {
		s.pushPair(sv, yv)
	}
	tol := s.Config.Tol
	s.Unresolved++
	if measured {
		s.Unresolved = 0
	}
	relChange := math.Abs(ln.BaseObj-f) <= float64(tol*max(math.Abs(f), math.Abs(ln.BaseObj)))
	s.Converged = step <= tol || maxAbs(g) <= tol || (measured && relChange) || s.Unresolved >= maxUnresolved
	s.Line = nil
	return false
}

// acceptable reports whether the trial point with objective f and gradient
// g passes the line search: Armijo's sufficient decrease, or, when f is
// within rounding noise of the base objective (16ε relative: near the
// optimum a sum of many log-losses cannot resolve the decrease Armijo asks
// for), a smaller largest gradient entry, as scikit-learn's NewtonSolver
// does.
//
// measured is false for a step accepted on its gradient: its change of the
// objective is rounding noise, and says nothing about convergence.
func (s *State) acceptable(f float64, g []float64) (ok, measured bool) {
	ln := s.Line
	noise := float64(16*eps) * math.Abs(ln.BaseObj)
	resolved := math.Abs(f-ln.BaseObj) > noise
	if f <= ln.BaseObj+float64(float64(armijo*ln.T)*ln.Slope) {
		return true, resolved
	}
	return !resolved && maxAbs(g) < maxAbs(ln.BaseGrad), false
}

// eps is the float64 machine epsilon, 2⁻⁵².
const eps = 0x1p-52

// maxUnresolved consecutive steps whose objective change is rounding noise
// end the fit: the objective has reached its floor, and what remains of
// the gradient is mostly rounding too.
const maxUnresolved = 2

// startStep computes the search direction at s.Point and puts the first
// trial point of its line search.
func (s *State) startStep(f float64, g, hess []float64) {
	var dir []float64
	if s.Solver == SolverNewton {
		dir = s.newtonDir(g, hess)
	} else {
		dir = twoLoop(g, s.S, s.Y)
	}
	if maxAbs(dir) <= s.Config.Tol {
		s.Converged, s.Stage = true, TaskEval
		return
	}
	slope := dot(g, dir)
	if !(slope < 0) { // not a descent direction: fall back to steepest descent
		for j := range dir {
			dir[j] = -g[j]
		}
		slope = -dot(g, g)
		s.S, s.Y = nil, nil
	}
	t := 1.0
	if s.Solver == SolverLBFGS && len(s.S) == 0 {
		t = min(1, 1/math.Sqrt(-slope)) // first step of unit length
	}
	s.Line = &Line{Base: clone(s.Point), BaseObj: f, BaseGrad: g, Dir: dir, Slope: slope, T: t,
		Eval: s.Solver == SolverNewton && s.finalStep(f, slope)}
	s.Point = along(s.Point, t, dir)
}

// evalAhead says which newton trials ask for the eval sums: those
// finalStep expects to end the fit; tests also try none and all.
var evalAhead = evalExpected

const (
	evalExpected = iota
	evalNever
	evalAlways
)

// finalStep reports whether a full Newton step from objective f along a
// direction of slope g·dir is expected to end the fit on the objective's
// relative change: the quadratic model's decrease, −slope/2, within a
// quarter of the Tol the test allows, and far enough above rounding noise
// (16ε relative, here 64ε) for the test to count it. Its trial pass then
// sums the eval metrics too (Task.Eval), saving the eval pass when the
// step ends the fit; when it does not, they are dropped. Either way the
// model is the same: the eval sums of a point do not depend on the pass
// that computes them.
func (s *State) finalStep(f, slope float64) bool {
	switch evalAhead {
	case evalNever:
		return false
	case evalAlways:
		return true
	}
	dec := float64(-0.5 * slope)
	return dec <= float64(0.25*s.Config.Tol)*math.Abs(f) && dec > float64(64*eps)*math.Abs(f)
}

// newtonDir solves (H + λ·diag(1, …, 1, 0))·dir = −g.
func (s *State) newtonDir(g, hess []float64) []float64 {
	d1 := s.D + 1
	lam := s.Config.lambda()
	a := make([]float64, d1*d1)
	for j := range d1 {
		for k := j; k < d1; k++ {
			a[j*d1+k] = hess[upperAt(j, k, d1)]
		}
		if j < s.D {
			a[j*d1+j] += lam
		}
	}
	f := linear.FactorSym(a, d1, s.Config.MaxCond)
	if f.PseudoInverse() && !s.warned(warnPinv) {
		s.warn(fmt.Sprintf("%s (condition estimate %.3g, %d of %d directions): Newton steps solved by pseudo-inverse", warnPinv, f.Cond(), f.Rank(), d1))
	}
	dir := f.Solve(nil, g)
	for j := range dir {
		dir[j] = -dir[j]
	}
	return dir
}

// warn adds a caveat for the model, never writing into an array an
// earlier copy of the state shares.
func (s *State) warn(msg string) {
	s.Warnings = append(s.Warnings[:len(s.Warnings):len(s.Warnings)], msg)
}

const warnPinv = "the Hessian is singular or ill-conditioned"

func (s *State) warned(prefix string) bool {
	for _, w := range s.Warnings {
		if len(w) >= len(prefix) && w[:len(prefix)] == prefix {
			return true
		}
	}
	return false
}

// along returns base + t·dir.
func along(base []float64, t float64, dir []float64) []float64 {
	out := make([]float64, len(base))
	for j := range base {
		out[j] = math.FMA(t, dir[j], base[j])
	}
	return out
}

func dot(a, b []float64) float64 {
	s := 0.0
	for j := range a {
		s = math.FMA(a[j], b[j], s)
	}
	return s
}

func maxAbs(v []float64) float64 {
	m := 0.0
	for _, x := range v {
		m = max(m, math.Abs(x))
	}
	return m
}
