package kmeans

import "github.com/mathcrm/mathcrm/internal/keyhash"

// Purposes keep the random streams of different decisions independent.
const (
	purposePick   uint64 = 0x7069636b00000001 // "pick"
	purposeSample uint64 = 0x73616d7000000002 // "samp"
	purposeKpp    uint64 = 0x6b70702b00000003 // "kpp+"
)

// mix is one SplitMix64 step, [keyhash.SplitMix].
func mix(z uint64) uint64 { return keyhash.SplitMix(z) }

// streamKey folds everything but the row index into one word, so the per-row
// cost is a single mix.
func streamKey(seed, purpose uint64, round, shard int) uint64 {
	h := mix(seed ^ purpose)
	h = mix(h ^ uint64(round))
	return mix(h ^ uint64(shard))
}

// uniform maps (key, row) to [0, 1) with 53 random bits.
func uniform(key uint64, row int) float64 {
	return float64(mix(key^uint64(row))>>11) * 0x1p-53
}
