// Package chaos runs the secured compose cluster of deploy/compose.yaml in
// real containers and injects faults into it mid-job: the leader's
// container killed, a worker's network disconnected, workers scaled
// 2 → 5 → 2. The model must export byte for byte as the undisturbed run's.
//
// It needs Docker, docker-compose and the image mathcrm:dev (make image),
// and runs only when MATHCRM_COMPOSE_CHAOS=1 (make chaos-compose), so that
// go test ./... does not start containers.
package chaos

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mathcrm/mathcrm/algo/kmeans"
	"github.com/mathcrm/mathcrm/internal/client"
	"github.com/mathcrm/mathcrm/internal/creds"
	"github.com/mathcrm/mathcrm/internal/proto"
)

const (
	image   = "mathcrm:dev"
	workers = 2
	scaled  = 5
	// requestID is the same for both runs, each on a fresh cluster, so the
	// two exports (which carry the job's spec and model id) can be equal
	// byte for byte.
	requestID = "compose-chaos-kmeans"
)

// job is the k-means job both runs train: tol 0 runs every iteration, so
// there are enough passes for each fault to land mid-job.
func job(maxIter int) proto.JobSpec {
	s := kmeans.Spec("telco", kmeans.Params{
		K: 8, Columns: []string{"tenure", "MonthlyCharges", "TotalCharges"}, Standardize: true,
		Init: "kmeans||", MaxIter: maxIter, Tol: 0,
	})
	s.Seed = 7
	s.RequestID = requestID
	return s
}

// compose is one compose project: its files in dir, its containers named
// after project.
type compose struct {
	t       *testing.T
	tool    []string // docker-compose, or docker compose
	dir     string   // compose.yaml and secrets/
	project string
	port    int    // NATS port published on 127.0.0.1
	bin     string // the image's mathcrm binary, run on the host as a client
	cl      *client.Client
}

// row is one line of the printed table.
type row struct{ what, when, result string }

