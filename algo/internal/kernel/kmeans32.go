package kernel

import "math"

// The single-precision screen of the k-means labels, on the AVX2 path
// with nine to sixteen centres. Its labels are the definition's
// (kmeans.go); it only finds, for most rows, which centre that is with
// float32 arithmetic, which does twice the work per instruction.
//
// The kernel (kmeans32_amd64.s) takes four rows at a time, rounds them to
// float32 and computes each score ½‖c‖² − x·c as one float32 FMA chain,
// from the centres and ½‖c‖² rounded to float32. With u = 2⁻²⁴, X the
// largest |x_j| of the four rows, C the largest Σ_j |c_j| and H the largest
// ½‖c‖², every float32 score is within
//
//	E = (d+4)·1.01·u·(X·C + H) + 2⁻¹⁵⁰·(C + d·X + d + 2)
//
// of the exact ½‖c‖² − x·c: the roundings of x, c and ½‖c‖² to float32 and
// of the d FMAs and the subtraction, the second term covering results below
// float32's normal range. The float64 score of the definition is within a
// far smaller bound of the exact one. A row is settled when its second
// smallest float32 score exceeds its smallest m by more than t, where
//
//	t ≥ 4·((d+8)·u·(X·C + H) + 2⁻¹⁵⁰·(C + d·X + d + 2)),
//
// evaluated in float32 as fma(a, X, b), a and b rounded up. t is more than
// 2E plus the rounding of m + t, so for a settled row every other centre's
// float64 score exceeds the smallest one's: the smallest float64 score is
// unique and its centre is the label of the strict < scan. Rows within t
// of a tie are labelled −1 and scanned in float64 by the caller.
//
// The screen is used only when C and H are below 2⁶⁰, and a tile only when
// X is (else t is +Inf): then no float32 score overflows. A row with a NaN
// has NaN scores and is never settled; NaNs do not enter X.

// screenMax bounds X, C and H for the screen.
const screenMax = 0x1p60

// layout32 lays the centres out for the screen and says whether it can be
// used with them.
func (km *KMeans) layout32() bool {
	k, d := km.k, km.d
	if k > 16 {
		return false
	}
	c1, hmax := 0.0, 0.0
	for c := range k {
		s := 0.0
		for _, v := range km.c[c*d : (c+1)*d] {
			s += math.Abs(v)
		}
		c1 = max(c1, s)
		hmax = max(hmax, math.Abs(km.half[c]))
	}
	if !(c1 < screenMax && hmax < screenMax) {
		return false
	}
	km.ct32 = grow(km.ct32, 16*d)
	km.hv32 = grow(km.hv32, 16)
	km.x32 = grow(km.x32, 4*d)
	clear(km.ct32)
	for c := range 16 {
		if c >= k {
			km.hv32[c] = float32(math.Inf(1))
			continue
		}
		km.hv32[c] = float32(km.half[c])
		for j := range d {
			km.ct32[16*j+c] = float32(km.c[c*d+j])
		}
	}
	// t = a·X + b. a carries |x| ≤ X̃·(1 + 2⁻²³) + 2⁻¹⁴⁹ for the largest
	// rounded |x̃| the kernel sees, and the float32 FMA's rounding; both are
	// rounded up, and kept normal.
	const up = 1 + 0x1p-20
	fd := float64(d)
	a := max(4*((fd+8)*0x1p-24*c1+fd*0x1p-150)*(1+0x1p-23)*up, 0x1p-120)
	b := max(4*((fd+8)*0x1p-24*hmax+0x1p-150*(c1+fd+2))*up+a*0x1p-149, 0x1p-126)
	km.ab = [2]float32{float32(a * up), float32(b * up)}
	return true
}

// labels32 labels the rows of x (len(lab) of them, a multiple of four)
// through the screen and returns how many it labelled −1 for the scan.
func (km *KMeans) labels32(lab []int, x []float64) int {
	n := len(lab)
	settled := kmLabels32AVX2(&lab[0], &x[:n*km.d][0], n/4, km.d, &km.ct32[0], &km.hv32[0], &km.ab[0], &km.x32[0])
	return n - settled
}
