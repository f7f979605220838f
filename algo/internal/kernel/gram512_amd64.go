//go:build !noasm

package kernel

// The assembly in gram512_amd64.s; see gramBlockAVX512 in gram.go.

//go:noescape
func gramTile4x32(gp *float64, gs int, a, b *float64, rs, n, mask int)

//go:noescape
func gramTile4x24(gp *float64, gs int, a, b *float64, rs, n, mask int)

//go:noescape
func gramTile4x16(gp *float64, gs int, a, b *float64, rs, n, mask int)

//go:noescape
func gramTile4x8(gp *float64, gs int, a, b *float64, rs, n, mask int)

//go:noescape
func gramTile8x8(gp *float64, gs int, a, b *float64, rs, n int)
