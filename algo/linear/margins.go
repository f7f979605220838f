package linear

import (
	"math"

	"github.com/mathcrm/mathcrm/algo/internal/kernel"
)

// Margins sets dst[q] = b + x_q·coef for the len(dst) rows of x (row-major,
// d columns): one FMA chain per row, from b over the columns in order, so
// every build gives the same bits. Six rows run side by side: one chain is
// bound by the FMA latency, and six chains with their operands are what
// fits in the registers Go gives scalar code (eight spill one). It panics
// if x holds fewer than len(dst) rows or coef fewer than d values.
func Margins(dst, x []float64, d int, coef []float64, b float64) {
	coef = coef[:d]
	all := x
	x = x[:len(dst)*d]
	q := 0
	for ; q+6 <= len(dst); q += 6 {
		if e := (q + 30) * d; e <= len(all) {
			kernel.Prefetch(all[(q+24)*d : e])
		}
		r := x[q*d : (q+6)*d]
		x0, x1, x2 := r[:d], r[d:2*d], r[2*d:3*d]
		x3, x4, x5 := r[3*d:4*d], r[4*d:5*d], r[5*d:6*d]
		e0, e1, e2, e3, e4, e5 := b, b, b, b, b, b
		for j, c := range coef {
			e0 = math.FMA(x0[j], c, e0)
			e1 = math.FMA(x1[j], c, e1)
			e2 = math.FMA(x2[j], c, e2)
			e3 = math.FMA(x3[j], c, e3)
			e4 = math.FMA(x4[j], c, e4)
			e5 = math.FMA(x5[j], c, e5)
		}
		o := dst[q : q+6]
		o[0], o[1], o[2], o[3], o[4], o[5] = e0, e1, e2, e3, e4, e5
	}
	for ; q < len(dst); q++ {
		e := b
		for j, v := range x[q*d : (q+1)*d] {
			e = math.FMA(v, coef[j], e)
		}
		dst[q] = e
	}
}
