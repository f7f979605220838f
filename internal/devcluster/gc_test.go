package devcluster_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mathcrm/mathcrm/coordinator"
	"github.com/mathcrm/mathcrm/internal/client"
	"github.com/mathcrm/mathcrm/internal/devcluster"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/internal/store"
	"github.com/mathcrm/mathcrm/internal/testutil"
	"github.com/mathcrm/mathcrm/partition"
	"github.com/nats-io/nats.go/jetstream"
)

func gcNow(t *testing.T, cl *client.Client, grace *time.Duration) *proto.GCResult {
	t.Helper()
	res, err := cl.GC(context.Background(), grace)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// uploadShards stores the shards of a split as an import does, without
// committing them, and returns the commit that would name them.
func uploadShards(t *testing.T, st *store.Store, name, csv string) proto.DatasetCommit {
	t.Helper()
	ctx := context.Background()
	res, err := partition.Split(ctx, csv, partition.Options{Key: "customer_id", Shards: 3, TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	dc := proto.DatasetCommit{Name: name, Kind: proto.KindFeatures, Key: res.Key, Rows: res.Rows, ImportID: client.NewRequestID()}
	for _, cs := range res.Columns {
		dc.Columns = append(dc.Columns, proto.ColumnStats(cs))
	}
	for _, sf := range res.Shards {
		obj := fmt.Sprintf("datasets/%s/%s/shard-%04d.parquet", name, dc.ImportID, sf.Index)
		if _, err := st.PutFile(ctx, proto.BucketShards, obj, sf.Path); err != nil {
			t.Fatal(err)
		}
		dc.Shards = append(dc.Shards, proto.ShardRef{Index: sf.Index, Object: obj, Size: sf.Size, SHA256: sf.SHA256, Rows: sf.Rows})
	}
	return dc
}

// TestGCThenCommitFailsCleanly: shards collected before their commit make
// the commit fail, naming the shard, and nothing becomes visible; within
// the grace they are kept and the commit goes through.
func TestGCThenCommitFailsCleanly(t *testing.T) {
	c := startCluster(t, t.TempDir(), 1)
	defer c.Close()
	cl := dial(t, c)
	ctx := context.Background()
	st, err := store.Open(ctx, cl.Conn(), 1)
	if err != nil {
		t.Fatal(err)
	}
	csv := filepath.Join(t.TempDir(), "c.csv")
	testutil.GenCustomers(t, csv, 600, 3)

	zero := time.Duration(0)
	dc := uploadShards(t, st, "gone", csv)
	if res := gcNow(t, cl, &zero); res.Removed != 3 || res.Referenced != 0 || res.Young != 0 || res.Bytes <= 0 {
		t.Fatalf("gc --grace 0 of three uncommitted shards: %+v", res)
	}
	err = cl.Call(ctx, proto.APIDatasetCommit, dc, nil)
	want := "coordinator: invalid request: shard 0: store: blob not found: mathcrm-shards/" + dc.Shards[0].Object
	if err == nil || err.Error() != want {
		t.Fatalf("commit of collected shards: %v, want %q", err, want)
	}
	var ae *client.APIError
	if err := cl.Call(ctx, proto.APIDatasetShow, proto.Named{Name: "gone"}, nil); !errors.As(err, &ae) || ae.Code != "not_found" {
		t.Fatalf("a version whose shards were collected is visible: %v", err)
	}

	// With the configured grace (an hour), fresh shards stay and commit.
	dc = uploadShards(t, st, "kept", csv)
	if res := gcNow(t, cl, nil); res.Removed != 0 || res.Young != 3 || res.Grace != time.Hour {
		t.Fatalf("gc with the configured grace: %+v", res)
	}
	var ds proto.Dataset
	if err := cl.Call(ctx, proto.APIDatasetCommit, dc, &ds); err != nil || ds.Latest().Rows != 600 {
		t.Fatalf("commit within the grace: %v %+v", err, ds)
	}
	if res := gcNow(t, cl, &zero); res.Removed != 0 || res.Referenced != 3 {
		t.Fatalf("gc after the commit: %+v", res)
	}

	// The chunks of an upload that died midway are kept, whatever the grace,
	// until they have been left alone for GCPartialAge (10m): an upload in
	// progress is never torn.
	js, err := jetstream.New(cl.Conn())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, "$O."+proto.BucketShards+".C.inflight", []byte("chunk")); err != nil {
		t.Fatal(err)
	}
	if res := gcNow(t, cl, &zero); res.Partials != 0 || res.Young != 1 {
		t.Fatalf("gc --grace 0 with an upload's fresh chunks: %+v", res)
	}

	neg := -time.Second
	_, err = cl.GC(ctx, &neg)
	if err == nil || err.Error() != "coordinator: invalid request: grace -1s is negative (0 collects everything unreferenced now)" {
		t.Fatalf("negative grace: %v", err)
	}
}

// TestImportsRacingGC: imports while collections with no grace run back to
// back. Each import either commits a whole version whose every shard reads
// back, or fails and leaves nothing visible; at the end every stored blob
// is one a version names.
func TestImportsRacingGC(t *testing.T) {
	c := startCluster(t, t.TempDir(), 1)
	defer c.Close()
	cl := dial(t, c)
	csv := filepath.Join(t.TempDir(), "c.csv")
	testutil.GenCustomers(t, csv, 2000, 4)
	zero := time.Duration(0)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	collected := 0
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			res, err := cl.GC(context.Background(), &zero)
			if err != nil {
				t.Error(err)
				return
			}
			collected += res.Removed
		}
	}()
	stopGC := sync.OnceFunc(func() { close(stop); wg.Wait() })
	defer stopGC()
	committed, failed := 0, 0
	for i := range 12 {
		name := fmt.Sprintf("r%d", i)
		ds, err := cl.Import(context.Background(), name, csv, client.ImportOptions{
			Kind: "features", Options: partition.Options{Key: "customer_id", Shards: 8, TempDir: t.TempDir()},
		})
		if err != nil {
			if !strings.Contains(err.Error(), "store: blob not found") {
				t.Fatalf("import %s: %v", name, err)
			}
			var ae *client.APIError
			if err := cl.Call(context.Background(), proto.APIDatasetShow, proto.Named{Name: name}, nil); !errors.As(err, &ae) || ae.Code != "not_found" {
				t.Fatalf("import %s failed, yet the dataset is visible: %v", name, err)
			}
			failed++
			continue
		}
		committed++
		if rows, err := cl.ExportDataset(context.Background(), name, 0, "csv", io.Discard); err != nil || rows != 2000 || ds.Latest().Rows != 2000 {
			t.Fatalf("import %s committed a version that does not read back: %d rows, %v", name, rows, err)
		}
	}
	stopGC()
	t.Logf("%d imports committed, %d failed at their commit; %d blobs collected while they ran", committed, failed, collected)
	res := gcNow(t, cl, &zero)
	st, err := store.Open(context.Background(), cl.Conn(), 1)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, b := range proto.Buckets {
		objs, err := st.List(context.Background(), b)
		if err != nil {
			t.Fatal(err)
		}
		total += len(objs)
	}
	if total != res.Referenced || total != 8*committed {
		t.Fatalf("%d blobs stored after the last collection, %d referenced, %d committed imports of 8 shards (%+v)", total, res.Referenced, committed, res)
	}
}