func TestComposeChaos(t *testing.T) {
	if os.Getenv("MATHCRM_COMPOSE_CHAOS") != "1" {
		t.Skip("starts containers: runs with MATHCRM_COMPOSE_CHAOS=1 (make chaos-compose)")
	}
	if _, err := exec.LookPath("docker"); err != nil {
		t.Skip("no docker on PATH: the compose chaos run needs Docker and docker-compose")
	}
	if out, err := exec.Command("docker", "info", "--format", "{{.ServerVersion}}").CombinedOutput(); err != nil {
		t.Skipf("Docker is not available (docker info: %v): %s", err, bytes.TrimSpace(out))
	}
	composeTool := []string{"docker-compose"}
	if _, err := exec.LookPath("docker-compose"); err != nil {
		if exec.Command("docker", "compose", "version").Run() != nil {
			t.Skip("neither docker-compose nor docker compose is installed")
		}
		composeTool = []string{"docker", "compose"}
	}
	if out, err := exec.Command("docker", "image", "inspect", image).CombinedOutput(); err != nil {
		t.Fatalf("no image %s (run make image first): %s", image, lastLine(out))
	}
	maxIter := 800
	if v := os.Getenv("MATHCRM_COMPOSE_CHAOS_ITER"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 100 {
			t.Fatalf("MATHCRM_COMPOSE_CHAOS_ITER=%q: want an iteration count of at least 100", v)
		}
		maxIter = n
	}
	start := time.Now()
	c := newCompose(t, composeTool)
	spec := job(maxIter)

	// The undisturbed run, on a fresh cluster.
	c.up()
	c.importTelco()
	t0 := time.Now()
	calm := c.runJob(spec, nil)
	calmTook := time.Since(t0)
	want := c.export(calm.Model, "undisturbed.json")
	c.down()

	// The same job on a second fresh cluster, with faults.
	c.up()
	c.importTelco()
	var rows []row
	t0 = time.Now()
	got := c.runJob(spec, func(j *proto.Job) { rows = c.faults(calm.Pass, j.ID) })
	took := time.Since(t0)
	have := c.export(got.Model, "disturbed.json")
	retries := 0
	if full, err := c.jobStatus(got.ID); err == nil {
		for _, p := range full.History {
			retries += p.Retries
		}
	}
	c.waitHealthy(3, workers, 2*time.Minute)

	same := bytes.Equal(want, have)
	result := "identical byte for byte"
	if !same {
		result = "DIFFERENT"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\ncompose chaos (project %s: 3 coordinators, NATS, %d workers; TLS and roles on)\n", c.project, workers)
	fmt.Fprintf(&b, "  job: k-means k=8 on telco (64 shards), %d iterations, %d passes\n", maxIter, calm.Pass)
	fmt.Fprintf(&b, "  %-44s %-10s %s\n", "step", "at pass", "result")
	fmt.Fprintf(&b, "  %-44s %-10s %s\n", "undisturbed run (fresh cluster)", "-", fmt.Sprintf("%s in %.1fs", calm.State, calmTook.Seconds()))
	for _, r := range rows {
		fmt.Fprintf(&b, "  %-44s %-10s %s\n", r.what, r.when, r.result)
	}
	fmt.Fprintf(&b, "  %-44s %-10s %s\n", "disturbed run (fresh cluster)", "-", fmt.Sprintf("%s in %.1fs, %d steps retried", got.State, took.Seconds(), retries))
	fmt.Fprintf(&b, "  %-44s %-10s %s\n", "model export vs undisturbed", "-", fmt.Sprintf("%s (%d bytes, sha256 %s)", result, len(have), short(have)))
	fmt.Fprintf(&b, "  total %.0fs\n", time.Since(start).Seconds())
	if testing.Verbose() {
		fmt.Print(b.String())
	} else {
		t.Log(b.String())
	}
	if got.State != proto.JobSucceeded {
		t.Fatalf("the disturbed job ended %s: %s", got.State, got.Reason)
	}
	if !same {
		t.Fatalf("model export differs from the undisturbed run's: %s vs %s", short(want), short(have))
	}
	if len(rows) != 6 {
		t.Fatalf("only %d of 6 steps were done before the job ended: make the job longer (MATHCRM_COMPOSE_CHAOS_ITER)", len(rows))
	}
}

// faults injects, at fractions of the undisturbed run's passes, each fault
// in turn while the job runs, and returns what it did. A fault that would
// land after the job ended is not done (the caller checks all were).
func (c *compose) faults(passes int, id string) []row {
	t := c.t
	var rows []row
	at := func(frac float64) (int, bool) {
		p, ok := c.waitPass(id, int(frac*float64(passes)))
		return p, ok
	}

	// 1. Kill the leader's container; start it again once the job has
	// moved on under the new leader.
	p, ok := at(0.12)
	if !ok {
		return rows
	}
	st := c.status()
	old := st.Leader
	first := map[string]bool{}
	for _, wi := range st.Workers {
		first[wi.Host] = true
	}
	killed := c.container(coordinatorService(old), 1)
	c.docker("kill", killed)
	t0 := time.Now()
	var leader string
	waitFor(t, "a new leader", time.Minute, func() bool {
		s, err := c.tryStatus()
		leader = s.Leader
		return err == nil && leader != "" && leader != old
	})
	elected := time.Since(t0)
	q, ok := c.waitPass(id, p+10)
	moved := time.Since(t0)
	rows = append(rows, row{"kill the leader's container (" + old + ")", strconv.Itoa(p),
		fmt.Sprintf("%s leads after %.1fs; job past pass %d after %.1fs", leader, elected.Seconds(), q, moved.Seconds())})
	c.docker("start", killed)
	waitFor(t, old+" back as a voter", 2*time.Minute, func() bool { return c.votersUp() == 3 })
	rows = append(rows, row{"start it again", strconv.Itoa(c.pass(id)), "3 voters reachable"})
	if !ok {
		return rows
	}

	// 2. Disconnect a worker from the network; reconnect it once the job
	// has gone on without it.
	if p, ok = at(0.35); !ok {
		return rows
	}
	w := c.container("worker", 1)
	network := c.project + "_default"
	c.docker("network", "disconnect", network, w)
	t0 = time.Now()
	q, ok = c.waitPass(id, p+10)
	rows = append(rows, row{"disconnect " + strings.TrimLeft(strings.TrimPrefix(w, c.project), "_-") + "'s network", strconv.Itoa(p),
		fmt.Sprintf("job past pass %d after %.1fs without it", q, time.Since(t0).Seconds())})
	c.docker("network", "connect", network, w)
	host := strings.TrimSpace(c.docker("inspect", "-f", "{{.Config.Hostname}}", w))
	t0 = time.Now()
	waitFor(t, w+" heartbeating again", 2*time.Minute, func() bool {
		s, err := c.tryStatus()
		for _, wi := range s.Workers {
			if err == nil && wi.Host == host && wi.HeartbeatAge < 1 {
				return true
			}
		}
		return false
	})
	rows = append(rows, row{"reconnect it", strconv.Itoa(c.pass(id)), fmt.Sprintf("heartbeating again after %.1fs", time.Since(t0).Seconds())})
	if !ok {
		return rows
	}

	// 3. Scale the workers up, then back down.
	if p, ok = at(0.55); !ok {
		return rows
	}
	t0 = time.Now()
	c.compose("up", "-d", "--no-deps", "--scale", fmt.Sprintf("worker=%d", scaled), "worker")
	waitFor(t, fmt.Sprintf("%d live workers", scaled), 2*time.Minute, func() bool {
		s, err := c.tryStatus()
		return err == nil && len(s.Workers) >= scaled
	})
	q, ok = c.waitPass(id, c.pass(id)+5)
	rows = append(rows, row{fmt.Sprintf("scale workers %d → %d", workers, scaled), strconv.Itoa(p),
		fmt.Sprintf("%d live after %.1fs; job at pass %d", scaled, time.Since(t0).Seconds(), q)})
	if !ok {
		return rows
	}
	if p, ok = at(0.75); !ok {
		return rows
	}
	var steps int64
	for _, wi := range c.status().Workers {
		if !first[wi.Host] {
			steps += wi.Steps
		}
	}
	t0 = time.Now()
	c.compose("up", "-d", "--no-deps", "--scale", fmt.Sprintf("worker=%d", workers), "worker")
	rows = append(rows, row{fmt.Sprintf("scale workers %d → %d", scaled, workers), strconv.Itoa(p),
		fmt.Sprintf("the %d added had run %d steps; stopped (drained) in %.1fs", scaled-workers, steps, time.Since(t0).Seconds())})
	return rows
}

func newCompose(t *testing.T, tool []string) *compose {
	dir := t.TempDir()
	b, err := os.ReadFile("../compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "compose.yaml"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	c := &compose{t: t, tool: tool, dir: dir, project: fmt.Sprintf("mathcrmchaos%d", os.Getpid()), port: freePort(t)}

	// The client is the image's own binary, copied out of it.
	id := strings.TrimSpace(c.docker("create", image))
	c.docker("cp", id+":/mathcrm", filepath.Join(dir, "mathcrm"))
	c.docker("rm", id)
	c.bin = filepath.Join(dir, "mathcrm")

	c.run(c.bin, "secrets", "init", filepath.Join(dir, "secrets"), "--mount", "/run/secrets", "--store-dir", "/data/jetstream",
		"--nats-host", "nats", "--nats-host", "localhost", "--nats-host", "127.0.0.1",
		"--host", "coordinator-1", "--host", "coordinator-2", "--host", "coordinator-3", "--host", "localhost")

	// Tear down whatever happens: at the end, on failure, on Ctrl-C.
	t.Cleanup(func() {
		if t.Failed() {
			out, _ := c.composeCmd("logs", "--no-color", "--tail", "40").CombinedOutput()
			t.Logf("last container logs:\n%s", out)
		}
		c.down()
	})
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case <-sig:
			fmt.Fprintln(os.Stderr, "interrupted: removing the compose project", c.project)
			c.down()
			os.Exit(1)
		case <-done:
		}
	}()
	t.Cleanup(func() { signal.Stop(sig); close(done) })
	return c
}

