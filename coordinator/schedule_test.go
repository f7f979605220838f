package coordinator

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"github.com/mathcrm/mathcrm/internal/cron"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/internal/testutil"
)

func TestPlanFiring(t *testing.T) {
	cs, err := cron.Parse("0 * * * *")
	if err != nil {
		t.Fatal(err)
	}
	grace := time.Minute
	base := proto.Schedule{ScheduleSpec: hourly("s"), ID: "sched-1", Since: w0.Add(-30 * time.Minute), LastScheduled: w0.Add(-time.Hour)}
	with := func(mod func(*proto.Schedule)) *proto.Schedule {
		s := base
		s.Runs = nil
		mod(&s)
		return &s
	}
	type want struct {
		start   string // trigger, "" for none
		startAt time.Time
		skip    int // windows skipped
		skipAt  time.Time
	}
	for _, c := range []struct {
		name string
		s    *proto.Schedule
		now  time.Time
		want want
	}{
		{"before the window", with(func(*proto.Schedule) {}), w0.Add(-time.Second), want{}},
		{"at the window", with(func(*proto.Schedule) {}), w0, want{start: proto.TriggerCron, startAt: w0}},
		{"within grace", with(func(*proto.Schedule) {}), w0.Add(grace), want{start: proto.TriggerCron, startAt: w0}},
		{"window already committed", with(func(s *proto.Schedule) { s.LastScheduled = w0 }), w0.Add(time.Second), want{}},
		{"paused", with(func(s *proto.Schedule) { s.Paused = true }), w0, want{}},
		{"resumed after the window", with(func(s *proto.Schedule) { s.Since = w0.Add(time.Second) }), w0.Add(2 * time.Second), want{}},
		{"new schedule: nothing before creation", with(func(s *proto.Schedule) { s.LastScheduled = time.Time{} }), w0.Add(-time.Minute), want{}},
		{"late, run-once", with(func(*proto.Schedule) {}), w0.Add(20 * time.Minute), want{start: proto.TriggerCatchUp, startAt: w0}},
		{"late, skip", with(func(s *proto.Schedule) { s.CatchUp = proto.CatchUpSkip }), w0.Add(20 * time.Minute), want{skip: 1, skipAt: w0}},
		{"down 5 windows, run-once", with(func(*proto.Schedule) {}), w0.Add(4*time.Hour + 30*time.Minute),
			want{start: proto.TriggerCatchUp, startAt: w0.Add(4 * time.Hour), skip: 4, skipAt: w0.Add(3 * time.Hour)}},
		{"down 5 windows, skip", with(func(s *proto.Schedule) { s.CatchUp = proto.CatchUpSkip }), w0.Add(4*time.Hour + 30*time.Minute),
			want{skip: 5, skipAt: w0.Add(4 * time.Hour)}},
		{"down, back just after a window", with(func(s *proto.Schedule) { s.CatchUp = proto.CatchUpSkip }), w0.Add(2*time.Hour + 10*time.Second),
			want{start: proto.TriggerCron, startAt: w0.Add(2 * time.Hour), skip: 2, skipAt: w0.Add(time.Hour)}},
		{"run in progress", with(func(s *proto.Schedule) {
			s.Runs = []proto.ScheduleRun{{ScheduledFor: w0.Add(-time.Hour), State: proto.JobRunning, Attempt: 1}}
		}), w0, want{skip: 1, skipAt: w0}},
		{"run waiting to retry", with(func(s *proto.Schedule) {
			s.Runs = []proto.ScheduleRun{{ScheduledFor: w0.Add(-time.Hour), State: proto.JobRunning, Attempt: 1, RetryAt: w0.Add(time.Minute)}}
		}), w0, want{start: proto.TriggerCron, startAt: w0}},
		{"failed run does not block", with(func(s *proto.Schedule) {
			s.Runs = []proto.ScheduleRun{{ScheduledFor: w0.Add(-time.Hour), State: proto.JobFailed, Attempt: 3}}
		}), w0, want{start: proto.TriggerCron, startAt: w0}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := planFiring(c.s, cs, c.now, grace)
			var got want
			if f.start != nil {
				got.start, got.startAt = f.start.Trigger, f.start.ScheduledFor
				if f.start.Name != "s" || f.start.ScheduleID != "sched-1" {
					t.Fatalf("start names %s/%s", f.start.Name, f.start.ScheduleID)
				}
			}
			if f.skip != nil {
				got.skip, got.skipAt = f.skip.Missed, f.skip.ScheduledFor
				if f.skip.Reason == "" {
					t.Fatal("a skip without a reason")
				}
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got %+v, want %+v", got, c.want)
			}
		})
	}
}

