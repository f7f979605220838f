package als

import "github.com/mathcrm/mathcrm/algo/internal/kernel"

// The row kernels live in algo/internal/kernel, which picks the AVX2
// assembly or the portable Go code at run time from the CPU's features;
// both give the same bits on every input. What they compute, exactly:
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
// The AVX2 path keeps lanes across q (or j, or the systems of a batch), so
// each lane performs the scalar operations of one entry in the scalar
// order. TestPathsAgree checks the paths against each other.

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
	kernel.ALSGram(a, src, r, rp, wy, ys, n)
}

// gather copies y into dst (len(y) ≤ len(dst)).
func gather(dst, y []float64) { kernel.Gather(dst, y) }

// gatherScaled copies y into dy and w·y, each product rounded, into dw.
func gatherScaled(dy, dw, y []float64, w float64) { kernel.GatherScaled(dy, dw, y, w) }

// accVec adds Σ_j z_j·y_j[q] to b[q], q < r, over the n gathered rows of
// ys (stride rp, zero past r), one FMA chain per entry in row order.
func accVec(b []float64, r, rp int, z, ys []float64, n int) { kernel.ALSRHS(b, r, rp, z, ys, n) }

// cholesky factors the upper triangle of a (rank r, stride rp) in place
// into U with A = UᵀU. It reports false, leaving a partly factored, when a
// pivot is not positive (or is NaN): A is not positive definite in
// floating point.
func cholesky(a []float64, r, rp int) bool { return kernel.Cholesky(a, r, rp) }

// cholSolve overwrites b (length ≥ r) with the solution x of UᵀU x = b, U
// the factor cholesky left in a.
func cholSolve(a []float64, r, rp int, b []float64) { kernel.CholSolve(a, r, rp, b) }

// dot returns a·b (len(a) ≤ len(b)) as eight partial FMA chains, chain l
// over k ≡ l (mod 8) in order from zero, summed ((p0+p4)+(p2+p6)) +
// ((p1+p5)+(p3+p7)): the order of an eight-lane vector dot product
// reduced by halves. Every prediction and score uses it.
func dot(a, b []float64) float64 { return kernel.Dot(a, b) }

// scoreAll sets dst[i] = dot(u, row i of f) for the n rows of f (stride
// len(u)), dst having room for n.
func scoreAll(dst, u, f []float64, n int) {
	r := len(u)
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
