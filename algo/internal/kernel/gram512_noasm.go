//go:build !amd64 || noasm

package kernel

// Without assembly these are never called; see stubs_noasm.go.

func gramTile4x32(*float64, int, *float64, *float64, int, int, int) {
	panic("kernel: no AVX-512 path in this build")
}

func gramTile4x24(*float64, int, *float64, *float64, int, int, int) {
	panic("kernel: no AVX-512 path in this build")
}

func gramTile4x16(*float64, int, *float64, *float64, int, int, int) {
	panic("kernel: no AVX-512 path in this build")
}

func gramTile4x8(*float64, int, *float64, *float64, int, int, int) {
	panic("kernel: no AVX-512 path in this build")
}

func gramTile8x8(*float64, int, *float64, *float64, int, int) {
	panic("kernel: no AVX-512 path in this build")
}
