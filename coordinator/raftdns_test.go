package coordinator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	"github.com/mathcrm/mathcrm/internal/client"
	"github.com/mathcrm/mathcrm/internal/natsembed"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/internal/secrets"
	"github.com/mathcrm/mathcrm/internal/store"
	"github.com/mathcrm/mathcrm/internal/testutil"
	"github.com/nats-io/nats.go"
)

// names is a name service for raft addresses: a name stays, the address
// behind it changes when a coordinator comes back elsewhere.
type names struct {
	mu sync.Mutex
	m  map[string]string
}

func (n *names) set(name, addr string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.m[name] = addr
}

func (n *names) resolve(name string) (string, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if a, ok := n.m[name]; ok {
		return a, nil
	}
	return "", fmt.Errorf("no such host %s", name)
}

// freeAddr is a loopback address nothing listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// secretsFor generates secrets whose coordinator certificate names hosts.
func secretsFor(t *testing.T, hosts ...string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "secrets")
	cfg := secrets.DefaultConfig()
	cfg.Hosts = hosts
	cfg.StoreDir = filepath.Join(t.TempDir(), "js")
	if err := secrets.Init(dir, cfg, false, time.Now()); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestRaftAdvertisesDNSNames runs three coordinators over mutual TLS that
// advertise names (as StatefulSet pods do) and reach each other through a
// name service; one comes back on another address behind its name and
// rejoins without anyone re-adding it.
func TestRaftAdvertisesDNSNames(t *testing.T) {
	dir := secretsFor(t, "*.coordinator.mathcrm.test")
	tp := mutual(t, dir, secrets.RoleCoordinator)
	ns, err := natsembed.Start(natsembed.Options{Listen: "127.0.0.1:0", StoreDir: filepath.Join(t.TempDir(), "nats"), Name: "raftdns-test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dns := &names{m: map[string]string{}}
	name := func(id string) string { return id + ".coordinator.mathcrm.test:7000" }
	dataDirs := map[string]string{}
	start := func(id string, bootstrap bool) *Coordinator {
		t.Helper()
		nc, err := nats.Connect(ns.ClientURL())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		st, err := store.Open(ctx, nc, 1)
		if err != nil {
			t.Fatal(err)
		}
		if dataDirs[id] == "" {
			dataDirs[id] = t.TempDir()
		}
		bind := freeAddr(t)
		dns.set(name(id), bind)
		cfg := DefaultConfig()
		cfg.ID, cfg.DataDir, cfg.RaftAddr, cfg.RaftAdvertise = id, dataDirs[id], bind, name(id)
		cfg.FastRaft, cfg.Logger, cfg.raftResolve = true, testLog(t), dns.resolve
		cfg.RaftServerTLS, cfg.RaftClientTLS = tp.server, tp.client
		if bootstrap {
			cfg.Bootstrap = true
		} else {
			cfg.Join = name("c1")
		}
		c, err := New(cfg, nc, st)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		if c.RaftAddr() != name(id) {
			t.Fatalf("%s advertises %s, want %s", id, c.RaftAddr(), name(id))
		}
		return c
	}
	c1 := start("c1", true)
	if err := c1.WaitLeader(ctx); err != nil {
		t.Fatal(err)
	}
	c2, c3 := start("c2", false), start("c3", false)
	// The configuration holds the names, and every voter follows the log.
	caughtUp := func(what string, cs ...*Coordinator) {
		t.Helper()
		_, err := c1.apply(msgWorkerSeen, entryWorkerSeen{ID: what, Host: "h", Time: time.Now().UTC()})
		if err != nil {
			t.Fatal(err)
		}
		testutil.WaitFor(t, 20*time.Second, 20*time.Millisecond, func() error {
			for _, c := range cs {
				if st := c.raft.Stats(); st["applied_index"] != c1.raft.Stats()["commit_index"] {
					return fmt.Errorf("%s applied %s of %s", c.cfg.ID, st["applied_index"], c1.raft.Stats()["commit_index"])
				}
			}
			return nil
		})
	}
	caughtUp("w1", c2, c3)
	f := c1.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		t.Fatal(err)
	}
	for _, s := range f.Configuration().Servers {
		if string(s.Address) != name(string(s.ID)) || s.Suffrage != raft.Voter {
			t.Fatalf("configuration: %+v", f.Configuration().Servers)
		}
	}
	if len(f.Configuration().Servers) != 3 {
		t.Fatalf("configuration: %+v", f.Configuration().Servers)
	}

	// c3 comes back on another port behind its name: the leader reaches it
	// there, and it follows the log again.
	old, _ := dns.resolve(name("c3"))
	if err := c3.Close(); err != nil {
		t.Fatal(err)
	}
	c3 = start("c3", false)
	if now, _ := dns.resolve(name("c3")); now == old {
		t.Fatalf("c3 came back on its old address %s", old)
	}
	caughtUp("w2", c2, c3)
	if n := len(c1.raft.GetConfiguration().Configuration().Servers); n != 3 {
		t.Fatalf("%d servers after the restart", n)
	}
	t.Logf("c3 rejoined at %s behind %s", func() string { a, _ := dns.resolve(name("c3")); return a }(), name("c3"))
}

// TestRaftNameMustBeCertified: a peer dialled by a name its certificate
// does not hold is refused, even with a coordinator's certificate.
func TestRaftNameMustBeCertified(t *testing.T) {
	named := secretsFor(t, "*.coordinator.mathcrm.test")
	hl := hclog.New(&hclog.LoggerOptions{Level: hclog.Error, Output: logWriter{t}})
	dns := &names{m: map[string]string{}}
	open := func(name string) *raft.NetworkTransport {
		t.Helper()
		p := mutual(t, named, secrets.RoleCoordinator)
		bind := freeAddr(t)
		dns.set(name, bind)
		tr, err := newStreamTransport(bind, name, p.server, p.client, dns.resolve, hl)
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() {
			for {
				select {
				case rpc := <-tr.Consumer():
					rpc.Respond(&raft.AppendEntriesResponse{Success: true}, nil)
				case <-done:
					return
				}
			}
		}()
		t.Cleanup(func() { close(done); tr.Close() })
		return tr
	}
	a, b := open("a.coordinator.mathcrm.test:7000"), open("b.coordinator.mathcrm.test:7000")
	if err := appendTo(a, b); err != nil {
		t.Fatalf("between certified names: %v", err)
	}
	// The same voter reached by a name outside the certificate.
	stray := "b.elsewhere.test:7000"
	addr, _ := dns.resolve(string(b.LocalAddr()))
	dns.set(stray, addr)
	var resp raft.AppendEntriesResponse
	err := a.AppendEntries("b", raft.ServerAddress(stray), &raft.AppendEntriesRequest{
		RPCHeader: raft.RPCHeader{ID: []byte("a"), Addr: []byte(a.LocalAddr())}, Term: 1,
	}, &resp)
	if err == nil || !strings.Contains(err.Error(), "does not name b.elsewhere.test") {
		t.Fatalf("a peer dialled by an uncertified name: %v", err)
	}
	t.Logf("refused: %v", err)
	if _, err := dns.resolve("c.coordinator.mathcrm.test:7000"); err == nil {
		t.Fatal("the test name service resolves anything")
	}
	if err := a.AppendEntries("c", "c.coordinator.mathcrm.test:7000", &raft.AppendEntriesRequest{}, &resp); err == nil || !strings.Contains(err.Error(), "no such host") {
		t.Fatalf("an unknown name: %v", err)
	}
}

// TestFollowerForwardsRole: a call that reaches a follower is served by
// the leader as the role that sent it, not as the follower's.
func TestFollowerForwardsRole(t *testing.T) {
	ctx, leader, follower := twoCoordinators(t)
	// Only the follower takes API calls now: each is forwarded.
	for _, s := range leader.subs {
		if s.Subject == proto.APIPrefix+">" {
			if err := s.Unsubscribe(); err != nil {
				t.Fatal(err)
			}
		}
	}
	// The server has taken the unsubscribe before any call is sent.
	if err := leader.nc.Flush(); err != nil {
		t.Fatal(err)
	}
	cl := client.New(follower.nc)
	call := func(subject string) string {
		t.Helper()
		body, _ := json.Marshal(testutil.KMeansSpec("none", "random", 1))
		req, _ := json.Marshal(proto.Request{V: proto.Version, Body: body})
		m, err := cl.Conn().RequestWithContext(ctx, subject, req)
		if err != nil {
			t.Fatal(err)
		}
		var resp proto.Response
		if err := json.Unmarshal(m.Data, &resp); err != nil {
			t.Fatal(err)
		}
		return resp.Error
	}
	// The analyst's bound is 0 here: only the analyst's submit meets it.
	if got := call(proto.APISubject(secrets.RoleAnalyst, proto.APIJobSubmit)); !strings.Contains(got, "role analyst may not have jobs") {
		t.Fatalf("an analyst's submit through the follower: %q", got)
	}
	if got := call(proto.APISubject(secrets.RoleAdmin, proto.APIJobSubmit)); !strings.Contains(got, `dataset "none"`) {
		t.Fatalf("an admin's submit through the follower: %q", got)
	}
	// A viewer may not submit at all, whatever reaches the coordinators.
	if got := call(proto.APISubject(secrets.RoleViewer, proto.APIJobSubmit)); !strings.Contains(got, "role viewer may not call job.submit") {
		t.Fatalf("a viewer's submit through the follower: %q", got)
	}
}

// twoCoordinators starts a leader and a follower that has joined it, on one
// embedded NATS server.
func twoCoordinators(t *testing.T) (ctx context.Context, leader, follower *Coordinator) {
	t.Helper()
	ns, err := natsembed.Start(natsembed.Options{Listen: "127.0.0.1:0", StoreDir: filepath.Join(t.TempDir(), "nats"), Name: "forward-test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	for i, id := range []string{"c1", "c2"} {
		nc, err := nats.Connect(ns.ClientURL())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		st, err := store.Open(ctx, nc, 1)
		if err != nil {
			t.Fatal(err)
		}
		cfg := DefaultConfig()
		cfg.ID, cfg.DataDir, cfg.RaftAddr, cfg.FastRaft, cfg.Logger = id, t.TempDir(), "127.0.0.1:0", true, testLog(t)
		cfg.ActiveJobs[secrets.RoleAnalyst] = 0
		if i == 0 {
			cfg.Bootstrap = true
		} else {
			cfg.Join = leader.RaftAddr()
		}
		c, err := New(cfg, nc, st)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		if i == 0 {
			if err := c.WaitLeader(ctx); err != nil {
				t.Fatal(err)
			}
			leader = c
		} else {
			follower = c
		}
	}
	testutil.WaitFor(t, 20*time.Second, 20*time.Millisecond, func() error {
		if !follower.isVoter() {
			return errors.New("c2 has not joined")
		}
		return nil
	})
	return ctx, leader, follower
}

// TestFollowerAnswersLookups: a customer lookup is answered by the
// coordinator it reaches from the state it has applied, leader or not — even
// with no leader at all.
func TestFollowerAnswersLookups(t *testing.T) {
	ctx, leader, follower := twoCoordinators(t)
	leader.Close() // two voters, one gone: no leader can be elected
	call := func(verb string, body any) proto.Response {
		t.Helper()
		b, _ := json.Marshal(body)
		req, _ := json.Marshal(proto.Request{V: proto.Version, Body: b})
		m, err := follower.nc.RequestWithContext(ctx, proto.APISubject(secrets.RoleViewer, verb), req)
		if err != nil {
			t.Fatal(err)
		}
		var resp proto.Response
		if err := json.Unmarshal(m.Data, &resp); err != nil {
			t.Fatal(err)
		}
		return resp
	}
	if r := call(proto.APICustomerShow, proto.CustomerShow{Key: "17850"}); r.Code != "not_found" || !strings.Contains(r.Error, "0 score sets searched") {
		t.Fatalf("a lookup on a follower with no leader: code %q, %q", r.Code, r.Error)
	}
}
