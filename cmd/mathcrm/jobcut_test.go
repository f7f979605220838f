package main

import (
	"context"
	"io"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mathcrm/mathcrm/algo/als/alsjob"
	"github.com/mathcrm/mathcrm/internal/client"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/internal/testutil"
)

// switchProxy forwards TCP connections to NATS. cut drops every connection
// at once and refuses new ones, as a network cut would, until heal.
type switchProxy struct {
	ln     net.Listener
	target string
	wg     sync.WaitGroup
	mu     sync.Mutex
	conns  []net.Conn
	down   bool
}

func startSwitch(t *testing.T, natsURL string) *switchProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &switchProxy{ln: ln, target: strings.TrimPrefix(natsURL, "nats://")}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(func() { p.ln.Close(); p.cut(); p.wg.Wait() })
	return p
}

func (p *switchProxy) url() string { return "nats://" + p.ln.Addr().String() }

func (p *switchProxy) accept() {
	defer p.wg.Done()
	for {
		in, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		down := p.down
		p.mu.Unlock()
		if down {
			in.Close()
			continue
		}
		out, err := net.Dial("tcp", p.target)
		if err != nil {
			in.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, in, out)
		p.wg.Add(2)
		p.mu.Unlock()
		go func() { defer p.wg.Done(); _, _ = io.Copy(out, in); out.Close() }()
		go func() { defer p.wg.Done(); _, _ = io.Copy(in, out); in.Close() }()
	}
}

func (p *switchProxy) cut() {
	p.mu.Lock()
	p.down = true
	conns := p.conns
	p.conns = nil
	p.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
}

func (p *switchProxy) heal() {
	p.mu.Lock()
	p.down = false
	p.mu.Unlock()
}

// jobAfterCut polls a job until it ends, through the errors of a cluster
// still finding its feet after a cut; it fails the test if the job is stuck.
func jobAfterCut(t *testing.T, cl *client.Client, id string, limit time.Duration) *proto.Job {
	t.Helper()
	var last error
	var j proto.Job
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		last = cl.Call(ctx, proto.APIJobStatus, proto.Named{Name: id}, &j)
		cancel()
		if last == nil && j.Terminal() {
			return &j
		}
	}
	t.Fatalf("job %s has not ended %v after the network came back (last error: %v): %+v", id, limit, last, j)
	return nil
}

// TestJobsCutOffFromNATS runs NATS as its own process and cuts the
// coordinator's connection to it (and, for training, the workers' too) in
// the middle of a scoring job and of an ALS job, for a few seconds. Each
// job ends — succeeded, or failed with a reason — and what it made is whole
// and verifies, or absent; a collection with no grace then leaves no blob
// that nothing refers to.
func TestJobsCutOffFromNATS(t *testing.T) {
	dir := t.TempDir()
	ns := startRole(t, `mathcrm nats: (nats://\S+)`, "nats", "--listen", "127.0.0.1:0", "--data-dir", filepath.Join(dir, "nats"))
	toCoord, toWorkers := startSwitch(t, ns.url), startSwitch(t, ns.url)
	roles := map[string]*role{}
	t.Cleanup(func() {
		if t.Failed() {
			for name, r := range roles {
				t.Logf("--- %s\n%s", name, r.log.String())
			}
		}
	})
	roles["c1"] = startRole(t, `mathcrm coordinator c1: raft`, "coordinator", "--nats", toCoord.url(), "--id", "c1", "--raft-addr", "127.0.0.1:0",
		"--data-dir", filepath.Join(dir, "c1"), "--bootstrap", "--heartbeat-ttl", "1s", "--step-timeout", "5s")
	for _, id := range []string{"w1", "w2"} {
		roles[id] = startRole(t, `mathcrm worker `+id, "worker", "--nats", toWorkers.url(), "--id", id, "--capacity", "1", "--heartbeat", "100ms")
	}
	cl := dialT(t, ns.url)
	ctx := context.Background()
	csv := filepath.Join(dir, "customers.csv")
	testutil.GenCustomers(t, csv, 20000, 6)
	var imp map[string]any
	runJSON(t, ns.url, &imp, "dataset", "import", "cust", csv, "--key", "customer_id", "--shards", "16")
	runJSON(t, ns.url, &imp, "dataset", "import", "ratings", "../../testdata/ratings/spark_sample_movielens.csv",
		"--kind", "interactions", "--user", "user", "--item", "item", "--value", "rating", "--shards", "8")
	km, err := cl.Submit(ctx, testutil.KMeansSpec("cust", "kmeans||", 5))
	if err != nil {
		t.Fatal(err)
	}
	model := waitJobState(t, cl, km.ID, func(j *proto.Job) bool { return j.Terminal() }).Model
	if model == "" {
		t.Fatalf("k-means job %s made no model", km.ID)
	}

	// cutDuring cuts the given links once the job is under way, holds the
	// cut, heals it and waits for the job to end.
	cutDuring := func(what, id string, going func(*proto.Job) bool, links ...*switchProxy) *proto.Job {
		j := waitJobState(t, cl, id, func(j *proto.Job) bool { return going(j) || j.Terminal() })
		for _, l := range links {
			l.cut()
		}
		cut := time.Now()
		time.Sleep(3 * time.Second)
		for _, l := range links {
			l.heal()
		}
		end := jobAfterCut(t, cl, id, 30*time.Second)
		t.Logf("%s: cut at pass %d (%s), healed after %.1fs; %s %.1fs after the cut, pass %d: %s",
			what, j.Pass, j.State, 3.0, end.State, time.Since(cut).Seconds(), end.Pass, end.Reason)
		if end.State != proto.JobSucceeded && end.Reason == "" {
			t.Fatalf("%s: job %s %s with no reason", what, id, end.State)
		}
		return end
	}

	// Scoring, the coordinator cut off while the workers write score shards.
	sc, err := cl.Submit(ctx, proto.JobSpec{Algo: "score", Dataset: "cust", Params: proto.MustJSON(proto.ScoreSpec{Model: model, As: "seg"})})
	if err != nil {
		t.Fatal(err)
	}
	cutDuring("scoring", sc.ID, func(j *proto.Job) bool { return j.State == proto.JobRunning }, toCoord)

	// ALS, the coordinator and the workers cut off after its second pass.
	alsSpec := alsjob.Spec("ratings", alsjob.Params{Rank: 4, Lambda: 0.1, Iterations: 20})
	alsSpec.Seed = 3
	als, err := cl.Submit(ctx, alsSpec)
	if err != nil {
		t.Fatal(err)
	}
	cutDuring("ALS", als.ID, func(j *proto.Job) bool { return j.Pass >= 2 }, toCoord, toWorkers)

	assertNoOrphans(t, ns.url, cl)
}
