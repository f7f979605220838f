package coordinator

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"github.com/mathcrm/mathcrm/internal/proto"
)

// w0 is a window of the "0 * * * *" schedules below.
var w0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func hourly(name string) proto.ScheduleSpec {
	return proto.ScheduleSpec{Name: name, Cron: "0 * * * *", Model: "model-1", Dataset: "c",
		CatchUp: proto.CatchUpRunOnce, Retries: 2, BackoffSeconds: 60}
}

// scheduleFSM is an FSM with dataset c, a trained k-means model-1 (job-1)
// and the given schedules, created at 09:30.
func scheduleFSM(t *testing.T, specs ...proto.ScheduleSpec) *FSM {
	t.Helper()
	f := NewFSM()
	commitDataset(t, f, "c")
	apply(t, f, msgJobSubmit, entryJobSubmit{Spec: proto.JobSpec{Algo: "kmeans", Dataset: "c", DatasetVersion: 1, Seed: 5}, Time: t0})
	apply(t, f, msgJobStart, entryJobStart{ID: "job-1", Time: t0})
	if r := apply(t, f, msgJobFinish, entryJobFinish{ID: "job-1", State: proto.JobSucceeded, Kind: "kmeans",
		Model: &proto.BlobRef{Bucket: proto.BucketModels, Object: "m1"}, Time: t0}); r.ID != "model-1" {
		t.Fatalf("model: %+v", r)
	}
	for _, s := range specs {
		if r := apply(t, f, msgScheduleCreate, entryScheduleCreate{Spec: s, Time: w0.Add(-30 * time.Minute)}); r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	return f
}

func ref(t *testing.T, f *FSM, name string, at time.Time) runRef {
	t.Helper()
	s, err := f.Schedule(name)
	if err != nil {
		t.Fatal(err)
	}
	return runRef{Name: name, ScheduleID: s.ID, ScheduledFor: at}
}

func runAt(t *testing.T, f *FSM, name string, at time.Time) proto.ScheduleRun {
	t.Helper()
	s, err := f.Schedule(name)
	if err != nil {
		t.Fatal(err)
	}
	var found []proto.ScheduleRun
	for _, r := range s.Runs {
		if r.ScheduledFor.Equal(at) {
			found = append(found, r)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d history entries for %s, want 1: %+v", len(found), stamp(at), s.Runs)
	}
	return found[0]
}

func wantConflict(t *testing.T, what string, r applyResult) {
	t.Helper()
	if !errors.Is(r.Err, ErrConflict) {
		t.Fatalf("%s: got %v, want a conflict", what, r.Err)
	}
}

func TestScheduleFSMRunLifecycle(t *testing.T) {
	f := scheduleFSM(t, hourly("nightly"))
	// A retried create is the same create; another spec under the name is refused.
	if r := apply(t, f, msgScheduleCreate, entryScheduleCreate{Spec: hourly("nightly"), Time: w0}); r.Err != nil || r.ID != "nightly" {
		t.Fatalf("retried create: %+v", r)
	}
	other := hourly("nightly")
	other.Cron = "5 * * * *"
	wantConflict(t, "create over another schedule", apply(t, f, msgScheduleCreate, entryScheduleCreate{Spec: other, Time: w0}))

	start := entryScheduleStart{runRef: ref(t, f, "nightly", w0), Trigger: proto.TriggerCron, DatasetVersion: 1, Model: "model-1", Time: w0.Add(time.Second)}
	if r := apply(t, f, msgScheduleStart, start); r.Err != nil {
		t.Fatal(r.Err)
	}
	// A second start of the window (a deposed leader's late entry, or a
	// new leader that did not see the first) is refused, as is an earlier window.
	wantConflict(t, "second start", apply(t, f, msgScheduleStart, start))
	manual := start
	manual.Trigger = proto.TriggerManual
	wantConflict(t, "manual start of a started window", apply(t, f, msgScheduleStart, manual))
	early := start
	early.ScheduledFor = w0.Add(-time.Hour)
	wantConflict(t, "start of an earlier window", apply(t, f, msgScheduleStart, early))
	// Runs do not overlap: a later window cannot start while this one runs.
	next := start
	next.ScheduledFor = w0.Add(time.Hour)
	wantConflict(t, "start while a run is in progress", apply(t, f, msgScheduleStart, next))

	rr := ref(t, f, "nightly", w0)
	fail1 := entryScheduleRetry{runRef: rr, Attempt: 1, Reason: "job-2 failed: boom", Jobs: []string{"job-2"}, RetryAt: w0.Add(2 * time.Minute), Time: w0.Add(time.Minute)}
	if r := apply(t, f, msgScheduleRetry, fail1); r.Err != nil {
		t.Fatal(r.Err)
	}
	wantConflict(t, "the same failure twice", apply(t, f, msgScheduleRetry, fail1))
	wantConflict(t, "finishing a run that waits", apply(t, f, msgScheduleFinish, entryScheduleFinish{runRef: rr, Attempt: 1, State: proto.JobSucceeded}))
	wantConflict(t, "attempt 3 after 1", apply(t, f, msgScheduleAttempt, entryScheduleAttempt{runRef: rr, Attempt: 3}))
	if r := apply(t, f, msgScheduleAttempt, entryScheduleAttempt{runRef: rr, Attempt: 2, Time: w0.Add(2 * time.Minute)}); r.Err != nil {
		t.Fatal(r.Err)
	}
	wantConflict(t, "attempt 2 twice", apply(t, f, msgScheduleAttempt, entryScheduleAttempt{runRef: rr, Attempt: 2}))
	wantConflict(t, "finish of attempt 1 during attempt 2", apply(t, f, msgScheduleFinish, entryScheduleFinish{runRef: rr, Attempt: 1, State: proto.JobSucceeded}))
	finish := entryScheduleFinish{runRef: rr, Attempt: 2, State: proto.JobSucceeded, Model: "model-1", Jobs: []string{"job-3"},
		Output: "nightly:1", Rows: 1234, Time: w0.Add(3 * time.Minute)}
	if r := apply(t, f, msgScheduleFinish, finish); r.Err != nil {
		t.Fatal(r.Err)
	}
	wantConflict(t, "finish twice", apply(t, f, msgScheduleFinish, finish))

	got := runAt(t, f, "nightly", w0)
	want := proto.ScheduleRun{ScheduledFor: w0, Started: w0.Add(time.Second), Finished: w0.Add(3 * time.Minute), State: proto.JobSucceeded,
		DatasetVersion: 1, Model: "model-1", Rows: 1234, Trigger: proto.TriggerCron, Attempt: 2, Jobs: []string{"job-2", "job-3"}, Output: "nightly:1"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("run:\n got %+v\nwant %+v", got, want)
	}
	// A window skipped because this run was in progress is refused now
	// that it is over (the leader read the state before the run finished).
	wantConflict(t, "skip for a finished run", apply(t, f, msgScheduleSkip, entryScheduleSkip{runRef: next.runRef, Missed: 1, InProgress: w0}))
	// The next window starts once the run is over.
	if r := apply(t, f, msgScheduleStart, next); r.Err != nil {
		t.Fatal(r.Err)
	}
	// A skipped window must also come after the last one.
	wantConflict(t, "skip of a started window", apply(t, f, msgScheduleSkip, entryScheduleSkip{runRef: next.runRef, Missed: 1}))
}

func TestScheduleFSMRetryGivesWayAndRunNowIsIdempotent(t *testing.T) {
	f := scheduleFSM(t, hourly("s"))
	rr := ref(t, f, "s", w0)
	apply(t, f, msgScheduleStart, entryScheduleStart{runRef: rr, Trigger: proto.TriggerCron, Time: w0})
	apply(t, f, msgScheduleRetry, entryScheduleRetry{runRef: rr, Attempt: 1, Reason: "boom", RetryAt: w0.Add(time.Hour), Time: w0})
	// A run-now while the run waits to retry replaces it.
	manual := entryScheduleStart{runRef: ref(t, f, "s", w0.Add(5*time.Minute)), Trigger: proto.TriggerManual, RequestID: "r1", Time: w0.Add(5 * time.Minute)}
	if r := apply(t, f, msgScheduleStart, manual); r.Err != nil {
		t.Fatal(r.Err)
	}
	old := runAt(t, f, "s", w0)
	if old.State != proto.JobFailed || !strings.Contains(old.Reason, "boom") || !old.RetryAt.IsZero() || !old.Finished.Equal(manual.Time) {
		t.Fatalf("replaced run: %+v", old)
	}
	// The same request again is the same run, even a second later.
	again := manual
	again.ScheduledFor = again.ScheduledFor.Add(time.Second)
	if r := apply(t, f, msgScheduleStart, again); r.Err != nil || r.ID != stamp(manual.ScheduledFor) {
		t.Fatalf("retried run-now: %+v", r)
	}
	s, _ := f.Schedule("s")
	if len(s.Runs) != 2 || !s.LastScheduled.Equal(w0) {
		t.Fatalf("after run-now: %d runs, last window %v", len(s.Runs), s.LastScheduled)
	}
	// A manual run does not move the cron windows: 11:00 is still owed.
	if r := apply(t, f, msgScheduleFinish, entryScheduleFinish{runRef: manual.runRef, Attempt: 1, State: proto.JobFailed, Reason: "x"}); r.Err != nil {
		t.Fatal(r.Err)
	}
	if r := apply(t, f, msgScheduleStart, entryScheduleStart{runRef: ref(t, f, "s", w0.Add(time.Hour)), Trigger: proto.TriggerCron}); r.Err != nil {
		t.Fatal(r.Err)
	}
}

func TestScheduleFSMPauseResumeDelete(t *testing.T) {
	f := scheduleFSM(t, hourly("s"))
	for range 2 {
		if r := apply(t, f, msgSchedulePause, entrySchedulePause{Name: "s", Paused: true, Time: w0}); r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	s, _ := f.Schedule("s")
	if !s.Paused || !s.Since.Equal(w0.Add(-30*time.Minute)) {
		t.Fatalf("paused: %+v", s)
	}
	// A leader that read the schedule before it was paused cannot fire it;
	// a manual run is still allowed.
	wantConflict(t, "window of a paused schedule", apply(t, f, msgScheduleStart, entryScheduleStart{runRef: ref(t, f, "s", w0), Trigger: proto.TriggerCron}))
	wantConflict(t, "skip on a paused schedule", apply(t, f, msgScheduleSkip, entryScheduleSkip{runRef: ref(t, f, "s", w0), Missed: 1}))
	manual := entryScheduleStart{runRef: ref(t, f, "s", w0.Add(time.Minute)), Trigger: proto.TriggerManual}
	if r := apply(t, f, msgScheduleStart, manual); r.Err != nil {
		t.Fatalf("run-now of a paused schedule: %v", r.Err)
	}
	apply(t, f, msgScheduleFinish, entryScheduleFinish{runRef: manual.runRef, Attempt: 1, State: proto.JobSucceeded})
	resumed := w0.Add(90 * time.Minute)
	apply(t, f, msgSchedulePause, entrySchedulePause{Name: "s", Paused: false, Time: resumed})
	apply(t, f, msgSchedulePause, entrySchedulePause{Name: "s", Paused: false, Time: resumed.Add(time.Hour)})
	s, _ = f.Schedule("s")
	if s.Paused || !s.Since.Equal(resumed) {
		t.Fatalf("resumed: paused %v since %v, want since %v (resuming a running schedule moves nothing)", s.Paused, s.Since, resumed)
	}
	old := ref(t, f, "s", w0.Add(2*time.Hour))
	if r := apply(t, f, msgScheduleDelete, entryScheduleDelete{Name: "s"}); r.Err != nil {
		t.Fatal(r.Err)
	}
	if _, err := f.Schedule("s"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted schedule: %v", err)
	}
	for typ, e := range map[msgType]any{
		msgScheduleDelete: entryScheduleDelete{Name: "s"},
		msgSchedulePause:  entrySchedulePause{Name: "s", Paused: true},
		msgScheduleStart:  entryScheduleStart{runRef: old, Trigger: proto.TriggerCron},
	} {
		if r := apply(t, f, typ, e); !errors.Is(r.Err, ErrNotFound) {
			t.Fatalf("entry %d on a deleted schedule: %v", typ, r.Err)
		}
	}
	// The same name again is another schedule: the old one's runs do not touch it.
	apply(t, f, msgScheduleCreate, entryScheduleCreate{Spec: hourly("s"), Time: w0})
	if r := apply(t, f, msgScheduleStart, entryScheduleStart{runRef: old, Trigger: proto.TriggerCron}); !errors.Is(r.Err, ErrNotFound) {
		t.Fatalf("a run of the deleted schedule started on the new one: %v", r.Err)
	}
	if s, _ := f.Schedule("s"); s.ID == old.ScheduleID {
		t.Fatalf("a new schedule reused id %s", s.ID)
	}
}

func TestScheduleFSMHistoryIsBounded(t *testing.T) {
	f := scheduleFSM(t, hourly("s"))
	running := ref(t, f, "s", w0)
	apply(t, f, msgScheduleStart, entryScheduleStart{runRef: running, Trigger: proto.TriggerCron})
	for i := 1; i <= proto.MaxScheduleRuns+50; i++ {
		skip := running
		skip.ScheduledFor = w0.Add(time.Duration(i) * time.Hour)
		if r := apply(t, f, msgScheduleSkip, entryScheduleSkip{runRef: skip, Missed: 1, Reason: "busy"}); r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	s, _ := f.Schedule("s")
	if len(s.Runs) != proto.MaxScheduleRuns {
		t.Fatalf("history holds %d entries, want %d", len(s.Runs), proto.MaxScheduleRuns)
	}
	if s.Runs[0].State != proto.JobRunning || !s.Runs[0].ScheduledFor.Equal(w0) {
		t.Fatalf("the run in progress was dropped from the history: %+v", s.Runs[0])
	}
	if last := s.Runs[len(s.Runs)-1]; !last.ScheduledFor.Equal(w0.Add(150 * time.Hour)) {
		t.Fatalf("latest entry %v", last.ScheduledFor)
	}
}

func TestScheduleFSMSnapshotRoundTrip(t *testing.T) {
	f := scheduleFSM(t, hourly("a"), hourly("b"))
	apply(t, f, msgScheduleStart, entryScheduleStart{runRef: ref(t, f, "a", w0), Trigger: proto.TriggerCron, DatasetVersion: 1, Time: w0})
	apply(t, f, msgScheduleRetry, entryScheduleRetry{runRef: ref(t, f, "a", w0), Attempt: 1, Reason: "x", RetryAt: w0.Add(time.Minute), Jobs: []string{"job-9"}})
	apply(t, f, msgScheduleSkip, entryScheduleSkip{runRef: ref(t, f, "b", w0), FirstMissed: w0.Add(-2 * time.Hour), Missed: 3, Reason: "missed"})
	apply(t, f, msgSchedulePause, entrySchedulePause{Name: "b", Paused: true})
	g := NewFSM()
	snapshotInto(t, f, g)
	if !reflect.DeepEqual(f.Schedules(), g.Schedules()) {
		t.Fatalf("schedules after restore:\n got %+v\nwant %+v", g.Schedules(), f.Schedules())
	}
	// The schedule id counter survives: a new schedule gets a new id.
	apply(t, g, msgScheduleCreate, entryScheduleCreate{Spec: hourly("c"), Time: w0})
	if s, _ := g.Schedule("c"); s.ID != "sched-3" {
		t.Fatalf("id after restore: %s", s.ID)
	}
	// A snapshot from before schedules existed restores, and takes schedules.
	h := NewFSM()
	if err := h.Restore(io.NopCloser(strings.NewReader(`{"datasets":{},"jobs":{},"models":{},"workers":{},"next_job":1,"next_model":1}`))); err != nil {
		t.Fatal(err)
	}
	if r := apply(t, h, msgScheduleCreate, entryScheduleCreate{Spec: hourly("x"), Time: w0}); r.Err != nil {
		t.Fatal(r.Err)
	}
	if s, _ := h.Schedule("x"); s.ID != "sched-1" {
		t.Fatalf("first id after an old snapshot: %s", s.ID)
	}
}

func snapshotInto(t *testing.T, from, to *FSM) {
	t.Helper()
	snap, err := from.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	sink := &memSink{}
	if err := snap.Persist(sink); err != nil {
		t.Fatal(err)
	}
	if err := to.Restore(io.NopCloser(bytes.NewReader(sink.Bytes()))); err != nil {
		t.Fatal(err)
	}
}

func FuzzScheduleApply(f *testing.F) {
	at := runRef{Name: "s", ScheduleID: "sched-1", ScheduledFor: w0}
	for typ, e := range map[msgType]any{
		msgScheduleCreate:  entryScheduleCreate{Spec: hourly("s")},
		msgScheduleDelete:  entryScheduleDelete{Name: "s"},
		msgSchedulePause:   entrySchedulePause{Name: "s", Paused: true},
		msgScheduleStart:   entryScheduleStart{runRef: at, Trigger: proto.TriggerCron},
		msgScheduleSkip:    entryScheduleSkip{runRef: at, Missed: 2},
		msgScheduleRetry:   entryScheduleRetry{runRef: at, Attempt: 1, RetryAt: w0},
		msgScheduleAttempt: entryScheduleAttempt{runRef: at, Attempt: 2},
		msgScheduleFinish:  entryScheduleFinish{runRef: at, Attempt: 1, State: proto.JobSucceeded},
	} {
		b, _ := encodeEntry(typ, e)
		f.Add(b, b)
	}
	f.Fuzz(func(t *testing.T, a, b []byte) {
		fsm := NewFSM()
		if r := apply(t, fsm, msgScheduleCreate, entryScheduleCreate{Spec: hourly("s"), Time: w0}); r.Err != nil {
			t.Fatal(r.Err)
		}
		for _, data := range [][]byte{a, b} {
			if len(data) == 0 || msgType(data[0]) < msgScheduleCreate || msgType(data[0]) > msgScheduleFinish {
				continue
			}
			fsm.Apply(&raft.Log{Type: raft.LogCommand, Data: data})
		}
		if s, err := fsm.Schedule("s"); err == nil {
			if len(s.Runs) > proto.MaxScheduleRuns {
				t.Fatalf("%d runs", len(s.Runs))
			}
			running := 0
			for _, r := range s.Runs {
				if r.State == proto.JobRunning {
					running++
				}
			}
			if running > 1 {
				t.Fatalf("%d runs in progress", running)
			}
		}
		if _, err := fsm.Snapshot(); err != nil {
			t.Fatal(err)
		}
	})
}

// TestScheduleRoleRecorded checks that a schedule keeps the role that
// created it through the log and a snapshot, and that schedules from
// before the role was recorded (a create entry or a snapshot without it)
// run as the admin's.
func TestScheduleRoleRecorded(t *testing.T) {
	f := scheduleFSM(t)
	if r := apply(t, f, msgScheduleCreate, entryScheduleCreate{Spec: hourly("mine"), Time: w0, Role: "analyst"}); r.Err != nil {
		t.Fatal(r.Err)
	}
	// An entry written before roles were: no "role" key at all.
	old := []byte(`{"spec":{"name":"old","cron":"0 * * * *","model":"model-1","dataset":"c","catch_up":"run-once","retries":2,"backoff_seconds":60},"time":"2026-11-23T09:30:00Z"}`)
	res, _ := f.Apply(&raft.Log{Type: raft.LogCommand, Data: append([]byte{byte(msgScheduleCreate)}, old...)}).(applyResult)
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	g := NewFSM()
	snapshotInto(t, f, g)
	for name, want := range map[string]string{"mine": "analyst", "old": "admin"} {
		s, err := g.Schedule(name)
		if err != nil {
			t.Fatal(err)
		}
		if got := scheduleRole(s); got != want {
			t.Errorf("schedule %s (role %q) runs as %q, want %q", name, s.Role, got, want)
		}
	}
	// A snapshot whose schedule has no role.
	h := NewFSM()
	if err := h.Restore(io.NopCloser(strings.NewReader(`{"datasets":{},"jobs":{},"models":{},"workers":{},"next_job":1,"next_model":1,` +
		`"schedules":{"s":{"name":"s","cron":"0 * * * *","model":"m","dataset":"c","id":"sched-1"}}}`))); err != nil {
		t.Fatal(err)
	}
	s, err := h.Schedule("s")
	if err != nil {
		t.Fatal(err)
	}
	if s.Role != "" || scheduleRole(s) != "admin" {
		t.Fatalf("a schedule from an old snapshot: role %q, runs as %q", s.Role, scheduleRole(s))
	}
}
