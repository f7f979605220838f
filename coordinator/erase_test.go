package coordinator

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mathcrm/mathcrm/internal/client"
	"github.com/mathcrm/mathcrm/internal/natsembed"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/internal/store"
	"github.com/mathcrm/mathcrm/internal/testutil"
	"github.com/mathcrm/mathcrm/partition"
	"github.com/nats-io/nats.go"
)

// embeddedNATS starts a NATS server with JetStream in dir, stopped when
// the test ends, and returns a connection to it.
func embeddedNATS(t *testing.T, dir string) *nats.Conn {
	t.Helper()
	ns, err := natsembed.Start(natsembed.Options{Listen: "127.0.0.1:0", StoreDir: filepath.Join(dir, "nats"), Name: "coordinator-test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// startCoordinator starts one bootstrapped coordinator on an embedded NATS
// server, with no workers, and returns it and the NATS URL.
func startCoordinator(t *testing.T, tune func(*Config)) (*Coordinator, *nats.Conn, string) {
	t.Helper()
	dir := t.TempDir()
	nc := embeddedNATS(t, dir)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := store.Open(ctx, nc, 1)
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.DataDir, cfg.RaftAddr, cfg.Bootstrap, cfg.FastRaft, cfg.Logger = filepath.Join(dir, "raft"), "127.0.0.1:0", true, true, testLog(t)
	if tune != nil {
		tune(&cfg)
	}
	c, err := New(cfg, nc, st)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.WaitLeader(ctx); err != nil {
		t.Fatal(err)
	}
	return c, nc, nc.ConnectedUrl()
}

func writeCSV(t *testing.T, name string, header string, rows func(w func(format string, args ...any))) string {
	t.Helper()
	var b strings.Builder
	b.WriteString(header + "\n")
	rows(func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) })
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestEraseThenCollectLeavesNoTrace erases two customers from features
// (two versions, different shard counts), transactions and interactions,
// then collects: no blob in any bucket holds them, every remaining blob is
// referenced, and the raft state holds only their salted hashes.
func TestEraseThenCollectLeavesNoTrace(t *testing.T) {
	c, nc, url := startCoordinator(t, func(cfg *Config) { cfg.GCGrace = time.Nanosecond })
	cl, err := client.Dial(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	features := writeCSV(t, "f.csv", "id,age,plan", func(w func(string, ...any)) {
		for i := range 60 {
			w("cust-%03d,%d,%s", i, 20+i%40, []string{"basic", "pro"}[i%2])
		}
	})
	txns := writeCSV(t, "t.csv", "cust,ts,amount", func(w func(string, ...any)) {
		for i := range 180 {
			w("cust-%03d,2025-03-%02d,%d", i%60, 1+i%28, i%13-2)
		}
	})
	ratings := writeCSV(t, "r.csv", "user,item,r", func(w func(string, ...any)) {
		for i := range 60 {
			for j := range 3 {
				w("cust-%03d,item-%d,%d", i, (i*7+j)%20, 1+(i+j)%5)
			}
		}
	})
	imports := []struct {
		name, path string
		o          client.ImportOptions
	}{
		{"feat", features, client.ImportOptions{Kind: proto.KindFeatures, Options: partition.Options{Key: "id", Shards: 4, Categorical: []string{"plan"}}}},
		{"feat", features, client.ImportOptions{Kind: proto.KindFeatures, Options: partition.Options{Key: "id", Shards: 3, Categorical: []string{"plan"}}}},
		{"tx", txns, client.ImportOptions{Kind: proto.KindTransactions, Options: partition.Options{Shards: 4},
			Transactions: partition.TransactionOptions{Key: "cust", Time: "ts", Amount: "amount"}}},
		{"rt", ratings, client.ImportOptions{Kind: proto.KindInteractions, Options: partition.Options{Shards: 3},
			Interactions: partition.InteractionOptions{User: "user", Item: "item", Value: "r"}}},
	}
	for _, im := range imports {
		im.o.TempDir = t.TempDir()
		if _, err := cl.Import(ctx, im.name, im.path, im.o); err != nil {
			t.Fatalf("import %s: %v", im.name, err)
		}
	}
	erased := []string{"cust-007", "cust-042"}
	rep, err := cl.Erase(ctx, append(erased, "ghost", "cust-007"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Keys != 3 || rep.Found != 2 || !slices.Equal(rep.NotFound, []string{"ghost"}) || len(rep.Touched) != 4 {
		t.Fatalf("report: %+v", rep)
	}
	for _, tv := range rep.Touched {
		want := map[string]int64{"feat": 2, "tx": 6, "rt": 6}[tv.Dataset]
		if tv.Rows != want {
			t.Errorf("%s@%d: %d rows removed, want %d", tv.Dataset, tv.Version, tv.Rows, want)
		}
	}

	// Before collection the old shards are still stored, and unreferenced.
	refs := c.fsm.Referenced()
	var stale int
	for bucket, objs := range testutil.StoredObjects(t, nc) {
		for name, b := range objs {
			holds := testutil.HoldsKey(t, b, erased[0]) || testutil.HoldsKey(t, b, erased[1])
			if refs[bucket][name] && holds {
				t.Errorf("%s/%s is referenced and holds an erased customer", bucket, name)
			}
			if !refs[bucket][name] {
				stale++
				if !holds {
					t.Errorf("%s/%s is unreferenced but held no erased customer", bucket, name)
				}
			}
		}
	}
	if stale == 0 {
		t.Fatal("no shard was replaced")
	}
	if n := c.collect(ctx, time.Nanosecond).Removed; n != stale {
		t.Fatalf("collect removed %d blobs, %d were unreferenced", n, stale)
	}
	refs = c.fsm.Referenced()
	for bucket, objs := range testutil.StoredObjects(t, nc) {
		for name, b := range objs {
			if !refs[bucket][name] {
				t.Errorf("%s/%s is still stored, unreferenced", bucket, name)
			}
			for _, k := range erased {
				if testutil.HoldsKey(t, b, k) {
					t.Errorf("%s/%s holds %s after collection", bucket, name, k)
				}
			}
		}
	}

	// The raft state keeps a salted hash of each key, never the key.
	snap, err := c.fsm.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	sink := &memSink{}
	if err := snap.Persist(sink); err != nil {
		t.Fatal(err)
	}
	for _, k := range append(erased, "ghost") {
		if strings.Contains(sink.String(), k) {
			t.Errorf("the raft state holds %q", k)
		}
	}
	salt := c.fsm.EraseSalt()
	got := c.fsm.Erased([]string{keyHash(salt, "cust-007"), keyHash(salt, "cust-042"), keyHash(salt, "ghost")})
	if len(got) != 3 || !got[keyHash(salt, "cust-007")].Found || got[keyHash(salt, "ghost")].Found {
		t.Fatalf("erasure log: %+v", got)
	}

	// Erasing them again finds them nowhere and touches nothing.
	again, err := cl.Erase(ctx, erased, nil)
	if err != nil {
		t.Fatal(err)
	}
	if again.Found != 0 || len(again.Touched) != 0 || len(again.NotFound) != 2 || c.fsm.EraseSalt() != salt {
		t.Fatalf("second erasure: %+v", again)
	}
}
