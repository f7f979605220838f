package als

import "math"

// The row kernels. Each has up to three implementations that give the same
// bits on every input: the portable one in this file, and, built with
// GOEXPERIMENT=simd on amd64, an AVX-512 one (kernel_vec.go) used when the
// CPU has AVX-512 and an AVX2 one (kernel_avx2.go, kernel_amd64.s) used
// when it has AVX2 and FMA but not AVX-512. What all compute, exactly:
//
//   - Gram: the normal-equation matrix A of a row lives in an rp×rp
//     row-major buffer, rp = rank rounded up to a multiple of 8; only its
//     upper triangle (p ≤ q < rank) is defined. accGram adds Σ_j w_j y_j y_jᵀ
//     over gathered rows as one FMA chain per entry, over j in order:
//     A[p][q] = fma(wy_j[p], y_j[q], A[p][q]), wy_j = w_j·y_j rounded
//     (wy_j = y_j when w_j = 1).
//   - Right-hand side: accVec adds Σ_j z_j y_j as b[q] = fma(z_j, y_j[q],
//     b[q]), over j in order.
//   - Cholesky: A = UᵀU in place, right-looking, k = 0…rank−1: U[k][k] =
//     √A[k][k]; U[k][j] = A[k][j]/U[k][k] for j > k; then A[i][j] =
//     fma(−U[k][i], U[k][j], A[i][j]) for k < i ≤ j.
//   - Solve: forward and back substitution, scalar on both paths
//     (cholSolve).
//   - Dot products (predictions and scores): dot, eight partial FMA chains
//     over k ≡ l (mod 8) and a fixed tree, on both paths.
//
// The SIMD paths keep lanes across q (or j, or the systems of a batch), so
// each lane performs the scalar operations of one entry in the scalar
// order; they compute some entries below the diagonal and in the padding,
// which nothing reads. TestPathsAgree checks the paths against each other.

// simdEnabled selects the AVX-512 path where the build has one and the CPU
// supports it. Tests switch it off to compare the paths.
var simdEnabled = vecSupported()

// avx2Enabled selects the AVX2 path where the build has one and the CPU
// has AVX2 and FMA; simdEnabled takes precedence. Tests switch it too.
var avx2Enabled = avx2Supported()

// chunkRows is the number of gathered rows accGram takes at once: their
// factors stay in L1 while every tile of A passes over them.
const chunkRows = 64

// padRank rounds a rank up to a multiple of 8.
func padRank(r int) int { return (r + 7) &^ 7 }

// accGram adds Σ_j wy_j[p]·y_j[q] to the upper triangle of src (rank r,
// stride rp) over the n gathered rows of ys and wy (stride rp, zero past
// r), one FMA chain per entry in row order, and writes the sums into a.
// src may be a itself, or nil for a zero matrix.
func accGram(a, src []float64, r, rp int, wy, ys []float64, n int) {
	switch {
	case n == 0:
	case simdEnabled:
		accGramVec(a, src, rp, wy, ys, n)
		return
	case avx2Enabled:
		accGramAVX2(a, src, r, rp, wy, ys, n)
		return
	}
	accGramGo(a, src, r, rp, wy, ys, n)
}

// accGramGo is the portable accGram: four entries of a row of A at a time
// in registers over all the rows, so each pass over the gathered rows
// carries four independent chains.
func accGramGo(a, src []float64, r, rp int, wy, ys []float64, n int) {
	ys, wy = ys[:n*rp], wy[:n*rp]
	for p := range r {
		row := a[p*rp : p*rp+r]
		var from []float64
		if src != nil {
			from = src[p*rp : p*rp+r][:len(row)]
		}
		q := p
		for ; q+4 <= r; q += 4 {
			var s0, s1, s2, s3 float64
			if from != nil {
				s0, s1, s2, s3 = from[q], from[q+1], from[q+2], from[q+3]
			}
			for o := 0; o < len(ys); o += rp {
				c := wy[o+p]
				y := ys[o+q : o+q+4]
				s0 = math.FMA(c, y[0], s0)
				s1 = math.FMA(c, y[1], s1)
				s2 = math.FMA(c, y[2], s2)
				s3 = math.FMA(c, y[3], s3)
			}
			row[q], row[q+1], row[q+2], row[q+3] = s0, s1, s2, s3
		}
		for ; q < r; q++ {
			s := 0.0
			if from != nil {
				s = from[q]
			}
			for o := 0; o < len(ys); o += rp {
				s = math.FMA(wy[o+p], ys[o+q], s)
			}
			row[q] = s
		}
	}
}

// gather copies y into dst (len(y) ≤ len(dst)).
func gather(dst, y []float64) {
	if simdEnabled {
		gatherVec(dst, y)
		return
	}
	copy(dst, y)
}

// gatherScaled copies y into dy and w·y, each product rounded, into dw.
func gatherScaled(dy, dw, y []float64, w float64) {
	switch {
	case simdEnabled:
		gatherScaledVec(dy, dw, y, w)
		return
	case avx2Enabled:
		gatherScaledAVX2(dy, dw, y, w)
		return
	}
	dy, dw = dy[:len(y)], dw[:len(y)]
	for k, x := range y {
		dy[k] = x
		dw[k] = float64(w * x)
	}
}