// up starts the cluster with two workers and connects an analyst client.
func (c *compose) up() {
	c.compose("up", "-d", "--scale", fmt.Sprintf("worker=%d", workers))
	s, err := creds.Load(creds.Secrets(filepath.Join(c.dir, "secrets"), "analyst"))
	if err != nil {
		c.t.Fatal(err)
	}
	waitFor(c.t, "NATS to accept the analyst", time.Minute, func() bool {
		cl, err := client.Dial(c.natsURL(), s.NATS()...)
		if err == nil {
			c.cl = cl
		}
		return err == nil
	})
	c.waitHealthy(3, workers, 2*time.Minute)
}

// down removes the project's containers, network and volumes.
func (c *compose) down() {
	if c.cl != nil {
		c.cl.Close()
		c.cl = nil
	}
	if out, err := c.composeCmd("down", "-v", "--remove-orphans", "-t", "10").CombinedOutput(); err != nil {
		c.t.Logf("%s down: %v\n%s", strings.Join(c.tool, " "), err, out)
	}
}

func (c *compose) importTelco() {
	c.cli("dataset", "import", "telco", "../../testdata/telco/Telco-Customer-Churn.csv", "--key", "customerID",
		"--columns", "tenure,MonthlyCharges,TotalCharges", "--on-bad-value", "missing", "--shards", "64")
}

