package quantile

import (
	"math"
	"math/bits"
)

// NumBins is the number of bins a bracket is split into per pass. A
// bracket whose span is below NumBins gets bins one key wide.
const NumBins = 256

// negZeroKey is the key of −0 before it is folded onto +0's.
const negZeroKey = 1<<63 - 1

// Key maps a float64 to a uint64 of the same order: the IEEE bits with
// the sign bit flipped for non-negative values and all bits flipped for
// negative ones, −0 taking +0's key so that the two are one value, as they
// are for <. −Inf has the least key of a non-NaN value and +Inf the
// greatest; NaNs, which have no place in the order, map outside that range
// and are never keyed by the package. Brackets are ranges of keys.
func Key(x float64) uint64 {
	b := math.Float64bits(x)
	k := b ^ (uint64(int64(b)>>63) | 1<<63)
	if k == negZeroKey {
		return 1 << 63
	}
	return k
}

// FromKey inverts Key: FromKey(Key(x)) == x bit for bit for every x but
// −0 (which gives +0) and NaN.
func FromKey(k uint64) float64 {
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
