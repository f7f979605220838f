package devcluster_test

import (
	"context"
	"encoding/json"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/mathcrm/mathcrm/coordinator"
	"github.com/mathcrm/mathcrm/internal/devcluster"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/internal/secrets"
)

// TestSecureWorkerCannotClaimAnotherID runs a dev cluster with secrets
// made for two workers, wa and wb, and has wa's credential try to speak
// for wb: a hello, heartbeat or goodbye on wb's subjects is refused by the
// NATS server, and one on wa's own subjects whose body names wb is refused
// by the coordinator (wb neither joins nor leaves by it), while each
// worker's own hello and goodbye work.
func TestSecureWorkerCannotClaimAnotherID(t *testing.T) {
	dir := initSecrets(t, "wa", "wb")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := devcluster.Start(ctx, devcluster.Config{
		DataDir: t.TempDir(), Workers: 0, NATSListen: "127.0.0.1:0", Logger: testLogger(t), Secrets: dir,
		// Heartbeats that stop leave a worker listed for a minute: only a
		// hello or a goodbye changes the list while the test runs.
		Coordinator: func(cfg *coordinator.Config) { cfg.FastRaft = true; cfg.HeartbeatTTL = time.Minute },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	admin := dialRole(t, c, dir, secrets.RoleAdmin)
	workers := func() []string {
		t.Helper()
		var st proto.ClusterStatus
		if err := admin.Call(ctx, proto.APIClusterStatus, nil, &st); err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, w := range st.Workers {
			ids = append(ids, w.ID)
		}
		slices.Sort(ids)
		return ids
	}
	waitWorkers := func(want ...string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			got := workers()
			if slices.Equal(got, want) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("workers %v, want %v", got, want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	// stays checks that the list is want and stays so a while: long
	// enough for the coordinator to have handled what was published
	// before (a later message from the same connection comes after it).
	stays := func(want ...string) {
		t.Helper()
		for range 10 {
			if got := workers(); !slices.Equal(got, want) {
				t.Fatalf("workers %v, want %v", got, want)
			}
			time.Sleep(30 * time.Millisecond)
		}
	}
	hello := func(id string) []byte {
		b, _ := json.Marshal(proto.Hello{V: proto.Version, ID: id, Host: "h", PID: os.Getpid(), Capacity: 1})
		return b
	}
	wa := connectAs(t, c, dir, secrets.WorkerRole("wa"))
	wb := connectAs(t, c, dir, secrets.WorkerRole("wb"))
	publish := func(v *violations, subject string, body []byte) {
		t.Helper()
		if err := v.Publish(subject, body); err != nil {
			t.Fatal(err)
		}
		if err := v.Flush(); err != nil {
			t.Fatal(err)
		}
	}

	waitWorkers()
	// On wb's subjects: refused by the server.
	for _, subj := range []string{proto.WorkerHelloSubject("wb"), proto.WorkerHeartbeatSubject("wb"), proto.WorkerByeSubject("wb")} {
		wa.forge(t, "wa's message on "+subj, subj)
	}
	// On wa's own subjects, claiming wb: refused by the coordinator.
	publish(wa, proto.WorkerHelloSubject("wa"), hello("wb"))
	publish(wa, proto.WorkerHeartbeatSubject("wa"), hello("wb"))
	stays()
	// Its own hello works.
	publish(wa, proto.WorkerHelloSubject("wa"), hello("wa"))
	waitWorkers("wa")
	publish(wb, proto.WorkerHelloSubject("wb"), hello("wb"))
	waitWorkers("wa", "wb")
	// wa's goodbye for wb: wb stays.
	publish(wa, proto.WorkerByeSubject("wa"), hello("wb"))
	stays("wa", "wb")
	// wb's own goodbye removes it.
	publish(wb, proto.WorkerByeSubject("wb"), hello("wb"))
	waitWorkers("wa")
}
