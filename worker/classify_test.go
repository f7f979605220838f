package worker_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mathcrm/mathcrm/algo/feature"
	"github.com/mathcrm/mathcrm/algo/kmeans"
	"github.com/mathcrm/mathcrm/algo/logistic"
	"github.com/mathcrm/mathcrm/algo/step"
	"github.com/mathcrm/mathcrm/internal/natsembed"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/internal/store"
	"github.com/mathcrm/mathcrm/partition"
	"github.com/mathcrm/mathcrm/worker"
	"github.com/nats-io/nats.go"
)

func TestClassify(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("worker: shard 3: %w", step.Errorf("logistic", logistic.ErrTarget, "target 2 is not 0 or 1")), worker.ClassPermanent},
		{fmt.Errorf("worker: shard 0: %w", step.Errorf("kmeans", kmeans.ErrNonFinite, "NaN in row 3")), worker.ClassPermanent},
		{step.Errorf("feature", feature.ErrColumn, "shard has no column %q", "x"), worker.ClassPermanent},
		{fmt.Errorf("worker: shard 0: %w", kmeans.ErrNonFinite), worker.ClassTransient}, // not from a step
		{fmt.Errorf("worker: shard 1: %w", store.ErrNotFound), worker.ClassTransient},
		{context.DeadlineExceeded, worker.ClassTransient},
	} {
		if got := worker.Classify(c.err); got != c.want {
			t.Errorf("%v: %s, want %s", c.err, got, c.want)
		}
	}
}

// TestStepErrorsAreClassed sends a real worker two failing steps: one whose
// shard lacks a column the step needs (permanent: every worker would fail
// it) and one whose shard object is missing (transient: worth retrying).
func TestStepErrorsAreClassed(t *testing.T) {
	dir := t.TempDir()
	ns, err := natsembed.Start(natsembed.Options{Listen: "127.0.0.1:0", StoreDir: filepath.Join(dir, "nats"), Name: "classify-test"})
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
	csv := filepath.Join(dir, "c.csv")
	if err := os.WriteFile(csv, []byte("id,tenure\na,1\nb,2\nc,3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := partition.Split(ctx, csv, partition.Options{Key: "id", Shards: 1, TempDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	sf := res.Shards[0]
	if _, err := st.PutFile(ctx, proto.BucketShards, "shard-0", sf.Path); err != nil {
		t.Fatal(err)
	}
	cfg := worker.DefaultConfig()
	cfg.ID, cfg.Capacity, cfg.CacheBytes = "w1", 1, 1<<20
	w, err := worker.New(cfg, nc, st)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()

	task, _ := json.Marshal(kmeans.Task{Kind: kmeans.TaskCost})
	body, _ := json.Marshal(proto.StepBody{V: proto.Version, Job: "j", Pass: 1, Algo: "kmeans", Task: task,
		Prep: proto.Prep{Columns: []string{"tenure", "monthly"}}})
	step := func(ref proto.ShardRef) (string, string) {
		t.Helper()
		m := nats.NewMsg(proto.WorkerStepSubject(cfg.ID))
		m.Data = body
		b, _ := json.Marshal(ref)
		m.Header.Set(proto.HeaderShard, string(b))
		resp, err := nc.RequestMsg(m, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		return resp.Header.Get(proto.HeaderError), resp.Header.Get(proto.HeaderErrorKey)
	}
	msg, class := step(proto.ShardRef{Index: 0, Object: "shard-0", Size: sf.Size, SHA256: sf.SHA256, Rows: sf.Rows})
	if msg != `worker: shard 0: feature: shard has no column "monthly"` || class != worker.ClassPermanent {
		t.Fatalf("missing column: %q, %q", msg, class)
	}
	msg, class = step(proto.ShardRef{Index: 0, Object: "gone", Size: 1, SHA256: "00", Rows: 1})
	if !strings.Contains(msg, "gone") || class != worker.ClassTransient {
		t.Fatalf("missing shard: %q, %q", msg, class)
	}
}
