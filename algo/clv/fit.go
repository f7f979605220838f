package clv

import (
	"math"
	"slices"
)

// Fit is one model's maximum-likelihood fit in progress on the leader:
// L-BFGS (Nocedal & Wright, algorithm 7.4) with a backtracking Armijo
// line search, on the log-parameters θ, minimising
//
//	F(θ) = −ℓ(e^θ)/N + λ Σ e^(2θₖ),
//
// ℓ the log-likelihood summed over the model's N customers and λ the
// penalty (lifetimes' objective). It holds only exported, finite values,
// so a new leader resumes it exactly.
type Fit struct {
	// Model is "bgnbd", "paretonbd" or "gammagamma".
	Model string `json:"model"`
	// N is the number of customers the model is fitted on.
	N int64 `json:"n"`
	// Point is where the next pass evaluates the log-likelihood.
	Point []float64 `json:"point"`
	// Line is the line search in progress, nil before the first pass.
	Line *Line `json:"line,omitempty"`
	// S and Y hold the L-BFGS correction pairs, oldest first.
	S [][]float64 `json:"s,omitempty"`
	Y [][]float64 `json:"y,omitempty"`
	// Iter counts the accepted steps.
	Iter int `json:"iter"`
	// At is the last accepted point, Obj its objective, Grad its gradient
	// and LogLik its log-likelihood ℓ.
	At     []float64 `json:"at,omitempty"`
	Obj    float64   `json:"obj"`
	Grad   []float64 `json:"grad,omitempty"`
	LogLik float64   `json:"log_lik"`
	// Converged records that the largest gradient entry fell to Tol.
	Converged bool `json:"converged"`
}

// Line is a backtracking line search: Point is Base + T·Dir on trial.
type Line struct {
	Dir []float64 `json:"dir"`
	// Slope is the directional derivative Grad·Dir at the base, < 0.
	Slope    float64 `json:"slope"`
	T        float64 `json:"t"`
	Halvings int     `json:"halvings"`
}

// modelName returns a model's name for messages.
func modelName(m string) string {
	switch m {
	case ParetoNBD:
		return "Pareto/NBD"
	case GammaGamma:
		return "Gamma-Gamma"
	}
	return "BG/NBD"
}

// objective returns F and ∇F at θ from the summed ℓ and ∇ℓ.
func (f *Fit) objective(lam float64, theta []float64, ll float64, lgrad []float64) (float64, []float64) {
	n := float64(f.N)
	obj := -ll / n
	g := make([]float64, len(lgrad))
	for k, v := range lgrad {
		e := math.Exp(2 * theta[k])
		obj += lam * e
		g[k] = -v/n + 2*lam*e
	}
	return obj, g
}

// absorb takes the summed log-likelihood ll and gradient lgrad at Point
// (bad when a customer's value was not finite) and moves the fit on.
func (f *Fit) absorb(cfg Config, ll float64, lgrad []float64, bad bool) error {
	obj, g := f.objective(cfg.Penalty, f.Point, ll, lgrad)
	bad = bad || !finite(obj) || !allFinite(g)
	name := modelName(f.Model)
	ln := f.Line
	if ln == nil {
		if bad {
			return errorf(ErrNonFinite, "the %s log-likelihood is not finite at the starting parameters %v", name, expAll(f.Point))
		}
		f.accept(obj, g, ll)
		return f.next(cfg)
	}
	noise := 16 * 0x1p-52 * math.Abs(f.Obj)
	ok := !bad && (obj <= f.Obj+armijo*ln.T*ln.Slope ||
		(math.Abs(obj-f.Obj) <= noise && maxAbs(g) < maxAbs(f.Grad)))
	if !ok {
		if ln.Halvings >= maxHalvings {
			return errorf(ErrNoConvergence, "the %s fit stalled after %d iterations: no decrease after %d step halvings (largest gradient %.3g, tolerance %.3g)",
				name, f.Iter, maxHalvings, maxAbs(f.Grad), cfg.Tol)
		}
		next := *ln
		next.T, next.Halvings = ln.T/2, ln.Halvings+1
		f.Line = &next
		f.Point = along(f.At, next.T, ln.Dir)
		return nil
	}
	sv, yv := make([]float64, len(g)), make([]float64, len(g))
	for k := range g {
		sv[k] = f.Point[k] - f.At[k]
		yv[k] = g[k] - f.Grad[k]
	}
	f.pushPair(cfg.Memory, sv, yv)
	f.Iter++
	f.accept(obj, g, ll)
	return f.next(cfg)
}

