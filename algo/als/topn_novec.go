//go:build !goexperiment.simd || !amd64

package als

// Without GOEXPERIMENT=simd on amd64 the portable scorePanelsGo does all
// the work.

func topnVecSupported() bool { return false }

func scorePanelsVec(out *[2 * rankChunk]float64, u0, u1, v []float64, np, rp int, bar0, bar1 float64) (uint64, uint64) {
	return scorePanelsGo(out, u0, u1, v, np, rp, bar0, bar1)
}
