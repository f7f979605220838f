// Package clustertest runs whole clusters of real mathcrm processes — three
// raft coordinators and several workers against a real nats-server — and
// kills them for real. Every cluster is secured as a production one is:
// secrets from the code of mathcrm secrets init, NATS on the configuration
// they include (TLS, one user per role, JetStream encrypted at rest), each
// process on its role's credentials, raft over mutual TLS, the client an
// analyst (an admin for membership changes).
package clustertest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mathcrm/mathcrm/algo/kmeans"
	"github.com/mathcrm/mathcrm/internal/testutil"

	"github.com/mathcrm/mathcrm/internal/client"
	"github.com/mathcrm/mathcrm/internal/creds"
	"github.com/mathcrm/mathcrm/internal/natsembed"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/internal/secrets"
	"github.com/mathcrm/mathcrm/partition"
)

var bin string

func TestMain(m *testing.M) { testutil.RunWithBinary(m, "../../cmd/mathcrm", &bin) }

// proc is one mathcrm process.
type proc struct {
	name string
	args []string
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  strings.Builder
	done chan struct{}
}

func (p *proc) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

type cluster struct {
	t       *testing.T
	lab     *netlab // when set, hosts in namespaces reach NATS at the lab's gateway
	port    int
	dir     string
	secrets string // the cluster's secrets directory, as mathcrm secrets init writes it
	listen  string // the host NATS listens on
	ns      *natsembed.Server
	url     string
	mu      sync.Mutex
	coords  map[string]*proc
	raft    map[string]string // coordinator id -> raft address
	procs   []*proc
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func newCluster(t *testing.T) *cluster { return newLabCluster(t, nil) }

// ownCredential are the workers that get a credential of their own (good
// for their id's steps only); every other worker shares the worker role's.
var ownCredential = []string{"w1", "w2"}

// newLabCluster generates the cluster's secrets and runs NATS on them; with
// a lab, on every interface of this namespace, so that the lab's hosts reach
// it at the lab gateway (a name its certificate carries).
func newLabCluster(t *testing.T, lab *netlab) *cluster {
	t.Helper()
	dir := t.TempDir()
	cfg := secrets.DefaultConfig()
	cfg.Listen, cfg.Port, cfg.StoreDir, cfg.Workers = "127.0.0.1", -1, filepath.Join(dir, "nats"), ownCredential
	if lab != nil {
		cfg.Listen = "0.0.0.0"
		cfg.NATSHosts = append(cfg.NATSHosts, lab.gateway())
	}
	c := &cluster{t: t, lab: lab, dir: dir, secrets: filepath.Join(dir, "secrets"), listen: cfg.Listen,
		coords: map[string]*proc{}, raft: map[string]string{}}
	if err := secrets.Init(c.secrets, cfg, false, time.Now()); err != nil {
		t.Fatal(err)
	}
	c.startNATS()
	t.Cleanup(func() {
		for _, p := range c.procs {
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		c.ns.Shutdown()
		if t.Failed() {
			for _, p := range c.procs {
				t.Logf("--- %s %v\n%s", p.name, p.args, p.log())
			}
		}
	})
	return c
}

// startNATS runs the NATS server on the secrets' nats.conf; once it ran, on
// the same port again.
func (c *cluster) startNATS() {
	c.t.Helper()
	o := natsembed.Options{ConfigFile: filepath.Join(c.secrets, secrets.FileConf), Name: "test"}
	if c.port != 0 {
		o.Listen = net.JoinHostPort(c.listen, fmt.Sprint(c.port))
	}
	ns, err := natsembed.Start(o)
	if err != nil {
		c.t.Fatal(err)
	}
	c.ns, c.port = ns, ns.Addr().(*net.TCPAddr).Port
	c.url = fmt.Sprintf("tls://127.0.0.1:%d", c.port)
}

// role is the credential a process of args runs on.
func (c *cluster) role(args []string) string {
	switch args[0] {
	case "coordinator":
		return secrets.RoleCoordinator
	case "worker":
		for i, a := range args[:len(args)-1] {
			if a == "--id" {
				if _, err := os.Stat(filepath.Join(c.secrets, secrets.CredsFile(secrets.WorkerRole(args[i+1])))); err == nil {
					return secrets.WorkerRole(args[i+1])
				}
			}
		}
		return secrets.RoleWorker
	}
	c.t.Fatalf("no role runs mathcrm %s", strings.Join(args, " "))
	return ""
}

func (c *cluster) start(name string, args ...string) *proc {
	c.t.Helper()
	p := &proc{name: name, args: args, done: make(chan struct{})}
	if c.lab != nil && c.lab.hosts[name] != 0 {
		url := fmt.Sprintf("tls://%s:%d", c.lab.gateway(), c.port)
		p.cmd = c.lab.command(name, bin, append(args, "--nats", url)...)
	} else {
		p.cmd = exec.Command(bin, append(args, "--nats", c.url)...)
	}
	// The credentials come from the environment, as a unit file or a
	// Kubernetes Secret gives them; the CA and certificate lie beside.
	role := c.role(args)
	p.cmd.Env = append(os.Environ(), creds.EnvCreds+"="+filepath.Join(c.secrets, secrets.CredsFile(role)),
		creds.EnvCA+"="+filepath.Join(c.secrets, secrets.FileCA), creds.EnvCert+"=", creds.EnvKey+"=")
	r, w := io.Pipe()
	p.cmd.Stdout, p.cmd.Stderr = w, w
	if err := p.cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			p.mu.Lock()
			p.out.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
		}
	}()
	go func() { _ = p.cmd.Wait(); w.Close(); close(p.done) }()
	c.mu.Lock()
	c.procs = append(c.procs, p)
	c.mu.Unlock()
	return p
}