// accept makes Point the accepted point.
func (f *Fit) accept(obj float64, g []float64, ll float64) {
	f.At, f.Obj, f.Grad, f.LogLik, f.Line = slices.Clone(f.Point), obj, g, ll, nil
}

// next tests convergence at the accepted point and starts the next step.
func (f *Fit) next(cfg Config) error {
	if maxAbs(f.Grad) <= cfg.Tol {
		f.Converged = true
		return nil
	}
	if f.Iter >= cfg.MaxIter {
		return errorf(ErrNoConvergence, "the %s fit did not converge in %d iterations (largest gradient %.3g, tolerance %.3g)",
			modelName(f.Model), cfg.MaxIter, maxAbs(f.Grad), cfg.Tol)
	}
	dir := twoLoop(f.Grad, f.S, f.Y)
	slope := dot(f.Grad, dir)
	if !(slope < 0) { // not a descent direction: forget the curvature
		f.S, f.Y = nil, nil
		dir = twoLoop(f.Grad, nil, nil)
		slope = dot(f.Grad, dir)
	}
	t := 1.0
	if len(f.S) == 0 {
		t = min(1, 1/maxAbs(dir)) // a first step of at most 1 in log space
	}
	f.Line = &Line{Dir: dir, Slope: slope, T: t}
	f.Point = along(f.At, t, dir)
	return nil
}

// twoLoop returns −H·g by the two-loop recursion over the pairs (S[i],
// Y[i]), oldest first, scaled initially by sᵀy/yᵀy of the newest pair;
// with no pairs, −g.
func twoLoop(g []float64, S, Y [][]float64) []float64 {
	q := slices.Clone(g)
	m := len(S)
	alpha, rho := make([]float64, m), make([]float64, m)
	for i := m - 1; i >= 0; i-- {
		rho[i] = 1 / dot(Y[i], S[i])
		alpha[i] = rho[i] * dot(S[i], q)
		for j := range q {
			q[j] -= alpha[i] * Y[i][j]
		}
	}
	if m > 0 {
		gamma := dot(S[m-1], Y[m-1]) / dot(Y[m-1], Y[m-1])
		for j := range q {
			q[j] *= gamma
		}
	}
	for i := range m {
		b := rho[i] * dot(Y[i], q)
		for j := range q {
			q[j] += (alpha[i] - b) * S[i][j]
		}
	}
	for j := range q {
		q[j] = -q[j]
	}
	return q
}

// pushPair keeps the pair (sv, yv) when its curvature sᵀy is positive,
// dropping the oldest beyond memory.
func (f *Fit) pushPair(memory int, sv, yv []float64) {
	if !(dot(sv, yv) > 0) || !(dot(yv, yv) > 0) {
		return
	}
	S := append(f.S[:len(f.S):len(f.S)], sv)
	Y := append(f.Y[:len(f.Y):len(f.Y)], yv)
	if len(S) > memory {
		S, Y = S[1:], Y[1:]
	}
	f.S, f.Y = S, Y
}

func along(base []float64, t float64, dir []float64) []float64 {
	p := make([]float64, len(base))
	for k := range p {
		p[k] = base[k] + t*dir[k]
	}
	return p
}

func dot(a, b []float64) float64 {
	s := 0.0
	for k := range a {
		s += a[k] * b[k]
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

func allFinite(v []float64) bool {
	for _, x := range v {
		if !finite(x) {
			return false
		}
	}
	return true
}

func expAll(v []float64) []float64 {
	out := make([]float64, len(v))
	for k, x := range v {
		out[k] = math.Exp(x)
	}
	return out
}
