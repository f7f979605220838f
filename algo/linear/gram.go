package linear

import "github.com/mathcrm/mathcrm/algo/internal/kernel"

// The cross-product kernel shared by the linear and logistic partials lives
// in algo/internal/kernel (kernel.AddGram): every entry of the result is one
// FMA chain over the rows in order, so the blocking and the path (portable
// Go, or AVX2 assembly chosen at run time) change the speed, never the
// bits. The operands are row-major with the row stride padded to whole
// 8-float vectors.

// gramBlockFloats bounds the floats of a and of b that one row block holds
// (16 KiB each).
const gramBlockFloats = kernel.GramBlockFloats

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
	kernel.AddGram(g, a, b, n, d, s)
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
