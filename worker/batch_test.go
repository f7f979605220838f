package worker_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mathcrm/mathcrm/algo/kmeans"
	"github.com/mathcrm/mathcrm/internal/blob"
	"github.com/mathcrm/mathcrm/internal/natsembed"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/internal/store"
	"github.com/mathcrm/mathcrm/internal/testutil"
	"github.com/mathcrm/mathcrm/partition"
	"github.com/mathcrm/mathcrm/worker"
	"github.com/nats-io/nats.go"
)

// TestBatchedStepAnswersEachShard sends a real worker one message naming
// four shards, one of them missing from the store: it answers each shard
// once on the message's reply subject, naming the shard and its attempt,
// the missing one with its error and the others with their partials.
func TestBatchedStepAnswersEachShard(t *testing.T) {
	dir := t.TempDir()
	ns, err := natsembed.Start(natsembed.Options{Listen: "127.0.0.1:0", StoreDir: filepath.Join(dir, "nats"), Name: "batch-test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	nc := connect(t, ns.ClientURL())
	ctx := context.Background()
	st, err := store.Open(ctx, nc, 1)
	if err != nil {
		t.Fatal(err)
	}
	var rows strings.Builder
	rows.WriteString("id,tenure\n")
	for i := range 40 {
		rows.WriteString("c" + strconv.Itoa(i) + "," + strconv.Itoa(i%7) + "\n")
	}
	csv := filepath.Join(dir, "c.csv")
	if err := os.WriteFile(csv, []byte(rows.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := partition.Split(ctx, csv, partition.Options{Key: "id", Shards: 3, TempDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	var shards []proto.BatchShard
	for i, sf := range res.Shards {
		name := "shard-" + strconv.Itoa(i)
		if _, err := st.PutFile(ctx, proto.BucketShards, name, sf.Path); err != nil {
			t.Fatal(err)
		}
		shards = append(shards, proto.BatchShard{Shard: proto.ShardRef{Index: i, Object: name, Size: sf.Size, SHA256: sf.SHA256,
			Rows: sf.Rows}, Attempt: 1})
	}
	shards = append(shards, proto.BatchShard{Shard: proto.ShardRef{Index: 3, Object: "gone", Size: 1, SHA256: "00", Rows: 1}, Attempt: 2})
	cfg := worker.DefaultConfig()
	cfg.ID, cfg.Capacity, cfg.CacheBytes = "w1", 2, 1<<20
	w, err := worker.New(cfg, nc, st)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()

	task, _ := json.Marshal(kmeans.Task{Kind: kmeans.TaskCost, K: 1, D: 1, C: []float64{3}})
	body, _ := json.Marshal(proto.StepBody{V: proto.Version, Job: "j", Pass: 5, Algo: "kmeans", Task: task,
		Prep: proto.Prep{Columns: []string{"tenure"}}})
	replies := make(chan *nats.Msg, 16)
	sub, err := nc.ChanSubscribe(nc.NewInbox(), replies)
	if err != nil {
		t.Fatal(err)
	}
	m := nats.NewMsg(proto.WorkerStepSubject(cfg.ID))
	m.Reply, m.Data = sub.Subject, body
	hdr, _ := json.Marshal(shards)
	m.Header.Set(proto.HeaderShards, string(hdr))
	if err := nc.PublishMsg(m); err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	timeout := time.After(20 * time.Second)
	for len(seen) < len(shards) {
		select {
		case <-timeout:
			t.Fatalf("answers for %v only", seen)
		case r := <-replies:
			idx, err := strconv.Atoi(r.Header.Get(proto.HeaderShardIndex))
			if err != nil || seen[idx] {
				t.Fatalf("reply for shard %q (seen %v)", r.Header.Get(proto.HeaderShardIndex), seen)
			}
			seen[idx] = true
			if a := r.Header.Get(proto.HeaderAttempt); a != strconv.Itoa(shards[idx].Attempt) {
				t.Fatalf("shard %d: attempt %s, want %d", idx, a, shards[idx].Attempt)
			}
			e := r.Header.Get(proto.HeaderError)
			if idx == 3 {
				if !strings.Contains(e, "gone") || r.Header.Get(proto.HeaderErrorKey) != worker.ClassTransient {
					t.Fatalf("missing shard: %q", e)
				}
				continue
			}
			if e != "" {
				t.Fatalf("shard %d: %s", idx, e)
			}
			var p proto.Partial
			if err := blob.Decode(r.Data, proto.PartialKind, &p); err != nil {
				t.Fatal(err)
			}
			if p.Shard != idx || p.Pass != 5 || p.Job != "j" || p.Rows != shards[idx].Shard.Rows {
				t.Fatalf("shard %d: partial %+v", idx, p)
			}
		}
	}
	select {
	case r := <-replies:
		t.Fatalf("a fifth reply: %v", r.Header)
	case <-time.After(100 * time.Millisecond):
	}

	// The next pass sends the same shards header (decoded once, then
	// remembered) with its own body: every answer is the new pass's.
	body6, _ := json.Marshal(proto.StepBody{V: proto.Version, Job: "j", Pass: 6, Algo: "kmeans", Task: task,
		Prep: proto.Prep{Columns: []string{"tenure"}}})
	m = nats.NewMsg(proto.WorkerStepSubject(cfg.ID))
	m.Reply, m.Data = sub.Subject, body6
	m.Header.Set(proto.HeaderShards, string(hdr))
	if err := nc.PublishMsg(m); err != nil {
		t.Fatal(err)
	}
	for range len(shards) {
		r := testutil.WaitEvent(t, replies, 20*time.Second, "answer in the second pass")
		if e := r.Header.Get(proto.HeaderError); e != "" {
			if r.Header.Get(proto.HeaderShardIndex) == "3" {
				continue
			}
			t.Fatalf("second pass: %s", e)
		}
		var p proto.Partial
		if err := blob.Decode(r.Data, proto.PartialKind, &p); err != nil {
			t.Fatal(err)
		}
		if p.Pass != 6 || strconv.Itoa(p.Shard) != r.Header.Get(proto.HeaderShardIndex) {
			t.Fatalf("second pass: partial %+v for shard %s", p, r.Header.Get(proto.HeaderShardIndex))
		}
	}
	// A header naming no shard is refused with one error reply.
	m = nats.NewMsg(proto.WorkerStepSubject(cfg.ID))
	m.Reply, m.Data = sub.Subject, body6
	m.Header.Set(proto.HeaderShards, "[]")
	if err := nc.PublishMsg(m); err != nil {
		t.Fatal(err)
	}
	for {
		r := testutil.WaitEvent(t, replies, 20*time.Second, "the refusal of an empty batch")
		if e := r.Header.Get(proto.HeaderError); !strings.Contains(e, "no shard") {
			t.Fatalf("empty batch: %q", e)
		}
		break
	}
}
