package partition

import (
	"hash/maphash"
	"sync"
)

// keyIndex remembers every key seen so far, compactly: a 128-bit hash (two
// independently seeded 64-bit maphash values) and the line the key was
// first seen on, 24 bytes a key however long the key is, in an open
// addressing table at most half full (a Go map of the same cost about
// twice the time an insert). With 128 bits, a false "duplicate" needs about
// 2^64 keys to become likely.
type keyIndex struct {
	seed0, seed1 maphash.Seed
	slots        []keySlot // a power of two of them
	n            int       // slots used
}

// keySlot is one key's hash and first line plus one; 0 marks a free slot.
type keySlot struct {
	h0, h1 uint64
	line1  int64
}

func newKeyIndex() *keyIndex { return newKeyIndexSize(0) }

// newKeyIndexSize returns a keyIndex with room for n keys.
func newKeyIndexSize(n int) *keyIndex {
	size := 16
	for size < 2*n {
		size *= 2
	}
	return &keyIndex{seed0: maphash.MakeSeed(), seed1: maphash.MakeSeed(), slots: make([]keySlot, size)}
}

// reset empties k and makes room for n keys.
func (k *keyIndex) reset(n int) {
	if 2*n > len(k.slots) || len(k.slots) > 64*max(n, 16) { // too small, or too large to clear
		*k = *newKeyIndexSize(n)
		return
	}
	clear(k.slots)
	k.n = 0
}

// keyIndexPool holds the shards' indexes for reuse from shard to shard.
var keyIndexPool = sync.Pool{New: func() any { return newKeyIndex() }}

// insert records key as seen on line (>= 0). If the key was seen before, it
// returns the earlier line and false.
func (k *keyIndex) insert(key string, line int64) (first int64, fresh bool) {
	if 2*(k.n+1) > len(k.slots) {
		k.grow()
	}
	h0, h1 := maphash.String(k.seed0, key), maphash.String(k.seed1, key)
	mask := uint64(len(k.slots) - 1)
	for i := h0 & mask; ; i = (i + 1) & mask {
		s := &k.slots[i]
		if s.line1 == 0 {
			*s = keySlot{h0: h0, h1: h1, line1: line + 1}
			k.n++
			return line, true
		}
		if s.h0 == h0 && s.h1 == h1 {
			return s.line1 - 1, false
		}
	}
}

// grow doubles the table.
func (k *keyIndex) grow() {
	old := k.slots
	k.slots = make([]keySlot, 2*len(old))
	mask := uint64(len(k.slots) - 1)
	for _, s := range old {
		if s.line1 == 0 {
			continue
		}
		i := s.h0 & mask
		for k.slots[i].line1 != 0 {
			i = (i + 1) & mask
		}
		k.slots[i] = s
	}
}
