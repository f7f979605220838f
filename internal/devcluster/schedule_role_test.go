package devcluster_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mathcrm/mathcrm/coordinator"
	"github.com/mathcrm/mathcrm/internal/client"
	"github.com/mathcrm/mathcrm/internal/devcluster"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/internal/secrets"
	"github.com/mathcrm/mathcrm/internal/testutil"
)

// TestSecureScheduleRunsCountForItsCreator runs a dev cluster with secrets
// and an analyst's bound of one active job. With the analyst at its bound
// (a job queued while no worker is there), a run of a schedule the analyst
// created is refused once: one run in the history, failed with the bound's
// message, no retry although the schedule allows three, and no job. The
// admin's schedule on the same model runs: its job is the admin's.
func TestSecureScheduleRunsCountForItsCreator(t *testing.T) {
	dir := initSecrets(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := devcluster.Start(ctx, devcluster.Config{
		DataDir: t.TempDir(), Workers: 1, NATSListen: "127.0.0.1:0", Logger: testLogger(t), Secrets: dir,
		Coordinator: func(cfg *coordinator.Config) {
			cfg.FastRaft = true
			cfg.ScheduleCheck = 20 * time.Millisecond
			cfg.ActiveJobs = map[string]int{secrets.RoleAnalyst: 1}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	analyst, admin := dialRole(t, c, dir, secrets.RoleAnalyst), dialRole(t, c, dir, secrets.RoleAdmin)
	csv := filepath.Join(t.TempDir(), "c.csv")
	testutil.GenCustomers(t, csv, 200, 1)
	importCSV(t, analyst, "c", csv, 2)
	trained := waitJob(t, analyst, submit(t, analyst, testutil.KMeansSpec("c", "random", 2)))

	// No worker from here on: a job stays queued.
	for _, id := range c.Workers() {
		if err := c.KillWorker(id); err != nil {
			t.Fatal(err)
		}
	}
	queued := submit(t, analyst, testutil.KMeansSpec("c", "random", 1))
	never := "0 0 1 1 *" // only run-now fires these
	for cl, name := range map[*client.Client]string{analyst: "analysts", admin: "admins"} {
		schedCall(t, cl, proto.APIScheduleCreate, proto.ScheduleSpec{Name: name, Cron: never, Model: trained.Model,
			Dataset: "c", Retries: 3, BackoffSeconds: 0.05}, nil)
	}
	var sc proto.Schedule
	schedCall(t, admin, proto.APIScheduleShow, proto.Named{Name: "analysts"}, &sc)
	if sc.Role != secrets.RoleAnalyst {
		t.Fatalf("the analyst's schedule is recorded as the %q's", sc.Role)
	}

	var run proto.ScheduleRun
	schedCall(t, analyst, proto.APIScheduleRunNow, proto.RunNow{Name: "analysts", RequestID: "r-1"}, &run)
	run = schedRun(t, analyst, "analysts", run.ScheduledFor, runEnded)
	want := "role analyst may have 1 active jobs (queued or running) and has 1: " + queued
	if run.State != proto.JobFailed || !strings.Contains(run.Reason, "limit reached") || !strings.Contains(run.Reason, want) {
		t.Fatalf("run past the analyst's bound: %+v, want it failed saying %q", run, want)
	}
	t.Logf("refused: %s", run.Reason)
	// Long enough for three retries of 50 ms backoff, were there any.
	time.Sleep(500 * time.Millisecond)
	runs := schedRuns(t, analyst, "analysts")
	if len(runs) != 1 || runs[0].Attempt != 1 || runs[0].State != proto.JobFailed {
		t.Fatalf("history after one refused run: %+v", runs)
	}
	if jobs := schedJobs(t, analyst, "analysts", run.ScheduledFor); len(jobs) != 0 {
		t.Fatalf("the refused run made jobs: %+v", jobs)
	}

	// The admin's schedule is the admin's: it runs beside the analyst's job.
	schedCall(t, admin, proto.APIScheduleRunNow, proto.RunNow{Name: "admins", RequestID: "r-2"}, &run)
	deadline := time.Now().Add(30 * time.Second)
	for {
		jobs := schedJobs(t, admin, "admins", run.ScheduledFor)
		if len(jobs) == 1 {
			if jobs[0].Role != secrets.RoleAdmin {
				t.Fatalf("the admin's scheduled job is the %q's", jobs[0].Role)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the admin's run made jobs %+v; history %+v", jobs, schedRuns(t, admin, "admins"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}
