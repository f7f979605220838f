package partition

import "github.com/mathcrm/mathcrm/internal/keyhash"

// ShardOf maps key to a shard in [0, n). It decides where data lives, so it
// must never change: it is [keyhash.Shard], the FNV-1a 64-bit hash of the
// key's bytes passed through the splitmix64 finaliser, reduced mod n.
//
// ShardOf panics if n is not positive.
func ShardOf(key string, n int) int { return keyhash.Shard(key, n) }
