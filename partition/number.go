package partition

import (
	"math"
	"unsafe"
)

// exactPow10 holds the powers of ten a float64 represents exactly.
var exactPow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// parseNumberBytes is parseNumber on a field's bytes, without allocating.
// Plain decimals ([+-]digits[.digits], at most 19 digits, mantissa at most
// 2^53, at most 22 of them after the point) are converted directly: the
// mantissa and the power of ten are exact float64s, so one correctly
// rounded division or multiplication gives the correctly rounded value,
// the same bits as strconv.ParseFloat. Anything else goes to parseNumber.
func parseNumberBytes(b []byte) (float64, bool) {
	if len(b) == 0 {
		return math.NaN(), true
	}
	i, neg := 0, false
	switch b[0] {
	case '-':
		neg, i = true, 1
	case '+':
		i = 1
	}
	var m uint64
	digits, point := 0, -1
	for ; i < len(b); i++ {
		c := b[i]
		if d := c - '0'; d < 10 {
			if digits == 19 {
				return parseNumber(unsafe.String(unsafe.SliceData(b), len(b)))
			}
			m = m*10 + uint64(d)
			digits++
			continue
		}
		if c == '.' && point < 0 {
			point = digits
			continue
		}
		return parseNumber(unsafe.String(unsafe.SliceData(b), len(b)))
	}
	frac := 0
	if point >= 0 {
		frac = digits - point
	}
	if digits == 0 || m > 1<<53 || frac > 22 {
		return parseNumber(unsafe.String(unsafe.SliceData(b), len(b)))
	}
	v := float64(m)
	if frac > 0 {
		v /= exactPow10[frac]
	}
	if neg {
		v = -v
	}
	return v, true
}
