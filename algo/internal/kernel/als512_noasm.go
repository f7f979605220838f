//go:build !amd64 || noasm

package kernel

import "unsafe"

// Without assembly the AVX-512 path does not exist; these are never called.

func alsGram8x24(unsafe.Pointer, unsafe.Pointer, int, unsafe.Pointer, unsafe.Pointer, int) {
	panic("kernel: no AVX-512 path in this build")
}

func alsGram8x16(unsafe.Pointer, unsafe.Pointer, int, unsafe.Pointer, unsafe.Pointer, int) {
	panic("kernel: no AVX-512 path in this build")
}

func alsGram8x8(unsafe.Pointer, unsafe.Pointer, int, unsafe.Pointer, unsafe.Pointer, int) {
	panic("kernel: no AVX-512 path in this build")
}
