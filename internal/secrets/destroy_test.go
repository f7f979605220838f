package secrets

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/internal/store"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// TestWritersCannotDestroy checks, on a real nats-server with the
// generated configuration, that the roles that write blobs (the shared
// worker, a worker with its own credential, the analyst) can remove
// nothing: the purge, message delete, stream update and delete APIs are
// refused, a rollup (a purge by header) is refused by the bucket, and meta
// data forged over an object (other bytes, a delete marker, its own size
// and digest naming chunks that are not stored) neither hides nor corrupts
// it for readers that know its checksum, nor stalls them, nor makes its
// chunks garbage to the collection; and meta data under another name
// naming its chunks does not make deleting that name purge them.
func TestWritersCannotDestroy(t *testing.T) {
	dir := initDir(t)
	s := startServer(t, dir)
	url := s.ClientURL()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	coord := mustDial(t, url, roleCreds(dir, RoleCoordinator))
	cs, err := store.Open(ctx, coord.Conn, 1)
	if err != nil {
		t.Fatal(err)
	}
	shards := "OBJ_" + proto.BucketShards
	for _, role := range []string{RoleWorker, WorkerRole("w1"), RoleAnalyst} {
		t.Run(role, func(t *testing.T) {
			name := "datasets/d/" + role + "/shard-0"
			ref, err := cs.Put(ctx, proto.BucketShards, name, []byte("customer rows of "+role))
			if err != nil {
				t.Fatal(err)
			}
			w := mustDial(t, url, roleCreds(dir, role))
			ws, err := store.Open(ctx, w.Conn, 1)
			if err != nil {
				t.Fatal(err)
			}
			// Its own work still goes: write under a fresh name, read back.
			own, err := ws.Put(ctx, proto.BucketShards, "scores/s/"+role+"/shard-0", []byte("scores"))
			if err != nil {
				t.Fatalf("%s writes a blob: %v", role, err)
			}
			if b, err := cs.Get(ctx, own); err != nil || string(b) != "scores" {
				t.Fatalf("coordinator reads %s's blob: %q %v", role, b, err)
			}

			// The API calls that remove data: refused by the server, and
			// the refusal is the client's error.
			for _, api := range []string{
				"$JS.API.STREAM.PURGE." + shards,
				"$JS.API.STREAM.MSG.DELETE." + shards,
				"$JS.API.STREAM.UPDATE." + shards,
				"$JS.API.STREAM.DELETE." + shards,
			} {
				w.denied(t, api)
			}
			js, err := jetstream.New(w.Conn)
			if err != nil {
				t.Fatal(err)
			}
			st, err := js.Stream(ctx, shards)
			if err != nil {
				t.Fatal(err)
			}
			short, stop := context.WithTimeout(ctx, time.Second)
			err = st.Purge(short)
			stop()
			if err == nil {
				t.Fatalf("%s purged %s", role, shards)
			}
			w.waitViolation(t, "Publish to \"$JS.API.STREAM.PURGE."+shards+"\"")

			// A purge by header: on any subject of the bucket, or over the
			// object's meta data.
			meta := "$O." + proto.BucketShards + ".M." + base64.URLEncoding.EncodeToString([]byte(name))
			for _, tc := range []struct{ subject, rollup string }{
				{"$O." + proto.BucketShards + ".C.x", "all"},
				{meta, "sub"},
			} {
				m := nats.NewMsg(tc.subject)
				m.Header.Set("Nats-Rollup", tc.rollup)
				m.Data = []byte("{}")
				_, err := js.PublishMsg(ctx, m)
				if err == nil || !strings.Contains(err.Error(), "rollup not permitted") {
					t.Fatalf("%s: rollup %s on %s: %v, want it refused", role, tc.rollup, tc.subject, err)
				}
			}

			// Meta data forged over the object: other bytes with a digest
			// of their own, then a delete marker.
			obs, err := js.ObjectStore(ctx, proto.BucketShards)
			if err != nil {
				t.Fatal(err)
			}
			genuine, err := obs.GetInfo(ctx, name)
			if err != nil {
				t.Fatal(err)
			}
			genuineChunks := "$O." + proto.BucketShards + ".C." + genuine.NUID
			forged := []byte("forged rows")
			if _, err := js.Publish(ctx, "$O."+proto.BucketShards+".C.forged"+strings.ReplaceAll(role, "-", ""), forged); err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(forged)
			for _, deleted := range []bool{false, true} {
				info := jetstream.ObjectInfo{ObjectMeta: jetstream.ObjectMeta{Name: name}, Bucket: proto.BucketShards,
					NUID: "forged" + strings.ReplaceAll(role, "-", ""), Size: uint64(len(forged)), Chunks: 1,
					Digest: "SHA-256=" + base64.URLEncoding.EncodeToString(sum[:]), Deleted: deleted}
				b, _ := json.Marshal(info)
				if _, err := js.Publish(ctx, meta, b); err != nil {
					t.Fatal(err)
				}
				for who, rs := range map[string]*store.Store{"coordinator": cs, role: ws} {
					if b, err := rs.Get(ctx, ref); err != nil || string(b) != "customer rows of "+role {
						t.Fatalf("forged meta data (deleted %v): %s reads %q, %v", deleted, who, b, err)
					}
				}
				if err := cs.Stat(ctx, ref); err != nil {
					t.Fatalf("forged meta data (deleted %v): stat: %v", deleted, err)
				}
			}
			// Meta data with the object's own size and digest naming chunks
			// that are not stored: read at once all the same.
			same := *genuine
			same.NUID = "nochunks" + strings.ReplaceAll(role, "-", "")
			b, _ := json.Marshal(same)
			if _, err := js.Publish(ctx, meta, b); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			if b, err := cs.Get(ctx, ref); err != nil || string(b) != "customer rows of "+role {
				t.Fatalf("forged meta data naming no chunks: coordinator reads %q, %v", b, err)
			}
			if d := time.Since(start); d > store.StallBase/2 {
				t.Fatalf("forged meta data naming no chunks: the read took %v", d)
			}
			if err := cs.Stat(ctx, ref); err != nil {
				t.Fatalf("forged meta data naming no chunks: stat: %v", err)
			}
			ps, err := cs.Partials(ctx, proto.BucketShards)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range ps {
				if p.Subject == genuineChunks {
					t.Fatalf("the collection would purge %s (%d chunks), which shadowed meta data names", p.Subject, p.Chunks)
				}
			}
			// Meta data under a name of its own naming the object's
			// chunks: the collection deletes that name as unreferenced,
			// and the object stays whole.
			junk := "scores/s/" + role + "/junk"
			alias := *genuine
			alias.Name = junk
			b, _ = json.Marshal(alias)
			if _, err := js.Publish(ctx, "$O."+proto.BucketShards+".M."+base64.URLEncoding.EncodeToString([]byte(junk)), b); err != nil {
				t.Fatal(err)
			}
			if err := cs.Delete(ctx, proto.BucketShards, junk); err != nil {
				t.Fatalf("coordinator deletes %s: %v", junk, err)
			}
			if b, err := cs.Get(ctx, ref); err != nil || string(b) != "customer rows of "+role {
				t.Fatalf("after deleting %s, which named its chunks: coordinator reads %q, %v", junk, b, err)
			}
			if err := cs.Stat(ctx, ref); err != nil {
				t.Fatalf("after deleting %s, which named its chunks: stat: %v", junk, err)
			}
			// The coordinator deletes: every version of the meta data, and
			// the chunks of every version, the shadowed one's too.
			if err := cs.Delete(ctx, proto.BucketShards, name); err != nil {
				t.Fatalf("coordinator deletes: %v", err)
			}
			if _, err := cs.Get(ctx, ref); err == nil {
				t.Fatal("a deleted blob is still read")
			}
			cjs, err := jetstream.New(coord.Conn)
			if err != nil {
				t.Fatal(err)
			}
			cst, err := cjs.Stream(ctx, shards)
			if err != nil {
				t.Fatal(err)
			}
			si, err := cst.Info(ctx, jetstream.WithSubjectFilter(genuineChunks))
			if err != nil {
				t.Fatal(err)
			}
			if n := si.State.Subjects[genuineChunks]; n != 0 {
				t.Fatalf("after the delete, %d chunks of the deleted blob are stored on %s", n, genuineChunks)
			}
		})
	}
}
