//go:build !noasm

package kernel

import "unsafe"

// The assembly in als512_amd64.s; see alsGramAVX512 in als.go.

//go:noescape
func alsGram8x24(a, src unsafe.Pointer, stride int, w, y unsafe.Pointer, n int)

//go:noescape
func alsGram8x16(a, src unsafe.Pointer, stride int, w, y unsafe.Pointer, n int)

//go:noescape
func alsGram8x8(a, src unsafe.Pointer, stride int, w, y unsafe.Pointer, n int)
