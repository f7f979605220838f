package clustertest

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mathcrm/mathcrm/algo/kmeans"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/internal/testutil"
)

// TestChaos runs many jobs on a secured three-coordinator cluster while
// injecting faults at random moments — SIGKILL, SIGSTOP or network cut of a
// worker or of the leader, workers added — and checks that every job ends
// with the model of the undisturbed run. MATHCRM_CHAOS_JOBS sets the number of jobs
// (make chaos runs many; make test a few), MATHCRM_CHAOS_SEED the seed.
func TestChaos(t *testing.T) {
	jobs := envInt(t, "MATHCRM_CHAOS_JOBS", 3, 1)
	seed := uint64(envInt(t, "MATHCRM_CHAOS_SEED", int(time.Now().UnixNano()%1e6), 0))
	rng := rand.New(rand.NewPCG(seed, 1))
	t.Logf("chaos: %d jobs, seed %d (MATHCRM_CHAOS_SEED=%d reproduces the fault schedule)", jobs, seed, seed)

	lab := maybeNetlab(t)
	if lab != nil {
		for _, h := range []string{"c1", "c2", "c3"} {
			lab.addHost(h)
		}
	}
	c := newLabCluster(t, lab)
	startThree(t, c, 0)
	workers := map[string]*proc{}
	nextWorker := 1
	addWorker := func() string {
		id := fmt.Sprintf("w%d", nextWorker)
		nextWorker++
		if lab != nil && nextWorker%2 == 0 {
			lab.addHost(id)
		}
		workers[id] = c.startWorker(id)
		return id
	}
	for i := 0; i < 3; i++ {
		addWorker()
	}
	cl := c.client()
	c.waitHealthy(cl, 3, 3)
	csv := filepath.Join(c.dir, "customers.csv")
	testutil.GenCustomers(t, csv, 30000, 9)
	c.importCustomers(cl, csv, 32)
	spec := testutil.KMeansSpec("customers", "kmeans||", 30)
	calmJob := waitJob(t, cl, submit(t, cl, spec))
	calm := kmeansModel(t, cl, calmJob.Model)

	faults := map[string]int{}
	succeeded, identical := 0, 0
	for n := 0; n < jobs; n++ {
		id := submit(t, cl, spec)
		for f := 0; f < 1+rng.IntN(2); f++ {
			at := 2 + rng.IntN(40)
			waitFor(t, "pass "+strconv.Itoa(at), 2*time.Minute, func() bool { j := job(t, cl, id); return j.Terminal() || j.Pass >= at })
			kind := c.injectFault(rng, lab, workers, addWorker)
			faults[kind]++
		}
		j := job(t, cl, id)
		waitFor(t, "job "+id, 3*time.Minute, func() bool { j = job(t, cl, id); return j.Terminal() })
		if j.State == proto.JobSucceeded {
			succeeded++
			if sameModel(t, calm, kmeansModel(t, cl, j.Model)) {
				identical++
			}
		}
		c.repair(lab, workers)
		c.waitHealthy(cl, 3, len(workers))
	}
	total := 0
	var kinds []string
	for k, v := range faults {
		total += v
		kinds = append(kinds, fmt.Sprintf("%s %d", k, v))
	}
	table := fmt.Sprintf("\nchaos (seed %d)\n  jobs run        %d\n  faults injected %d (%s)\n  jobs succeeded  %d\n  models identical to the undisturbed run %d\n",
		seed, jobs, total, strings.Join(kinds, ", "), succeeded, identical)
	fmt.Print(table)
	t.Log(table)
	if succeeded != jobs || identical != jobs {
		t.Fatalf("%d of %d jobs succeeded, %d identical", succeeded, jobs, identical)
	}
}

