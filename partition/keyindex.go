package partition

import "hash/maphash"

// keyIndex remembers every key seen so far, compactly: a 128-bit hash (two
// independently seeded 64-bit maphash values) maps to the line the key was
// first seen on, 24 bytes of payload per key however long the key is. With
// 128 bits, a false "duplicate" needs about 2^64 keys to become likely.
type keyIndex struct {
	seed0, seed1 maphash.Seed
	lines        map[[2]uint64]int64
}

func newKeyIndex() *keyIndex { return newKeyIndexSize(0) }

// newKeyIndexSize returns a keyIndex with room for n keys.
func newKeyIndexSize(n int) *keyIndex {
	return &keyIndex{
		seed0: maphash.MakeSeed(),
		seed1: maphash.MakeSeed(),
		lines: make(map[[2]uint64]int64, n),
	}
}

// insert records key as seen on line. If the key was seen before, it returns
// the earlier line and false.
func (k *keyIndex) insert(key string, line int64) (first int64, fresh bool) {
	h := [2]uint64{maphash.String(k.seed0, key), maphash.String(k.seed1, key)}
	if first, ok := k.lines[h]; ok {
		return first, false
	}
	k.lines[h] = line
	return line, true
}
