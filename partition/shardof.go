package partition

// FNV-1a 64-bit parameters (http://www.isthe.com/chongo/tech/comp/fnv/).
const (
	fnvOffset64 = 14695981039346656037
	fnvPrime64  = 1099511628211
)

// ShardOf maps key to a shard in [0, n). It decides where data lives, so it
// must never change: it is the FNV-1a 64-bit hash of the key's bytes, passed
// through the splitmix64 finaliser (Steele, Lea & Flood 2014, constants from
// Stafford's "Mix13") to spread FNV's weak low bits, reduced mod n.
//
// ShardOf panics if n is not positive.
func ShardOf(key string, n int) int {
	if n <= 0 {
		panic("partition: ShardOf with non-positive shard count")
	}
	h := uint64(fnvOffset64)
	for i := 0; i < len(key); i++ {
		h ^= uint64(key[i])
		h *= fnvPrime64
	}
	return int(mix64(h) % uint64(n))
}

// mix64 is the splitmix64 finaliser.
func mix64(z uint64) uint64 {
	z ^= z >> 30
	z *= 0xbf58476d1ce4e5b9
	z ^= z >> 27
	z *= 0x94d049bb133111eb
	z ^= z >> 31
	return z
}