// envInt is the integer in the environment variable key, def when it is
// unset; a value that is not an integer of at least min fails the test.
func envInt(t *testing.T, key string, def, min int) int {
	t.Helper()
	s, ok := os.LookupEnv(key)
	if !ok || s == "" {
		return def
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < min {
		t.Fatalf("%s=%q: want an integer of at least %d", key, s, min)
	}
	return v
}

// maybeNetlab returns a lab where namespaces can be made, else nil (then no
// network cuts are injected).
func maybeNetlab(t *testing.T) *netlab {
	lab, why := makeNetlab(t)
	if lab == nil {
		t.Logf("no network cuts: %s", why)
	}
	return lab
}

func sameModel(t *testing.T, a, b *kmeans.Segmentation) bool {
	if err := testutil.KMeansDiff(a, b); err != nil {
		t.Errorf("model differs from the undisturbed run: %v", err)
		return false
	}
	return true
}

// injectFault does one random fault and says which.
func (c *cluster) injectFault(rng *rand.Rand, lab *netlab, workers map[string]*proc, add func() string) string {
	t := c.t
	var ids []string
	for id := range workers {
		ids = append(ids, id)
	}
	slices.Sort(ids) // the seed picks the worker, not the map's order
	w := ids[rng.IntN(len(ids))]
	st, _ := c.status(c.client())
	leader := st.Leader
	switch k := rng.IntN(7); {
	case k == 0:
		workers[w].signal(t, syscall.SIGKILL)
		<-workers[w].done
		delete(workers, w)
		return "kill worker"
	case k == 1:
		// The timer holds the process, not the map: a later fault may
		// kill the worker and drop it from workers meanwhile.
		p := workers[w]
		p.signal(t, syscall.SIGSTOP)
		time.AfterFunc(time.Duration(500+rng.IntN(2500))*time.Millisecond, func() { _ = p.cmd.Process.Signal(syscall.SIGCONT) })
		return "stop worker"
	case k == 2 && lab != nil && lab.hosts[w] != 0:
		lab.cut(w)
		time.AfterFunc(time.Duration(500+rng.IntN(2500))*time.Millisecond, func() { _ = lab.run("ip", "link", "set", lab.veth(w), "up") })
		return "cut worker"
	case k == 3:
		add()
		return "add worker"
	case k == 4 && leader != "" && !c.voterDown():
		// Three voters outlive one killed, not two: a second kill before
		// repair would leave no quorum, and the cluster down for good.
		c.coords[leader].signal(t, syscall.SIGKILL)
		<-c.coords[leader].done
		return "kill leader"
	case k == 5 && leader != "" && lab != nil && lab.hosts[leader] != 0:
		lab.cut(leader)
		time.AfterFunc(time.Duration(1000+rng.IntN(2000))*time.Millisecond, func() { _ = lab.run("ip", "link", "set", lab.veth(leader), "up") })
		return "cut leader"
	case leader != "":
		p := c.coords[leader] // repair may start another process for this id meanwhile
		p.signal(t, syscall.SIGSTOP)
		time.AfterFunc(time.Duration(1000+rng.IntN(2000))*time.Millisecond, func() { _ = p.cmd.Process.Signal(syscall.SIGCONT) })
		return "stop leader"
	}
	add()
	return "add worker"
}

// voterDown reports whether a coordinator has been killed and not
// restarted yet.
func (c *cluster) voterDown() bool {
	for _, p := range c.coords {
		select {
		case <-p.done:
			return true
		default:
		}
	}
	return false
}

// repair restarts killed coordinators, resumes stopped processes, heals cuts
// and keeps at least three workers.
func (c *cluster) repair(lab *netlab, workers map[string]*proc) {
	for id, p := range c.coords {
		_ = p.cmd.Process.Signal(syscall.SIGCONT)
		if lab != nil && lab.hosts[id] != 0 {
			_ = lab.run("ip", "link", "set", lab.veth(id), "up")
		}
		select {
		case <-p.done:
			c.startCoordinator(id, false)
		default:
		}
	}
	for id, p := range workers {
		_ = p.cmd.Process.Signal(syscall.SIGCONT)
		if lab != nil && lab.hosts[id] != 0 {
			_ = lab.run("ip", "link", "set", lab.veth(id), "up")
		}
	}
	for len(workers) < 3 {
		id := fmt.Sprintf("w%d", len(c.procs)+100)
		workers[id] = c.startWorker(id)
	}
}
