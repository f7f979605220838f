package als

import (
	"math"

	"github.com/mathcrm/mathcrm/internal/keyhash"
)

// The hashes that decide the initial factors, the held-out pairs and the
// evaluated users. They must never change: they decide what a model was
// trained on, and testdata/golden/make_als_golden.py reimplements them.

// Purposes keep the hashes of different decisions independent.
const (
	purposeInit uint64 = 0x696e697400000001 // "init"
	purposeEval uint64 = 0x6576616c00000002 // "eval"
)

// holdoutBuckets is the resolution of the split and of the evaluation
// sample: fractions are compared in steps of one millionth.
const holdoutBuckets = 1_000_000

// fnv1a and splitmix are the pieces every hash here is made of.
func fnv1a(s string) uint64    { return keyhash.FNV1a(s) }
func splitmix(z uint64) uint64 { return keyhash.SplitMix(z) }

// KeyHash is splitmix(FNV-1a-64(key) xor seed), the key hash of package
// linear's split.
func KeyHash(key string, seed uint64) uint64 { return keyhash.Key(key, seed) }

// PairHash is the split's hash of a (user, item) pair:
// splitmix(KeyHash(user, seed) xor FNV-1a-64(item)). It is the same
// whichever side's block the pair is read from.
func PairHash(user, item string, seed uint64) uint64 {
	return pairHash(KeyHash(user, seed), fnv1a(item))
}

func pairHash(userKey, itemFNV uint64) uint64 { return keyhash.PairOf(userKey, itemFNV) }

// IsHoldout reports whether the pair (user, item) is held out of training:
// whether (PairHash(user, item, seed) mod 10⁶)/10⁶ < fraction. All
// interactions of one pair go the same way, so the split depends on the
// pair alone: the same on every run, every shard count and every cluster
// size. It is false for every pair when fraction is 0.
func IsHoldout(user, item string, fraction float64, seed uint64) bool {
	return below(PairHash(user, item, seed), fraction)
}

func below(h uint64, fraction float64) bool {
	return fraction > 0 && float64(h%holdoutBuckets)/holdoutBuckets < fraction
}

// evalHash decides whether a held-out user's ranking is evaluated: it is
// when below(evalHash(user, seed), fraction).
func evalHash(user string, seed uint64) uint64 { return KeyHash(user, seed^purposeEval) }

// InitFactor writes the initial factor of the row with this id into dst
// (len(dst) is the rank): component k is (2u_k − 1)·√(3/rank), u_k =
// (splitmix(KeyHash(id, seed xor "init") xor k) >> 11)·2⁻⁵³, so
// components are uniform on [−√(3/rank), √(3/rank)) and the expected
// squared norm is 1 (Spark normalises its random initial factors to unit
// norm). It depends on the id alone, not on where the row is stored.
func InitFactor(dst []float64, seed uint64, id string) {
	if len(dst) == 0 {
		return
	}
	h := KeyHash(id, seed^purposeInit)
	scale := math.Sqrt(3 / float64(len(dst)))
	for k := range dst {
		u := float64(splitmix(h^uint64(k))>>11) * 0x1p-53
		dst[k] = float64(2*u-1) * scale // 2u−1 is exact
	}
}
