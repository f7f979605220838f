//go:build !goexperiment.simd || !amd64

package als

import "math"

// Without GOEXPERIMENT=simd on amd64 there is no SIMD path: the portable
// kernels in kernel.go do all the work, and these are never called.

func vecSupported() bool { return false }

func avx2Supported() bool { return false }

func accGramVec(a, src []float64, rp int, wy, ys []float64, n int) {
	accGramGo(a, src, rp, rp, wy, ys, n)
}

func choleskyVec(a []float64, r, rp int) bool { return choleskyGo(a, r, rp) }

func gatherVec(dst, y []float64) { copy(dst, y) }

func gatherScaledVec(dy, dw, y []float64, w float64) {
	for k, x := range y {
		dy[k] = x
		dw[k] = float64(w * x)
	}
}

func dotVec(a, b []float64) float64 { return dotGo(a, b) }

func accVecVec(b []float64, rp int, z, ys []float64, n int) {
	for j := range n {
		for q := range rp {
			b[q] = math.FMA(z[j], ys[j*rp+q], b[q])
		}
	}
}

func scoreAllVec(dst, u, f []float64, n int) {
	r := len(u)
	for i := range n {
		dst[i] = dotGo(u, f[i*r:(i+1)*r])
	}
}

// batch is empty without a SIMD path: newBatch reports none.
type batch struct{ n int }

const batchLanes = 8

func newBatch(int, bool) *batch { return nil }

func (*batch) put(a []float64, rp int, b []float64, row int, dst []float64) {}

func (*batch) run() (int, int) { return 0, batchOK }

func accGramAVX2(a, src []float64, r, rp int, wy, ys []float64, n int) {
	accGramGo(a, src, r, rp, wy, ys, n)
}

func gatherScaledAVX2(dy, dw, y []float64, w float64) { gatherScaledVec(dy, dw, y, w) }

func dotAVX2(a, b []float64) float64 { return dotGo(a, b) }

func accVecAVX2(b []float64, rp int, z, ys []float64, n int) { accVecVec(b, rp, z, ys, n) }
