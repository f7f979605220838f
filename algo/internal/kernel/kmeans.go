package kernel

import "math"

// The k-means assignment: each row's nearest centre, the exact squared
// distance to it, and the cluster sums. The definitions below are what
// every path computes; the portable code in this file is their
// specification.
//
//   - Score: s_k = fma(x[d-1], c_k[d-1], … fma(x[0], c_k[0], 0)), one FMA
//     chain over j in order from zero, and score_k = ½‖c_k‖² − s_k, with
//     ½‖c‖² from HalfNorm.
//   - Label: the first k with the smallest score, by a strict < scan in
//     centre order from +Inf (better). A NaN score makes the running
//     minimum NaN, and no later centre is taken. For scores without NaN
//     this is the same as the first index whose score equals the minimum.
//   - Distance: the exact Σ(x−c)² to the labelled centre as one FMA chain
//     over j in order from zero (SqDist).
//   - Sums: each row added to its cluster's sum, coordinate by coordinate,
//     in row order (a vector add is the scalar adds, lane by lane).
//
// The portable path runs rows in blocks of four and centres in pairs, so
// eight independent FMA chains are in flight, all in registers; the argmin
// runs after all pairs, with a float compare feeding an integer conditional
// move and min, so it does not branch on data.
//
// The AVX2 path (kmeans_amd64.s) holds the centres in the lanes: a 256-bit
// register carries four centres, a coordinate of the row is broadcast to
// it, and each lane runs one centre's chain over the row's coordinates in
// order. Rows go four at a time against eight centres, eight accumulators;
// the scores are then transposed to one row per lane and the argmin runs
// down the centres in order. Rows with a NaN score go to the portable scan.
// The distance and the sums take four rows at a time, each lane or each
// coordinate in the portable order.
//
// With nine to sixteen centres the AVX2 path first screens the rows in
// float32 (kmeans32.go): a row whose smallest float32 score is clear of
// the others by more than their rounding can move them gets that centre,
// which is the definition's label; the rest go to the float64 scan.
//
// The AVX-512 path (kmeans512_amd64.s) does the same with eight centres in
// a 512-bit register and eight rows a tile, the scores transposed eight by
// eight; its distances and sums take one pass over a tile's rows, each
// row's differences transposed so that each lane runs one row's chain.
//
// math.FMA is one instruction only when built with GOAMD64=v3 or later;
// with the default v1 each call also tests a CPU flag, which roughly halves
// the portable path's speed (the bits are the same).

// KMeans labels rows with their nearest centre. Its buffers are reused
// across Reset calls; the zero value is ready for Reset.
type KMeans struct {
	k, d   int
	c      []float64 // k*d centres, row-major
	half   []float64 // ½‖c_k‖²
	scores []float64 // dot products of four rows with every centre, by row
	avx2   bool
	avx512 bool
	ng     int
	// ct[(g*d+j)*8+i] is coordinate j of centre 8g+i, 0 past k.
	ct []float64
	// hv[8g+i] is ½‖c‖² of centre 8g+i, +Inf past k, so that no padding
	// centre is ever taken.
	hv []float64
	// The single-precision screen (kmeans32.go): ct32[16j+i] is
	// coordinate j of centre i and hv32[i] its ½‖c‖² (+Inf past k), as
	// float32; ab the threshold's coefficients; x32 the kernel's scratch.
	screen bool
	ct32   []float32
	hv32   []float32
	ab     [2]float32
	x32    []float32
}

// Reset sets the centres c (k rows of d, row-major; k, d ≥ 1), which must
// not change while km uses them, and lays them out for the current path.
func (km *KMeans) Reset(c []float64, k, d int) {
	km.k, km.d, km.c = k, d, c[:k*d]
	km.half = km.half[:0]
	for i := range k {
		km.half = append(km.half, HalfNorm(c[i*d:(i+1)*d]))
	}
	km.scores = grow(km.scores, 4*k)
	km.avx2 = path >= AVX2
	km.avx512 = path == AVX512
	km.screen = false
	if km.avx2 {
		km.layoutAVX2()
		km.screen = !km.avx512 && k > 8 && hasPOPCNT && km.layout32()
	}
}

// K returns the number of centres and D the number of coordinates.
func (km *KMeans) K() int { return km.k }

// D returns the number of coordinates of a row.
func (km *KMeans) D() int { return km.d }