func TestBackoffDoublesUpToAnHour(t *testing.T) {
	s := proto.ScheduleSpec{BackoffSeconds: 30}
	for n, want := range map[int]time.Duration{1: 30 * time.Second, 2: time.Minute, 3: 2 * time.Minute, 8: time.Hour, 20: time.Hour} {
		if got := s.Backoff(n); got != want {
			t.Errorf("backoff after attempt %d: %v, want %v", n, got, want)
		}
	}
}

// schedClock is the scheduler's injected clock.
type schedClock struct {
	mu    sync.Mutex
	t     time.Time
	reads int // reads since the last set
}

func (c *schedClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reads++
	return c.t
}

func (c *schedClock) set(t time.Time) {
	c.mu.Lock()
	c.t, c.reads = t, 0
	c.mu.Unlock()
}

// waitSeen waits until the scheduler has read the clock ten times since the
// last set: a round of one schedule reads it at most four times, so a whole
// round has then seen the time set, and a negative check ("nothing fired")
// after it cannot pass merely by coming too early.
func (c *schedClock) waitSeen(t *testing.T) {
	t.Helper()
	testutil.WaitFor(t, 10*time.Second, time.Millisecond, func() error {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.reads < 10 {
			return fmt.Errorf("the scheduler read the clock %d times since it was set", c.reads)
		}
		return nil
	})
}

// schedHost is a leader without raft or NATS: commits apply to the FSM,
// submits create jobs in it, and the test plays the job driver. Once
// deposed, it fails every write with ErrNotLeader, as raft would.
type schedHost struct {
	fsm *FSM
	mu  sync.Mutex
	// deposeAfter deposes the host after a commit or submit that matches it.
	deposeAfter func(what string) bool
	deposed     bool
	// reject fails submits of an algorithm.
	reject map[string]error
}

func (h *schedHost) write(what string, fn func() (string, error)) (string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.deposed {
		return "", ErrNotLeader
	}
	id, err := fn()
	if err == nil && h.deposeAfter != nil && h.deposeAfter(what) {
		h.deposed = true
	}
	return id, err
}

func (h *schedHost) commit(t msgType, v any) (string, error) {
	return h.write(fmt.Sprintf("commit %d", t), func() (string, error) {
		b, err := encodeEntry(t, v)
		if err != nil {
			return "", err
		}
		res, _ := h.fsm.Apply(&raft.Log{Type: raft.LogCommand, Data: b}).(applyResult)
		return res.ID, res.Err
	})
}

func (h *schedHost) submit(_ context.Context, spec proto.JobSpec) (*proto.Job, error) {
	id, err := h.write("submit "+spec.Algo, func() (string, error) {
		if err := h.reject[spec.Algo]; err != nil {
			return "", err
		}
		b, _ := encodeEntry(msgJobSubmit, entryJobSubmit{Spec: spec, Time: t0})
		res, _ := h.fsm.Apply(&raft.Log{Type: raft.LogCommand, Data: b}).(applyResult)
		return res.ID, res.Err
	})
	if err != nil {
		return nil, err
	}
	return h.fsm.Job(id)
}

// startScheduler runs a scheduler on host until the returned stop is called.
func startScheduler(t *testing.T, host *schedHost, clock *schedClock) (stop func()) {
	t.Helper()
	s := newScheduler(host.fsm, host, testLog(t), clock.now, 2*time.Millisecond, time.Minute)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.run(ctx) }()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return stop
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// jobsFor lists the jobs a run submitted, by their step.
func jobsFor(f *FSM, name string, at time.Time) []*proto.Job {
	var out []*proto.Job
	for _, j := range f.Jobs() {
		if j.Spec.Schedule == name && j.Spec.ScheduledFor.Equal(at) {
			out = append(out, j)
		}
	}
	return out
}

