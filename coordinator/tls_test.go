package coordinator

import (
	"crypto/tls"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	"github.com/mathcrm/mathcrm/internal/creds"
	"github.com/mathcrm/mathcrm/internal/secrets"
)

// secretsDir generates a set of secrets for the raft tests.
func secretsDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "secrets")
	cfg := secrets.DefaultConfig()
	cfg.StoreDir = filepath.Join(t.TempDir(), "js")
	if err := secrets.Init(dir, cfg, false, time.Now()); err != nil {
		t.Fatal(err)
	}
	return dir
}

type tlsPair struct{ server, client *tls.Config }

// mutual is the raft TLS pair of role's certificate from dir.
func mutual(t *testing.T, dir, role string) *tlsPair {
	t.Helper()
	return mutualFiles(t, creds.Secrets(dir, role))
}

func mutualFiles(t *testing.T, f creds.Files) *tlsPair {
	t.Helper()
	s, err := creds.Load(f)
	if err != nil {
		t.Fatal(err)
	}
	server, client, err := s.Mutual(secrets.RoleCoordinator)
	if err != nil {
		t.Fatal(err)
	}
	return &tlsPair{server, client}
}

// transport is a raft transport on a free loopback port; plain TCP when
// p is nil. Its consumer answers every AppendEntries.
func transport(t *testing.T, p *tlsPair) *raft.NetworkTransport {
	t.Helper()
	hl := hclog.New(&hclog.LoggerOptions{Level: hclog.Error, Output: logWriter{t}})
	var tr *raft.NetworkTransport
	var err error
	if p != nil {
		tr, err = newTLSTransport("127.0.0.1:0", p.server, p.client, hl)
	} else {
		tr, err = raft.NewTCPTransportWithLogger("127.0.0.1:0", nil, 3, 5*time.Second, hl)
	}
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

func appendTo(from, to *raft.NetworkTransport) error {
	var resp raft.AppendEntriesResponse
	return from.AppendEntries("peer", to.LocalAddr(), &raft.AppendEntriesRequest{
		RPCHeader: raft.RPCHeader{ID: []byte("peer"), Addr: []byte(from.LocalAddr())}, Term: 1,
	}, &resp)
}

// TestRaftTransportMutualTLS: only holders of the cluster's coordinator
// certificate reach a voter's raft port, and a voter dials only them.
func TestRaftTransportMutualTLS(t *testing.T) {
	dir, other := secretsDir(t), secretsDir(t)
	voter := transport(t, mutual(t, dir, secrets.RoleCoordinator))
	peer := transport(t, mutual(t, dir, secrets.RoleCoordinator))
	if err := appendTo(peer, voter); err != nil {
		t.Fatalf("a coordinator's AppendEntries: %v", err)
	}
	if err := appendTo(voter, peer); err != nil {
		t.Fatalf("the voter's AppendEntries to a coordinator: %v", err)
	}
	for _, c := range []struct {
		name string
		tr   *raft.NetworkTransport
		want string // in the error the intruder's side sees
	}{
		{"plain TCP", transport(t, nil), "EOF"},
		{"analyst certificate", transport(t, mutual(t, dir, secrets.RoleAnalyst)), "tls: bad certificate"},
		{"worker certificate", transport(t, mutual(t, dir, secrets.RoleWorker)), "tls: bad certificate"},
		// It trusts the cluster's CA (ca.crt is public), and its own
		// certificate is another CA's.
		{"another CA's coordinator certificate", transport(t, mutualFiles(t, creds.Files{
			CA:   filepath.Join(dir, secrets.FileCA),
			Cert: filepath.Join(other, secrets.CertFile(secrets.RoleCoordinator)),
			Key:  filepath.Join(other, secrets.KeyFile(secrets.RoleCoordinator)),
		})), "tls: bad certificate"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := appendTo(c.tr, voter)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("AppendEntries to the voter: %v, want an error with %q", err, c.want)
			}
			err = appendTo(voter, c.tr)
			if err == nil {
				t.Fatal("the voter sent AppendEntries to an intruder")
			}
			t.Logf("the voter refuses to talk to it: %v", err)
		})
	}
}

// TestRaftTransportAcrossRotation: a voter restarted during a rotation's
// overlap keeps talking to one not restarted yet, and after --finish only
// the new generation is accepted.
func TestRaftTransportAcrossRotation(t *testing.T) {
	dir := secretsDir(t)
	old := transport(t, mutual(t, dir, secrets.RoleCoordinator))
	if err := secrets.Rotate(dir, time.Hour, time.Now()); err != nil {
		t.Fatal(err)
	}
	restarted := transport(t, mutual(t, dir, secrets.RoleCoordinator))
	for _, pair := range [][2]*raft.NetworkTransport{{old, restarted}, {restarted, old}} {
		if err := appendTo(pair[0], pair[1]); err != nil {
			t.Fatalf("during the overlap %s -> %s: %v", pair[0].LocalAddr(), pair[1].LocalAddr(), err)
		}
	}
	if err := secrets.Finish(dir, true, time.Now()); err != nil {
		t.Fatal(err)
	}
	// After --finish every voter restarts, as nats-server reloads: until
	// then one restarted during the overlap still presents the old
	// generation's certificate, which the finished ones refuse.
	finished := transport(t, mutual(t, dir, secrets.RoleCoordinator))
	finished2 := transport(t, mutual(t, dir, secrets.RoleCoordinator))
	if err := appendTo(finished, finished2); err != nil {
		t.Fatalf("between voters restarted after --finish: %v", err)
	}
	for _, tr := range []*raft.NetworkTransport{old, restarted} {
		if err := appendTo(tr, finished); err == nil {
			t.Fatal("after --finish a voter on the old generation's certificate still reaches a restarted one")
		}
	}
}
