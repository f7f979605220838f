package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Meta data is not authenticated: any role that writes blobs can append a
// meta message over any object, naming any chunks, size and digest, and
// append a message to any chunk subject. These tests forge them as such a
// writer would and check that a reader that knows a blob's reference still
// reads it, at once, and that deleting another object leaves it whole.

// appendMeta publishes a meta message for name as a writer can.
func appendMeta(t *testing.T, s *Store, bucket, name string, info jetstream.ObjectInfo) {
	t.Helper()
	b, err := json.Marshal(info)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.js.PublishMsg(context.Background(), &nats.Msg{Subject: metaSubject(bucket, name), Data: b}); err != nil {
		t.Fatal(err)
	}
}

func pattern(n int) []byte {
	d := make([]byte, n)
	for i := range d {
		d[i] = byte(i * 7)
	}
	return d
}

// putModel stores a three-chunk blob and returns its reference, its bytes
// and its meta data.
func putModel(t *testing.T, s *Store, name string) (proto.BlobRef, []byte, *jetstream.ObjectInfo) {
	t.Helper()
	ctx := context.Background()
	data := pattern(300 << 10)
	ref, err := s.Put(ctx, proto.BucketModels, name, data)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := s.bucket(proto.BucketModels)
	info, err := b.GetInfo(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	return ref, data, info
}

// readsAtOnce checks that Get returns the blob's bytes well before the
// stall bound, and that Stat accepts it.
func readsAtOnce(t *testing.T, s *Store, ref proto.BlobRef, want []byte) {
	t.Helper()
	ctx := context.Background()
	start := time.Now()
	got, err := s.Get(ctx, ref)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("get: %d bytes, %v", len(got), err)
	}
	if d := time.Since(start); d > StallBase/2 {
		t.Fatalf("get took %v", d)
	}
	if err := s.Stat(ctx, ref); err != nil {
		t.Fatalf("stat: %v", err)
	}
}

// TestForgedMetaNamingNoChunks appends meta data with the blob's own size
// and digest but chunks that are not stored, or only one of them.
func TestForgedMetaNamingNoChunks(t *testing.T) {
	s := openStore(t)
	ref, data, info := putModel(t, s, "models/m")
	for _, nuid := range []string{"nochunks", ">", "*"} {
		f := *info
		f.NUID = nuid
		appendMeta(t, s, proto.BucketModels, "models/m", f)
		readsAtOnce(t, s, ref, data)
	}
	if _, err := s.js.Publish(context.Background(), chunkSubject(proto.BucketModels, "onechunk"), data[:chunkSize]); err != nil {
		t.Fatal(err)
	}
	f := *info
	f.NUID = "onechunk"
	appendMeta(t, s, proto.BucketModels, "models/m", f)
	readsAtOnce(t, s, ref, data)
}

// TestForgedMetaOtherBytes appends meta data of other bytes whose chunks
// are not stored, then a delete marker; and a reference no version matches
// fails at once.
func TestForgedMetaOtherBytes(t *testing.T) {
	s := openStore(t)
	ref, data, _ := putModel(t, s, "models/m")
	appendMeta(t, s, proto.BucketModels, "models/m", jetstream.ObjectInfo{ObjectMeta: jetstream.ObjectMeta{Name: "models/m"},
		Bucket: proto.BucketModels, NUID: "nope", Size: 10, Chunks: 1, Digest: "SHA-256=AAAA"})
	readsAtOnce(t, s, ref, data)
	appendMeta(t, s, proto.BucketModels, "models/m", jetstream.ObjectInfo{ObjectMeta: jetstream.ObjectMeta{Name: "models/m"},
		Bucket: proto.BucketModels, NUID: "gone", Deleted: true})
	readsAtOnce(t, s, ref, data)

	bad := ref
	bad.SHA256 = "00" + ref.SHA256[2:]
	start := time.Now()
	if _, err := s.Get(context.Background(), bad); !errors.Is(err, ErrChecksum) {
		t.Fatalf("get of a reference no version matches: %v, want ErrChecksum", err)
	}
	if d := time.Since(start); d > StallBase/2 {
		t.Fatalf("get of a reference no version matches took %v", d)
	}
	if err := s.Stat(context.Background(), bad); !errors.Is(err, ErrChecksum) {
		t.Fatalf("stat of a reference no version matches: %v, want ErrChecksum", err)
	}
}

