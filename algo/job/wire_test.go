package job_test

import (
	"strings"
	"testing"

	"github.com/mathcrm/mathcrm/algo/job"
	"github.com/mathcrm/mathcrm/internal/proto"
)

type plainResult struct{ A []float64 }

// TestBinaryPayloadNeedsAWirer: a payload in binary form for a type with
// none, or of an unknown version, fails with an error naming the shard;
// WireOK does not change how a type without a binary form is sent.
func TestBinaryPayloadNeedsAWirer(t *testing.T) {
	p := &proto.Partial{Shard: 0, WireOK: true}
	if err := job.Encode(p, "x", plainResult{A: []float64{1}}); err != nil {
		t.Fatal(err)
	}
	if p.Payload[0] == 0xc1 {
		t.Fatal("a type without a binary form was sent in binary form")
	}
	if out, err := job.Decode[plainResult]("x", []*proto.Partial{p}); err != nil || out[0].A[0] != 1 {
		t.Fatalf("MessagePack payload: %v, %v", out, err)
	}
	for _, payload := range [][]byte{{0xc1, 1, 1, 2}, {0xc1}, {0xc1, 9}} {
		q := &proto.Partial{Shard: 0, Algo: "x", Payload: payload}
		if _, err := job.Decode[plainResult]("x", []*proto.Partial{q}); err == nil || !strings.Contains(err.Error(), "shard 0") {
			t.Fatalf("payload %v: %v", payload, err)
		}
	}
}
