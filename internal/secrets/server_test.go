package secrets

import (
	"bufio"
	"context"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/internal/store"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// startServer runs a real nats-server from dir's generated configuration.
func startServer(t *testing.T, dir string) *server.Server {
	t.Helper()
	opts, err := server.ProcessConfigFile(filepath.Join(dir, FileConf))
	if err != nil {
		t.Fatalf("the generated configuration does not parse: %v", err)
	}
	opts.NoSigs = true
	s, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server did not start")
	}
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	return s
}

// creds are the files one process connects with.
// role, when set, picks the inbox the connection takes replies in.
type creds struct{ ca, cert, key, seed, role string }

func roleCreds(dir, role string) creds {
	return creds{
		role: role,
		ca:   filepath.Join(dir, FileCA),
		cert: filepath.Join(dir, CertFile(role)),
		key:  filepath.Join(dir, KeyFile(role)),
		seed: filepath.Join(dir, CredsFile(role)),
	}
}

// conn is a connection and the asynchronous errors the server sent it.
type conn struct {
	*nats.Conn
	errs chan error
}

func dial(url string, c creds) (*conn, error) {
	errs := make(chan error, 16)
	opts := []nats.Option{
		nats.Timeout(3 * time.Second), nats.NoReconnect(),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			select {
			case errs <- err:
			default:
			}
		}),
	}
	if c.role != "" {
		opts = append(opts, nats.CustomInboxPrefix(InboxPrefix(c.role)))
	}
	if c.ca != "" {
		opts = append(opts, nats.RootCAs(c.ca))
	}
	if c.cert != "" {
		opts = append(opts, nats.ClientCert(c.cert, c.key))
	}
	if c.seed != "" {
		o, err := nats.NkeyOptionFromSeed(c.seed)
		if err != nil {
			return nil, err
		}
		opts = append(opts, o)
	}
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		return nil, err
	}
	return &conn{Conn: nc, errs: errs}, nil
}

