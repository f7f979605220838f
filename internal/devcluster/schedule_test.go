package devcluster_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mathcrm/mathcrm/coordinator"
	"github.com/mathcrm/mathcrm/internal/client"
	"github.com/mathcrm/mathcrm/internal/devcluster"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/internal/testutil"
	"github.com/mathcrm/mathcrm/partition"
	"github.com/mathcrm/mathcrm/worker"
)

// schedClock is the clock the cluster's schedules fire by: the test moves
// it to a window instead of waiting a minute for one.
type schedClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *schedClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *schedClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// startScheduleCluster starts a dev cluster whose schedules fire by clock,
// checked every 20ms, with a grace of 10s for late windows.
func startScheduleCluster(t *testing.T, dir string, clock *schedClock) *devcluster.Cluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := devcluster.Start(ctx, devcluster.Config{
		DataDir: dir, Workers: 2, NATSListen: "127.0.0.1:0", Logger: testLogger(t),
		Coordinator: func(cfg *coordinator.Config) {
			cfg.FastRaft, cfg.HeartbeatTTL, cfg.StepTimeout = true, time.Second, 30*time.Second
			cfg.SnapshotThreshold, cfg.SnapshotInterval = 8, 100*time.Millisecond
			cfg.ScheduleClock, cfg.ScheduleCheck, cfg.ScheduleGrace = clock.Now, 20*time.Millisecond, 10*time.Second
		},
		Worker: func(cfg *worker.Config) { cfg.Heartbeat = 100 * time.Millisecond },
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func schedCall(t *testing.T, cl *client.Client, api string, in, out any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := cl.Call(ctx, api, in, out); err != nil {
		t.Fatalf("%s: %v", api, err)
	}
}

func schedRuns(t *testing.T, cl *client.Client, name string) []proto.ScheduleRun {
	t.Helper()
	var runs []proto.ScheduleRun
	schedCall(t, cl, proto.APIScheduleRuns, proto.Named{Name: name}, &runs)
	return runs
}

// schedRun waits until the history holds an entry for at that cond accepts.
func schedRun(t *testing.T, cl *client.Client, name string, at time.Time, cond func(proto.ScheduleRun) bool) proto.ScheduleRun {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		for _, r := range schedRuns(t, cl, name) {
			if r.ScheduledFor.Equal(at) && cond(r) {
				return r
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("schedule %s: no run for %s as expected; history %+v", name, at, schedRuns(t, cl, name))
	return proto.ScheduleRun{}
}

func runEnded(r proto.ScheduleRun) bool { return r.State != proto.JobRunning }

// schedJobs lists the jobs a run submitted, from their specs.
func schedJobs(t *testing.T, cl *client.Client, name string, at time.Time) []proto.Job {
	t.Helper()
	var all, out []proto.Job
	schedCall(t, cl, proto.APIJobList, nil, &all)
	for _, j := range all {
		if j.Spec.Schedule == name && j.Spec.ScheduledFor.Equal(at) {
			out = append(out, j)
		}
	}
	return out
}

var schedT0 = time.Date(2026, 11, 23, 10, 0, 30, 0, time.UTC)

func TestScheduleRetrainsAndScoresOnItsWindows(t *testing.T) {
	dir := t.TempDir()
	csv := filepath.Join(dir, "customers.csv")
	testutil.GenCustomers(t, csv, 3000, 21)
	clock := &schedClock{t: schedT0}
	c := startScheduleCluster(t, filepath.Join(dir, "cluster"), clock)
	defer c.Close()
	cl := dial(t, c)
	importCSV(t, cl, "customers", csv, 8)
	orig, origModel := train(t, cl, testutil.KMeansSpec("customers", "kmeans||", 8))

	var info proto.ScheduleInfo
	schedCall(t, cl, proto.APIScheduleCreate, proto.ScheduleSpec{Name: "segments", Cron: "* * * * *", Model: orig.Model,
		Dataset: "customers", Retrain: true, Retries: 1}, &info)
	w1 := schedT0.Truncate(time.Minute).Add(time.Minute)
	if !info.Next.Equal(w1) || info.CatchUp != proto.CatchUpRunOnce || info.ID == "" {
		t.Fatalf("created: %+v", info)
	}
	clock.Set(w1.Add(-time.Millisecond))
	time.Sleep(200 * time.Millisecond)
	if runs := schedRuns(t, cl, "segments"); len(runs) != 0 {
		t.Fatalf("fired before its window: %+v", runs)
	}

	clock.Set(w1)
	run := schedRun(t, cl, "segments", w1, runEnded)
	if run.State != proto.JobSucceeded {
		t.Fatalf("run: %+v", run)
	}
	jobs := schedJobs(t, cl, "segments", w1)
	if len(jobs) != 2 || jobs[0].Spec.Algo != "kmeans" || jobs[1].Spec.Algo != "score" {
		t.Fatalf("jobs of the run: %+v", jobs)
	}
	// Retraining the model's own spec on the same data gives the same model, bit for bit.
	if run.Model != jobs[0].Model || run.Model == orig.Model {
		t.Fatalf("run model %s, retrain made %s, original %s", run.Model, jobs[0].Model, orig.Model)
	}
	testutil.SameKMeans(t, origModel, model(t, cl, run.Model))
	var ss proto.ScoreSet
	schedCall(t, cl, proto.APIScoresShow, proto.NamedVersion{Name: "segments"}, &ss)
	if run.Output != fmt.Sprintf("segments:%d", ss.Version) || run.Rows != ss.Rows || ss.Rows == 0 || ss.Model != run.Model ||
		run.DatasetVersion != 1 || run.Trigger != proto.TriggerCron || run.Attempt != 1 {
		t.Fatalf("run %+v, score set %+v", run, ss)
	}

	// The history in JSON has the keys the CLI documents.
	var raw []map[string]any
	schedCall(t, cl, proto.APIScheduleRuns, proto.Named{Name: "segments"}, &raw)
	for _, key := range []string{"scheduled_for", "started", "finished", "state", "dataset_version", "model", "rows"} {
		if _, ok := raw[0][key]; !ok {
			t.Fatalf("run JSON has no %q: %v", key, raw[0])
		}
	}
	for _, key := range []string{"scheduled_for", "started", "finished"} {
		if _, err := time.Parse(time.RFC3339, raw[0][key].(string)); err != nil {
			t.Fatalf("%s: %v", key, err)
		}
	}

	// New data: the next window scores and retrains on the new version.
	importCSV(t, cl, "customers", csv, 8)
	clock.Set(w1.Add(time.Minute))
	run = schedRun(t, cl, "segments", w1.Add(time.Minute), runEnded)
	if run.State != proto.JobSucceeded || run.DatasetVersion != 2 || run.TrainDatasetVersion != 2 {
		t.Fatalf("second run: %+v", run)
	}

	// run-now goes through the same path.
	clock.Set(w1.Add(75 * time.Second))
	var manual proto.ScheduleRun
	schedCall(t, cl, proto.APIScheduleRunNow, proto.RunNow{Name: "segments", RequestID: "r-1"}, &manual)
	manual = schedRun(t, cl, "segments", manual.ScheduledFor, runEnded)
	if manual.State != proto.JobSucceeded || manual.Trigger != proto.TriggerManual || manual.Output != "segments:3" {
		t.Fatalf("manual run: %+v", manual)
	}
	if runs := schedRuns(t, cl, "segments"); len(runs) != 3 {
		t.Fatalf("history: %+v", runs)
	}
}

func TestScheduleRetriesKeepsFiringAndSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	csv := filepath.Join(dir, "customers.csv")
	testutil.GenCustomers(t, csv, 2000, 22)
	data := filepath.Join(dir, "cluster")
	clock := &schedClock{t: schedT0}
	c := startScheduleCluster(t, data, clock)
	cl := dial(t, c)
	importCSV(t, cl, "customers", csv, 4)
	orig, _ := train(t, cl, testutil.KMeansSpec("customers", "kmeans||", 3))
	for _, s := range []proto.ScheduleSpec{
		{Name: "fragile", Cron: "* * * * *", Model: orig.Model, Dataset: "customers", Retrain: true, Retries: 2, BackoffSeconds: 10},
		{Name: "quiet", Cron: "*/5 * * * *", Model: orig.Model, Dataset: "customers", Retrain: true, CatchUp: proto.CatchUpSkip},
	} {
		schedCall(t, cl, proto.APIScheduleCreate, s, nil)
	}
	// Then the data's schema changes: the latest version lacks a column the
	// model needs, so every retrain is refused, and no retry can change that.
	bad := filepath.Join(dir, "bad.csv")
	if err := os.WriteFile(bad, []byte("customer_id,tenure,monthly\nA,1,2\nB,3,4\nC,5,6\nD,7,8\nE,9,1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Import(context.Background(), "customers", bad, client.ImportOptions{Kind: "features", Replace: true,
		Options: partition.Options{Key: "customer_id", Shards: 2, TempDir: t.TempDir()}}); err != nil {
		t.Fatal(err)
	}

	// 10:01: the run fails at its first attempt, with the reason, despite
	// its two retries.
	w1 := time.Date(2026, 11, 23, 10, 1, 0, 0, time.UTC)
	failAll := func(at time.Time) proto.ScheduleRun {
		t.Helper()
		clock.Set(at)
		return schedRun(t, cl, "fragile", at, runEnded)
	}
	run := failAll(w1)
	if run.State != proto.JobFailed || run.Attempt != 1 || !strings.HasPrefix(run.Reason, "attempt 1: retrain: coordinator: invalid request: ") ||
		!strings.Contains(run.Reason, `no column "total"`) || len(run.Jobs) != 0 || run.TrainDatasetVersion != 2 {
		t.Fatalf("failed run: %+v", run)
	}
	// A later window is not blocked by it.
	if run := failAll(w1.Add(time.Minute)); run.State != proto.JobFailed {
		t.Fatalf("second run: %+v", run)
	}
	before := map[string][]proto.ScheduleRun{"fragile": schedRuns(t, cl, "fragile"), "quiet": schedRuns(t, cl, "quiet")}
	if len(before["fragile"]) != 2 || len(before["quiet"]) != 0 {
		t.Fatalf("history before the restart: %+v", before)
	}
	cl.Close()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}

	// The whole cluster was down from 10:02:30 to 10:17:30: windows 10:03 to
	// 10:17 of fragile (run-once) and 10:05 to 10:15 of quiet (skip) were missed.
	clock.Set(time.Date(2026, 11, 23, 10, 17, 30, 0, time.UTC))
	c = startScheduleCluster(t, data, clock)
	defer c.Close()
	cl = dial(t, c)
	latest := time.Date(2026, 11, 23, 10, 17, 0, 0, time.UTC)
	catchUp := schedRun(t, cl, "fragile", latest, func(proto.ScheduleRun) bool { return true })
	if catchUp.Trigger != proto.TriggerCatchUp {
		t.Fatalf("catch-up run: %+v", catchUp)
	}
	skipped := schedRun(t, cl, "quiet", time.Date(2026, 11, 23, 10, 15, 0, 0, time.UTC), func(proto.ScheduleRun) bool { return true })
	if skipped.State != proto.RunSkipped || skipped.Missed != 3 || !skipped.FirstMissed.Equal(time.Date(2026, 11, 23, 10, 5, 0, 0, time.UTC)) {
		t.Fatalf("skipped windows of quiet: %+v", skipped)
	}
	after := schedRuns(t, cl, "fragile")
	if !reflect.DeepEqual(after[:2], before["fragile"]) {
		t.Fatalf("history changed across the restart:\n before %+v\n after  %+v", before["fragile"], after[:2])
	}
	if len(after) != 4 || after[2].State != proto.RunSkipped || after[2].Missed != 14 {
		t.Fatalf("fragile after the restart: %+v", after)
	}
	var list []proto.ScheduleInfo
	schedCall(t, cl, proto.APIScheduleList, nil, &list)
	if len(list) != 2 || list[0].Name != "fragile" || list[1].Name != "quiet" || list[1].CatchUp != proto.CatchUpSkip {
		t.Fatalf("schedules after the restart: %+v", list)
	}
	if b, _ := json.Marshal(list[1].Next); string(b) != `"2026-11-23T10:20:00Z"` {
		t.Fatalf("quiet's next window: %s", b)
	}

	// Paused, a schedule does not fire; resumed, it fires from its next window.
	schedCall(t, cl, proto.APISchedulePause, proto.Named{Name: "quiet"}, nil)
	clock.Set(time.Date(2026, 11, 23, 10, 20, 0, 0, time.UTC))
	time.Sleep(200 * time.Millisecond)
	if n := len(schedRuns(t, cl, "quiet")); n != 1 {
		t.Fatalf("a paused schedule fired: %d entries", n)
	}
	schedCall(t, cl, proto.APIScheduleResume, proto.Named{Name: "quiet"}, &list[1])
	if want := time.Date(2026, 11, 23, 10, 25, 0, 0, time.UTC); !list[1].Next.Equal(want) {
		t.Fatalf("resumed; next window %v, want %v", list[1].Next, want)
	}
	schedCall(t, cl, proto.APIScheduleDelete, proto.Named{Name: "quiet"}, nil)
	if err := cl.Call(context.Background(), proto.APIScheduleRuns, proto.Named{Name: "quiet"}, nil); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("runs of a deleted schedule: %v", err)
	}
}
