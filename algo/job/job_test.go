package job_test

import (
	"strings"
	"testing"

	"github.com/mathcrm/mathcrm/algo/job"
	"github.com/mathcrm/mathcrm/internal/proto"
)

type sums struct {
	N int64     `json:"n"`
	S []float64 `json:"s"`
}

func partials(t *testing.T, n int) []*proto.Partial {
	t.Helper()
	parts := make([]*proto.Partial, n)
	for i := range parts {
		parts[i] = &proto.Partial{Shard: i}
		if err := job.Encode(parts[i], "x", sums{N: int64(i), S: []float64{float64(i) / 3, -float64(i)}}); err != nil {
			t.Fatal(err)
		}
	}
	return parts
}

// TestDecodeKeepsShardOrder: the payloads, decoded on every core, come back
// in shard order, each its own shard's.
func TestDecodeKeepsShardOrder(t *testing.T) {
	for _, n := range []int{1, 7, 64, 201} {
		got, err := job.Decode[sums]("x", partials(t, n))
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range got {
			if v.N != int64(i) || v.S[0] != float64(i)/3 || v.S[1] != -float64(i) {
				t.Fatalf("n=%d: shard %d decoded %+v", n, i, v)
			}
		}
	}
}

// TestDecodeReportsTheFirstBadShard: of several bad partials, the error
// names the first in shard order, whichever core met it first.
func TestDecodeReportsTheFirstBadShard(t *testing.T) {
	for range 20 {
		parts := partials(t, 64)
		parts[50] = nil
		parts[9].Algo = "y"
		parts[33].Shard = 34
		_, err := job.Decode[sums]("x", parts)
		if err == nil || !strings.Contains(err.Error(), "shard 9 sent no x result") {
			t.Fatalf("error %v, want shard 9's", err)
		}
	}
	parts := partials(t, 16)
	parts[3].Payload = []byte{0xc1}
	if _, err := job.Decode[sums]("x", parts); err == nil || !strings.Contains(err.Error(), "shard 3's x result") {
		t.Fatalf("error %v, want shard 3's", err)
	}
}

// TestDecodeTakesPredecodedPayloads: payloads the leader decoded as they
// arrived are taken as they are, the others decoded, all in shard order
// with the same values; a predecoded payload in the wrong place is still
// refused.
func TestDecodeTakesPredecodedPayloads(t *testing.T) {
	parts := partials(t, 64)
	pre := map[int]any{}
	for i := 0; i < 64; i += 3 {
		v, err := job.Predecode[sums](parts[i])
		if err != nil {
			t.Fatal(err)
		}
		parts[i].Decoded, pre[i] = v, v
	}
	got, err := job.Decode[sums]("x", parts)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range got {
		if v.N != int64(i) || v.S[0] != float64(i)/3 || v.S[1] != -float64(i) {
			t.Fatalf("shard %d decoded %+v", i, v)
		}
		if p, ok := pre[i]; ok && p.(*sums) != v {
			t.Fatalf("shard %d was decoded again", i)
		}
	}
	if _, err := job.Predecode[sums](&proto.Partial{Payload: []byte{0xc1}}); err == nil {
		t.Fatal("a bad payload predecoded")
	}
	parts[6].Shard = 7
	if _, err := job.Decode[sums]("x", parts); err == nil || !strings.Contains(err.Error(), "shard 6's place holds shard 7's") {
		t.Fatalf("error %v, want shard 6's", err)
	}
}