func mustDial(t *testing.T, url string, c creds) *conn {
	t.Helper()
	nc, err := dial(url, c)
	if err != nil {
		t.Fatalf("connect with %s: %v", c.seed, err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// denied publishes on subject and waits for the server's permissions
// violation naming it.
func (c *conn) denied(t *testing.T, subject string) {
	t.Helper()
	if err := c.Publish(subject, []byte("x")); err != nil {
		t.Fatal(err)
	}
	_ = c.Flush()
	c.waitViolation(t, "Publish to \""+subject+"\"")
}

func (c *conn) waitViolation(t *testing.T, what string) {
	t.Helper()
	deadline := time.After(3 * time.Second)
	for {
		select {
		case err := <-c.errs:
			if errors.Is(err, nats.ErrPermissionViolation) && strings.Contains(err.Error(), what) {
				return
			}
		case <-deadline:
			t.Fatalf("no permissions violation for %s", what)
		}
	}
}

// request asks subject and expects the responder's answer.
func (c *conn) request(t *testing.T, subject string) {
	t.Helper()
	m, err := c.Request(subject, []byte("q"), 3*time.Second)
	if err != nil {
		t.Fatalf("request %s: %v", subject, err)
	}
	if string(m.Data) != "ok "+subject {
		t.Fatalf("request %s answered %q", subject, m.Data)
	}
}

// respond answers every request on subject with "ok <subject>".
func respond(t *testing.T, c *conn, subject string) {
	t.Helper()
	if _, err := c.Subscribe(subject, func(m *nats.Msg) { _ = m.Respond([]byte("ok " + m.Subject)) }); err != nil {
		t.Fatal(err)
	}
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
}

// api is where role calls verb.
func api(role, verb string) string { return proto.APISubject(role, verb) }

// TestServerEnforcesRoles starts a real nats-server from the generated
// configuration and checks each role's grant from the outside.
func TestServerEnforcesRoles(t *testing.T) {
	dir := initDir(t)
	s := startServer(t, dir)
	url := s.ClientURL()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	coord := mustDial(t, url, roleCreds(dir, RoleCoordinator))
	respond(t, coord, proto.APIPrefix+">")
	coordStore, err := store.Open(ctx, coord.Conn, 1)
	if err != nil {
		t.Fatalf("coordinator opens the object store: %v", err)
	}
	shard, err := coordStore.Put(ctx, proto.BucketShards, "ds/1/shard-0", []byte("rows"))
	if err != nil {
		t.Fatal(err)
	}
	hello := make(chan string, 4)
	for _, subj := range []string{proto.WorkerHelloSubject("*"), proto.WorkerHeartbeatSubject("*")} {
		if _, err := coord.Subscribe(subj, func(m *nats.Msg) { hello <- m.Subject }); err != nil {
			t.Fatal(err)
		}
	}
	_ = coord.Flush()

	t.Run("worker", func(t *testing.T) {
		w := mustDial(t, url, roleCreds(dir, RoleWorker))
		respond(t, w, proto.WorkerStepSubject("w1"))
		coord.request(t, proto.WorkerStepSubject("w1"))
		for _, subj := range []string{proto.WorkerHelloSubject("w1"), proto.WorkerHeartbeatSubject("w1")} {
			if err := w.Publish(subj, []byte("{}")); err != nil {
				t.Fatal(err)
			}
			select {
			case got := <-hello:
				if got != subj {
					t.Fatalf("coordinator got %s, want %s", got, subj)
				}
			case <-time.After(3 * time.Second):
				t.Fatalf("coordinator did not get %s", subj)
			}
		}
		ws, err := store.Open(ctx, w.Conn, 1)
		if err != nil {
			t.Fatalf("worker opens the object store: %v", err)
		}
		if b, err := ws.Get(ctx, shard); err != nil || string(b) != "rows" {
			t.Fatalf("worker reads a shard: %q %v", b, err)
		}
		out, err := ws.Put(ctx, proto.BucketModels, "jobs/j1/partial", []byte("partial"))
		if err != nil {
			t.Fatalf("worker writes its output: %v", err)
		}
		if b, err := coordStore.Get(ctx, out); err != nil || string(b) != "partial" {
			t.Fatalf("coordinator reads the worker's output: %q %v", b, err)
		}
		w.denied(t, api(RoleWorker, proto.APIJobSubmit))
		w.denied(t, api(RoleWorker, proto.APIDatasetList))
		w.denied(t, api(RoleAnalyst, proto.APIDatasetList))
		w.denied(t, proto.APIPrefix+proto.APIDatasetList)
		w.denied(t, proto.JobEventSubject("j1"))
		w.denied(t, proto.CoordInfoSubject("c1"))
		w.denied(t, "$JS.API.STREAM.DELETE.OBJ_"+proto.BucketShards)
		if _, err := w.Subscribe(proto.APIPrefix+">", func(*nats.Msg) {}); err != nil {
			t.Fatal(err)
		}
		_ = w.Flush()
		w.waitViolation(t, "Subscription to \""+proto.APIPrefix+">\"")
	})

	t.Run("worker with its own credential", func(t *testing.T) {
		w := mustDial(t, url, roleCreds(dir, WorkerRole("w1")))
		respond(t, w, proto.WorkerStepSubject("w1"))
		coord.request(t, proto.WorkerStepSubject("w1"))
		if err := w.Publish(proto.WorkerHeartbeatSubject("w1"), []byte("{}")); err != nil {
			t.Fatal(err)
		}
		select {
		case got := <-hello:
			if got != proto.WorkerHeartbeatSubject("w1") {
				t.Fatalf("coordinator got %s", got)
			}
		case <-time.After(3 * time.Second):
			t.Fatal("coordinator did not get w1's heartbeat")
		}
		w.denied(t, proto.WorkerHeartbeatSubject("w2"))
		if _, err := w.Subscribe(proto.WorkerStepSubject("w2"), func(*nats.Msg) {}); err != nil {
			t.Fatal(err)
		}
		_ = w.Flush()
		w.waitViolation(t, "Subscription to \""+proto.WorkerStepSubject("w2")+"\"")
		ws, err := store.Open(ctx, w.Conn, 1)
		if err != nil {
			t.Fatalf("worker w1 opens the object store: %v", err)
		}
		if b, err := ws.Get(ctx, shard); err != nil || string(b) != "rows" {
			t.Fatalf("worker w1 reads a shard: %q %v", b, err)
		}
	})

	t.Run("viewer", func(t *testing.T) {
		v := mustDial(t, url, roleCreds(dir, RoleViewer))
		for _, verb := range proto.VerbsUpTo(proto.AccessRead) {
			v.request(t, api(RoleViewer, verb))
			// Not as another role, nor without a role's token (the admin's).
			v.denied(t, api(RoleAnalyst, verb))
			v.denied(t, proto.APIPrefix+verb)
		}
		for verb, a := range proto.APIAccess {
			if a > proto.AccessRead {
				v.denied(t, api(RoleViewer, verb))
			}
		}
		v.denied(t, proto.WorkerHeartbeatSubject("w1"))
		inboxRefused(t, v, roleCreds(dir, RoleAnalyst), url)
		short, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		if _, err := store.Open(short, v.Conn, 1); err == nil {
			t.Fatal("viewer opened the object store")
		}
		v.waitViolation(t, "Publish to \"$JS.API.STREAM.INFO.OBJ_"+proto.BucketShards+"\"")
		events := make(chan struct{}, 1)
		if _, err := v.Subscribe(proto.JobEventSubject("j1"), func(*nats.Msg) { events <- struct{}{} }); err != nil {
			t.Fatal(err)
		}
		_ = v.Flush()
		_ = coord.Publish(proto.JobEventSubject("j1"), []byte("{}"))
		select {
		case <-events:
		case <-time.After(3 * time.Second):
			t.Fatal("viewer did not get a job event")
		}
	})

	t.Run("analyst", func(t *testing.T) {
		a := mustDial(t, url, roleCreds(dir, RoleAnalyst))
		for _, verb := range []string{proto.APIJobSubmit, proto.APIDatasetCommit, proto.APIDatasetList, proto.APIScheduleCreate} {
			a.request(t, api(RoleAnalyst, verb))
			a.denied(t, api(RoleAdmin, verb))
			a.denied(t, proto.APIPrefix+verb)
		}
		a.denied(t, proto.WorkerStepSubject("w1"))
		a.denied(t, proto.WorkerHelloSubject("w1"))
		a.denied(t, proto.WorkerControlSubject("w1"))
		a.denied(t, api(RoleAnalyst, proto.APIAddVoter))
		a.denied(t, api(RoleAnalyst, proto.APIRemoveVoter))
		a.denied(t, "mathcrm.coord.c1.api."+proto.APIJobSubmit)
		as, err := store.Open(ctx, a.Conn, 1)
		if err != nil {
			t.Fatalf("analyst opens the object store: %v", err)
		}
		if _, err := as.Put(ctx, proto.BucketShards, "ds/2/shard-0", []byte("import")); err != nil {
			t.Fatalf("analyst imports a shard: %v", err)
		}
		if b, err := as.Get(ctx, shard); err != nil || string(b) != "rows" {
			t.Fatalf("analyst exports a shard: %q %v", b, err)
		}
	})

	t.Run("admin", func(t *testing.T) {
		ad := mustDial(t, url, roleCreds(dir, RoleAdmin))
		for verb := range proto.APIAccess {
			ad.request(t, api(RoleAdmin, verb))
		}
		w := mustDial(t, url, roleCreds(dir, RoleWorker))
		respond(t, w, proto.WorkerControlSubject("w2"))
		ad.request(t, proto.WorkerControlSubject("w2"))
	})

	t.Run("refused", func(t *testing.T) {
		good := roleCreds(dir, RoleAdmin)
		other := initDir(t)
		for _, tc := range []struct {
			name string
			url  string
			c    creds
			want string
		}{
			{"no nkey", url, creds{ca: good.ca, cert: good.cert, key: good.key}, "authorization violation"},
			{"an nkey the server does not know", url, creds{ca: good.ca, cert: good.cert, key: good.key, seed: roleCreds(other, RoleAdmin).seed}, "authorization violation"},
			{"no client certificate", url, creds{ca: good.ca, seed: good.seed}, "tls"},
			{"certificate of another CA", url, creds{ca: good.ca, cert: roleCreds(other, RoleAdmin).cert, key: roleCreds(other, RoleAdmin).key, seed: good.seed}, "tls"},
			{"server not trusted", url, creds{ca: roleCreds(other, RoleAdmin).ca, cert: good.cert, key: good.key, seed: good.seed}, "certificate signed by unknown authority"},
		} {
			nc, err := dial(tc.url, tc.c)
			if err == nil {
				nc.Close()
				t.Errorf("%s: connected", tc.name)
				continue
			}
			if !strings.Contains(strings.ToLower(err.Error()), tc.want) {
				t.Errorf("%s: %v, want it to say %q", tc.name, err, tc.want)
			}
			t.Logf("%s: refused: %v", tc.name, err)
		}
		plainRefused(t, s.Addr().String())
	})
}

// inboxRefused checks that viewer v cannot read the replies sent to the
// role of other: its subscriptions to every inbox and to other's are
// refused with a permissions violation, and other's reply (a coordinator's
// answer, customer rows in real life) reaches other and not v.
func inboxRefused(t *testing.T, v *conn, other creds, url string) {
	t.Helper()
	got := make(chan string, 4)
	for _, subj := range []string{"_INBOX.>", InboxPrefix(other.role) + ".>", InboxPrefix(RoleCoordinator) + ".>", InboxPrefix(WorkerRole("w1")) + ".>"} {
		if _, err := v.Subscribe(subj, func(m *nats.Msg) { got <- m.Subject }); err != nil {
			t.Fatal(err)
		}
		_ = v.Flush()
		v.waitViolation(t, "Subscription to \""+subj+"\"")
	}
	o := mustDial(t, url, other)
	o.request(t, api(other.role, proto.APIDatasetList))
	if err := v.Flush(); err != nil {
		t.Fatal(err)
	}
	select {
	case subj := <-got:
		t.Fatalf("viewer read a reply to %s on %s", other.role, subj)
	default:
	}
	// A viewer that does not use its own inbox gets no answer at all; the
	// server says why.
	stray, err := dial(url, creds{ca: other.ca, cert: other.cert, key: other.key, seed: other.seed, role: RoleViewer})
	if err != nil {
		t.Fatal(err)
	}
	defer stray.Close()
	if _, err := stray.Request(api(other.role, proto.APIDatasetList), nil, 500*time.Millisecond); err == nil {
		t.Fatalf("%s answered in the viewer's inbox", other.role)
	}
	stray.waitViolation(t, "Subscription to \""+InboxPrefix(RoleViewer)+".")
}

// plainRefused speaks the NATS protocol in clear text, as a client without
// TLS would, and checks that the server never answers it.
func plainRefused(t *testing.T, addr string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 3*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(3 * time.Second))
	r := bufio.NewReader(c)
	info, err := r.ReadString('\n')
	if err != nil || !strings.Contains(info, `"tls_required":true`) {
		t.Fatalf("server INFO %q (%v) does not require TLS", info, err)
	}
	if _, err := c.Write([]byte("CONNECT {\"verbose\":false}\r\nPING\r\n")); err != nil {
		t.Fatal(err)
	}
	line, err := r.ReadString('\n')
	if strings.HasPrefix(line, "PONG") {
		t.Fatal("the server answered a client without TLS")
	}
	t.Logf("no TLS: refused: %q %v", line, err)
}
