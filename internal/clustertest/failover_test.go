package clustertest

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/mathcrm/mathcrm/internal/client"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/internal/secrets"
	"github.com/mathcrm/mathcrm/internal/testutil"
)

// startThree starts c1 (bootstrap), then c2 and c3 joining it, and n workers.
func startThree(t *testing.T, c *cluster, workers int) {
	t.Helper()
	c.startCoordinator("c1", true)
	cl := c.client()
	waitFor(t, "c1 to lead", time.Minute, func() bool {
		st, err := c.status(cl)
		return err == nil && st.Leader == "c1"
	})
	c.startCoordinator("c2", false)
	c.startCoordinator("c3", false)
	for i := 1; i <= workers; i++ {
		c.startWorker(fmt.Sprintf("w%d", i))
	}
	c.waitHealthy(cl, 3, workers)
}

func TestThreeCoordinatorsLeaderKilledMidJob(t *testing.T) {
	c := newCluster(t)
	startThree(t, c, 2)
	cl := c.client()
	csv := filepath.Join(c.dir, "customers.csv")
	testutil.GenCustomers(t, csv, 40000, 5)
	c.importCustomers(cl, csv, 32)
	spec := testutil.KMeansSpec("customers", "kmeans||", 40)

	undisturbed := waitJob(t, cl, submit(t, cl, spec))
	calm := kmeansModel(t, cl, undisturbed.Model)
	calmSeconds := undisturbed.Finished.Sub(undisturbed.Started).Seconds()

	id := submit(t, cl, spec)
	var before *proto.Job
	waitFor(t, "the job to get going", time.Minute, func() bool { before = job(t, cl, id); return before.Pass >= 8 })
	if before.Terminal() {
		t.Fatal("the job ended before the leader was killed; make it longer")
	}
	st, err := c.status(cl)
	if err != nil {
		t.Fatal(err)
	}
	old := st.Leader
	killed := time.Now()
	c.coords[old].signal(t, syscall.SIGKILL)
	t.Logf("SIGKILL leader %s at pass %d", old, before.Pass)

	j := waitJob(t, cl, id)
	// The first pass the new leader committed says when the job moved again.
	var moving time.Duration
	for _, p := range j.History {
		if p.Committed.After(killed) {
			moving = p.Committed.Sub(killed)
			break
		}
	}
	testutil.SameKMeans(t, calm, kmeansModel(t, cl, j.Model))
	st, err = c.status(cl)
	if err != nil || st.Leader == old || st.Leader == "" {
		t.Fatalf("leader after failover: %q (%v)", st.Leader, err)
	}
	t.Logf("leader kill -> job moving again: %.2fs; job %.2fs vs undisturbed %.2fs (+%.2fs); new leader %s",
		moving.Seconds(), j.Finished.Sub(j.Started).Seconds(), calmSeconds,
		j.Finished.Sub(j.Started).Seconds()-calmSeconds, st.Leader)
	var unreachable int
	for _, v := range st.Voters {
		if !v.Reachable {
			unreachable++
		}
	}
	if unreachable != 1 {
		t.Fatalf("cluster status should show exactly the killed voter unreachable: %+v", st.Voters)
	}
}

func TestWholeClusterRestartResumesJob(t *testing.T) {
	c := newCluster(t)
	startThree(t, c, 2)
	cl := c.client()
	csv := filepath.Join(c.dir, "customers.csv")
	testutil.GenCustomers(t, csv, 30000, 6)
	c.importCustomers(cl, csv, 16)
	spec := testutil.KMeansSpec("customers", "kmeans||", 60)
	done := waitJob(t, cl, submit(t, cl, spec))
	calm := kmeansModel(t, cl, done.Model)

	id := submit(t, cl, spec)
	var before *proto.Job
	waitFor(t, "the job to get going", time.Minute, func() bool { before = job(t, cl, id); return before.Pass >= 6 })
	if before.Terminal() {
		t.Fatal("the job ended before the crash; make it longer")
	}
	// Every process dies at once, NATS included.
	for _, p := range c.procs {
		p.signal(t, syscall.SIGKILL)
		<-p.done
	}
	c.ns.Shutdown()
	c.ns.WaitForShutdown()
	t.Logf("killed every process at pass %d", before.Pass)

	// NATS comes back on its configuration: the same port, its JetStream
	// store read with the key from the secrets.
	c.startNATS()
	for _, id := range []string{"c1", "c2", "c3"} {
		c.startCoordinator(id, id == "c1")
	}
	c.startWorker("w1")
	c.startWorker("w2")
	cl = c.client()
	c.waitHealthy(cl, 3, 2)

	// Everything committed is still there, and the running job resumes.
	var list []proto.Dataset
	call(t, cl, proto.APIDatasetList, nil, &list)
	if len(list) != 1 || list[0].Latest().Rows != 30000 {
		t.Fatalf("datasets after restart: %+v", list)
	}
	old := job(t, cl, done.ID)
	if old.State != proto.JobSucceeded || len(old.History) != len(done.History) {
		t.Fatalf("finished job after restart: %+v", old)
	}
	testutil.SameKMeans(t, calm, kmeansModel(t, cl, done.Model))
	resumed := job(t, cl, id)
	if resumed.Pass < before.Pass {
		t.Fatalf("job went back from pass %d to %d", before.Pass, resumed.Pass)
	}
	j := waitJob(t, cl, id)
	testutil.SameKMeans(t, calm, kmeansModel(t, cl, j.Model))
}

// TestRemoveAndAddVoter changes the membership as an admin; the secured
// cluster lets neither a client without credentials connect nor an analyst
// change the membership.
func TestRemoveAndAddVoter(t *testing.T) {
	c := newCluster(t)
	startThree(t, c, 1)
	if cl, err := client.Dial(c.url); err == nil {
		cl.Close()
		t.Fatal("a client without credentials connected")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.client().Call(ctx, proto.APIRemoveVoter, proto.VoterChange{ID: "c3"}, nil); !errors.Is(err, client.ErrRefused) {
		t.Fatalf("an analyst removed a voter: %v", err)
	}
	cl := c.clientAs(secrets.RoleAdmin)
	var st proto.ClusterStatus
	call(t, cl, proto.APIRemoveVoter, proto.VoterChange{ID: "c3"}, &st)
	if len(st.Voters) != 2 {
		t.Fatalf("voters after removing c3: %+v", st.Voters)
	}
	call(t, cl, proto.APIAddVoter, proto.VoterChange{ID: "c3", Address: c.raft["c3"]}, &st)
	c.waitHealthy(cl, 3, 1)
	// The cluster still commits: a job runs to the end.
	csv := filepath.Join(c.dir, "customers.csv")
	testutil.GenCustomers(t, csv, 2000, 3)
	c.importCustomers(cl, csv, 4)
	waitJob(t, cl, submit(t, cl, testutil.KMeansSpec("customers", "kmeans||", 5)))
}