func (km *KMeans) layoutAVX2() {
	k, d := km.k, km.d
	km.ng = (k + 7) / 8
	km.ct = grow(km.ct, km.ng*d*8)
	km.hv = grow(km.hv, km.ng*8)
	clear(km.ct)
	for c := range km.ng * 8 {
		g, i := c/8, c%8
		if c >= k {
			km.hv[c] = math.Inf(1)
			continue
		}
		km.hv[c] = km.half[c]
		for j := range d {
			km.ct[(g*d+j)*8+i] = km.c[c*d+j]
		}
	}
}

// HalfNorm returns ½‖c‖², the FMA chain over c in order from zero, halved.
func HalfNorm(c []float64) float64 {
	s := 0.0
	for _, v := range c {
		s = math.FMA(v, v, s)
	}
	return float64(0.5 * s)
}

// SqDist is the exact squared Euclidean distance Σ(x−c)², one FMA chain in
// coordinate order. c must be at least as long as x.
func SqDist(x, c []float64) float64 {
	c = c[:len(x)]
	s := 0.0
	for j, v := range x {
		t := v - c[j]
		s = math.FMA(t, t, s)
	}
	return s
}

// Assign writes the nearest centre of each row of x (len(lab) rows of d)
// into lab and, unless dist is nil, the exact squared distance to it into
// dist. Unless sums is nil (else k*d long), it adds each row to the sum of
// its cluster, in row order.
func (km *KMeans) Assign(lab []int, dist, sums, x []float64) {
	if km.avx2 {
		km.assignAVX2(lab, dist, sums, x)
		return
	}
	km.assignGo(lab, dist, sums, x)
}

// assignAVX2 is Assign on the AVX2 and AVX-512 paths: on the AVX-512 path
// the labels, distances and sums of the rows up to the last multiple of
// eight come from the AVX-512 kernels; on the AVX2 path the labels come
// from the float32 screen when it applies. Rows the kernels label −1 (a
// NaN score, or not settled by the screen) take the scan, and rows past
// the last multiple of four the portable path.
func (km *KMeans) assignAVX2(lab []int, dist, sums, x []float64) {
	d, n := km.d, len(lab)
	n4 := n / 4
	if n4 > 0 {
		m := 4 * n4
		x := x[:m*d]
		lab := lab[:m]
		nan, done := 0, 0 // nan: rows labelled −1 for the scan
		if n8 := n / 8; km.avx512 && n8 > 0 {
			nan = kmLabelsAVX512(&lab[0], &x[0], n8, d, &km.ct[0], &km.hv[0], km.ng)
			done = 8 * n8
		}
		switch {
		case done < m && km.screen:
			nan += km.labels32(lab[done:m], x[done*d:m*d])
		case done < m:
			nan += kmLabelsAVX2(&lab[done], &x[done*d], (m-done)/4, d, &km.ct[0], &km.hv[0], km.ng)
		}
		// The labels index sums and centres in assembly: check them.
		for i, c := range lab {
			if uint(c) >= uint(km.k) {
				if c != -1 || nan == 0 {
					panic("kernel: assembly k-means label out of range")
				}
				lab[i] = km.One(x[i*d : (i+1)*d])
				nan--
			}
		}
		// On the AVX-512 path, the distances and sums of the rows up to
		// the last multiple of eight in one pass over them.
		done = 0
		if n8 := n / 8; km.avx512 && n8 > 0 && dist != nil {
			var s *float64
			if sums != nil {
				s = &sums[:km.k*d][0]
			}
			kmDistSumsAVX512(&dist[:m][0], s, &x[0], &km.c[0], &lab[0], n8, d)
			done = 8 * n8
		}
		if dist != nil && done < m {
			kmDistAVX2(&dist[done], &x[done*d], &km.c[0], &lab[done], (m-done)/4, d)
		}
		if sums != nil && done < m {
			kmAddRowsAVX2(&sums[:km.k*d][0], &x[done*d], &lab[done], m-done, d)
		}
	}
	if m := 4 * n4; m < n {
		if dist != nil {
			dist = dist[m:]
		}
		km.assignGo(lab[m:], dist, sums, x[m*d:])
	}
}

// assignGo is the portable Assign.
func (km *KMeans) assignGo(lab []int, dist, sums, x []float64) {
	km.labels(lab, x)
	d := km.d
	switch {
	case dist != nil && sums != nil:
		// SqDist and addRows in one pass over the row.
		for i, l := range lab {
			row := x[i*d : (i+1)*d]
			c := km.c[l*d : (l+1)*d][:len(row)]
			s := sums[l*d : (l+1)*d][:len(row)]
			d2 := 0.0
			for j, v := range row {
				t := v - c[j]
				d2 = math.FMA(t, t, d2)
				s[j] += v
			}
			dist[i] = d2
		}
	case dist != nil:
		for i, l := range lab {
			dist[i] = SqDist(x[i*d:(i+1)*d], km.c[l*d:(l+1)*d])
		}
	case sums != nil:
		addRows(sums, lab, x, d)
	}
}

