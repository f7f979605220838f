package kernel

import "math"

// The weighted cross-product (Gram) kernel of the linear and logistic
// partials.
//
// Every entry of the result is one FMA chain over the rows in order, so the
// blocking below and the path change the speed, never the bits. The
// operands are row-major with the row stride padded to whole 8-float
// vectors. Rows go in blocks small enough to stay in L1 while every tile of
// the output visits them.
//
// The portable path tiles pairs of output rows by aligned groups of four
// output columns: eight scalar FMA chains in flight. The AVX2 path
// (gram_amd64.s) tiles groups of four output rows by up to twelve columns,
// four output columns of one output row in each 256-bit register: twelve
// vector chains, each lane one entry's chain over the rows in order. The AVX-512
// path (gram512_amd64.s) tiles groups of four output rows by up to 32
// columns, eight output columns in each 512-bit register: sixteen vector
// chains, to keep both 512-bit FMA ports busy, and the last eight output
// rows by their eight columns (eight chains, not two tiles of four). Its
// tiles cover the AVX2 tiles' columns, the last vector of a row's last
// tile masked to four columns when it holds no more.

// GramBlockFloats bounds the floats of a and of b that one row block holds
// (16 KiB each).
const GramBlockFloats = 2048

// AddGram adds the upper triangle of Σᵢ aᵢbᵢᵀ to g over the n rows of a
// and b, whose row stride is s (d ≤ s, s a multiple of 8); g is s×s
// row-major. For every j ≤ k < d, in effect
//
//	for i := 0; i < n; i++ {
//		g[j*s+k] = math.FMA(a[i*s+j], b[i*s+k], g[j*s+k])
//	}
//
// Every other entry of g is scratch, which AddGram may change; padding
// columns reach scratch only. The caller checks the lengths: g holds s*s,
// a and b n*s floats.
func AddGram(g, a, b []float64, n, d, s int) {
	if n <= 0 || d <= 0 {
		return
	}
	_, _, _ = g[s*s-1], a[n*s-1], b[n*s-1]
	r := max(8, GramBlockFloats/s)
	if path == AVX512 {
		for lo := 0; lo < n; lo += r {
			rows := min(r, n-lo)
			gramBlockAVX512(g, a[lo*s:], b[lo*s:], rows, d, s)
		}
		return
	}
	if path == AVX2 {
		for lo := 0; lo < n; lo += r {
			rows := min(r, n-lo)
			gramBlockAVX2(g, a[lo*s:], b[lo*s:], rows, d, s)
		}
		return
	}
	for lo := 0; lo < n; lo += r {
		hi := min(n, lo+r)
		gramBlock(g, a[lo*s:hi*s], b[lo*s:hi*s], hi-lo, d, s)
	}
}

// gramBlockAVX2 is gramBlock with the AVX2 tiles: four output rows by
// three (12), two (8) or one (4) vectors of four output columns, from the
// diagonal block to gramEnd(d). A tile costs about as long as its FMA
// latency while it has few chains, so a row block's width w takes tiles of
// twelve, except that w = 16 takes two of eight and w = 4 one of four.
func gramBlockAVX2(g, a, b []float64, n, d, s int) {
	end := gramEnd(d)
	for j := 0; j < d; j += 4 {
		for k := j; k < end; {
			gt, at, bt := &g[j*s+k], &a[j], &b[k]
			switch w := end - k; {
			case w == 4:
				gramY4x4(gt, 8*s, at, bt, 8*s, n)
				k += 4
			case w == 8 || w == 16:
				gramY4x8(gt, 8*s, at, bt, 8*s, n)
				k += 8
			default:
				gramY4x12(gt, 8*s, at, bt, 8*s, n)
				k += 12
			}
		}
	}
}

// gramBlockAVX512 is gramBlock with the AVX-512 tiles: four output rows by
// four (32), three (24), two (16) or one (8) vectors of eight output
// columns, from the diagonal to gramEnd(d), and the last eight rows by
// their eight columns. A row's last tile masks its last vector to four
// columns when it would pass gramEnd(d), and perhaps the stride: the
// masked loads and stores touch only those columns.
func gramBlockAVX512(g, a, b []float64, n, d, s int) {
	end := gramEnd(d)
	for j := 0; j < d; j += 4 {
		if end-j == 8 {
			gramTile8x8(&g[j*s+j], 8*s, &a[j], &b[j], 8*s, n)
			break
		}
		for k := j; k < end; {
			gt, at, bt := &g[j*s+k], &a[j], &b[k]
			m := min(4, (end-k+7)/8)
			if (end-k+7)/8 == 5 {
				m = 3 // then two, not four and one: a lone vector's four chains wait on latency
			}
			mask := 0xff
			if k+8*m > end {
				mask = 0x0f
			}
			switch m {
			case 4:
				gramTile4x32(gt, 8*s, at, bt, 8*s, n, mask)
			case 3:
				gramTile4x24(gt, 8*s, at, bt, 8*s, n, mask)
			case 2:
				gramTile4x16(gt, 8*s, at, bt, 8*s, n, mask)
			default:
				gramTile4x8(gt, 8*s, at, bt, 8*s, n, mask)
			}
			k += 8 * m
		}
	}
}

// gramEnd is where the output columns a row block computes end: column d
// rounded up to a group of four. The padding columns past it are scratch
// that no caller reads; computing them cost a sixth of the logistic
// Hessian's FMAs at d = 32 (order 34, stride 40).
func gramEnd(d int) int { return (d + 3) &^ 3 }

// gramBlock adds the upper triangle of Σᵢ aᵢbᵢᵀ over the n rows of a and
// b (row stride s) to g: pairs of output rows by aligned groups of four
// output columns (tile24), from the group holding the diagonal to the
// group holding column d−1.
func gramBlock(g, a, b []float64, n, d, s int) {
	end := gramEnd(d)
	for j := 0; j < d; j += 2 {
		for k := j &^ 3; k < end; k += 4 {
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
