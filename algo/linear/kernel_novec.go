//go:build !goexperiment.simd || !amd64

package linear

// Without GOEXPERIMENT=simd on amd64 there is no SIMD path: the portable
// kernels do all the work.

func vecSupported() bool { return false }

func addGramVec(g, a, b []float64, n, d, s int) { panic("linear: no SIMD kernel in this build") }

func avx2Supported() bool { return false }

func addGramAVX2(g, a, b []float64, n, d, s int) { panic("linear: no AVX2 kernel in this build") }

func colSumsVec(sum []float64, vary []uint8, ref, x, w []float64, d int, idx []int) {
	panic("linear: no SIMD kernel in this build")
}

func centreVec(a []float64, s int, x []float64, d int, idx []int, mean []float64) {
	panic("linear: no SIMD kernel in this build")
}

func scaleRowsVec(aw, a []float64, s int, w []float64, idx []int) {
	panic("linear: no SIMD kernel in this build")
}
