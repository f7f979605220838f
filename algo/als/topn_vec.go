//go:build goexperiment.simd && amd64

package als

import (
	"encoding/binary"
	"simd/archsimd"
	"unsafe"
)

// The SIMD path of scorePanels: AVX2 and FMA (so it also runs on CPUs
// without AVX-512), 256-bit vectors whose four lanes are the four items of
// a panel, so that each lane performs dot's FMA chains and additions for
// its item in dot's order (topn_amd64.s). A tile is two users by two
// panels; a pair of chains (l and l+4) over the tile is eight independent
// FMA chains, enough to cover the FMA latency, fed by two item vectors and
// two broadcasts per four FMAs.
//
// The tile loop is assembly rather than simd/archsimd: Go 1.26 emits only
// the 213 form of the FMA (the product's operand is overwritten) and
// broadcasts through a register, so a loop-carried accumulator costs a
// register move per FMA and the tile spills; written with archsimd, the
// same tile ran at 2.5 times the time per user of BenchmarkTopN.

func topnVecSupported() bool { return archsimd.X86.AVX2() && archsimd.X86.FMA() }

// scorePanelsVec is scorePanels on the SIMD path.
func scorePanelsVec(out *[2 * rankChunk]float64, u0, u1, v []float64, np, rp int, bar0, bar1 float64) (uint64, uint64) {
	span := rp * rankPanel
	if np&1 != 0 || np*rankPanel > rankChunk || len(v) < np*span || len(u0) < rp || len(u1) < rp || rp%8 != 0 {
		panic("als: scorePanelsVec shape mismatch")
	}
	var masks [16]uint8
	panels2x2(out, &masks, unsafe.SliceData(u0), unsafe.SliceData(u1), unsafe.SliceData(v), np, rp, bar0, bar1)
	return binary.LittleEndian.Uint64(masks[:8]), binary.LittleEndian.Uint64(masks[8:])
}

// panels2x2 writes the scores of the tiles of two panels (topn_amd64.s)
// into out and, per tile t, the bits of the eight items at or above bar0
// into masks[t] and those at or above bar1 into masks[8+t].
//
//go:noescape
func panels2x2(out *[2 * rankChunk]float64, masks *[16]uint8, u0, u1, v *float64, np, rp int, bar0, bar1 float64)
