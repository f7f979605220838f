package secrets

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// TestResponsePermissions checks the generated configuration's response
// permissions as nats-server reads them: a worker answers a lookup or a
// drain once, within an expiry that outlasts the leader's default step
// timeout several times (a drain waits for the steps in flight), and
// answers steps on its own reply subject, which is granted without expiry:
// on a real server, a worker with its own credential answers one step
// request more times than a response permission would let it, while
// another worker's reply subject is refused to it.
func TestResponsePermissions(t *testing.T) {
	dir := initDir(t)
	opts, err := server.ProcessConfigFile(filepath.Join(dir, FileConf))
	if err != nil {
		t.Fatal(err)
	}
	const stepTimeout = 2 * time.Minute // coordinator.DefaultConfig().StepTimeout
	if ResponseExpiry < 10*stepTimeout {
		t.Fatalf("ResponseExpiry %v does not cover a drain of steps of %v", ResponseExpiry, stepTimeout)
	}
	workers := 0
	for _, u := range opts.Nkeys {
		p := u.Permissions
		if p == nil || p.Response == nil {
			continue
		}
		workers++
		if p.Response.MaxMsgs != 1 || p.Response.Expires != ResponseExpiry {
			t.Errorf("nkey %s: allow_responses %+v, want one answer within %v", u.Nkey, *p.Response, ResponseExpiry)
		}
	}
	if workers != 2 { // the shared worker and worker-w1
		t.Fatalf("%d users with response permissions, want the 2 workers", workers)
	}

	s := startServer(t, dir)
	url := s.ClientURL()
	coord := mustDial(t, url, roleCreds(dir, RoleCoordinator))
	w1 := mustDial(t, url, roleCreds(dir, WorkerRole("w1")))
	reply := proto.WorkerReplySubject("w1", "batch-1")
	answers := make(chan *nats.Msg, 8)
	if _, err := coord.ChanSubscribe(reply, answers); err != nil {
		t.Fatal(err)
	}
	if _, err := w1.Subscribe(proto.WorkerStepSubject("w1"), func(m *nats.Msg) {
		for range 3 { // one answer per shard of the batch
			_ = m.Respond([]byte("partial"))
		}
	}); err != nil {
		t.Fatal(err)
	}
	_ = w1.Flush()
	_ = coord.Flush()
	if err := coord.PublishRequest(proto.WorkerStepSubject("w1"), reply, []byte("steps")); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		select {
		case <-answers:
		case <-time.After(3 * time.Second):
			t.Fatalf("the coordinator got %d of the worker's 3 answers to one batch", i)
		}
	}
	w1.denied(t, proto.WorkerReplySubject("w2", "batch-1"))

	// A lookup is answered once: a second answer is refused.
	lookup := coord.NewRespInbox()
	got := make(chan *nats.Msg, 4)
	if _, err := coord.ChanSubscribe(lookup, got); err != nil {
		t.Fatal(err)
	}
	if _, err := w1.Subscribe(proto.WorkerLookupSubject("w1"), func(m *nats.Msg) {
		_ = m.Respond([]byte("rows"))
		_ = m.Respond([]byte("again"))
	}); err != nil {
		t.Fatal(err)
	}
	_ = w1.Flush()
	_ = coord.Flush()
	if err := coord.PublishRequest(proto.WorkerLookupSubject("w1"), lookup, []byte("key")); err != nil {
		t.Fatal(err)
	}
	w1.waitViolation(t, "Publish to \""+lookup+"\"")
	select {
	case m := <-got:
		if string(m.Data) != "rows" {
			t.Fatalf("lookup answered %q", m.Data)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("no answer to the lookup")
	}
	select {
	case m := <-got:
		t.Fatalf("a second answer to one lookup arrived: %q", m.Data)
	case <-time.After(200 * time.Millisecond):
	}
}