// TestPartialUploads: chunks of an upload that died before its meta data are
// collected, and an object whose chunks are gone fails Stat and its commit.
func TestPartialUploads(t *testing.T) {
	ctx := context.Background()
	c, err := devcluster.Start(ctx, devcluster.Config{
		DataDir: t.TempDir(), Workers: 1, NATSListen: "127.0.0.1:0", Logger: testLogger(t),
		Coordinator: func(cfg *coordinator.Config) { cfg.FastRaft, cfg.GCPartialAge = true, 0 },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cl := dial(t, c)
	st, err := store.Open(ctx, cl.Conn(), 1)
	if err != nil {
		t.Fatal(err)
	}
	js, err := jetstream.New(cl.Conn())
	if err != nil {
		t.Fatal(err)
	}
	// What a killed upload leaves: chunks on a subject of its own, no meta.
	for range 3 {
		if _, err := js.Publish(ctx, "$O."+proto.BucketShards+".C.deadupload", []byte("chunk")); err != nil {
			t.Fatal(err)
		}
	}
	ps, err := st.Partials(ctx, proto.BucketShards)
	if err != nil || len(ps) != 1 || ps[0].Chunks != 3 {
		t.Fatalf("partials: %+v %v", ps, err)
	}
	if res := gcNow(t, cl, nil); res.Partials != 0 || res.Young != 1 {
		t.Fatalf("gc within the grace: %+v", res)
	}

	// An object whose chunks were purged before its meta data landed.
	csv := filepath.Join(t.TempDir(), "c.csv")
	testutil.GenCustomers(t, csv, 300, 8)
	dc := uploadShards(t, st, "torn", csv)
	obs, err := js.ObjectStore(ctx, proto.BucketShards)
	if err != nil {
		t.Fatal(err)
	}
	info, err := obs.GetInfo(ctx, dc.Shards[1].Object)
	if err != nil {
		t.Fatal(err)
	}
	stream, err := js.Stream(ctx, "OBJ_"+proto.BucketShards)
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Purge(ctx, jetstream.WithPurgeSubject("$O."+proto.BucketShards+".C."+info.NUID)); err != nil {
		t.Fatal(err)
	}
	ref := proto.BlobRef{Bucket: proto.BucketShards, Object: dc.Shards[1].Object, Size: dc.Shards[1].Size, SHA256: dc.Shards[1].SHA256}
	if err := st.Stat(ctx, ref); !errors.Is(err, store.ErrIncomplete) {
		t.Fatalf("stat of an object without its chunks: %v", err)
	}
	err = cl.Call(ctx, proto.APIDatasetCommit, dc, nil)
	want := "coordinator: invalid request: shard 1: store: blob incomplete: mathcrm-shards/" + dc.Shards[1].Object + " (0 of 1 chunks)"
	if err == nil || err.Error() != want {
		t.Fatalf("commit of a torn shard: %v, want %q", err, want)
	}

	zero := time.Duration(0)
	if res := gcNow(t, cl, &zero); res.Partials != 1 || res.Removed != 3 {
		t.Fatalf("gc --grace 0: %+v", res)
	}
	if ps, err := st.Partials(ctx, proto.BucketShards); err != nil || len(ps) != 0 {
		t.Fatalf("partials after gc: %+v %v", ps, err)
	}
}

// TestPassStatesDeleted: the state each pass leaves behind is deleted
// (in batches, beside the passes), so a finished job keeps only its last.
func TestPassStatesDeleted(t *testing.T) {
	c := startCluster(t, t.TempDir(), 2)
	defer c.Close()
	cl := dial(t, c)
	csv := filepath.Join(t.TempDir(), "customers.csv")
	testutil.GenCustomers(t, csv, 2000, 4)
	importCSV(t, cl, "customers", csv, 8)
	j, _ := train(t, cl, testutil.KMeansSpec("customers", "kmeans||", 12))
	if j.Pass < 10 {
		t.Fatalf("the job ran %d passes; the test needs many", j.Pass)
	}
	st, err := store.Open(context.Background(), cl.Conn(), 1)
	if err != nil {
		t.Fatal(err)
	}
	prefix := "jobs/" + j.ID + "/state-"
	testutil.WaitFor(t, 20*time.Second, 50*time.Millisecond, func() error {
		objs, err := st.List(context.Background(), proto.BucketModels)
		if err != nil {
			return err
		}
		var states []string
		for _, o := range objs {
			if strings.HasPrefix(o.Name, prefix) {
				states = append(states, o.Name)
			}
		}
		if len(states) != 1 || states[0] != j.StateRef.Object {
			return fmt.Errorf("job %s (%d passes) keeps states %v; want only its last, %s", j.ID, j.Pass, states, j.StateRef.Object)
		}
		return nil
	})
}
