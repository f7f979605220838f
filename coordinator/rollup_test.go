package coordinator

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/internal/store"
	"github.com/nats-io/nats.go/jetstream"
)

// TestLeaderDeniesRollups starts a coordinator on buckets made by the
// object store client, which take rollups (a cluster made before the
// store appended only): once it leads, every bucket refuses them.
func TestLeaderDeniesRollups(t *testing.T) {
	ctx, js, start := rollupBuckets(t)
	start()
	for _, b := range proto.Buckets {
		for {
			s, err := js.Stream(ctx, "OBJ_"+b)
			if err != nil {
				t.Fatal(err)
			}
			if !s.CachedInfo().Config.AllowRollup {
				break
			}
			if ctx.Err() != nil {
				t.Fatalf("bucket %s still takes rollups under a leader", b)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// TestCollectionRetriesDenyingRollups starts a coordinator while one
// bucket's stream is missing, so that refusing rollups fails when it comes
// to lead; the bucket then comes back taking rollups (made again by the
// object store client), and the next collection makes it refuse them.
func TestCollectionRetriesDenyingRollups(t *testing.T) {
	ctx, js, start := rollupBuckets(t)
	gone := proto.BucketModels
	if err := js.DeleteStream(ctx, "OBJ_"+gone); err != nil {
		t.Fatal(err)
	}
	takesRollups := func(b string) bool {
		t.Helper()
		s, err := js.Stream(ctx, "OBJ_"+b)
		if err != nil {
			t.Fatal(err)
		}
		return s.CachedInfo().Config.AllowRollup
	}
	c := start()
	// The buckets that are there refuse rollups once it leads.
	for _, b := range proto.Buckets {
		for b != gone && takesRollups(b) {
			if ctx.Err() != nil {
				t.Fatalf("bucket %s still takes rollups under a leader", b)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	if _, err := js.CreateObjectStore(ctx, jetstream.ObjectStoreConfig{Bucket: gone, Storage: jetstream.FileStorage}); err != nil {
		t.Fatal(err)
	}
	if !takesRollups(gone) {
		t.Fatalf("bucket %s made by the object store client refuses rollups", gone)
	}
	c.collect(ctx, time.Hour)
	if takesRollups(gone) {
		t.Fatalf("bucket %s still takes rollups after a collection", gone)
	}
}

// rollupBuckets makes the cluster's buckets with the object store client,
// as a cluster made before the store appended only has them, and returns
// a JetStream context on them and a function that starts a coordinator on
// them and waits until it leads.
func rollupBuckets(t *testing.T) (context.Context, jetstream.JetStream, func() *Coordinator) {
	t.Helper()
	dir := t.TempDir()
	nc := embeddedNATS(t, dir)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range proto.Buckets {
		if _, err := js.CreateObjectStore(ctx, jetstream.ObjectStoreConfig{Bucket: b, Storage: jetstream.FileStorage}); err != nil {
			t.Fatal(err)
		}
	}
	st, err := store.Open(ctx, nc, 1)
	if err != nil {
		t.Fatal(err)
	}
	return ctx, js, func() *Coordinator {
		t.Helper()
		cfg := DefaultConfig()
		cfg.DataDir, cfg.RaftAddr, cfg.Bootstrap, cfg.FastRaft, cfg.Logger = filepath.Join(dir, "raft"), "127.0.0.1:0", true, true, testLog(t)
		c, err := New(cfg, nc, st)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		if err := c.WaitLeader(ctx); err != nil {
			t.Fatal(err)
		}
		return c
	}
}
