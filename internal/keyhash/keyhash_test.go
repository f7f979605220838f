package keyhash

import "testing"

// The golden vectors pin every hash forever: a change here moves stored
// rows between shards and changes which rows past models were trained on.
// They were taken from the implementations the package replaced
// (partition.ShardOf, linear.KeyHash, als.PairHash and the coordinator's
// rendezvous hash over hash/fnv), which agreed on every one.

func TestKeyGolden(t *testing.T) {
	for _, tc := range []struct {
		key           string
		fnv           uint64
		shard64, sh7  int
		seed0, seed42 uint64
	}{
		{"", 0xcbf29ce484222325, 27, 5, 0xc3817c016ba4ff30, 0xebc62d1bd385b9f5},
		{"a", 0xaf63dc4c8601ec8c, 56, 3, 0x5f29c2aadd9b8527, 0x32608aef48bb7618},
		{"C0000001", 0xf99bdb161290efc9, 62, 4, 0x6503c042ef5dae9a, 0x6b4d761c814f1196},
		{"7590-VEGKH", 0x69c57e37f82302cc, 31, 0, 0xb49849acd92e1ae5, 0x31684c44ca3a108f},
		{"17850", 0x1456766d8ef0529e, 2, 3, 0x65f4fe5330cb3856, 0x94290c0fca527f5d},
		{"héllo", 0xa35ff71f960240e0, 62, 1, 0x4019771ffd0488f9, 0xad8906cf56aec281},
		{"user-12345678901234567890", 0x7954788d1accd3e5, 10, 3, 0xed5951f8b72dcca7, 0x377727a880fd0cc6},
	} {
		if got := FNV1a(tc.key); got != tc.fnv {
			t.Errorf("FNV1a(%q) = %#x, want %#x", tc.key, got, tc.fnv)
		}
		if got := Shard(tc.key, 64); got != tc.shard64 {
			t.Errorf("Shard(%q, 64) = %d, want %d", tc.key, got, tc.shard64)
		}
		if got := Shard(tc.key, 7); got != tc.sh7 {
			t.Errorf("Shard(%q, 7) = %d, want %d", tc.key, got, tc.sh7)
		}
		if got := Key(tc.key, 0); got != tc.seed0 {
			t.Errorf("Key(%q, 0) = %#x, want %#x", tc.key, got, tc.seed0)
		}
		if got := Key(tc.key, 42); got != tc.seed42 {
			t.Errorf("Key(%q, 42) = %#x, want %#x", tc.key, got, tc.seed42)
		}
	}
}

func TestPairGolden(t *testing.T) {
	if got := Pair("17850", "85123A", 0); got != 0x4406b3724f1e43ba {
		t.Errorf("Pair(17850, 85123A, 0) = %#x", got)
	}
	if got := Pair("u", "i", 7); got != 0x406859dfc2d86ed8 {
		t.Errorf("Pair(u, i, 7) = %#x", got)
	}
	if Pair("u", "i", 7) != PairOf(Key("u", 7), FNV1a("i")) {
		t.Error("Pair and PairOf disagree")
	}
}

func TestRendezvousGolden(t *testing.T) {
	for _, tc := range []struct {
		worker string
		shard  int
		want   uint64
	}{
		{"w1", 0, 0x1c0ef3921ed1fd82},
		{"w1", 1, 0x804862ff258c7a4},
		{"w1", 63, 0xd1d0b2d35ca30120},
		{"w1", 1048576, 0xb9097a0ef512ed05},
		{"host-1234", 0, 0x1683f5380cd342cf},
		{"host-1234", 1, 0x80426b9c30152856},
		{"host-1234", 63, 0xbc3c6da86353011b},
		{"host-1234", 1048576, 0x1157603e8cf73feb},
		{"", 0, 0x813f0174a2367c13},
		{"", 1, 0x5ca6bbcbb1e85355},
		{"", 63, 0x3da95a3b10bdeac3},
		{"", 1048576, 0x87916d419fa4810b},
	} {
		if got := Rendezvous(tc.worker, tc.shard); got != tc.want {
			t.Errorf("Rendezvous(%q, %d) = %#x, want %#x", tc.worker, tc.shard, got, tc.want)
		}
	}
}

func TestSplitMixIsFinPlusGamma(t *testing.T) {
	// SplitMix64's first output for seed 0 (Vigna's reference code).
	if got := SplitMix(0); got != 0xe220a8397b1dcdaf {
		t.Errorf("SplitMix(0) = %#x, want 0xe220a8397b1dcdaf", got)
	}
	if Unit(^uint64(0)) >= 1 || Unit(0) != 0 {
		t.Error("Unit out of [0, 1)")
	}
}

func TestShardPanicsOnNoShards(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Shard(k, 0) did not panic")
		}
	}()
	Shard("k", 0)
}
