// Package keyhash holds every hash that decides where data lives or which
// rows a model sees: the shard of a key, a worker's rendezvous score for a
// shard, held-out rows and pairs, and the seeded random streams of the
// algorithms. None of them may ever change: they decide what a stored
// dataset's shards hold and what a model was trained on, and scripts outside
// Go (testdata/golden/*.py) reimplement them. The golden vectors in
// keyhash_test.go pin them.
//
// Every hash is built from two pieces: FNV-1a 64-bit
// (http://www.isthe.com/chongo/tech/comp/fnv/) of a string's bytes, and the
// SplitMix64 finaliser (Steele, Lea & Flood 2014, constants from Stafford's
// "Mix13"), with or without SplitMix64's golden-gamma increment.
package keyhash

// FNV-1a 64-bit parameters.
const (
	fnvOffset64 = 14695981039346656037
	fnvPrime64  = 1099511628211
)

// FNV1a is the FNV-1a 64-bit hash of s's bytes.
func FNV1a(s string) uint64 {
	h := uint64(fnvOffset64)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime64
	}
	return h
}

// fnvBytes continues an FNV-1a 64-bit hash h over b.
func fnvBytes(h uint64, b []byte) uint64 {
	for _, c := range b {
		h ^= uint64(c)
		h *= fnvPrime64
	}
	return h
}

// Fin is the SplitMix64 finaliser: a bijection on uint64 with good
// avalanche, used bare to spread FNV's weak low bits.
func Fin(z uint64) uint64 {
	z ^= z >> 30
	z *= 0xbf58476d1ce4e5b9
	z ^= z >> 27
	z *= 0x94d049bb133111eb
	z ^= z >> 31
	return z
}

// SplitMix is one SplitMix64 step: add the golden gamma 0x9e3779b97f4a7c15,
// then the finaliser.
func SplitMix(z uint64) uint64 { return Fin(z + 0x9e3779b97f4a7c15) }

// Shard maps key to a shard in [0, n): Fin(FNV1a(key)) mod n. It decides
// where a dataset's rows are stored.
//
// Shard panics if n is not positive.
func Shard(key string, n int) int {
	if n <= 0 {
		panic("keyhash: Shard with non-positive shard count")
	}
	return int(Fin(FNV1a(key)) % uint64(n))
}

// Key is the seeded hash of a row key: SplitMix(FNV1a(key) xor seed). The
// gamma makes it independent of [Shard], so a held-out set does not follow
// the shards.
func Key(key string, seed uint64) uint64 { return SplitMix(FNV1a(key) ^ seed) }

// Pair is the seeded hash of a (user, item) pair:
// SplitMix(Key(user, seed) xor FNV1a(item)).
func Pair(user, item string, seed uint64) uint64 { return PairOf(Key(user, seed), FNV1a(item)) }

// PairOf is [Pair] from the user's [Key] and the item's [FNV1a], for loops
// that hash each once.
func PairOf(userKey, itemFNV uint64) uint64 { return SplitMix(userKey ^ itemFNV) }

// Rendezvous is the hash of a (worker, shard) pair that weighted rendezvous
// placement turns into a score: Fin of FNV-1a over the worker id's bytes
// followed by the shard number's 8 little-endian bytes.
func Rendezvous(worker string, shard int) uint64 {
	var b [8]byte
	for i := range b {
		b[i] = byte(uint64(shard) >> (8 * i))
	}
	return Fin(fnvBytes(FNV1a(worker), b[:]))
}

// Unit maps a hash to [0, 1) with its top 53 bits.
func Unit(h uint64) float64 { return float64(h>>11) * 0x1p-53 }
