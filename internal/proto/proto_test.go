package proto_test

import (
	"testing"

	"github.com/mathcrm/mathcrm/internal/blob"
	"github.com/mathcrm/mathcrm/internal/proto"
)

// FuzzPartial feeds arbitrary bytes to the decoder of a worker's reply, as
// the leader runs it: it must return an error or a partial, never panic.
func FuzzPartial(f *testing.F) {
	payload, err := blob.Marshal(map[string]any{"kind": "lloyd", "shard": 2, "sums": []float64{1, 2}})
	if err != nil {
		f.Fatal(err)
	}
	good, err := blob.Encode(proto.PartialKind, proto.Partial{Job: "job-1", Pass: 3, Shard: 2, Rows: 10, Algo: "kmeans", Payload: payload})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte("MCRB\x01\x07partial"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var p proto.Partial
		if err := blob.Decode(b, proto.PartialKind, &p); err != nil {
			return
		}
		// Whatever decodes must re-encode.
		if _, err := blob.Encode(proto.PartialKind, p); err != nil {
			t.Fatalf("decoded partial does not re-encode: %v", err)
		}
	})
}

func TestCheck(t *testing.T) {
	if err := proto.Check(proto.Version); err != nil {
		t.Fatal(err)
	}
	if err := proto.Check(proto.Version + 1); err == nil {
		t.Fatal("a message of another version was accepted")
	}
}
