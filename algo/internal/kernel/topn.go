package kernel

import (
	"encoding/binary"
	"math"
	"unsafe"
)

// The scoring of ALS top-N: the items' factors lie in panels of
// PanelItems items, coordinate-major within a panel (item j's coordinate k
// at k·PanelItems + j), and two users are scored against a run of panels
// at once. Each score is Dot's eight chains and tree, item by item. The
// AVX2 path (topn_amd64.s) holds the four items of a panel in the lanes of
// a vector; a tile is two users by two panels, and a pair of chains (l and
// l+4) over the tile is eight independent FMA chains, fed by two item
// vectors and two broadcasts per four FMAs.

// PanelItems is the number of items in a panel.
const PanelItems = 4

// PanelChunk is the number of items scored at once per user.
const PanelChunk = 64

// ScorePanels writes the scores of the np panels at v (np even, np ·
// PanelItems ≤ PanelChunk) for the users u0 and u1 (rp factors each, rp a
// multiple of 8, zero past the rank) into out[:np·PanelItems] and
// out[PanelChunk:] respectively, and returns for each user the bits of the
// items whose score is at least its bar.
func ScorePanels(out *[2 * PanelChunk]float64, u0, u1, v []float64, np, rp int, bar0, bar1 float64) (uint64, uint64) {
	span := rp * PanelItems
	if np&1 != 0 || np*PanelItems > PanelChunk || len(v) < np*span || len(u0) < rp || len(u1) < rp || rp%8 != 0 {
		panic("kernel: ScorePanels shape mismatch")
	}
	if path >= AVX2 {
		var masks [16]uint8
		alsPanels2x2(out, &masks, unsafe.SliceData(u0), unsafe.SliceData(u1), unsafe.SliceData(v), np, rp, bar0, bar1)
		return binary.LittleEndian.Uint64(masks[:8]), binary.LittleEndian.Uint64(masks[8:])
	}
	v = v[:np*span]
	u0, u1 = u0[:rp], u1[:rp]
	var m0, m1 uint64
	for q := range np * PanelItems {
		pan := v[(q/PanelItems)*span:][:span]
		j := q % PanelItems
		s0, s1 := panelDot(u0, pan, j), panelDot(u1, pan, j)
		out[q], out[PanelChunk+q] = s0, s1
		if s0 >= bar0 {
			m0 |= 1 << q
		}
		if s1 >= bar1 {
			m1 |= 1 << q
		}
	}
	return m0, m1
}

// panelDot is Dot(u, item j of the panel pan).
func panelDot(u, pan []float64, j int) float64 {
	var p [8]float64
	for k, x := range u {
		p[k&7] = math.FMA(x, pan[k*PanelItems+j], p[k&7])
	}
	return ((p[0] + p[4]) + (p[2] + p[6])) + ((p[1] + p[5]) + (p[3] + p[7]))
}
