package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mathcrm/mathcrm/internal/natsembed"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
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

// TestDenyRollupsOnOldBuckets opens buckets made by the object store
// client, which take rollups, as clusters made before the store appended
// only have them: DenyRollups makes them refuse a purge by header, and the
// blobs written before stay readable and deletable.
func TestDenyRollupsOnOldBuckets(t *testing.T) {
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
	denyRollupsOnOldBuckets(t, nc)
}

// TestDenyRollupsOnDistributionNATS does the same on the nats-server of
// the distribution (Debian's is 2.9), when there is one.
func TestDenyRollupsOnDistributionNATS(t *testing.T) {
	bin, err := exec.LookPath("nats-server")
	if err != nil {
		t.Skip("no nats-server on PATH (apt-get install nats-server)")
	}
	dir := t.TempDir()
	cmd := exec.Command(bin, "-js", "-sd", filepath.Join(dir, "js"), "-a", "127.0.0.1", "-p", "-1", "--ports_file_dir", dir)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	var url string
	for deadline := time.Now().Add(10 * time.Second); url == ""; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("nats-server wrote no ports file")
		}
		files, _ := filepath.Glob(filepath.Join(dir, "*.ports"))
		if len(files) != 1 {
			continue
		}
		b, err := os.ReadFile(files[0])
		if err != nil {
			continue
		}
		var p struct {
			Nats []string `json:"nats"`
		}
		if json.Unmarshal(b, &p) == nil && len(p.Nats) > 0 {
			url = p.Nats[0]
		}
	}
	var nc *nats.Conn
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if nc, err = nats.Connect(url); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
	}
	t.Cleanup(nc.Close)
	denyRollupsOnOldBuckets(t, nc)
}

func denyRollupsOnOldBuckets(t *testing.T, nc *nats.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	old := map[string]proto.BlobRef{}
	for _, b := range proto.Buckets {
		obs, err := js.CreateObjectStore(ctx, jetstream.ObjectStoreConfig{Bucket: b, Storage: jetstream.FileStorage})
		if err != nil {
			t.Fatal(err)
		}
		data := []byte("written before, in " + b)
		if _, err := obs.PutBytes(ctx, "old", data); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		old[b] = proto.BlobRef{Bucket: b, Object: "old", Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:])}
	}
	s, err := Open(ctx, nc, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DenyRollups(ctx); err != nil {
		t.Fatal(err)
	}
	for _, b := range proto.Buckets {
		m := nats.NewMsg("$O." + b + ".C.x")
		m.Header.Set("Nats-Rollup", "all")
		if _, err := js.PublishMsg(ctx, m); err == nil || !strings.Contains(err.Error(), "rollup not permitted") {
			t.Fatalf("%s: a rollup after DenyRollups: %v", b, err)
		}
		if got, err := s.Get(ctx, old[b]); err != nil || string(got) != "written before, in "+b {
			t.Fatalf("%s: the old blob: %q %v", b, got, err)
		}
		ref, err := s.Put(ctx, b, "new", []byte("new"))
		if err != nil {
			t.Fatal(err)
		}
		// Meta data appended over it shadows it for the object store's
		// readers, not for Get, Stat or the collection.
		forged, _ := json.Marshal(jetstream.ObjectInfo{ObjectMeta: jetstream.ObjectMeta{Name: "new"}, Bucket: b, NUID: "none", Deleted: true})
		if _, err := js.Publish(ctx, metaSubject(b, "new"), forged); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Get(ctx, ref); err != nil || string(got) != "new" {
			t.Fatalf("%s: a shadowed blob: %q %v", b, got, err)
		}
		if err := s.Stat(ctx, ref); err != nil {
			t.Fatalf("%s: stat of a shadowed blob: %v", b, err)
		}
		if ps, err := s.Partials(ctx, b); err != nil || len(ps) != 0 {
			t.Fatalf("%s: partials with a shadowed blob: %v %v", b, ps, err)
		}
		for _, r := range []proto.BlobRef{old[b], ref} {
			if err := s.Delete(ctx, b, r.Object); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Get(ctx, r); !errors.Is(err, ErrNotFound) {
				t.Fatalf("%s/%s deleted: %v, want ErrNotFound", b, r.Object, err)
			}
		}
		// Delete purged the shadowed version's chunks too: nothing is
		// left for the collection.
		if ps, err := s.Partials(ctx, b); err != nil || len(ps) != 0 {
			t.Fatalf("%s: partials after deleting: %v %v", b, ps, err)
		}
	}
	// Idempotent.
	if err := s.DenyRollups(ctx); err != nil {
		t.Fatal(err)
	}
}