// runJob submits spec, calls during (if any) once the job is running, and
// waits for it to end.
func (c *compose) runJob(spec proto.JobSpec, during func(*proto.Job)) *proto.Job {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	j, err := c.cl.Submit(ctx, spec)
	if err != nil {
		c.t.Fatalf("submit: %v", err)
	}
	if during != nil {
		during(j)
	}
	var end *proto.Job
	waitFor(c.t, "job "+j.ID+" to end", 15*time.Minute, func() bool {
		end, err = c.brief(j.ID)
		return err == nil && end.Terminal()
	})
	return end
}

// export is `mathcrm model export` of model into the project's directory.
func (c *compose) export(model, name string) []byte {
	out := filepath.Join(c.dir, name)
	c.cli("model", "export", model, "--format", "json", "--out", out)
	b, err := os.ReadFile(out)
	if err != nil {
		c.t.Fatal(err)
	}
	return b
}

// brief is a job without its pass history (job list leaves it out), so
// polling stays cheap however many passes the job has.
func (c *compose) brief(id string) (*proto.Job, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var jobs []*proto.Job
	if err := c.cl.Call(ctx, proto.APIJobList, nil, &jobs); err != nil {
		return nil, err
	}
	for _, j := range jobs {
		if j.ID == id {
			return j, nil
		}
	}
	return nil, fmt.Errorf("no job %s", id)
}

func (c *compose) jobStatus(id string) (*proto.Job, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var j proto.Job
	err := c.cl.Call(ctx, proto.APIJobStatus, proto.Named{Name: id}, &j)
	return &j, err
}

// pass is the job's committed pass (0 while the cluster does not answer).
func (c *compose) pass(id string) int {
	if j, err := c.brief(id); err == nil {
		return j.Pass
	}
	return 0
}

