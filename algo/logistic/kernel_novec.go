//go:build !goexperiment.simd || !amd64

package logistic

// Without GOEXPERIMENT=simd on amd64 there is no SIMD path: the portable
// kernels do all the work.

func vecSupported() bool { return false }

func avx2Supported() bool { return false }

func fillRowsVec(a, b []float64, s int, x []float64, d int, idx []int, gw, cw []float64) {
	panic("logistic: no SIMD kernel in this build")
}

func lossVec(eta, y, l, res, curv, p []float64) { panic("logistic: no SIMD kernel in this build") }

func allFiniteVec(s []float64) bool { panic("logistic: no SIMD kernel in this build") }

func lossVecAVX2(eta, y, l, res, curv, p []float64) {
	panic("logistic: no SIMD kernel in this build")
}

func fillRowsAVX2(a, b []float64, s int, x []float64, d int, idx []int, gw, cw []float64) {
	panic("logistic: no SIMD kernel in this build")
}
