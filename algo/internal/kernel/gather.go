package kernel

// GatherRows writes rows lo to hi of the columns cols into x row-major
// (row stride d = len(cols)): column j of row lo+i goes to x[i*d+j] as
// (v − mean[j]) / scale[j], or as v itself when mean is nil, and reports
// whether every value read was a number (none NaN). Both operations are
// single IEEE roundings, so the AVX2 path (gather_amd64.s: four rows of
// four columns per step, transposed in registers) gives the portable
// bits; the last d mod 4 columns and hi−lo mod 4 rows are the Go code's.
// It panics if a column is shorter than hi or x than (hi−lo)·d.
func GatherRows(x []float64, cols [][]float64, lo, hi int, mean, scale []float64) bool {
	d, n := len(cols), hi-lo
	if n <= 0 || d == 0 {
		return true
	}
	_ = x[n*d-1]
	for _, c := range cols {
		_ = c[lo:hi]
	}
	if mean != nil {
		mean, scale = mean[:d], scale[:d]
	}
	nan := false
	d4, n4 := 0, 0
	if path >= AVX2 && d >= 4 && n >= 4 && mean != nil {
		d4, n4 = d&^3, n&^3
		nan = gatherAVX2(&x[0], d, &cols[0], lo, n4, &mean[0], &scale[0], d4)
	}
	// The columns the assembly left, for its rows; then every column of
	// the rows it left.
	for j := d4; j < d; j++ {
		nan = gatherColumn(x[j:], d, cols[j][lo:lo+n4], mean, scale, j) || nan
	}
	for j := 0; n4 < n && j < d; j++ {
		nan = gatherColumn(x[n4*d+j:], d, cols[j][lo+n4:hi], mean, scale, j) || nan
	}
	return !nan
}

// gatherColumn writes col to out[0], out[d], … (standardised as
// GatherRows says) and reports whether any value was NaN.
func gatherColumn(out []float64, d int, col []float64, mean, scale []float64, j int) bool {
	nan := false
	if mean == nil {
		for i, v := range col {
			nan = nan || v != v
			out[i*d] = v
		}
		return nan
	}
	mu, s := mean[j], scale[j]
	for i, v := range col {
		nan = nan || v != v
		out[i*d] = (v - mu) / s
	}
	return nan
}