// waitJob waits for the n-th job of a run to exist.
func waitJob(t *testing.T, f *FSM, name string, at time.Time, n int) *proto.Job {
	t.Helper()
	var js []*proto.Job
	eventually(t, fmt.Sprintf("job %d of the run for %s", n, stamp(at)), func() bool { js = jobsFor(f, name, at); return len(js) >= n })
	return js[n-1]
}

// finish plays the job driver: the job succeeds (a model, or a score set of
// rows rows) or fails.
func finish(t *testing.T, f *FSM, j *proto.Job, ok bool, rows int64) {
	t.Helper()
	apply(t, f, msgJobStart, entryJobStart{ID: j.ID, Time: t0})
	e := entryJobFinish{ID: j.ID, State: proto.JobFailed, Reason: "worker exploded", Time: t0}
	switch {
	case !ok:
	case j.Spec.Algo == "score":
		e.State, e.Scores = proto.JobSucceeded, &proto.ScoreSet{Name: j.Spec.Scoring().As, Kind: proto.ScoresSegments, Model: j.Spec.Scoring().Model, Rows: rows}
	default:
		e.State, e.Kind, e.Model = proto.JobSucceeded, j.Spec.Algo, &proto.BlobRef{Bucket: proto.BucketModels, Object: "models/" + j.ID}
	}
	if r := apply(t, f, msgJobFinish, e); r.Err != nil {
		t.Fatal(r.Err)
	}
}

func waitRun(t *testing.T, f *FSM, name string, at time.Time, cond func(proto.ScheduleRun) bool) proto.ScheduleRun {
	t.Helper()
	var run proto.ScheduleRun
	eventually(t, "the run for "+stamp(at), func() bool {
		s, err := f.Schedule(name)
		if err != nil {
			return false
		}
		for _, r := range s.Runs {
			if r.ScheduledFor.Equal(at) && cond(r) {
				run = r
				return true
			}
		}
		return false
	})
	return run
}

func ended(r proto.ScheduleRun) bool { return r.State != proto.JobRunning }

func TestSchedulerRetrainsThenScoresAtTheWindow(t *testing.T) {
	spec := hourly("nightly")
	spec.Retrain = true
	f := scheduleFSM(t, spec)
	commitDataset(t, f, "c") // version 2 is the latest when the window comes
	clock := &schedClock{t: w0.Add(-time.Second)}
	startScheduler(t, &schedHost{fsm: f}, clock)
	clock.waitSeen(t)
	if len(jobsFor(f, "nightly", w0)) != 0 || len(mustSchedule(t, f, "nightly").Runs) != 0 {
		t.Fatal("the schedule fired before its window")
	}
	clock.set(w0.Add(200 * time.Millisecond))

	train := waitJob(t, f, "nightly", w0, 1)
	run := runAt(t, f, "nightly", w0)
	if run.State != proto.JobRunning || run.Trigger != proto.TriggerCron || run.DatasetVersion != 2 || run.TrainDatasetVersion != 2 ||
		!run.Started.Equal(w0.Add(200*time.Millisecond)) {
		t.Fatalf("run started as %+v", run)
	}
	// The retrain is the model's own job again, on the latest training data.
	orig, _ := f.Job("job-1")
	want := orig.Spec
	want.DatasetVersion, want.Schedule, want.ScheduledFor = 2, "nightly", w0
	want.RequestID = stepRequestID(mustSchedule(t, f, "nightly"), w0, 1, "train")
	if !reflect.DeepEqual(train.Spec, want) {
		t.Fatalf("retrain spec:\n got %+v\nwant %+v", train.Spec, want)
	}
	finish(t, f, train, true, 0)
	score := waitJob(t, f, "nightly", w0, 2)
	if score.Spec.Algo != "score" || score.Spec.Dataset != "c" || score.Spec.DatasetVersion != 2 || score.Spec.Scoring().Model != "model-2" ||
		score.Spec.Scoring().As != "nightly" || !score.Spec.ScheduledFor.Equal(w0) || !strings.HasSuffix(score.Spec.RequestID, "/1/score") {
		t.Fatalf("score spec: %+v %+v", score.Spec, score.Spec.Scoring())
	}
	finish(t, f, score, true, 2999)
	run = waitRun(t, f, "nightly", w0, ended)
	if run.State != proto.JobSucceeded || run.Model != "model-2" || run.Rows != 2999 || run.Output != "nightly:1" ||
		!reflect.DeepEqual(run.Jobs, []string{train.ID, score.ID}) || run.Attempt != 1 {
		t.Fatalf("finished run: %+v", run)
	}
	if s := mustSchedule(t, f, "nightly"); len(s.Runs) != 1 {
		t.Fatalf("history: %+v", s.Runs)
	}
}

