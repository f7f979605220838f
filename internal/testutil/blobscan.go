package testutil

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/parquet-go/parquet-go"
)

// StoredObjects reads every object of the cluster's buckets raw from
// JetStream, by bucket and name, whatever the state refers to. An object
// deleted between the listing and its read (a job's state blob the
// coordinator's collection removed meanwhile) is left out: it is no longer
// stored.
func StoredObjects(t testing.TB, nc *nats.Conn) map[string]map[string][]byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string][]byte{}
	for _, bucket := range []string{proto.BucketShards, proto.BucketModels} {
		out[bucket] = map[string][]byte{}
		obs, err := js.ObjectStore(ctx, bucket)
		if err != nil {
			t.Fatalf("bucket %s: %v", bucket, err)
		}
		infos, err := obs.List(ctx)
		if err != nil && err != jetstream.ErrNoObjectsFound {
			t.Fatalf("list %s: %v", bucket, err)
		}
		for _, info := range infos {
			b, err := obs.GetBytes(ctx, info.Name)
			if errors.Is(err, jetstream.ErrObjectNotFound) {
				continue
			}
			if err != nil {
				t.Fatalf("get %s/%s: %v", bucket, info.Name, err)
			}
			out[bucket][info.Name] = b
		}
	}
	return out
}

// HoldsKey reports whether a stored blob holds key: in its bytes, in any
// string value of a Parquet file (whose pages may be compressed), or in the
// decompressed body of an encoded blob (internal/blob).
func HoldsKey(t testing.TB, b []byte, key string) bool {
	t.Helper()
	if bytes.Contains(b, []byte(key)) {
		return true
	}
	if body, ok := blobBody(b); ok {
		return bytes.Contains(body, []byte(key))
	}
	if !bytes.HasPrefix(b, []byte("PAR1")) {
		return false
	}
	f, err := parquet.OpenFile(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("a stored Parquet file does not open: %v", err)
	}
	rows := make([]parquet.Row, 256)
	for _, rg := range f.RowGroups() {
		rr := rg.Rows()
		for {
			n, err := rr.ReadRows(rows)
			for _, row := range rows[:n] {
				for _, v := range row {
					if v.Kind() == parquet.ByteArray && string(v.ByteArray()) == key {
						rr.Close()
						return true
					}
				}
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("a stored Parquet file does not read: %v", err)
			}
		}
		rr.Close()
	}
	return false
}

// blobBody decompresses an internal/blob encoding: "MCRB", format u8,
// len(kind) u8, kind, raw length u32, crc32c u32, zstd(body).
func blobBody(b []byte) ([]byte, bool) {
	if !bytes.HasPrefix(b, []byte("MCRB")) || len(b) < 6 {
		return nil, false
	}
	off := 6 + int(b[5]) + 8
	if off > len(b) {
		return nil, false
	}
	raw := binary.LittleEndian.Uint32(b[off-8:])
	d, err := zstd.NewReader(nil, zstd.WithDecoderMaxMemory(uint64(raw)+1<<20))
	if err != nil {
		return nil, false
	}
	defer d.Close()
	body, err := d.DecodeAll(b[off:], nil)
	return body, err == nil
}
