package worker_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mathcrm/mathcrm/internal/natsembed"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/internal/store"
	"github.com/mathcrm/mathcrm/worker"
	"github.com/nats-io/nats.go"
)

func connect(t *testing.T, url string) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// TestDrainOrder checks what a coordinator relies on when a worker drains:
// it hears "draining" first (and sends nothing new), every step the worker
// took is answered, and the goodbye comes after the last answer, with no
// heartbeat after it.
func TestDrainOrder(t *testing.T) {
	ns, err := natsembed.Start(natsembed.Options{Listen: "127.0.0.1:0", StoreDir: filepath.Join(t.TempDir(), "nats"), Name: "drain-test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })

	// One subscription on everything sees the worker's messages in the order
	// it published them.
	obs := connect(t, ns.ClientURL())
	seen, err := obs.SubscribeSync(">")
	if err != nil {
		t.Fatal(err)
	}
	if err := obs.Flush(); err != nil {
		t.Fatal(err)
	}

	wnc := connect(t, ns.ClientURL())
	st, err := store.Open(context.Background(), wnc, 1)
	if err != nil {
		t.Fatal(err)
	}
	cfg := worker.DefaultConfig()
	cfg.ID, cfg.Capacity, cfg.Heartbeat, cfg.CacheBytes = "w1", 1, 10*time.Millisecond, 1<<20
	w, err := worker.New(cfg, wnc, st)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()

	// Steps whose shard does not exist: each costs the worker an object store
	// round trip, one at a time, and is answered with an error. An error is
	// an answer all the same.
	body, _ := json.Marshal(proto.StepBody{V: proto.Version, Job: "j", Pass: 1, Algo: "kmeans", Task: json.RawMessage(`{}`)})
	client := connect(t, ns.ClientURL())
	const steps = 16
	for i := 0; i < steps; i++ {
		m := nats.NewMsg(proto.WorkerStepSubject(cfg.ID))
		m.Reply = fmt.Sprintf("test.reply.%d", i)
		m.Data = body
		ref, _ := json.Marshal(proto.ShardRef{Index: i, Object: fmt.Sprintf("no-such-shard-%d", i), Size: 1, SHA256: "00", Rows: 1})
		m.Header.Set(proto.HeaderShard, string(ref))
		if err := client.PublishMsg(m); err != nil {
			t.Fatal(err)
		}
	}
	if err := client.Flush(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := w.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-w.Drained():
	default:
		t.Fatal("Drained not closed after Drain returned")
	}
	var order []string
	draining, bye := -1, -1
	replies := map[string]int{}
	// Read until the goodbye, then for a while longer to catch a late heartbeat.
	var quiet time.Time
	for {
		timeout := 10 * time.Second
		if bye >= 0 {
			if timeout = time.Until(quiet); timeout <= 0 {
				break
			}
		}
		m, err := seen.NextMsg(timeout)
		if errors.Is(err, nats.ErrTimeout) && bye >= 0 {
			break
		}
		if err != nil {
			t.Fatalf("waiting for the goodbye: %v (seen %v)", err, order)
		}
		i := len(order)
		switch {
		case m.Subject == proto.WorkerByeSubject(cfg.ID):
			bye = i
			quiet = time.Now().Add(20 * cfg.Heartbeat)
		case m.Subject == proto.WorkerHeartbeatSubject(cfg.ID) || m.Subject == proto.WorkerHelloSubject(cfg.ID):
			var h proto.Hello
			if err := json.Unmarshal(m.Data, &h); err != nil {
				t.Fatal(err)
			}
			if bye >= 0 {
				t.Fatalf("heartbeat after the goodbye: %+v", h)
			}
			if h.Draining && draining < 0 {
				draining = i
			}
		case strings.HasPrefix(m.Subject, "test.reply."):
			replies[m.Subject] = i
			if bye >= 0 {
				t.Fatalf("answer %s after the goodbye", m.Subject)
			}
		default:
			continue
		}
		order = append(order, m.Subject)
	}
	if draining < 0 || draining > bye {
		t.Fatalf("no draining heartbeat before the goodbye (draining at %d, bye at %d)", draining, bye)
	}
	if len(replies) != steps {
		t.Fatalf("%d of %d steps answered before the goodbye", len(replies), steps)
	}
	t.Logf("draining notice at message %d, %d answers, goodbye at message %d", draining, len(replies), bye)

	// The step subject has no listener any more (the observer listened too).
	if err := seen.Unsubscribe(); err != nil {
		t.Fatal(err)
	}
	if err := obs.Flush(); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Request(proto.WorkerStepSubject(cfg.ID), body, 5*time.Second); !errors.Is(err, nats.ErrNoResponders) {
		t.Fatalf("step after the drain: %v, want no responders", err)
	}
}
