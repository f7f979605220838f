//go:build !amd64 || noasm

package kernel

// Without assembly only the portable path exists; the functions below are
// never called, since SetPath cannot select another path.

func bestPath() Path { return Portable }

func kmLabelsAVX2(*int, *float64, int, int, *float64, *float64, int) int {
	panic("kernel: no AVX2 path in this build")
}

func kmDistAVX2(*float64, *float64, *float64, *int, int, int) {
	panic("kernel: no AVX2 path in this build")
}

func kmAddRowsAVX2(*float64, *float64, *int, int, int) {
	panic("kernel: no AVX2 path in this build")
}

func gramTile2x16(*float64, int, *float64, *float64, int, int) {
	panic("kernel: no AVX2 path in this build")
}

func gramTile2x12(*float64, int, *float64, *float64, int, int) {
	panic("kernel: no AVX2 path in this build")
}

func gramTile2x8(*float64, int, *float64, *float64, int, int) {
	panic("kernel: no AVX2 path in this build")
}

func gramTile2x4(*float64, int, *float64, *float64, int, int) {
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
