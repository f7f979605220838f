package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/mathcrm/mathcrm/internal/natsembed"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/nats-io/nats.go"
)

func openStore(t *testing.T) *Store {
	t.Helper()
	ns, err := natsembed.Start(natsembed.Options{Listen: "127.0.0.1:0", StoreDir: filepath.Join(t.TempDir(), "nats"), Name: "store-test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := Open(ctx, nc, 1)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestGetRoundTrip reads back blobs of sizes around the object store's
// chunk size, empty included, byte for byte, and refuses a reference whose
// size or checksum is not the blob's.
func TestGetRoundTrip(t *testing.T) {
	s := openStore(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 1000, 128<<10 - 1, 128 << 10, 128<<10 + 1, 3<<20 + 17} {
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(r.Uint32())
		}
		ref, err := s.Put(ctx, proto.BucketModels, "blob", data)
		if err != nil {
			t.Fatal(err)
		}
		if sum := sha256.Sum256(data); ref.SHA256 != hex.EncodeToString(sum[:]) || ref.Size != int64(n) {
			t.Fatalf("%d bytes: reference %+v, want size %d and SHA-256 %x", n, ref, n, sum)
		}
		got, err := s.Get(ctx, ref)
		if err != nil {
			t.Fatalf("%d bytes: %v", n, err)
		}
		if !bytes.Equal(got, data) {
			t.Fatalf("%d bytes: read back %d different bytes", n, len(got))
		}
		bad := ref
		bad.Size++
		if _, err := s.Get(ctx, bad); !errors.Is(err, ErrChecksum) {
			t.Fatalf("%d bytes, size one more: %v, want a checksum error", n, err)
		}
		bad = ref
		bad.SHA256 = "00" + ref.SHA256[2:]
		if _, err := s.Get(ctx, bad); !errors.Is(err, ErrChecksum) {
			t.Fatalf("%d bytes, other checksum: %v, want a checksum error", n, err)
		}
	}
	if _, err := s.Get(ctx, proto.BlobRef{Bucket: proto.BucketModels, Object: "missing"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing blob: %v, want ErrNotFound", err)
	}
}

// TestPutNewIsAnObject stores blobs with PutNew and checks they are the
// object store's own objects, as Put stores them: the same description
// (size, chunks, digest, chunk size), read back, listed, checked by Stat and
// deleted like any other.
func TestPutNewIsAnObject(t *testing.T) {
	s := openStore(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	r := rand.New(rand.NewPCG(3, 4))
	b := s.buckets[proto.BucketShards]
	for _, n := range []int{0, 1, 128 << 10, 128<<10 + 1, 2<<20 + 5} {
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(r.Uint32())
		}
		ref, err := s.PutNew(ctx, proto.BucketShards, "new/blob", data)
		if err != nil {
			t.Fatal(err)
		}
		want, err := s.Put(ctx, proto.BucketShards, "old/blob", data)
		if err != nil {
			t.Fatal(err)
		}
		if ref.Size != want.Size || ref.SHA256 != want.SHA256 || ref.Object != "new/blob" {
			t.Fatalf("%d bytes: PutNew gave %+v, Put %+v", n, ref, want)
		}
		got, err := b.GetInfo(ctx, "new/blob")
		if err != nil {
			t.Fatal(err)
		}
		old, err := b.GetInfo(ctx, "old/blob")
		if err != nil {
			t.Fatal(err)
		}
		if got.Size != old.Size || got.Chunks != old.Chunks || got.Digest != old.Digest || got.Opts == nil || old.Opts == nil ||
			got.Opts.ChunkSize != old.Opts.ChunkSize || got.Deleted || got.ModTime.IsZero() {
			t.Fatalf("%d bytes: PutNew's object %+v, Put's %+v", n, got, old)
		}
		back, err := s.Get(ctx, ref)
		if err != nil || !bytes.Equal(back, data) {
			t.Fatalf("%d bytes: read back %d bytes, %v", n, len(back), err)
		}
		if err := s.Stat(ctx, ref); err != nil {
			t.Fatalf("%d bytes: Stat: %v", n, err)
		}
		listed, err := s.List(ctx, proto.BucketShards)
		if err != nil || len(listed) != 2 {
			t.Fatalf("%d bytes: listed %+v, %v", n, listed, err)
		}
		for _, name := range []string{"new/blob", "old/blob"} {
			if err := s.Delete(ctx, proto.BucketShards, name); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.Get(ctx, ref); !errors.Is(err, ErrNotFound) {
			t.Fatalf("%d bytes, deleted: %v, want ErrNotFound", n, err)
		}
	}
	if _, err := s.PutNew(ctx, "no-such-bucket", "x", nil); err == nil {
		t.Fatal("PutNew into an unknown bucket: no error")
	}
}
