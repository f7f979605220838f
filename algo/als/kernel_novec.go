//go:build !goexperiment.simd || !amd64

package als

// Without GOEXPERIMENT=simd on amd64 there is no SIMD path: the portable
// kernels in kernel.go do all the work.

func vecSupported() bool { return false }

func accGramVec(a []float64, rp int, wy, ys []float64, n int) {
	accGramGo(a, rp, rp, wy, ys, n)
}

func choleskyVec(a []float64, r, rp int) bool { return choleskyGo(a, r, rp) }
