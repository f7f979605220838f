package partition

import (
	"fmt"
	"hash/fnv"
	"testing"

	"github.com/mathcrm/mathcrm/internal/keyhash"
)

// TestShardOfGolden pins placement: if this test fails, existing clusters
// would look for their data in the wrong shards. Do not update the values.
func TestShardOfGolden(t *testing.T) {
	for _, tc := range []struct {
		key            string
		n64, n7, n1000 int
	}{
		{"", 27, 5, 203},
		{"a", 56, 3, 736},
		{"7590-VHVEG", 43, 2, 907},
		{"5575-GNVDE", 5, 6, 37},
		{"customer-42", 54, 3, 574},
		{"ünïcødé", 56, 2, 96},
	} {
		got := [3]int{ShardOf(tc.key, 64), ShardOf(tc.key, 7), ShardOf(tc.key, 1000)}
		if want := [3]int{tc.n64, tc.n7, tc.n1000}; got != want {
			t.Errorf("ShardOf(%q, 64/7/1000) = %v, want %v", tc.key, got, want)
		}
		if ShardOf(tc.key, 1) != 0 {
			t.Errorf("ShardOf(%q, 1) != 0", tc.key)
		}
	}
}

// TestShardOfDefinition checks the documented definition against the
// standard library's FNV-1a.
func TestShardOfDefinition(t *testing.T) {
	for i := range 1000 {
		key := fmt.Sprintf("k%d", i*7919)
		h := fnv.New64a()
		h.Write([]byte(key))
		if got, want := ShardOf(key, 97), int(keyhash.Fin(h.Sum64())%97); got != want {
			t.Fatalf("ShardOf(%q, 97) = %d, want %d", key, got, want)
		}
	}
	// splitmix64 seeded with 0 first yields 0xe220a8397b1dcdaf (Vigna's
	// reference splitmix64.c): the finaliser of 0 + the golden gamma.
	if got := keyhash.Fin(0x9e3779b97f4a7c15); got != 0xe220a8397b1dcdaf {
		t.Errorf("keyhash.Fin(gamma) = %#x, want 0xe220a8397b1dcdaf", got)
	}
}

func TestShardOfUniform(t *testing.T) {
	const n, keys = 64, 100_000
	var counts [n]int
	for i := range keys {
		counts[ShardOf(fmt.Sprintf("%04d-CUST%d", i%9973, i), n)]++
	}
	// Pearson chi-square with 63 degrees of freedom: mean 63, sd 11.2;
	// 110 is beyond the 99.99th percentile.
	exp := float64(keys) / n
	var chi2 float64
	for _, c := range counts {
		d := float64(c) - exp
		chi2 += d * d / exp
	}
	if chi2 > 110 {
		t.Errorf("chi-square %.1f over %d shards: %v", chi2, n, counts)
	}
}

func TestShardOfPanicsOnBadN(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("ShardOf(key, 0) did not panic")
		}
	}()
	ShardOf("x", 0)
}
