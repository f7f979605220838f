package logistic

import "math"

// L-BFGS (Nocedal 1980; Nocedal & Wright, Numerical Optimization, 2nd ed.,
// algorithm 7.4): the direction is −H·g with H the inverse-Hessian
// approximation built from the last Memory pairs s = θ₊ − θ, y = ∇F₊ − ∇F,
// scaled initially by sᵀy/yᵀy of the newest pair. The state owns the pairs,
// so a new leader resumes the iteration exactly.

// twoLoop returns −H·g by the two-loop recursion over the pairs (S[i],
// Y[i]), oldest first; with no pairs, −g.
func twoLoop(g []float64, S, Y [][]float64) []float64 {
	q := clone(g)
	m := len(S)
	alpha, rho := make([]float64, m), make([]float64, m)
	for i := m - 1; i >= 0; i-- {
		rho[i] = 1 / dot(Y[i], S[i])
		alpha[i] = float64(rho[i] * dot(S[i], q))
		for j := range q {
			q[j] = math.FMA(-alpha[i], Y[i][j], q[j])
		}
	}
	if m > 0 {
		gamma := dot(S[m-1], Y[m-1]) / dot(Y[m-1], Y[m-1])
		for j := range q {
			q[j] = float64(gamma * q[j])
		}
	}
	for i := range m {
		b := float64(rho[i] * dot(Y[i], q))
		for j := range q {
			q[j] = math.FMA(alpha[i]-b, S[i][j], q[j])
		}
	}
	for j := range q {
		q[j] = -q[j]
	}
	return q
}

// pushPair keeps the pair (sv, yv) when it has positive curvature sᵀy (the
// objective is convex, so only rounding can make it fail), dropping the
// oldest beyond Memory.
func (s *State) pushPair(sv, yv []float64) {
	if !(dot(sv, yv) > 0) || !(dot(yv, yv) > 0) {
		return
	}
	S := append(s.S[:len(s.S):len(s.S)], sv)
	Y := append(s.Y[:len(s.Y):len(s.Y)], yv)
	if len(S) > s.Config.Memory {
		S, Y = S[1:], Y[1:]
	}
	s.S, s.Y = S, Y
}
