//go:build !goexperiment.simd || !amd64

package kmeans

// Without GOEXPERIMENT=simd on amd64 there is no SIMD path: the portable
// kernel in kernel.go does all the work.

func vecSupported() bool { return false }

// vecKernel is empty; reset reports that it cannot be used.
type vecKernel struct{}

func (*vecKernel) reset(*kernel) bool { return false }

func (*vecKernel) assign(kn *kernel, lab []int, dist, sums, x []float64) {
	kn.assignGo(lab, dist, sums, x)
}

func avx2Supported() bool { return false }

// avx2Kernel is empty; reset reports that it cannot be used.
type avx2Kernel struct{}

func (*avx2Kernel) reset(*kernel) bool { return false }

func (*avx2Kernel) assign(kn *kernel, lab []int, dist, sums, x []float64) {
	kn.assignGo(lab, dist, sums, x)
}
