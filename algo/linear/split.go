package linear

import "github.com/mathcrm/mathcrm/internal/keyhash"

// The held-out split. It must never change: it decides which rows a model
// was trained on, and other languages reimplement it to reproduce metrics
// (testdata/golden/make_golden.py does).

// holdoutBuckets is the resolution of the split: fractions are compared in
// steps of one millionth.
const holdoutBuckets = 1_000_000

// KeyHash is the split's hash of a row key, [keyhash.Key]: the FNV-1a
// 64-bit hash of the key's bytes, xored with seed, then one SplitMix64 step.
// The gamma makes it differ from partition.ShardOf (FNV-1a and the bare
// finaliser), so that the held-out set is independent of the shard a row
// lives in.
func KeyHash(key string, seed uint64) uint64 { return keyhash.Key(key, seed) }

// IsHoldout reports whether the row with this key is held out: whether
// (KeyHash(key, seed) mod 10⁶)/10⁶ < fraction. It is false for every key
// when fraction is 0.
func IsHoldout(key string, fraction float64, seed uint64) bool {
	if fraction <= 0 {
		return false
	}
	return float64(KeyHash(key, seed)%holdoutBuckets)/holdoutBuckets < fraction
}

// HoldoutMask sets dst[i] = IsHoldout(keys[i], fraction, seed) and returns
// dst, grown to len(keys) when too short (nil allocates).
func HoldoutMask(dst []bool, keys []string, fraction float64, seed uint64) []bool {
	if cap(dst) < len(keys) {
		dst = make([]bool, len(keys))
	}
	dst = dst[:len(keys)]
	for i, k := range keys {
		dst[i] = IsHoldout(k, fraction, seed)
	}
	return dst
}
