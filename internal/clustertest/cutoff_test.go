package clustertest

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/internal/testutil"
)

// TestCutOffNotDead cuts a worker and then the leader off the network
// mid-job (their processes live on) and puts them back: neither corrupts the
// job, the cut leader stops acting as leader, both rejoin cleanly.
func TestCutOffNotDead(t *testing.T) {
	lab := newNetlab(t)
	for _, h := range []string{"c1", "c2", "c3", "w3"} {
		lab.addHost(h)
	}
	c := newLabCluster(t, lab)
	startThree(t, c, 2)
	c.startWorker("w3")
	cl := c.client()
	c.waitHealthy(cl, 3, 3)
	csv := filepath.Join(c.dir, "customers.csv")
	testutil.GenCustomers(t, csv, 40000, 8)
	c.importCustomers(cl, csv, 32)
	spec := testutil.KMeansSpec("customers", "kmeans||", 40)
	calm := kmeansModel(t, cl, waitJob(t, cl, submit(t, cl, spec)).Model)

	// A worker cut off mid-job: its shards move, the model does not change.
	id := submit(t, cl, spec)
	waitFor(t, "the job to get going", time.Minute, func() bool { return job(t, cl, id).Pass >= 6 })
	lab.cut("w3")
	cut := time.Now()
	waitFor(t, "w3 to be declared lost", time.Minute, func() bool {
		st, err := c.status(cl)
		return err == nil && len(st.Workers) == 2
	})
	t.Logf("worker cut off -> noticed: %.2fs", time.Since(cut).Seconds())
	j := waitJob(t, cl, id)
	testutil.SameKMeans(t, calm, kmeansModel(t, cl, j.Model))
	lab.heal("w3")
	c.waitHealthy(cl, 3, 3)

	// The leader cut off mid-job: the other two elect a leader and finish the
	// job; the cut one stops leading; healed, it rejoins as a follower.
	st, _ := c.status(cl)
	old := st.Leader
	id = submit(t, cl, spec)
	waitFor(t, "the job to get going", time.Minute, func() bool { return job(t, cl, id).Pass >= 6 })
	lab.cut(old)
	cut = time.Now()
	t.Logf("cut leader %s off", old)
	j = waitJob(t, cl, id)
	testutil.SameKMeans(t, calm, kmeansModel(t, cl, j.Model))
	for i, p := range j.History {
		if p.Pass != i+1 {
			t.Fatalf("pass %d recorded at position %d: a pass was committed twice or skipped", p.Pass, i)
		}
	}
	waitFor(t, "the cut leader to step down", time.Minute, func() bool {
		return strings.Contains(c.coords[old].log(), "no longer leading")
	})
	for _, p := range j.History {
		if p.Committed.After(cut) {
			t.Logf("leader cut off -> job moving again: %.2fs", p.Committed.Sub(cut).Seconds())
			break
		}
	}
	lab.heal(old)
	healed := time.Now()
	waitFor(t, "one leader, the old one a follower", time.Minute, func() bool {
		st := c.waitHealthy(cl, 3, 3)
		leaders, oldFollows := 0, false
		for _, v := range st.Voters {
			if v.State == "Leader" {
				leaders++
			}
			oldFollows = oldFollows || v.ID == old && v.State == "Follower"
		}
		return leaders == 1 && oldFollows
	})
	t.Logf("healed old leader rejoined as a follower in %.2fs", time.Since(healed).Seconds())
	// The healed cluster still works end to end.
	testutil.SameKMeans(t, calm, kmeansModel(t, cl, waitJob(t, cl, submit(t, cl, spec)).Model))
	var jobs []proto.Job
	call(t, cl, proto.APIJobList, nil, &jobs)
	if len(jobs) != 4 {
		t.Fatalf("%d jobs, want 4", len(jobs))
	}
}