// TestForgedMetaHugeSize appends meta data claiming a blob of gigabytes:
// Get reads the genuine version without sizing a buffer from the claim,
// and reading the newest version refuses it before allocating.
func TestForgedMetaHugeSize(t *testing.T) {
	s := openStore(t)
	ref, data, info := putModel(t, s, "models/m")
	f := *info
	f.Size = 4 << 30
	f.Chunks = 1
	appendMeta(t, s, proto.BucketModels, "models/m", f)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	readsAtOnce(t, s, ref, data)
	runtime.ReadMemStats(&after)
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 256<<20 {
		t.Fatalf("reading a %d-byte blob allocated %d bytes", len(data), grew)
	}
	b, _ := s.bucket(proto.BucketModels)
	if _, err := getBytes(context.Background(), b, ref, info.NUID); !errors.Is(err, ErrChecksum) {
		t.Fatalf("reading newest meta data of %d bytes for a %d-byte reference: %v, want ErrChecksum", f.Size, ref.Size, err)
	}
}

// TestAppendedChunk appends a message to a stored blob's chunk subject:
// the blob is still read and passes Stat.
func TestAppendedChunk(t *testing.T) {
	s := openStore(t)
	ref, data, info := putModel(t, s, "models/m")
	if _, err := s.js.Publish(context.Background(), chunkSubject(proto.BucketModels, info.NUID), []byte("x")); err != nil {
		t.Fatal(err)
	}
	readsAtOnce(t, s, ref, data)
}

// TestDeleteSparesChunksOthersName deletes objects whose meta data names
// another object's chunks, or every object's (a wildcard): the other
// object is still whole.
func TestDeleteSparesChunksOthersName(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	ref, data, info := putModel(t, s, "models/victim")
	for i, nuid := range []string{info.NUID, ">", "*"} {
		junk := "models/junk" + string(rune('a'+i))
		appendMeta(t, s, proto.BucketModels, junk, jetstream.ObjectInfo{ObjectMeta: jetstream.ObjectMeta{Name: junk},
			Bucket: proto.BucketModels, NUID: nuid, Size: 1, Chunks: 1, Digest: "SHA-256=AAAA"})
		if err := s.Delete(ctx, proto.BucketModels, junk); err != nil {
			t.Fatal(err)
		}
		readsAtOnce(t, s, ref, data)
	}
	// Its own delete still purges its chunks.
	if err := s.Delete(ctx, proto.BucketModels, "models/victim"); err != nil {
		t.Fatal(err)
	}
	st, err := s.stream(ctx, proto.BucketModels)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := chunksStored(ctx, st, chunkSubject(proto.BucketModels, info.NUID)); err != nil || len(n) != 0 {
		t.Fatalf("chunks after deleting their object: %v %v", n, err)
	}
}

// TestStockClientReadsAppendedObjects reads objects the store appended
// with the object store's own client, at sizes around the chunk size.
func TestStockClientReadsAppendedObjects(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	b, _ := s.bucket(proto.BucketModels)
	for _, n := range []int{0, 1, chunkSize, 3*chunkSize + 3} {
		if _, err := s.Put(ctx, proto.BucketModels, "o", pattern(n)); err != nil {
			t.Fatal(err)
		}
		got, err := b.GetBytes(ctx, "o")
		if err != nil || !bytes.Equal(got, pattern(n)) {
			t.Fatalf("%d bytes: the object store's client reads %d bytes, %v", n, len(got), err)
		}
	}
}

// TestDeleteMany deletes several objects at once, one of them meta data
// naming a kept object's chunks: the others' chunks are purged, the kept
// object stays whole.
func TestDeleteMany(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	ref, data, info := putModel(t, s, "models/kept")
	var names, subjects []string
	for i := range 3 {
		name := "models/gone" + string(rune('a'+i))
		if _, err := s.Put(ctx, proto.BucketModels, name, pattern(200<<10)); err != nil {
			t.Fatal(err)
		}
		b, _ := s.bucket(proto.BucketModels)
		in, err := b.GetInfo(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		names, subjects = append(names, name), append(subjects, chunkSubject(proto.BucketModels, in.NUID))
	}
	appendMeta(t, s, proto.BucketModels, "models/alias", jetstream.ObjectInfo{ObjectMeta: jetstream.ObjectMeta{Name: "models/alias"},
		Bucket: proto.BucketModels, NUID: info.NUID, Size: 1, Chunks: 1, Digest: "SHA-256=AAAA"})
	names = append(names, "models/alias", "models/missing")
	if n, err := s.DeleteMany(ctx, proto.BucketModels, names); err != nil || n != len(names) {
		t.Fatalf("deleted %d of %d: %v", n, len(names), err)
	}
	readsAtOnce(t, s, ref, data)
	st, err := s.stream(ctx, proto.BucketModels)
	if err != nil {
		t.Fatal(err)
	}
	for _, subj := range subjects {
		if n, err := chunksStored(ctx, st, subj); err != nil || len(n) != 0 {
			t.Fatalf("chunks of a deleted object: %v %v", n, err)
		}
	}
	if objs, err := s.List(ctx, proto.BucketModels); err != nil || len(objs) != 1 || objs[0].Name != "models/kept" {
		t.Fatalf("left: %+v %v", objs, err)
	}
}
