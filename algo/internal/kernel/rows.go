package kernel

import "math"

// Row primitives that feed the Gram kernel in the linear and logistic
// partials: column sums of a block of rows, centring and weighting. Each
// output is a scalar operation or a chain in row order; the AVX2 path
// (rows_amd64.s) does four columns per vector instruction, each lane the
// scalar code's operation, and leaves the last d mod 4 columns to the Go
// code below.

// ColSums adds the rows idx of x (row stride d) in order to sum[:d], each
// times w[i] with one FMA unless w is nil, and sets varies[j] when column
// j of a row differs from ref[j] (Go's !=: NaN differs from everything). It
// panics if an index is out of range.
func ColSums(sum []float64, varies []bool, ref, x, w []float64, d int, idx []int) {
	sum, varies, ref = sum[:d], varies[:d], ref[:d]
	checkRows(x, d, w, idx)
	d4 := 0
	if path >= AVX2 && d >= 4 && len(idx) > 0 {
		d4 = d &^ 3
		var buf [64]uint8
		vb := buf[:]
		if d4/4 > len(buf) {
			vb = make([]uint8, d4/4)
		}
		vb = vb[:d4/4]
		clear(vb)
		var wp *float64
		if w != nil {
			wp = &w[0]
		}
		colSumsAVX2(&sum[0], &ref[0], &x[0], wp, &vb[0], &idx[0], len(idx), d, d4/4)
		for j := range d4 {
			if vb[j/4]>>(j%4)&1 != 0 {
				varies[j] = true
			}
		}
		if d4 == d {
			return
		}
	}
	for _, i := range idx {
		row := x[i*d : (i+1)*d]
		if w == nil {
			addRow(sum[d4:], varies[d4:], ref[d4:], row[d4:])
		} else {
			addRowWeighted(sum[d4:], varies[d4:], ref[d4:], row[d4:], w[i])
		}
	}
}

// addRow adds row to sum and notes in varies the columns that differ from
// ref.
func addRow(sum []float64, varies []bool, ref, row []float64) {
	sum, varies, ref = sum[:len(row)], varies[:len(row)], ref[:len(row)]
	for j, v := range row {
		sum[j] += v
		if v != ref[j] {
			varies[j] = true
		}
	}
}

// addRowWeighted is addRow for a row of weight w.
func addRowWeighted(sum []float64, varies []bool, ref, row []float64, w float64) {
	sum, varies, ref = sum[:len(row)], varies[:len(row)], ref[:len(row)]
	for j, v := range row {
		sum[j] = math.FMA(w, v, sum[j])
		if v != ref[j] {
			varies[j] = true
		}
	}
}

// CentreRows sets columns 0 to d−1 of row q of a (row stride s ≥ d) to
// row idx[q] of x (row stride d) minus mean. It panics if an index is out
// of range.
func CentreRows(a []float64, s int, x []float64, d int, idx []int, mean []float64) {
	if len(idx) == 0 {
		return
	}
	_, mean = a[(len(idx)-1)*s+d-1], mean[:d]
	checkRows(x, d, nil, idx)
	d4 := 0
	if path >= AVX2 && d >= 4 {
		d4 = d &^ 3
		centreAVX2(&a[0], s, &x[0], d, &idx[0], len(idx), &mean[0], d4/4)
		if d4 == d {
			return
		}
	}
	for q, i := range idx {
		dst, row := a[q*s+d4:q*s+d], x[i*d+d4:(i+1)*d]
		m := mean[d4:][:len(row)]
		dst = dst[:len(row)]
		for j, v := range row {
			dst[j] = v - m[j]
		}
	}
}

// ScaleRows sets row q of aw to w[idx[q]] times row q of a, every one of
// the s columns, each product rounded. It panics if an index is out of
// range.
func ScaleRows(aw, a []float64, s int, w []float64, idx []int) {
	if len(idx) == 0 || s == 0 {
		return
	}
	_, _ = aw[len(idx)*s-1], a[len(idx)*s-1]
	for _, i := range idx {
		_ = w[i]
	}
	s4 := 0
	if path >= AVX2 && s >= 4 {
		s4 = s &^ 3
		scaleRowsAVX2(&aw[0], &a[0], s, &w[0], &idx[0], len(idx), s4/4)
		if s4 == s {
			return
		}
	}
	for q, i := range idx {
		dst, src := aw[q*s+s4:(q+1)*s], a[q*s+s4:(q+1)*s]
		f := w[i]
		for j, v := range src {
			dst[j] = float64(f * v)
		}
	}
}

// checkRows panics unless every index of idx names a whole row of x (row
// stride d) and, when w is not nil, a weight: the assembly addresses rows
// and weights by index without bounds checks.
func checkRows(x []float64, d int, w []float64, idx []int) {
	n := uint(len(x) / d)
	if w != nil {
		n = min(n, uint(len(w)))
	}
	for _, i := range idx {
		if uint(i) >= n {
			panic("kernel: row index out of range")
		}
	}
}