// accVec adds Σ_j z_j·y_j[q] to b[q], q < r, over the n gathered rows of
// ys (stride rp, zero past r), one FMA chain per entry in row order. The
// SIMD paths also run the padding of b, when b has room for it.
func accVec(b []float64, r, rp int, z, ys []float64, n int) {
	switch {
	case len(b) < rp:
	case simdEnabled:
		accVecVec(b, rp, z, ys, n)
		return
	case avx2Enabled:
		accVecAVX2(b, rp, z, ys, n)
		return
	}
	b = b[:r]
	for j := range n {
		c := z[j]
		y := ys[j*rp : j*rp+r]
		for q := range b {
			b[q] = math.FMA(c, y[q], b[q])
		}
	}
}

// cholesky factors the upper triangle of a (rank r, stride rp) in place
// into U with A = UᵀU. It reports false, leaving a partly factored, when a
// pivot is not positive (or is NaN): A is not positive definite in
// floating point.
func cholesky(a []float64, r, rp int) bool {
	if simdEnabled {
		return choleskyVec(a, r, rp)
	}
	return choleskyGo(a, r, rp)
}

func choleskyGo(a []float64, r, rp int) bool {
	for k := range r {
		rowk := a[k*rp : k*rp+r]
		d := rowk[k]
		if !(d > 0) || math.IsInf(d, 1) {
			return false
		}
		s := math.Sqrt(d)
		rowk[k] = s
		for j := k + 1; j < r; j++ {
			rowk[j] /= s
		}
		for i := k + 1; i < r; i++ {
			c := -rowk[i]
			rowi := a[i*rp : i*rp+r]
			for j := i; j < r; j++ {
				rowi[j] = math.FMA(c, rowk[j], rowi[j])
			}
		}
	}
	return true
}

// cholSolve overwrites b (length ≥ r) with the solution x of UᵀU x = b, U
// the factor cholesky left in a. The same scalar code serves both paths.
func cholSolve(a []float64, r, rp int, b []float64) {
	b = b[:r]
	for k := range r { // Uᵀz = b, by columns of Uᵀ (rows of U)
		zk := b[k] / a[k*rp+k]
		b[k] = zk
		c := -zk
		rowk := a[k*rp : k*rp+r]
		for j := k + 1; j < r; j++ {
			b[j] = math.FMA(c, rowk[j], b[j])
		}
	}
	for k := r - 1; k >= 0; k-- { // Ux = z, by columns of U
		xk := b[k] / a[k*rp+k]
		b[k] = xk
		c := -xk
		for i := range k {
			b[i] = math.FMA(c, a[i*rp+k], b[i])
		}
	}
}

// dot returns a·b (len(a) ≤ len(b)) as eight partial FMA chains, chain l
// over k ≡ l (mod 8) in order from zero, summed ((p0+p4)+(p2+p6)) +
// ((p1+p5)+(p3+p7)): the order of an eight-lane vector dot product
// reduced by halves. Every prediction and score uses it.
func dot(a, b []float64) float64 {
	switch {
	case simdEnabled:
		return dotVec(a, b)
	case avx2Enabled:
		return dotAVX2(a, b)
	}
	return dotGo(a, b)
}

func dotGo(a, b []float64) float64 {
	b = b[:len(a)]
	var p0, p1, p2, p3, p4, p5, p6, p7 float64
	k := 0
	for ; k+8 <= len(a); k += 8 {
		x, y := a[k:k+8], b[k:k+8]
		p0 = math.FMA(x[0], y[0], p0)
		p1 = math.FMA(x[1], y[1], p1)
		p2 = math.FMA(x[2], y[2], p2)
		p3 = math.FMA(x[3], y[3], p3)
		p4 = math.FMA(x[4], y[4], p4)
		p5 = math.FMA(x[5], y[5], p5)
		p6 = math.FMA(x[6], y[6], p6)
		p7 = math.FMA(x[7], y[7], p7)
	}
	if k < len(a) {
		var x, y [8]float64
		copy(x[:], a[k:])
		copy(y[:], b[k:])
		p0 = math.FMA(x[0], y[0], p0)
		p1 = math.FMA(x[1], y[1], p1)
		p2 = math.FMA(x[2], y[2], p2)
		p3 = math.FMA(x[3], y[3], p3)
		p4 = math.FMA(x[4], y[4], p4)
		p5 = math.FMA(x[5], y[5], p5)
		p6 = math.FMA(x[6], y[6], p6)
		p7 = math.FMA(x[7], y[7], p7)
	}
	return ((p0 + p4) + (p2 + p6)) + ((p1 + p5) + (p3 + p7))
}

// scoreAll sets dst[i] = dot(u, row i of f) for the n rows of f (stride
// len(u)), dst having room for n.
func scoreAll(dst, u, f []float64, n int) {
	r := len(u)
	if simdEnabled && r%8 == 0 && r > 0 {
		scoreAllVec(dst, u, f, n)
		return
	}
	f = f[:n*r]
	for i := range n {
		dst[i] = dot(u, f[i*r:(i+1)*r])
	}
}

// grow returns s resliced to n, reallocating when it is too short.
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}