func addRows(sums []float64, lab []int, x []float64, d int) {
	for i, l := range lab {
		row := x[i*d : (i+1)*d]
		s := sums[l*d : (l+1)*d][:len(row)]
		for j, v := range row {
			s[j] += v
		}
	}
}

// labels writes the nearest centre of each row of x into lab.
func (km *KMeans) labels(lab []int, x []float64) {
	d, n := km.d, len(lab)
	i := 0
	for ; i+4 <= n; i += 4 {
		km.block4(lab[i:i+4], x[i*d:(i+4)*d])
	}
	for ; i < n; i++ {
		lab[i] = km.One(x[i*d : (i+1)*d])
	}
}

// Better folds score v of centre k into the running best (b, i). A tie keeps
// the earlier, lower index. It compiles to a compare, an integer conditional
// move and a min, without a data-dependent branch.
func Better(b float64, i int, v float64, k int) (float64, int) {
	if v < b {
		i = k
	}
	return min(b, v), i
}

// One returns the nearest centre of the single row x (d long).
func (km *KMeans) One(x []float64) int {
	d := len(x)
	best, bi := math.Inf(1), 0
	for k, h := range km.half {
		c := km.c[k*d : (k+1)*d][:len(x)]
		s := 0.0
		for j, v := range x {
			s = math.FMA(v, c[j], s)
		}
		best, bi = Better(best, bi, h-s, k)
	}
	return bi
}

// block4 labels four consecutive rows. The dot products of a pair of
// centres go to a score buffer; the argmin runs after all pairs, so the FMA
// loop carries nothing but its accumulators from one pair to the next.
func (km *KMeans) block4(lab []int, x []float64) {
	d, k := km.d, km.k
	x0 := x[:d]
	x1 := x[d : 2*d][:len(x0)]
	x2 := x[2*d : 3*d][:len(x0)]
	x3 := x[3*d : 4*d][:len(x0)]
	sc := km.scores[:4*k]
	kk := 0
	for ; kk+2 <= k; kk += 2 {
		c0 := km.c[kk*d : (kk+1)*d][:len(x0)]
		c1 := km.c[(kk+1)*d : (kk+2)*d][:len(x0)]
		var s00, s01, s10, s11, s20, s21, s30, s31 float64
		for j := range x0 {
			a := c0[j]
			s00 = math.FMA(x0[j], a, s00)
			s10 = math.FMA(x1[j], a, s10)
			s20 = math.FMA(x2[j], a, s20)
			s30 = math.FMA(x3[j], a, s30)
			b := c1[j]
			s01 = math.FMA(x0[j], b, s01)
			s11 = math.FMA(x1[j], b, s11)
			s21 = math.FMA(x2[j], b, s21)
			s31 = math.FMA(x3[j], b, s31)
		}
		o := sc[4*kk : 4*kk+8]
		o[0], o[1], o[2], o[3], o[4], o[5], o[6], o[7] = s00, s10, s20, s30, s01, s11, s21, s31
	}
	if kk < k {
		c0 := km.c[kk*d : (kk+1)*d][:len(x0)]
		var s0, s1, s2, s3 float64
		for j, a := range c0 {
			s0 = math.FMA(x0[j], a, s0)
			s1 = math.FMA(x1[j], a, s1)
			s2 = math.FMA(x2[j], a, s2)
			s3 = math.FMA(x3[j], a, s3)
		}
		o := sc[4*kk : 4*kk+4]
		o[0], o[1], o[2], o[3] = s0, s1, s2, s3
	}
	inf := math.Inf(1)
	b0, b1, b2, b3 := inf, inf, inf, inf
	var i0, i1, i2, i3 int
	for c, h := range km.half {
		o := sc[4*c : 4*c+4]
		b0, i0 = Better(b0, i0, h-o[0], c)
		b1, i1 = Better(b1, i1, h-o[1], c)
		b2, i2 = Better(b2, i2, h-o[2], c)
		b3, i3 = Better(b3, i3, h-o[3], c)
	}
	lab = lab[:4]
	lab[0], lab[1], lab[2], lab[3] = i0, i1, i2, i3
}

// grow returns s resliced to n, reallocating when it is too short.
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}