func mustSchedule(t *testing.T, f *FSM, name string) *proto.Schedule {
	t.Helper()
	s, err := f.Schedule(name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSchedulerRetriesWithBackoffThenFailsAndDoesNotBlock(t *testing.T) {
	f := scheduleFSM(t, hourly("s")) // 2 retries, backoff 60s
	clock := &schedClock{t: w0}
	startScheduler(t, &schedHost{fsm: f}, clock)
	var jobs []string
	for attempt := 1; attempt <= 3; attempt++ {
		j := waitJob(t, f, "s", w0, attempt)
		if !strings.HasSuffix(j.Spec.RequestID, fmt.Sprintf("/%d/score", attempt)) {
			t.Fatalf("attempt %d submitted %s", attempt, j.Spec.RequestID)
		}
		jobs = append(jobs, j.ID)
		finish(t, f, j, false, 0)
		if attempt == 3 {
			break
		}
		run := waitRun(t, f, "s", w0, func(r proto.ScheduleRun) bool { return r.Waiting() })
		backoff := time.Duration(attempt) * time.Minute // 60s, then 120s
		if !run.RetryAt.Equal(clock.now().Add(backoff)) || !strings.Contains(run.Reason, "worker exploded") {
			t.Fatalf("after attempt %d: retry at %v (now %v), reason %q", attempt, run.RetryAt, clock.now(), run.Reason)
		}
		// Nothing happens before the backoff is over.
		clock.set(run.RetryAt.Add(-time.Second))
		clock.waitSeen(t)
		if n := len(jobsFor(f, "s", w0)); n != attempt {
			t.Fatalf("attempt %d started before its backoff was over", n)
		}
		clock.set(run.RetryAt)
	}
	run := waitRun(t, f, "s", w0, ended)
	if run.State != proto.JobFailed || run.Attempt != 3 || !strings.Contains(run.Reason, "attempt 3") ||
		!strings.Contains(run.Reason, "worker exploded") || !reflect.DeepEqual(run.Jobs, jobs) {
		t.Fatalf("failed run: %+v", run)
	}
	// The next window runs as usual.
	clock.set(w0.Add(time.Hour))
	finish(t, f, waitJob(t, f, "s", w0.Add(time.Hour), 1), true, 7)
	if run := waitRun(t, f, "s", w0.Add(time.Hour), ended); run.State != proto.JobSucceeded || run.Rows != 7 {
		t.Fatalf("next run: %+v", run)
	}
}

func TestSchedulerWindowReplacesARunWaitingToRetry(t *testing.T) {
	spec := hourly("s")
	spec.BackoffSeconds = 3600 // the retry would come after the next window
	f := scheduleFSM(t, spec)
	clock := &schedClock{t: w0}
	startScheduler(t, &schedHost{fsm: f}, clock)
	finish(t, f, waitJob(t, f, "s", w0, 1), false, 0)
	waitRun(t, f, "s", w0, func(r proto.ScheduleRun) bool { return r.Waiting() })
	clock.set(w0.Add(time.Hour))
	j := waitJob(t, f, "s", w0.Add(time.Hour), 1)
	old := runAt(t, f, "s", w0)
	if old.State != proto.JobFailed || !strings.Contains(old.Reason, "gave up after attempt 1") {
		t.Fatalf("replaced run: %+v", old)
	}
	// A window while a job runs is skipped, with the reason.
	clock.set(w0.Add(2 * time.Hour))
	skipped := waitRun(t, f, "s", w0.Add(2*time.Hour), func(proto.ScheduleRun) bool { return true })
	if skipped.State != proto.RunSkipped || !strings.Contains(skipped.Reason, "in progress") {
		t.Fatalf("window during a run: %+v", skipped)
	}
	finish(t, f, j, true, 1)
	waitRun(t, f, "s", w0.Add(time.Hour), ended)
	if n := len(jobsFor(f, "s", w0)); n != 1 {
		t.Fatalf("the replaced run went on to submit %d jobs", n)
	}
}

func TestSchedulerExactlyOnceAcrossLeaders(t *testing.T) {
	for _, c := range []struct {
		name   string
		depose func(what string) bool
	}{
		// The old leader commits the run and dies before submitting anything.
		{"after the run is committed", func(what string) bool { return what == fmt.Sprintf("commit %d", msgScheduleStart) }},
		// It dies after submitting the retrain.
		{"after the retrain is submitted", func(what string) bool { return what == "submit kmeans" }},
		// It dies after submitting the scoring job.
		{"after scoring is submitted", func(what string) bool { return what == "submit score" }},
	} {
		t.Run(c.name, func(t *testing.T) {
			spec := hourly("s")
			spec.Retrain = true
			f := scheduleFSM(t, spec)
			clock := &schedClock{t: w0}
			old := &schedHost{fsm: f, deposeAfter: c.depose}
			stopOld := startScheduler(t, old, clock)
			eventually(t, "the old leader to be deposed", func() bool {
				for _, j := range jobsFor(f, "s", w0) {
					if j.Spec.Algo == "kmeans" && !j.Terminal() {
						finish(t, f, j, true, 0)
					}
				}
				old.mu.Lock()
				defer old.mu.Unlock()
				return old.deposed
			})
			stopOld()
			// A deposed leader's late start of the window is refused.
			wantConflict(t, "late start", apply(t, f, msgScheduleStart, entryScheduleStart{runRef: ref(t, f, "s", w0), Trigger: proto.TriggerCron}))

			clock.set(w0.Add(3 * time.Second))
			startScheduler(t, &schedHost{fsm: f}, clock)
			train := waitJob(t, f, "s", w0, 1)
			if !train.Terminal() {
				finish(t, f, train, true, 0)
			}
			score := waitJob(t, f, "s", w0, 2)
			finish(t, f, score, true, 10)
			run := waitRun(t, f, "s", w0, ended)
			if run.State != proto.JobSucceeded || run.Attempt != 1 || run.Trigger != proto.TriggerCron || run.Rows != 10 {
				t.Fatalf("run: %+v", run)
			}
			if js := jobsFor(f, "s", w0); len(js) != 2 || js[0].Spec.Algo != "kmeans" || js[1].Spec.Algo != "score" {
				t.Fatalf("jobs of the run: %d (%+v)", len(js), js)
			}
			if n := len(mustSchedule(t, f, "s").Runs); n != 1 {
				t.Fatalf("%d history entries", n)
			}
		})
	}
}

func TestSchedulerNewLeaderFiresAWindowTheOldOneMissed(t *testing.T) {
	f := scheduleFSM(t, hourly("s"))
	// The old leader died just before the window; the new one leads 20s later.
	clock := &schedClock{t: w0.Add(20 * time.Second)}
	startScheduler(t, &schedHost{fsm: f}, clock)
	finish(t, f, waitJob(t, f, "s", w0, 1), true, 3)
	if run := waitRun(t, f, "s", w0, ended); run.State != proto.JobSucceeded || run.Trigger != proto.TriggerCron {
		t.Fatalf("run: %+v", run)
	}
}

func TestSchedulerCatchUpAfterTheClusterWasDown(t *testing.T) {
	once, skip := hourly("once"), hourly("skip")
	skip.CatchUp = proto.CatchUpSkip
	f := scheduleFSM(t, once, skip)
	// Down from 09:30 to 13:30: windows 10:00 to 13:00 were missed.
	clock := &schedClock{t: w0.Add(3*time.Hour + 30*time.Minute)}
	startScheduler(t, &schedHost{fsm: f}, clock)
	latest := w0.Add(3 * time.Hour)
	finish(t, f, waitJob(t, f, "once", latest, 1), true, 5)
	run := waitRun(t, f, "once", latest, ended)
	if run.Trigger != proto.TriggerCatchUp || run.State != proto.JobSucceeded {
		t.Fatalf("catch-up run: %+v", run)
	}
	s := mustSchedule(t, f, "once")
	if len(s.Runs) != 2 || s.Runs[0].State != proto.RunSkipped || s.Runs[0].Missed != 3 || !s.Runs[0].FirstMissed.Equal(w0) {
		t.Fatalf("run-once history: %+v", s.Runs)
	}
	s = mustSchedule(t, f, "skip")
	if len(s.Runs) != 1 || s.Runs[0].State != proto.RunSkipped || s.Runs[0].Missed != 4 || !s.Runs[0].ScheduledFor.Equal(latest) {
		t.Fatalf("skip history: %+v", s.Runs)
	}
	if n := len(f.Jobs()); n != 2 {
		t.Fatalf("%d jobs, want the model's and one scoring job", n)
	}
	// Then normal: 14:00 runs on time for both.
	clock.set(w0.Add(4 * time.Hour))
	for _, name := range []string{"once", "skip"} {
		finish(t, f, waitJob(t, f, name, w0.Add(4*time.Hour), 1), true, 1)
		if run := waitRun(t, f, name, w0.Add(4*time.Hour), ended); run.Trigger != proto.TriggerCron {
			t.Fatalf("%s at 14:00: %+v", name, run)
		}
	}
}

func TestSchedulerRecordsASubmitThatIsRefused(t *testing.T) {
	spec := hourly("s")
	spec.Retries = 0
	f := scheduleFSM(t, spec)
	clock := &schedClock{t: w0}
	startScheduler(t, &schedHost{fsm: f, reject: map[string]error{"score": fmt.Errorf("%w: unknown algorithm \"score\"", ErrInvalid)}}, clock)
	run := waitRun(t, f, "s", w0, ended)
	if run.State != proto.JobFailed || !strings.Contains(run.Reason, `unknown algorithm "score"`) || len(run.Jobs) != 0 {
		t.Fatalf("run: %+v", run)
	}
}

func TestCheckScheduleSpec(t *testing.T) {
	f := scheduleFSM(t)
	now := w0
	ok := proto.ScheduleSpec{Name: "n", Cron: "CRON_TZ=Europe/Berlin   0 2 * * *", Model: "model-1", Dataset: "c", Retrain: true, Retries: 3, BackoffSeconds: 30}
	s := ok
	if err := checkScheduleSpec(f, &s, now); err != nil {
		t.Fatal(err)
	}
	if s.Cron != "CRON_TZ=Europe/Berlin 0 2 * * *" || s.CatchUp != proto.CatchUpRunOnce {
		t.Fatalf("defaults: %+v", s)
	}
	for _, c := range []struct {
		mod  func(*proto.ScheduleSpec)
		want string
	}{
		{func(s *proto.ScheduleSpec) { s.Cron = "0 25 * * *" }, `hour field: "25"`},
		{func(s *proto.ScheduleSpec) { s.Cron = "0 0 30 2 *" }, "never fires"},
		{func(s *proto.ScheduleSpec) { s.Cron = "CRON_TZ=Mars/Olympus 0 2 * * *" }, "unknown time zone"},
		{func(s *proto.ScheduleSpec) { s.Name = "a b" }, "schedule name"},
		{func(s *proto.ScheduleSpec) { s.Model = "model-9" }, "model-9"},
		{func(s *proto.ScheduleSpec) { s.Dataset = "nope" }, "nope"},
		{func(s *proto.ScheduleSpec) { s.CatchUp = "all" }, "--catch-up"},
		{func(s *proto.ScheduleSpec) { s.Retries = -1 }, "--retries"},
		{func(s *proto.ScheduleSpec) { s.BackoffSeconds = -1 }, "backoff_seconds -1 is out of range"},
	} {
		s := ok
		c.mod(&s)
		err := checkScheduleSpec(f, &s, now)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: got %v, want an error saying %q", s, err, c.want)
		}
	}
}
