package clustertest

import (
	"fmt"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/mathcrm/mathcrm/internal/client"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/internal/testutil"
)

// TestScheduleExactlyOnceLeaderKilledAtFiring kills the leader with SIGKILL
// at a schedule's window — at the window itself, before or while the leader
// fires it, and the moment the run is visible in raft, with its jobs
// submitted or not — and checks that the window ran exactly once: one
// history entry, one retraining job, one scoring job, one score set version.
func TestScheduleExactlyOnceLeaderKilledAtFiring(t *testing.T) {
	for _, kill := range []string{"at-window", "at-commit"} {
		t.Run(kill, func(t *testing.T) {
			t.Parallel()
			scheduleFailover(t, kill)
		})
	}
}

// scheduledCoordinators starts three coordinators whose schedules fire by a
// clock shifted by offset, checked every 50ms, and workers.
func scheduledCoordinators(t *testing.T, c *cluster, offset time.Duration, workers int) {
	t.Helper()
	for i, id := range []string{"c1", "c2", "c3"} {
		addr := freeAddr(t)
		args := []string{"coordinator", "--id", id, "--raft-addr", addr, "--data-dir", filepath.Join(c.dir, id),
			"--raft-heartbeat-timeout", "400ms", "--raft-election-timeout", "400ms", "--heartbeat-ttl", "1s", "-v",
			"--schedule-check", "50ms", "--schedule-clock-offset=" + offset.String()}
		if i == 0 {
			args = append(args, "--bootstrap")
		} else {
			args = append(args, "--join", c.raft["c1"])
		}
		c.raft[id] = addr
		c.coords[id] = c.start(id, args...)
		if i == 0 {
			cl := c.client()
			waitFor(t, "c1 to lead", time.Minute, func() bool {
				st, err := c.status(cl)
				return err == nil && st.Leader == "c1"
			})
		}
	}
	for i := 1; i <= workers; i++ {
		c.startWorker(fmt.Sprintf("w%d", i))
	}
	c.waitHealthy(c.client(), 3, workers)
}

func scheduleFailover(t *testing.T, kill string) {
	// The coordinators' clock reads 02:00 about 15s from now, when the
	// cluster is up and the model trained (a few seconds).
	started := time.Now()
	window := time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC)
	offset := window.Sub(started.Add(15 * time.Second)).Truncate(time.Millisecond)
	c := newCluster(t)
	scheduledCoordinators(t, c, offset, 2)
	cl := c.client()
	csv := filepath.Join(c.dir, "customers.csv")
	testutil.GenCustomers(t, csv, 4000, 31)
	c.importCustomers(cl, csv, 8)
	trained := waitJob(t, cl, submit(t, cl, testutil.KMeansSpec("customers", "kmeans||", 5)))
	setup := time.Since(started)

	// The window is the next whole minute at least 3s away on that clock
	// (02:00 unless the setup was slow).
	at := time.Now().Add(offset).Add(3 * time.Second).Truncate(time.Minute).Add(time.Minute)
	var info proto.ScheduleInfo
	call(t, cl, proto.APIScheduleCreate, proto.ScheduleSpec{Name: "nightly", Cron: fmt.Sprintf("%d %d * * *", at.Minute(), at.Hour()),
		Model: trained.Model, Dataset: "customers", Retrain: true, Retries: 0}, &info)
	if !info.Next.Equal(at) {
		t.Fatalf("next window %v, want %v", info.Next, at)
	}
	st, err := c.status(cl)
	if err != nil {
		t.Fatal(err)
	}
	leader := st.Leader
	fire := at.Add(-offset) // the window in real time

	switch kill {
	case "at-window":
		time.Sleep(time.Until(fire))
	case "at-commit":
		time.Sleep(time.Until(fire.Add(-time.Second)))
		waitFor(t, "the run to be committed", 30*time.Second, func() bool { return len(scheduleEntries(t, cl, at)) > 0 })
	}
	c.coords[leader].signal(t, syscall.SIGKILL)
	killed := time.Now().Add(offset)
	t.Logf("SIGKILL leader %s %v after the window (setup took %v)", leader, time.Since(fire), setup)

	var run proto.ScheduleRun
	waitFor(t, "the run to end", 2*time.Minute, func() bool {
		runs := scheduleEntries(t, cl, at)
		if len(runs) > 0 {
			run = runs[0]
		}
		return len(runs) > 0 && run.State != proto.JobRunning
	})
	if run.State != proto.JobSucceeded || run.Attempt != 1 || run.Trigger != proto.TriggerCron {
		t.Fatalf("run: %+v", run)
	}
	if kill == "at-commit" && !run.Started.Before(killed) {
		t.Fatalf("run started at %v, after the leader that committed it was killed at %v", run.Started, killed)
	}
	// Leave the new leader time to fire or submit anything twice, then count.
	time.Sleep(time.Second)
	if runs := scheduleEntries(t, cl, at); len(runs) != 1 {
		t.Fatalf("%d history entries for the window: %+v", len(runs), runs)
	}
	var hist proto.ScheduleInfo
	call(t, cl, proto.APIScheduleShow, proto.Named{Name: "nightly"}, &hist)
	if len(hist.Runs) != 1 {
		t.Fatalf("history: %+v", hist.Runs)
	}
	var jobs []proto.Job
	call(t, cl, proto.APIJobList, nil, &jobs)
	var train, score []proto.Job
	for _, j := range jobs {
		if j.Spec.Schedule != "nightly" {
			continue
		}
		if !j.Spec.ScheduledFor.Equal(at) {
			t.Fatalf("job %s of another window %v", j.ID, j.Spec.ScheduledFor)
		}
		switch j.Spec.Algo {
		case "kmeans":
			train = append(train, j)
		case "score":
			score = append(score, j)
		default:
			t.Fatalf("job %s: %s", j.ID, j.Spec.Algo)
		}
	}
	if len(train) != 1 || len(score) != 1 || train[0].State != proto.JobSucceeded || score[0].State != proto.JobSucceeded {
		t.Fatalf("jobs of the run: retrain %+v, score %+v", train, score)
	}
	var ss proto.ScoreSet
	call(t, cl, proto.APIScoresShow, proto.NamedVersion{Name: "nightly"}, &ss)
	if ss.Version != 1 || run.Output != "nightly:1" || run.Rows != ss.Rows || ss.Rows == 0 || run.Model != train[0].Model ||
		score[0].Spec.Scoring().Model != train[0].Model {
		t.Fatalf("run %+v; score set %+v", run, ss)
	}
	st, err = c.status(cl)
	if err != nil || st.Leader == leader || st.Leader == "" {
		t.Fatalf("leader after the kill: %q (%v)", st.Leader, err)
	}
	t.Logf("window %s ran once: jobs %s and %s, %d rows, on new leader %s", at.Format(time.RFC3339), train[0].ID, score[0].ID, run.Rows, st.Leader)
}

// scheduleEntries are the history entries of schedule nightly for at.
func scheduleEntries(t *testing.T, cl *client.Client, at time.Time) []proto.ScheduleRun {
	t.Helper()
	var runs, out []proto.ScheduleRun
	call(t, cl, proto.APIScheduleRuns, proto.Named{Name: "nightly"}, &runs)
	for _, r := range runs {
		if r.ScheduledFor.Equal(at) {
			out = append(out, r)
		}
	}
	return out
}
