// Package kerneltest holds the inputs the kernel path tests share, so the
// kernel package and the algorithms built on it test their paths on the
// same hard cases.
package kerneltest

import (
	"math"
	"math/rand/v2"
)

// KMeansCase builds centres and rows with ties on purpose: repeated centres,
// centres mirrored through the origin (equal norms, so rows on the mirror
// plane tie), rows equal to centres, zero rows and signed zeros.
func KMeansCase(r *rand.Rand, n, k, d int) (x, c []float64) {
	c = make([]float64, k*d)
	for i := range k {
		ci := c[i*d : (i+1)*d]
		switch {
		case i > 0 && r.IntN(4) == 0: // a repeat of an earlier centre
			copy(ci, c[r.IntN(i)*d:])
		case i > 0 && r.IntN(4) == 0: // the mirror of an earlier centre
			m := r.IntN(i)
			for j, v := range c[m*d : (m+1)*d] {
				ci[j] = -v
			}
		default:
			for j := range ci {
				ci[j] = float64(r.IntN(7) - 3) // small integers tie often
				if r.IntN(3) == 0 {
					ci[j] = r.NormFloat64()
				}
			}
		}
	}
	x = make([]float64, n*d)
	for i := range n {
		row := x[i*d : (i+1)*d]
		switch r.IntN(6) {
		case 0: // a centre
			copy(row, c[r.IntN(k)*d:])
		case 1: // zeros of both signs
			for j := range row {
				row[j] = math.Copysign(0, float64(r.IntN(2)*2-1))
			}
		default:
			for j := range row {
				row[j] = float64(r.IntN(9) - 4)
				if r.IntN(2) == 0 {
					row[j] = 3 * r.NormFloat64()
				}
			}
		}
	}
	return x, c
}
