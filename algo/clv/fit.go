package clv

import (
	"fmt"
	"math"
	"slices"
	"strings"
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
	// Stalls counts the latest accepted steps in a row that did not
	// lower the objective beyond its rounding.
	Stalls int `json:"stalls,omitempty"`
	// Mark is the objective at the last pass that lowered it by more than
	// progressRel of itself, Since the passes since.
	Mark  float64 `json:"mark,omitempty"`
	Since int     `json:"since,omitempty"`
}

// A fit whose objective falls by less than progressRel of itself in
// progressPasses passes, its gradient still above the tolerance, is not
// converging: it crawls along a ridge or towards a boundary.
const (
	progressRel    = 1e-10
	progressPasses = 30
)

// maxStalls is the number of accepted steps in a row without a decrease
// of the objective beyond rounding that fails a fit: it is not converging
// and more passes will not change that.
const maxStalls = 3

// stallHalvings is the number of step halvings that make a line search a
// stall: the direction does not descend at any step the objective's
// rounding can see.
const stallHalvings = 20

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
		f.Mark = obj
		return f.next(cfg)
	}
	if f.Since++; f.Since >= progressPasses {
		return f.stalled(cfg, fmt.Sprintf("the objective fell by less than %g of itself in the last %d passes", progressRel, progressPasses))
	}
	noise := 16 * 0x1p-52 * math.Abs(f.Obj)
	decrease := obj <= f.Obj+armijo*ln.T*ln.Slope
	ok := !bad && (decrease || (math.Abs(obj-f.Obj) <= noise && maxAbs(g) < maxAbs(f.Grad)))
	if !ok {
		if ln.Halvings >= maxHalvings {
			return f.stalled(cfg, fmt.Sprintf("no decrease after %d step halvings", maxHalvings))
		}
		if ln.Halvings >= stallHalvings {
			// A stall: start again from steepest descent.
			if f.Stalls++; f.Stalls >= maxStalls {
				return f.stalled(cfg, fmt.Sprintf("the objective has not decreased beyond its rounding in the last %d steps", maxStalls))
			}
			f.S, f.Y = nil, nil
			return f.next(cfg)
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
	stalled := !decrease || obj > f.Obj-noise || ln.Halvings >= stallHalvings
	// Below the objective's rounding a step that lowers the gradient is
	// still progress towards the optimum: it neither counts as a stall
	// nor clears the count.
	falling := maxAbs(g) < maxAbs(f.Grad)
	f.accept(obj, g, ll)
	if obj < f.Mark-progressRel*max(1, math.Abs(f.Mark)) {
		f.Mark, f.Since = obj, 0
	}
	switch {
	case !stalled || maxAbs(f.Grad) <= cfg.Tol:
		f.Stalls = 0
	case !falling:
		if f.Stalls++; f.Stalls >= maxStalls {
			return f.stalled(cfg, fmt.Sprintf("the objective has not decreased beyond its rounding in the last %d steps", maxStalls))
		}
	}
	return f.next(cfg)
}

// roundingTol is the largest gradient entry at which a fit whose
// objective no longer falls beyond its rounding has converged: √ε times
// the objective's scale. Closer to the optimum the objective's changes,
// of the order of the gradient squared, are below its rounding, so no
// line search can see them; further from it they are not, and a stall
// there is a fit that is not converging.
func roundingTol(obj float64) float64 {
	return math.Sqrt(0x1p-52) * max(1, math.Abs(obj))
}

// stalled returns the error of a fit that is not converging: what
// happened, the parameters that ran towards 0 or ∞, and what to try.
func (f *Fit) stalled(cfg Config, what string) error {
	low, high := bounds(f.At)
	if !low && !high && maxAbs(f.Grad) <= roundingTol(f.Obj) {
		// At the optimum to the objective's rounding, the parameters
		// inside their bounds: converged.
		f.Converged, f.Line, f.Point = true, nil, slices.Clone(f.At)
		return nil
	}
	if low && !high && maxAbs(f.Grad) <= boundaryTol {
		// Only towards 0, the objective flat: the optimum is the
		// boundary's limit model (for BG/NBD with a → 0, the NBD), which
		// the predictions evaluate; the model carries the note.
		f.Converged, f.Line, f.Point = true, nil, slices.Clone(f.At)
		return nil
	}
	msg := fmt.Sprintf("the %s fit is not converging after %d iterations: %s (largest gradient %.3g, tolerance %.3g)",
		modelName(f.Model), f.Iter, what, maxAbs(f.Grad), cfg.Tol)
	if b := boundary(f.Model, f.At); b != "" {
		msg += "; " + b
	}
	if !high {
		return errorf(ErrNoConvergence, "%s; more customers or a longer calibration period may pin the parameters down", msg)
	}
	return errorf(ErrNoConvergence, "%s; %s", msg, advice(cfg))
}

// boundaryTol is the largest gradient entry at which a fit stalled with
// parameters running only towards 0 has reached the boundary's limit.
const boundaryTol = 1e-5

// bounds reports whether any of the parameters at the log-parameters
// theta ran towards 0, and towards ∞.
func bounds(theta []float64) (low, high bool) {
	for _, th := range theta {
		v := math.Exp(th)
		low = low || v < lowParam
		high = high || v > highParam
	}
	return low, high
}

// advice is what to try when a fit's parameters run towards ∞.
func advice(cfg Config) string {
	if cfg.Penalty == 0 {
		return "a small --penalty (e.g. 0.001) keeps the parameters finite"
	}
	return fmt.Sprintf("a larger --penalty than %g keeps the parameters finite", cfg.Penalty)
}

// Parameters beyond these bounds have run towards 0 or ∞: the data do not
// pin them down.
const (
	lowParam  = 1e-4
	highParam = 1e4
)

// boundary says which of the parameters at the log-parameters theta ran
// towards 0 or ∞, and what that means for the model, or "".
func boundary(model string, theta []float64) string {
	names := paramNames[model]
	var low, high []string
	for k, th := range theta {
		v := math.Exp(th)
		switch {
		case v < lowParam:
			low = append(low, fmt.Sprintf("%s = %.3g", names[k], v))
		case v > highParam:
			high = append(high, fmt.Sprintf("%s = %.3g", names[k], v))
		}
	}
	if len(low) == 0 && len(high) == 0 {
		return ""
	}
	var parts []string
	if len(low) > 0 {
		parts = append(parts, strings.Join(low, " and ")+" ran towards 0")
	}
	if len(high) > 0 {
		parts = append(parts, strings.Join(high, " and ")+" ran towards ∞")
	}
	msg := strings.Join(parts, ", ")
	if model == BGNBD && len(theta) == 4 {
		a, b := math.Exp(theta[2]), math.Exp(theta[3])
		if m := a / (a + b); m < lowParam {
			msg += fmt.Sprintf(": the data show almost no drop-out (mean drop-out probability a/(a+b) = %.3g), P(alive) ≈ 1 and the BG/NBD is the NBD", m)
		}
	}
	return msg
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
		msg := fmt.Sprintf("the %s fit did not converge in %d iterations (largest gradient %.3g, tolerance %.3g)",
			modelName(f.Model), cfg.MaxIter, maxAbs(f.Grad), cfg.Tol)
		if low, high := bounds(f.At); low || high {
			return f.stalled(cfg, fmt.Sprintf("--max-iter %d reached", cfg.MaxIter))
		}
		return errorf(ErrNoConvergence, "%s; a larger --max-iter or a small --penalty may help", msg)
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
