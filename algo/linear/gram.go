package linear

import "math"

// The cross-product kernel shared by the linear and logistic partials.
//
// Every entry of the result is one FMA chain over the rows in order, so the
// blocking below, and the choice between the portable and the SIMD kernel
// (gram_vec.go), change the speed, never the bits. The operands are
// row-major with the row stride padded to whole 8-float vectors, so that
// the SIMD kernel holds eight output entries of one output row in each
// vector register, each lane running that entry's chain. Rows go in blocks
// small enough to stay in L1 while every tile of the output visits them.

// gramBlockFloats bounds the floats of a and of b that one row block holds
// (16 KiB each).
const gramBlockFloats = 2048

// simdEnabled selects the SIMD kernel where the build has one and the CPU
// runs it; the tests switch it off to compare the two paths.
var simdEnabled = vecSupported()

// avx2Enabled selects the AVX2 cross-product kernel (kernel_avx2.go) on a
// CPU without AVX-512 where the build has it; the tests switch it too.
var avx2Enabled = avx2Supported()

// GramStride returns the row stride, in floats, of the operands and of the
// result of AddGram for d columns: d rounded up to a multiple of 8.
func GramStride(d int) int { return (d + 7) &^ 7 }

// AddGram adds the upper triangle of Σᵢ aᵢbᵢᵀ to g over the n rows of a
// and b. With s = GramStride(d), a and b hold n rows of s floats (row i's d
// columns are a[i*s:i*s+d], the rest of the row is padding), and g is s×s
// row-major. For every j ≤ k < d, in effect
//
//	for i := 0; i < n; i++ {
//		g[j*s+k] = math.FMA(a[i*s+j], b[i*s+k], g[j*s+k])
//	}
//
// so each entry is one correctly rounded FMA chain in row order, and the
// result has the same bits on every platform and build. Every other entry
// of g is scratch, which AddGram may change; padding only reaches scratch.
// a and b may be the same slice. It panics if a slice is too short.
func AddGram(g, a, b []float64, n, d int) {
	if n <= 0 || d <= 0 {
		return
	}
	s := GramStride(d)
	_, _, _ = g[s*s-1], a[n*s-1], b[n*s-1]
	switch {
	case simdEnabled:
		addGramVec(g, a, b, n, d, s)
		return
	case avx2Enabled:
		addGramAVX2(g, a, b, n, d, s)
		return
	}
	r := max(8, gramBlockFloats/s)
	for lo := 0; lo < n; lo += r {
		hi := min(n, lo+r)
		gramBlock(g, a[lo*s:hi*s], b[lo*s:hi*s], hi-lo, d, s)
	}
}

// gramBlock adds the upper triangle of Σᵢ aᵢbᵢᵀ over the n rows of a and
// b (row stride s) to g: pairs of output rows by aligned groups of four
// output columns (tile24), from the group holding the diagonal to the end
// of the padded row. Eight FMA chains in flight cover the FMA latency.
func gramBlock(g, a, b []float64, n, d, s int) {
	for j := 0; j < d; j += 2 {
		for k := j &^ 3; k < s; k += 4 {
			tile24(g[j*s+k:j*s+k+4], g[(j+1)*s+k:(j+1)*s+k+4], a[j:], b[k:], n, s)
		}
	}
}

// tile24 adds two output rows (a's columns 0 and 1) by four output columns
// (b's columns 0 to 3) into g0 and g1, over n rows of a and b, whose
// stride is s. a and b start at the tile's columns.
func tile24(g0, g1, a, b []float64, n, s int) {
	g0, g1 = g0[:4], g1[:4]
	s00, s01, s02, s03 := g0[0], g0[1], g0[2], g0[3]
	s10, s11, s12, s13 := g1[0], g1[1], g1[2], g1[3]
	for i := range n {
		x := a[i*s : i*s+2]
		y := b[i*s : i*s+4]
		s00 = math.FMA(x[0], y[0], s00)
		s01 = math.FMA(x[0], y[1], s01)
		s02 = math.FMA(x[0], y[2], s02)
		s03 = math.FMA(x[0], y[3], s03)
		s10 = math.FMA(x[1], y[0], s10)
		s11 = math.FMA(x[1], y[1], s11)
		s12 = math.FMA(x[1], y[2], s12)
		s13 = math.FMA(x[1], y[3], s13)
	}
	g0[0], g0[1], g0[2], g0[3] = s00, s01, s02, s03
	g1[0], g1[1], g1[2], g1[3] = s10, s11, s12, s13
}

// packUpper appends the upper triangle of the d×d part of the row-major g,
// whose row stride is s, to dst, row by row: entries (0,0), (0,1), …,
// (0,d−1), (1,1), …, (d−1,d−1).
func packUpper(dst, g []float64, d, s int) []float64 {
	for j := range d {
		dst = append(dst, g[j*s+j:j*s+d]...)
	}
	return dst
}

// upperLen is the length of a packed upper triangle of order d.
func upperLen(d int) int { return d * (d + 1) / 2 }

// upperAt is the index of entry (j, k), j ≤ k, in a packed upper triangle
// of order d.
func upperAt(j, k, d int) int { return j*d - j*(j-1)/2 + k - j }
