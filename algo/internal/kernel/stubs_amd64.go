//go:build !noasm

package kernel

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

func bestPath() Path {
	switch {
	case cpu.X86.HasAVX2 && cpu.X86.HasFMA && cpu.X86.HasAVX512F:
		return AVX512
	case cpu.X86.HasAVX2 && cpu.X86.HasFMA:
		return AVX2
	}
	return Portable
}

// hasPOPCNT: the k-means screen counts settled rows with POPCNT (every
// CPU with AVX2 has it).
var hasPOPCNT = cpu.X86.HasPOPCNT

// The assembly in prefetch_amd64.s; see Prefetch in prefetch.go.

//go:noescape
func prefetchT1(p *float64, n int)

// The assembly in kmeans_amd64.s; see the callers in kmeans.go.

//go:noescape
func kmLabelsAVX2(lab *int, x *float64, n4, d int, ct, hv *float64, ng int) int

//go:noescape
func kmLabels32AVX2(lab *int, x *float64, n4, d int, ct, hv, ab, buf *float32) int

//go:noescape
func kmLabelsAVX512(lab *int, x *float64, n8, d int, ct, hv *float64, ng int) int

//go:noescape
func kmDistSumsAVX512(dist, sums, x, c *float64, lab *int, n8, d int)

//go:noescape
func kmDistAVX2(dist *float64, x, c *float64, lab *int, n4, d int)

//go:noescape
func kmAddRowsAVX2(sums *float64, x *float64, lab *int, n, d int)

// The assembly in gram_amd64.s; see gramBlockAVX2 in gram.go.

//go:noescape
func gramY4x12(gp *float64, gs int, a, b *float64, rs, n int)

//go:noescape
func gramY4x8(gp *float64, gs int, a, b *float64, rs, n int)

//go:noescape
func gramY4x4(gp *float64, gs int, a, b *float64, rs, n int)

// The assembly in rows_amd64.s; see rows.go.

//go:noescape
func colSumsAVX2(sum, ref, x, w *float64, vary *uint8, idx *int, n, d, nv int)

//go:noescape
func centreAVX2(a *float64, s int, x *float64, d int, idx *int, n int, mean *float64, nv int)

//go:noescape
func scaleRowsAVX2(aw, a *float64, s int, w *float64, idx *int, n, nv int)

// The assembly in logistic_amd64.s; see logistic.go.

//go:noescape
func logLossAVX2(eta, y, l, res, curv, p *float64, n4 int, slow *uint8)

//go:noescape
func fillRowsAVX2(a, b *float64, s int, x *float64, d int, idx *int, gw, cw *float64, m int)

// The assembly in als_amd64.s and topn_amd64.s; see als.go and topn.go.

//go:noescape
func alsGram4x12(a, src unsafe.Pointer, stride int, w, y unsafe.Pointer, n int)

//go:noescape
func alsGram4x8(a, src unsafe.Pointer, stride int, w, y unsafe.Pointer, n int)

//go:noescape
func alsGram4x4(a, src unsafe.Pointer, stride int, w, y unsafe.Pointer, n int)

//go:noescape
func alsRhs32(b, z, y unsafe.Pointer, stride, n int)

//go:noescape
func alsRhs8(b, z, y unsafe.Pointer, stride, n int)

//go:noescape
func alsScale4(dy, dw, y *float64, w float64, n int)

//go:noescape
func alsDot8(a, b *float64, n int) float64

//go:noescape
func alsCholBatch4(a unsafe.Pointer, r int, off *int)

//go:noescape
func alsSolveBatch4(a, b unsafe.Pointer, r int, off *int)

//go:noescape
func alsPanels2x2(out *[2 * PanelChunk]float64, masks *[16]uint8, u0, u1, v *float64, np, rp int, bar0, bar1 float64)

// The assembly in gather_amd64.s; see GatherRows in gather.go.

//go:noescape
func gatherAVX2(x *float64, d int, cols *[]float64, lo, n4 int, mean, scale *float64, d4 int) bool