// waitPass waits until the job has committed pass p; false if it ended first.
func (c *compose) waitPass(id string, p int) (int, bool) {
	var j *proto.Job
	waitFor(c.t, fmt.Sprintf("job %s at pass %d", id, p), 5*time.Minute, func() bool {
		var err error
		j, err = c.brief(id)
		return err == nil && (j.Pass >= p || j.Terminal())
	})
	return j.Pass, !j.Terminal()
}

func (c *compose) tryStatus() (proto.ClusterStatus, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var st proto.ClusterStatus
	err := c.cl.Call(ctx, proto.APIClusterStatus, nil, &st)
	return st, err
}

func (c *compose) status() proto.ClusterStatus {
	st, err := c.tryStatus()
	if err != nil {
		c.t.Fatalf("cluster status: %v", err)
	}
	return st
}

func (c *compose) votersUp() int {
	st, err := c.tryStatus()
	if err != nil || st.Leader == "" {
		return 0
	}
	n := 0
	for _, v := range st.Voters {
		if v.Reachable {
			n++
		}
	}
	return n
}

// waitHealthy waits for a leader, voters reachable voters and exactly
// live workers (a removed worker's heartbeat ages out).
func (c *compose) waitHealthy(voters, live int, limit time.Duration) {
	waitFor(c.t, fmt.Sprintf("%d voters and %d workers", voters, live), limit, func() bool {
		st, err := c.tryStatus()
		return err == nil && c.votersUp() == voters && len(st.Workers) == live
	})
}

// container is the name of a service's n-th container, found by the
// labels both docker-compose and docker compose put on it.
func (c *compose) container(service string, n int) string {
	c.t.Helper()
	name := strings.TrimSpace(c.docker("ps", "-a", "--format", "{{.Names}}",
		"--filter", "label=com.docker.compose.project="+c.project,
		"--filter", "label=com.docker.compose.service="+service,
		"--filter", "label=com.docker.compose.container-number="+strconv.Itoa(n)))
	if name == "" || strings.Contains(name, "\n") {
		c.t.Fatalf("container %d of service %s: %q", n, service, name)
	}
	return name
}

func coordinatorService(id string) string { return "coordinator-" + strings.TrimPrefix(id, "c") }

func (c *compose) natsURL() string { return fmt.Sprintf("nats://127.0.0.1:%d", c.port) }

func (c *compose) composeCmd(args ...string) *exec.Cmd {
	args = append([]string{"-p", c.project, "-f", filepath.Join(c.dir, "compose.yaml")}, args...)
	cmd := exec.Command(c.tool[0], append(c.tool[1:], args...)...)
	cmd.Env = append(os.Environ(), "MATHCRM_NATS_PORT="+strconv.Itoa(c.port))
	return cmd
}

func (c *compose) compose(args ...string) {
	c.t.Helper()
	if out, err := c.composeCmd(args...).CombinedOutput(); err != nil {
		c.t.Fatalf("%s %s: %v\n%s", strings.Join(c.tool, " "), strings.Join(args, " "), err, out)
	}
}

func (c *compose) docker(args ...string) string {
	c.t.Helper()
	out, err := exec.Command("docker", args...).CombinedOutput()
	if err != nil {
		c.t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// cli runs the mathcrm client as the analyst.
func (c *compose) cli(args ...string) {
	c.t.Helper()
	cmd := exec.Command(c.bin, args...)
	cmd.Env = append(os.Environ(), "MATHCRM_NATS_URL="+c.natsURL(),
		"MATHCRM_CREDS="+filepath.Join(c.dir, "secrets", "analyst.nk"), "MATHCRM_CA="+filepath.Join(c.dir, "secrets", "ca.crt"))
	if out, err := cmd.CombinedOutput(); err != nil {
		c.t.Fatalf("mathcrm %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func (c *compose) run(name string, args ...string) {
	c.t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		c.t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

func waitFor(t *testing.T, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s", limit, what)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func short(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:6])
}

func lastLine(b []byte) string {
	ls := strings.Split(strings.TrimSpace(string(b)), "\n")
	return ls[len(ls)-1]
}
