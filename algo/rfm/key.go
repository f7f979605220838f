package rfm

import (
	"math"
	"math/bits"
)

// NumBins is the number of bins a bracket is split into per pass. A
// bracket whose span is below NumBins gets bins one key wide.
const NumBins = 256

// key maps a float64 (not NaN, zero being +0) to a uint64 with the same
// order: the IEEE bits with the sign bit flipped for non-negative values
// and all bits flipped for negative ones.
func key(x float64) uint64 {
	b := math.Float64bits(x)
	if b>>63 != 0 {
		return ^b
	}
	return b | 1<<63
}

// unkey inverts key.
func unkey(k uint64) float64 {
	if k>>63 != 0 {
		return math.Float64frombits(k &^ (1 << 63))
	}
	return math.Float64frombits(^k)
}

// binShift returns the shift s that splits the keys lo..hi into bins
// (k−lo)>>s, the smallest that leaves at most NumBins of them.
func binShift(lo, hi uint64) uint {
	return uint(max(0, bits.Len64(hi-lo)-bits.Len64(NumBins-1)))
}

// binRange returns the keys of bin b of bracket lo..hi.
func binRange(lo, hi uint64, shift uint, b int) (first, last uint64) {
	first = lo + uint64(b)<<shift
	last = first + (uint64(1)<<shift - 1)
	if last < first || last > hi { // wrapped, or the bracket's last bin
		last = hi
	}
	return first, last
}