// startCoordinator starts coordinator id; the first one bootstraps.
func (c *cluster) startCoordinator(id string, bootstrap bool) *proc {
	c.t.Helper()
	addr, ok := c.raft[id]
	if !ok {
		if c.lab != nil && c.lab.hosts[id] != 0 {
			addr = c.lab.IP(id) + ":7000"
		} else {
			addr = freeAddr(c.t)
		}
		c.raft[id] = addr
	}
	args := []string{"coordinator", "--id", id, "--raft-addr", addr, "--data-dir", filepath.Join(c.dir, id),
		"--raft-heartbeat-timeout", "400ms", "--raft-election-timeout", "400ms", "--heartbeat-ttl", "1s", "-v"}
	if bootstrap {
		args = append(args, "--bootstrap")
	} else {
		for other, a := range c.raft {
			if other != id {
				args = append(args, "--join", a)
				break
			}
		}
	}
	p := c.start(id, args...)
	c.coords[id] = p
	return p
}

func (c *cluster) startWorker(id string) *proc {
	return c.start(id, "worker", "--id", id, "--capacity", "1", "--heartbeat", "100ms")
}

// client connects as an analyst: import, train, score, read.
func (c *cluster) client() *client.Client { return c.clientAs(secrets.RoleAnalyst) }

// clientAs connects with role's credentials.
func (c *cluster) clientAs(role string) *client.Client {
	c.t.Helper()
	s, err := creds.Load(creds.Secrets(c.secrets, role))
	if err != nil {
		c.t.Fatal(err)
	}
	cl, err := client.Dial(c.url, s.NATS()...)
	if err != nil {
		c.t.Fatal(s.Explain(err))
	}
	c.t.Cleanup(cl.Close)
	return cl
}

func (c *cluster) status(cl *client.Client) (*proto.ClusterStatus, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var st proto.ClusterStatus
	err := cl.Call(ctx, proto.APIClusterStatus, nil, &st)
	return &st, err
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// waitHealthy waits for every voter to answer and for n workers.
func (c *cluster) waitHealthy(cl *client.Client, voters, workers int) *proto.ClusterStatus {
	c.t.Helper()
	var st *proto.ClusterStatus
	waitFor(c.t, fmt.Sprintf("%d voters and %d workers", voters, workers), time.Minute, func() bool {
		var err error
		st, err = c.status(cl)
		if err != nil || st.Leader == "" || len(st.Voters) != voters || len(st.Workers) != workers {
			return false
		}
		for _, v := range st.Voters {
			if !v.Reachable {
				return false
			}
		}
		return true
	})
	return st
}

func (c *cluster) importCustomers(cl *client.Client, csv string, shards int) {
	c.t.Helper()
	_, err := cl.Import(context.Background(), "customers", csv, client.ImportOptions{Kind: "features",
		Options: partition.Options{Key: "customer_id", Shards: shards, TempDir: c.t.TempDir()}})
	if err != nil {
		c.t.Fatal(err)
	}
}

func call(t *testing.T, cl *client.Client, api string, in, out any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := cl.Call(ctx, api, in, out); err != nil {
		t.Fatalf("%s: %v", api, err)
	}
}

func submit(t *testing.T, cl *client.Client, spec proto.JobSpec) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	j, err := cl.Submit(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	return j.ID
}

func job(t *testing.T, cl *client.Client, id string) *proto.Job {
	t.Helper()
	var j proto.Job
	call(t, cl, proto.APIJobStatus, proto.Named{Name: id}, &j)
	return &j
}

func waitJob(t *testing.T, cl *client.Client, id string) *proto.Job {
	t.Helper()
	var j *proto.Job
	waitFor(t, "job "+id, 3*time.Minute, func() bool { j = job(t, cl, id); return j.Terminal() })
	if j.State != proto.JobSucceeded {
		t.Fatalf("job %s %s: %s", id, j.State, j.Reason)
	}
	return j
}

func kmeansModel(t *testing.T, cl *client.Client, id string) *kmeans.Segmentation {
	t.Helper()
	var d proto.ModelDetail
	call(t, cl, proto.APIModelShow, proto.Named{Name: id}, &d)
	return testutil.Detail[kmeans.Segmentation](t, &d)
}

func (p *proc) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
}
