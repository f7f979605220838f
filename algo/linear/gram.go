package linear

import "math"

// The cross-product kernel shared by the linear and logistic partials.
//
// Every entry of the result is one FMA chain over the rows in order, so the
// blocking below changes the speed, never the bits. The operands are
// column-major (one contiguous run of rows per data column), which lets the
// compiler drop every bounds check from the inner loop. Rows go in blocks
// small enough to stay in L1 while every tile of the output visits them; a
// tile holds eight independent FMA chains in registers, enough to cover the
// FMA latency (Go gives scalar code 15 float registers: eight accumulators
// and six operands fit, a 3×4 tile does not).

// gramBlockFloats bounds the floats of a and of b that one row block holds
// (16 KiB each).
const gramBlockFloats = 2048

// AddGram adds the upper triangle of a·bᵀ to g, where a and b are d×n
// row-major, that is n rows of d columns stored column by column (column j
// of the data is a[j*n:(j+1)*n]), and g is d×d row-major. For every j ≤ k,
// in effect
//
//	for i := 0; i < n; i++ {
//		g[j*d+k] = math.FMA(a[j*n+i], b[k*n+i], g[j*d+k])
//	}
//
// so each entry is one correctly rounded FMA chain in row order, and the
// result has the same bits on every platform and build. Entries below the
// diagonal are scratch: AddGram may change them. a and b may be the same
// slice. It panics if a slice is too short.
func AddGram(g, a, b []float64, n, d int) {
	if n <= 0 || d <= 0 {
		return
	}
	_, _, _ = g[d*d-1], a[n*d-1], b[n*d-1]
	r := max(8, gramBlockFloats/d)
	for lo := 0; lo < n; lo += r {
		hi := min(n, lo+r)
		gramBlock(g, a, b, n, d, lo, hi)
	}
}

// gramBlock adds the upper triangle of a·bᵀ over rows lo..hi-1. Output
// columns go in aligned groups of four, each visited by pairs of output
// rows (tile24), from the group holding the diagonal; the last d mod 4
// columns go by eight output rows at a time (tile81). Both keep eight FMA
// chains in flight: narrower tiles are latency-bound.
func gramBlock(g, a, b []float64, n, d, lo, hi int) {
	col := func(m []float64, j int) []float64 { return m[j*n+lo : j*n+hi] }
	d4 := d &^ 3
	for j := 0; j < d4; j += 2 {
		a0, a1 := col(a, j), col(a, j+1)
		for k := j &^ 3; k < d4; k += 4 {
			tile24(g[j*d+k:j*d+k+4], g[(j+1)*d+k:(j+1)*d+k+4], a0, a1,
				col(b, k), col(b, k+1), col(b, k+2), col(b, k+3))
		}
	}
	for k := d4; k < d; k++ {
		bk := col(b, k)
		j := 0
		for ; j+8 <= k+1; j += 8 {
			tile81(g[j*d+k:], d, a[j*n+lo:], n, bk)
		}
		for ; j <= k; j++ {
			s := g[j*d+k]
			for i, v := range col(a, j)[:len(bk)] {
				s = math.FMA(v, bk[i], s)
			}
			g[j*d+k] = s
		}
	}
}

// tile24 adds two output rows (a0, a1) by four output columns (b0..b3)
// into g0[0:4] and g1[0:4].
func tile24(g0, g1, a0, a1, b0, b1, b2, b3 []float64) {
	g0, g1 = g0[:4], g1[:4]
	s00, s01, s02, s03 := g0[0], g0[1], g0[2], g0[3]
	s10, s11, s12, s13 := g1[0], g1[1], g1[2], g1[3]
	a1 = a1[:len(a0)]
	b0, b1, b2, b3 = b0[:len(a0)], b1[:len(a0)], b2[:len(a0)], b3[:len(a0)]
	for i, x0 := range a0 {
		x1 := a1[i]
		y0, y1, y2, y3 := b0[i], b1[i], b2[i], b3[i]
		s00 = math.FMA(x0, y0, s00)
		s01 = math.FMA(x0, y1, s01)
		s02 = math.FMA(x0, y2, s02)
		s03 = math.FMA(x0, y3, s03)
		s10 = math.FMA(x1, y0, s10)
		s11 = math.FMA(x1, y1, s11)
		s12 = math.FMA(x1, y2, s12)
		s13 = math.FMA(x1, y3, s13)
	}
	g0[0], g0[1], g0[2], g0[3] = s00, s01, s02, s03
	g1[0], g1[1], g1[2], g1[3] = s10, s11, s12, s13
}

// tile81 adds eight output rows of one output column into g[0], g[d], …,
// g[7d]: output row r reads a[r*n:], the column reads b.
func tile81(g []float64, d int, a []float64, n int, b []float64) {
	m := len(b)
	_ = g[7*d]
	a0, a1, a2, a3 := a[:m], a[n:n+m], a[2*n:2*n+m], a[3*n:3*n+m]
	a4, a5, a6, a7 := a[4*n:4*n+m], a[5*n:5*n+m], a[6*n:6*n+m], a[7*n:7*n+m]
	s0, s1, s2, s3 := g[0], g[d], g[2*d], g[3*d]
	s4, s5, s6, s7 := g[4*d], g[5*d], g[6*d], g[7*d]
	for i, y := range b {
		s0 = math.FMA(a0[i], y, s0)
		s1 = math.FMA(a1[i], y, s1)
		s2 = math.FMA(a2[i], y, s2)
		s3 = math.FMA(a3[i], y, s3)
		s4 = math.FMA(a4[i], y, s4)
		s5 = math.FMA(a5[i], y, s5)
		s6 = math.FMA(a6[i], y, s6)
		s7 = math.FMA(a7[i], y, s7)
	}
	g[0], g[d], g[2*d], g[3*d] = s0, s1, s2, s3
	g[4*d], g[5*d], g[6*d], g[7*d] = s4, s5, s6, s7
}

// packUpper appends the upper triangle of the d×d row-major g to dst, row by
// row: entries (0,0), (0,1), …, (0,d−1), (1,1), …, (d−1,d−1).
func packUpper(dst, g []float64, d int) []float64 {
	for j := range d {
		dst = append(dst, g[j*d+j:(j+1)*d]...)
	}
	return dst
}

// upperLen is the length of a packed upper triangle of order d.
func upperLen(d int) int { return d * (d + 1) / 2 }

// upperAt is the index of entry (j, k), j ≤ k, in a packed upper triangle
// of order d.
func upperAt(j, k, d int) int { return j*d - j*(j-1)/2 + k - j }
