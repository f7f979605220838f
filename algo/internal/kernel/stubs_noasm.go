//go:build !amd64 || noasm

package kernel

import "unsafe"

// Without assembly only the portable path exists; the functions below are
// never called, since SetPath cannot select another path.

func bestPath() Path { return Portable }

const hasPOPCNT = false

func prefetchT1(*float64, int) {
	panic("kernel: no AVX2 path in this build")
}

func kmLabelsAVX2(*int, *float64, int, int, *float64, *float64, int) int {
	panic("kernel: no AVX2 path in this build")
}

func kmLabels32AVX2(*int, *float64, int, int, *float32, *float32, *float32, *float32) int {
	panic("kernel: no AVX2 path in this build")
}

func kmLabelsAVX512(*int, *float64, int, int, *float64, *float64, int) int {
	panic("kernel: no AVX-512 path in this build")
}

func kmDistSumsAVX512(*float64, *float64, *float64, *float64, *int, int, int) {
	panic("kernel: no AVX-512 path in this build")
}

func kmDistAVX2(*float64, *float64, *float64, *int, int, int) {
	panic("kernel: no AVX2 path in this build")
}

func kmAddRowsAVX2(*float64, *float64, *int, int, int) {
	panic("kernel: no AVX2 path in this build")
}

func gramY4x12(*float64, int, *float64, *float64, int, int) {
	panic("kernel: no AVX2 path in this build")
}

func gramY4x8(*float64, int, *float64, *float64, int, int) {
	panic("kernel: no AVX2 path in this build")
}

func gramY4x4(*float64, int, *float64, *float64, int, int) {
	panic("kernel: no AVX2 path in this build")
}

func colSumsAVX2(*float64, *float64, *float64, *float64, *uint8, *int, int, int, int) {
	panic("kernel: no AVX2 path in this build")
}

func centreAVX2(*float64, int, *float64, int, *int, int, *float64, int) {
	panic("kernel: no AVX2 path in this build")
}

func scaleRowsAVX2(*float64, *float64, int, *float64, *int, int, int) {
	panic("kernel: no AVX2 path in this build")
}

func logLossAVX2(*float64, *float64, *float64, *float64, *float64, *float64, int, *uint8) {
	panic("kernel: no AVX2 path in this build")
}

func fillRowsAVX2(*float64, *float64, int, *float64, int, *int, *float64, *float64, int) {
	panic("kernel: no AVX2 path in this build")
}

func alsGram4x12(unsafe.Pointer, unsafe.Pointer, int, unsafe.Pointer, unsafe.Pointer, int) {
	panic("kernel: no AVX2 path in this build")
}

func alsGram4x8(unsafe.Pointer, unsafe.Pointer, int, unsafe.Pointer, unsafe.Pointer, int) {
	panic("kernel: no AVX2 path in this build")
}

func alsGram4x4(unsafe.Pointer, unsafe.Pointer, int, unsafe.Pointer, unsafe.Pointer, int) {
	panic("kernel: no AVX2 path in this build")
}

func alsRhs32(unsafe.Pointer, unsafe.Pointer, unsafe.Pointer, int, int) {
	panic("kernel: no AVX2 path in this build")
}

func alsRhs8(unsafe.Pointer, unsafe.Pointer, unsafe.Pointer, int, int) {
	panic("kernel: no AVX2 path in this build")
}

func alsScale4(*float64, *float64, *float64, float64, int) {
	panic("kernel: no AVX2 path in this build")
}

func alsDot8(*float64, *float64, int) float64 {
	panic("kernel: no AVX2 path in this build")
}

func alsCholBatch4(unsafe.Pointer, int, *int) {
	panic("kernel: no AVX2 path in this build")
}

func alsSolveBatch4(unsafe.Pointer, unsafe.Pointer, int, *int) {
	panic("kernel: no AVX2 path in this build")
}

func alsPanels2x2(*[2 * PanelChunk]float64, *[16]uint8, *float64, *float64, *float64, int, int, float64, float64) {
	panic("kernel: no AVX2 path in this build")
}

func gatherAVX2(*float64, int, *[]float64, int, int, *float64, *float64, int) bool {
	panic("kernel: no AVX2 path in this build")
}
