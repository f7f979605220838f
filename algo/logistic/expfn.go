package logistic

import (
	"math"

	"github.com/mathcrm/mathcrm/algo/internal/kernel"
)

// The log-loss of one row and its exp and log1p live in algo/internal/kernel
// (kernel.ExpNeg, Log1pUnit, RowLoss): the FreeBSD msun algorithms with
// every product rounded by an explicit conversion, so they give the same
// bits on every CPU and build.

// expNeg returns eᵗ for t ≤ 0 (and, correctly, for small positive t).
func expNeg(t float64) float64 { return kernel.ExpNeg(t) }

// log1pUnit returns log(1+x) for 0 ≤ x ≤ 1.
func log1pUnit(x float64) float64 { return kernel.Log1pUnit(x) }

// rowLoss returns the log-loss of a row with margin eta and label y, its
// residual, its curvature and p = σ(eta) (kernel.RowLoss).
func rowLoss(eta float64, y bool) (loss, resid, curv, p float64) { return kernel.RowLoss(eta, y) }

// sigmoid returns σ(η) as rowLoss computes it.
func sigmoid(eta float64) float64 {
	e := expNeg(-math.Abs(eta))
	big := 1 / (1 + e)
	if eta < 0 {
		return float64(e * big)
	}
	return big
}
