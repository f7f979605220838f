package devcluster_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mathcrm/mathcrm/coordinator"
	"github.com/mathcrm/mathcrm/internal/client"
	"github.com/mathcrm/mathcrm/internal/creds"
	"github.com/mathcrm/mathcrm/internal/devcluster"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/internal/secrets"
	"github.com/mathcrm/mathcrm/internal/testutil"
	"github.com/mathcrm/mathcrm/partition"
	"github.com/mathcrm/mathcrm/worker"
	"github.com/nats-io/nats.go"
)

// initSecrets writes the secrets of a cluster (with per-worker
// credentials for workers, if any) and returns their folder.
func initSecrets(t *testing.T, workers ...string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "secrets")
	scfg := secrets.DefaultConfig()
	scfg.StoreDir = filepath.Join(t.TempDir(), "js")
	scfg.Workers = workers
	if err := secrets.Init(dir, scfg, false, time.Now()); err != nil {
		t.Fatal(err)
	}
	return dir
}

// dialRole is a client of c on role's credentials from dir.
func dialRole(t *testing.T, c *devcluster.Cluster, dir, role string) *client.Client {
	t.Helper()
	s, err := creds.Load(creds.Secrets(dir, role))
	if err != nil {
		t.Fatal(err)
	}
	cl, err := client.Dial(c.URL, s.NATS()...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// violations is a connection whose permission violations are kept.
type violations struct {
	*nats.Conn
	errs chan error
}

func connectAs(t *testing.T, c *devcluster.Cluster, dir, role string) *violations {
	t.Helper()
	s, err := creds.Load(creds.Secrets(dir, role))
	if err != nil {
		t.Fatal(err)
	}
	v := &violations{errs: make(chan error, 16)}
	v.Conn, err = s.Connect(c.URL, nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
		if errors.Is(err, nats.ErrPermissionViolation) {
			v.errs <- err
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v.Close)
	return v
}

// forge publishes on subject and expects the server's refusal naming it.
func (v *violations) forge(t *testing.T, what, subject string) {
	t.Helper()
	if err := v.Publish(subject, []byte(`{"v":1,"id":"dev-w1"}`)); err != nil {
		t.Fatal(err)
	}
	_ = v.Flush()
	err := testutil.WaitEvent(t, v.errs, 5*time.Second, "refusal of "+what)
	if !strings.Contains(err.Error(), `Publish to "`+subject+`"`) {
		t.Fatalf("%s: %v", what, err)
	}
}

// TestSecureDevRefusesForgery runs a dev cluster with secrets and tries,
// in each role but the right one, what an intruder on the NATS port would:
// forge a worker's heartbeat or a step's partial, send a step, submit a job.
func TestSecureDevRefusesForgery(t *testing.T) {
	dir := initSecrets(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := devcluster.Start(ctx, devcluster.Config{
		DataDir: t.TempDir(), Workers: 2, NATSListen: "127.0.0.1:0", Logger: testLogger(t), Secrets: dir,
		Coordinator: func(cfg *coordinator.Config) { cfg.FastRaft = true },
		Worker:      func(cfg *worker.Config) { cfg.Heartbeat = 100 * time.Millisecond },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if !strings.HasPrefix(c.URL, "tls://") {
		t.Fatalf("URL %s", c.URL)
	}

	analyst := connectAs(t, c, dir, secrets.RoleAnalyst)
	analyst.forge(t, "an analyst's heartbeat", proto.WorkerHeartbeatSubject("dev-w1"))
	analyst.forge(t, "an analyst's hello", proto.WorkerHelloSubject("dev-w1"))
	analyst.forge(t, "an analyst's partial", "_INBOX.forged.partial")
	analyst.forge(t, "an analyst's step", proto.WorkerStepSubject("dev-w1"))
	w := connectAs(t, c, dir, secrets.RoleWorker)
	// A worker answers only the requests it was sent.
	w.forge(t, "a worker's partial to no request", "_INBOX.forged.partial")
	w.forge(t, "a worker's step", proto.WorkerStepSubject("dev-w2"))
	w.forge(t, "a worker's job submission", proto.APISubject(secrets.RoleWorker, proto.APIJobSubmit))
	w.forge(t, "a worker's job submission as an analyst", proto.APISubject(secrets.RoleAnalyst, proto.APIJobSubmit))
	analyst.forge(t, "an analyst's job submission as the admin", proto.APISubject(secrets.RoleAdmin, proto.APIJobSubmit))
	analyst.forge(t, "an analyst's job submission without a role", proto.APIPrefix+proto.APIJobSubmit)

	// Through the client, a refused call fails at once with the reason.
	for _, role := range []string{secrets.RoleViewer, secrets.RoleWorker} {
		s, err := creds.Load(creds.Secrets(dir, role))
		if err != nil {
			t.Fatal(err)
		}
		cl, err := client.Dial(c.URL, s.NATS()...)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		err = cl.Call(ctx, proto.APIJobSubmit, testutil.KMeansSpec("none", "random", 1), nil)
		cl.Close()
		if !errors.Is(err, client.ErrRefused) || !strings.Contains(err.Error(), `Publish to "mathcrm.api.`+role+`.job.submit"`) {
			t.Fatalf("%s submits a job: %v", role, err)
		}
		if took := time.Since(start); took > client.ReadAttemptTimeout {
			t.Errorf("%s: the refusal took %v", role, took)
		}
	}
	// No role reads another's answers: a viewer's subscription to the
	// analyst's inbox, or to every inbox, is refused.
	viewer := connectAs(t, c, dir, secrets.RoleViewer)
	for _, subj := range []string{proto.InboxPrefix(secrets.RoleAnalyst) + ".>", "_INBOX.>"} {
		if _, err := viewer.Subscribe(subj, func(*nats.Msg) { t.Errorf("the viewer read an answer on %s", subj) }); err != nil {
			t.Fatal(err)
		}
		_ = viewer.Flush()
		err := testutil.WaitEvent(t, viewer.errs, 5*time.Second, "refusal of "+subj)
		if !strings.Contains(err.Error(), `Subscription to "`+subj+`"`) {
			t.Fatalf("subscribe %s: %v", subj, err)
		}
	}
	// Credentials of two roles (one's nkey, another's certificate) take
	// answers in an inbox the server refuses them: a call fails at once,
	// saying so.
	mixed, err := creds.Load(creds.Files{CA: filepath.Join(dir, secrets.FileCA), Creds: filepath.Join(dir, secrets.CredsFile(secrets.RoleAnalyst)),
		Cert: filepath.Join(dir, secrets.CertFile(secrets.RoleViewer)), Key: filepath.Join(dir, secrets.KeyFile(secrets.RoleViewer))})
	if err != nil {
		t.Fatal(err)
	}
	mc, err := client.Dial(c.URL, mixed.NATS()...)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = mc.Call(ctx, proto.APIDatasetList, nil, nil)
	mc.Close()
	if !errors.Is(err, client.ErrRefused) || !strings.Contains(err.Error(), `Subscription to "_INBOX.mathcrm.viewer.`) {
		t.Fatalf("a call on mixed credentials: %v", err)
	}
	if took := time.Since(start); took > client.ReadAttemptTimeout {
		t.Errorf("the refusal of the inbox took %v", took)
	}
	t.Logf("mixed credentials: %v", err)

	// The cluster's own roles work: the workers heartbeat in theirs.
	s, _ := creds.Load(creds.Secrets(dir, secrets.RoleViewer))
	cl, err := client.Dial(c.URL, s.NATS()...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	testutil.WaitFor(t, 10*time.Second, 50*time.Millisecond, func() error {
		var st proto.ClusterStatus
		if err := cl.Call(ctx, proto.APIClusterStatus, nil, &st); err != nil {
			return err
		}
		if len(st.Workers) != 2 {
			return errors.New("the workers are not both alive")
		}
		return nil
	})
}

// TestSecureDevRoleJobLimit bounds the analyst's active jobs and checks
// that the coordinator counts them by the role the NATS server let publish
// the request, whatever the request says.
func TestSecureDevRoleJobLimit(t *testing.T) {
	dir := initSecrets(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// No workers: a job stays active, waiting for one, as long as the test
	// needs.
	c, err := devcluster.Start(ctx, devcluster.Config{
		DataDir: t.TempDir(), Workers: 0, NATSListen: "127.0.0.1:0", Logger: testLogger(t), Secrets: dir,
		Coordinator: func(cfg *coordinator.Config) {
			cfg.FastRaft = true
			cfg.ActiveJobs = map[string]int{secrets.RoleAnalyst: 2, secrets.RoleAdmin: 1}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	dial := func(role string) *client.Client {
		cl := dialRole(t, c, dir, role)
		if cl.Role() != role {
			t.Fatalf("a client on %s's credentials calls as %s", role, cl.Role())
		}
		return cl
	}
	analyst, admin := dial(secrets.RoleAnalyst), dial(secrets.RoleAdmin)
	csv := filepath.Join(t.TempDir(), "c.csv")
	testutil.GenCustomers(t, csv, 200, 1)
	if _, err := analyst.Import(ctx, "c", csv, client.ImportOptions{Kind: proto.KindFeatures,
		Options: partition.Options{Key: "customer_id", Columns: []string{"tenure", "monthly", "total"}, Shards: 2, TempDir: t.TempDir()}}); err != nil {
		t.Fatal(err)
	}
	spec := testutil.KMeansSpec("c", "random", 1)
	var jobs []*proto.Job
	for range 2 {
		j, err := analyst.Submit(ctx, spec)
		if err != nil {
			t.Fatal(err)
		}
		if j.Role != secrets.RoleAnalyst {
			t.Fatalf("job %s recorded as the %q's", j.ID, j.Role)
		}
		jobs = append(jobs, j)
	}
	// The admin's bound is its own: the analyst's jobs do not count.
	first, err := admin.Submit(ctx, spec)
	if err != nil {
		t.Fatalf("the admin submits beside the analyst's jobs: %v", err)
	}
	refused := func(cl *client.Client, role string, limit int, ids ...string) {
		t.Helper()
		_, err := cl.Submit(ctx, spec)
		var api *client.APIError
		if !errors.As(err, &api) || api.Code != "limit" {
			t.Fatalf("%s past its bound: %v", role, err)
		}
		want := fmt.Sprintf("role %s may have %d active jobs (queued or running) and has %d: ", role, limit, len(ids))
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("refusal %q does not say %q", err, want)
		}
		for _, id := range ids {
			if !strings.Contains(err.Error(), id+" (queued)") && !strings.Contains(err.Error(), id+" (running)") {
				t.Fatalf("refusal %q does not name %s", err, id)
			}
		}
		t.Logf("%s refused: %v", role, err)
	}
	refused(analyst, secrets.RoleAnalyst, 2, jobs[0].ID, jobs[1].ID)
	refused(admin, secrets.RoleAdmin, 1, first.ID)
	// A retried submit is the job it made, not one more.
	if j, err := analyst.Submit(ctx, jobs[1].Spec); err != nil || j.ID != jobs[1].ID {
		t.Fatalf("retried submit: %v %v", j, err)
	}
	// A job that ends frees its place.
	if err := analyst.Call(ctx, proto.APIJobCancel, proto.Named{Name: jobs[0].ID}, nil); err != nil {
		t.Fatal(err)
	}
	third, err := analyst.Submit(ctx, spec)
	if err != nil {
		t.Fatalf("after a cancel: %v", err)
	}
	refused(analyst, secrets.RoleAnalyst, 2, jobs[1].ID, third.ID)
}
