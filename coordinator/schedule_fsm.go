package coordinator

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/mathcrm/mathcrm/internal/proto"
)

// The raft entries of schedules. The leader evaluates cron expressions and
// clocks and puts the outcome in the entries; Apply only checks that an
// entry fits the state, so that a deposed leader's late or repeated entry
// is refused instead of starting, retrying or finishing a run twice.

type entryScheduleCreate struct {
	Spec proto.ScheduleSpec `json:"spec"`
	Time time.Time          `json:"time"`
	// Role created it; absent in entries written before it was recorded.
	Role string `json:"role,omitempty"`
}

type entryScheduleDelete struct {
	Name string    `json:"name"`
	Time time.Time `json:"time"`
}

type entrySchedulePause struct {
	Name   string    `json:"name"`
	Paused bool      `json:"paused"`
	Time   time.Time `json:"time"`
}

// runRef names one run: the schedule (by name and id) and the window.
type runRef struct {
	Name         string    `json:"name"`
	ScheduleID   string    `json:"schedule_id"`
	ScheduledFor time.Time `json:"scheduled_for"`
}

// entryScheduleStart commits a run before any of its jobs is submitted.
type entryScheduleStart struct {
	runRef
	Trigger string `json:"trigger"`
	// DatasetVersion and TrainDatasetVersion are the latest versions when
	// the leader started the run; every attempt uses them.
	DatasetVersion      int       `json:"dataset_version"`
	TrainDatasetVersion int       `json:"train_dataset_version,omitempty"`
	Model               string    `json:"model,omitempty"`
	RequestID           string    `json:"request_id,omitempty"`
	Time                time.Time `json:"time"`
}

// entryScheduleSkip records windows that do not run.
type entryScheduleSkip struct {
	runRef
	FirstMissed time.Time `json:"first_missed"`
	Missed      int       `json:"missed"`
	Reason      string    `json:"reason"`
	// InProgress, when set, is the run whose being in progress is the
	// reason: the skip holds only while that run still is.
	InProgress time.Time `json:"in_progress,omitzero"`
	Time       time.Time `json:"time"`
}

// entryScheduleRetry records that attempt Attempt failed and when the next
// one starts.
type entryScheduleRetry struct {
	runRef
	Attempt int       `json:"attempt"`
	Reason  string    `json:"reason"`
	Jobs    []string  `json:"jobs,omitempty"`
	RetryAt time.Time `json:"retry_at"`
	Time    time.Time `json:"time"`
}

// entryScheduleAttempt starts attempt Attempt of a waiting run; only then
// does the leader submit that attempt's jobs.
type entryScheduleAttempt struct {
	runRef
	Attempt int       `json:"attempt"`
	Time    time.Time `json:"time"`
}

type entryScheduleFinish struct {
	runRef
	Attempt int       `json:"attempt"`
	State   string    `json:"state"`
	Reason  string    `json:"reason,omitempty"`
	Model   string    `json:"model,omitempty"`
	Jobs    []string  `json:"jobs,omitempty"`
	Output  string    `json:"output,omitempty"`
	Rows    int64     `json:"rows"`
	Time    time.Time `json:"time"`
}

func (f *FSM) dispatchSchedule(t msgType, buf []byte) applyResult {
	switch t {
	case msgScheduleCreate:
		return f.applyScheduleCreate(buf)
	case msgScheduleDelete:
		return f.applyScheduleDelete(buf)
	case msgSchedulePause:
		return f.applySchedulePause(buf)
	case msgScheduleStart:
		return f.applyScheduleStart(buf)
	case msgScheduleSkip:
		return f.applyScheduleSkip(buf)
	case msgScheduleRetry:
		return f.applyScheduleRetry(buf)
	case msgScheduleAttempt:
		return f.applyScheduleAttempt(buf)
	case msgScheduleFinish:
		return f.applyScheduleFinish(buf)
	}
	panic(fmt.Sprintf("coordinator: %d is not a schedule entry", t))
}

func (f *FSM) schedule(name string) (*proto.Schedule, error) {
	s := f.st.Schedules[name]
	if s == nil {
		return nil, fmt.Errorf("%w: schedule %q", ErrNotFound, name)
	}
	return s, nil
}

// scheduleOf returns the schedule a run entry refers to; a schedule that
// was deleted and created again under the same name is another schedule.
func (f *FSM) scheduleOf(r runRef) (*proto.Schedule, error) {
	s, err := f.schedule(r.Name)
	if err != nil {
		return nil, err
	}
	if s.ID != r.ScheduleID {
		return nil, fmt.Errorf("%w: schedule %q (%s) was deleted", ErrNotFound, r.Name, r.ScheduleID)
	}
	return s, nil
}

// run returns the running run of an entry.
func (f *FSM) runOf(r runRef) (*proto.Schedule, *proto.ScheduleRun, error) {
	s, err := f.scheduleOf(r)
	if err != nil {
		return nil, nil, err
	}
	for i := len(s.Runs) - 1; i >= 0; i-- {
		run := &s.Runs[i]
		if !run.ScheduledFor.Equal(r.ScheduledFor) || run.State == proto.RunSkipped {
			continue
		}
		if run.State != proto.JobRunning {
			return nil, nil, fmt.Errorf("%w: run of %s for %s already %s", ErrConflict, r.Name, stamp(r.ScheduledFor), run.State)
		}
		return s, run, nil
	}
	return nil, nil, fmt.Errorf("%w: schedule %s has no run for %s", ErrNotFound, r.Name, stamp(r.ScheduledFor))
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func (f *FSM) applyScheduleCreate(buf []byte) applyResult {
	e, err := decode[entryScheduleCreate](buf)
	if err != nil {
		return applyResult{Err: err}
	}
	if old := f.st.Schedules[e.Spec.Name]; old != nil {
		if old.ScheduleSpec == e.Spec {
			return applyResult{ID: old.Name} // a retried create
		}
		return applyResult{Err: fmt.Errorf("%w: schedule %q exists; delete it first", ErrConflict, e.Spec.Name)}
	}
	if f.st.NextSchedule < 1 {
		f.st.NextSchedule = 1
	}
	id := "sched-" + strconv.Itoa(f.st.NextSchedule)
	f.st.NextSchedule++
	f.st.Schedules[e.Spec.Name] = &proto.Schedule{ScheduleSpec: e.Spec, ID: id, Created: e.Time, Since: e.Time, Role: e.Role}
	return applyResult{ID: e.Spec.Name}
}

// applyScheduleDelete removes a schedule and its history. Jobs a run in
// progress submitted run to their end; the run is not followed further.
func (f *FSM) applyScheduleDelete(buf []byte) applyResult {
	e, err := decode[entryScheduleDelete](buf)
	if err != nil {
		return applyResult{Err: err}
	}
	if _, err := f.schedule(e.Name); err != nil {
		return applyResult{Err: err}
	}
	delete(f.st.Schedules, e.Name)
	return applyResult{ID: e.Name}
}

// applySchedulePause pauses or resumes a schedule. Windows that pass while
// it is paused are not owed: resuming moves Since.
func (f *FSM) applySchedulePause(buf []byte) applyResult {
	e, err := decode[entrySchedulePause](buf)
	if err != nil {
		return applyResult{Err: err}
	}
	s, err := f.schedule(e.Name)
	if err != nil {
		return applyResult{Err: err}
	}
	if s.Paused && !e.Paused {
		s.Since = e.Time
	}
	s.Paused = e.Paused
	return applyResult{ID: e.Name}
}

func (f *FSM) applyScheduleStart(buf []byte) applyResult {
	e, err := decode[entryScheduleStart](buf)
	if err != nil {
		return applyResult{Err: err}
	}
	s, err := f.scheduleOf(e.runRef)
	if err != nil {
		return applyResult{Err: err}
	}
	if e.RequestID != "" {
		for _, r := range s.Runs {
			if r.RequestID == e.RequestID {
				return applyResult{ID: stamp(r.ScheduledFor)} // a retried run-now
			}
		}
	}
	for _, r := range s.Runs {
		if r.ScheduledFor.Equal(e.ScheduledFor) {
			return applyResult{Err: fmt.Errorf("%w: schedule %s already has a run for %s", ErrConflict, e.Name, stamp(e.ScheduledFor))}
		}
	}
	switch e.Trigger {
	case proto.TriggerCron, proto.TriggerCatchUp:
		if s.Paused {
			return applyResult{Err: fmt.Errorf("%w: schedule %s is paused", ErrConflict, e.Name)}
		}
		if !e.ScheduledFor.After(s.LastScheduled) {
			return applyResult{Err: fmt.Errorf("%w: schedule %s window %s is not after the last one, %s", ErrConflict,
				e.Name, stamp(e.ScheduledFor), stamp(s.LastScheduled))}
		}
	case proto.TriggerManual:
	default:
		return applyResult{Err: fmt.Errorf("%w: run trigger %q", ErrConflict, e.Trigger)}
	}
	if a := s.Active(); a != nil {
		if !a.Waiting() {
			return applyResult{Err: fmt.Errorf("%w: schedule %s: the run for %s is in progress (attempt %d)", ErrConflict,
				e.Name, stamp(a.ScheduledFor), a.Attempt)}
		}
		// A run waiting to retry gives way: retries never delay a later run.
		a.State, a.Finished, a.RetryAt = proto.JobFailed, e.Time, time.Time{}
		a.Reason = fmt.Sprintf("gave up after attempt %d: the run for %s started first; last error: %s", a.Attempt, stamp(e.ScheduledFor), a.Reason)
	}
	if e.Trigger != proto.TriggerManual {
		s.LastScheduled = e.ScheduledFor
	}
	f.addRun(s, proto.ScheduleRun{ScheduledFor: e.ScheduledFor, Started: e.Time, State: proto.JobRunning, Trigger: e.Trigger,
		Attempt: 1, DatasetVersion: e.DatasetVersion, TrainDatasetVersion: e.TrainDatasetVersion, Model: e.Model, RequestID: e.RequestID})
	return applyResult{ID: stamp(e.ScheduledFor)}
}

func (f *FSM) applyScheduleSkip(buf []byte) applyResult {
	e, err := decode[entryScheduleSkip](buf)
	if err != nil {
		return applyResult{Err: err}
	}
	s, err := f.scheduleOf(e.runRef)
	if err != nil {
		return applyResult{Err: err}
	}
	if s.Paused {
		return applyResult{Err: fmt.Errorf("%w: schedule %s is paused", ErrConflict, e.Name)}
	}
	if !e.ScheduledFor.After(s.LastScheduled) {
		return applyResult{Err: fmt.Errorf("%w: schedule %s window %s is not after the last one, %s", ErrConflict,
			e.Name, stamp(e.ScheduledFor), stamp(s.LastScheduled))}
	}
	if !e.InProgress.IsZero() {
		if a := s.Active(); a == nil || a.Waiting() || !a.ScheduledFor.Equal(e.InProgress) {
			return applyResult{Err: fmt.Errorf("%w: schedule %s: the run for %s is no longer in progress", ErrConflict, e.Name, stamp(e.InProgress))}
		}
	}
	s.LastScheduled = e.ScheduledFor
	f.addRun(s, proto.ScheduleRun{ScheduledFor: e.ScheduledFor, Finished: e.Time, State: proto.RunSkipped, Trigger: proto.TriggerCron,
		Reason: e.Reason, Missed: max(1, e.Missed), FirstMissed: e.FirstMissed})
	return applyResult{ID: stamp(e.ScheduledFor)}
}

// addRun appends to the history and drops the oldest entries beyond
// MaxScheduleRuns, never a run in progress.
func (f *FSM) addRun(s *proto.Schedule, r proto.ScheduleRun) {
	s.Runs = append(s.Runs, r)
	for i := 0; len(s.Runs) > proto.MaxScheduleRuns && i < len(s.Runs); {
		if s.Runs[i].State == proto.JobRunning {
			i++
			continue
		}
		s.Runs = slices.Delete(s.Runs, i, i+1)
	}
}

func (f *FSM) applyScheduleRetry(buf []byte) applyResult {
	e, err := decode[entryScheduleRetry](buf)
	if err != nil {
		return applyResult{Err: err}
	}
	_, run, err := f.runOf(e.runRef)
	if err != nil {
		return applyResult{Err: err}
	}
	if run.Waiting() || run.Attempt != e.Attempt {
		return applyResult{Err: fmt.Errorf("%w: run of %s for %s is at attempt %d (waiting %v), not %d", ErrConflict,
			e.Name, stamp(e.ScheduledFor), run.Attempt, run.Waiting(), e.Attempt)}
	}
	run.RetryAt, run.Reason = e.RetryAt, e.Reason
	run.Jobs = addJobs(run.Jobs, e.Jobs)
	return applyResult{ID: stamp(e.ScheduledFor)}
}

func (f *FSM) applyScheduleAttempt(buf []byte) applyResult {
	e, err := decode[entryScheduleAttempt](buf)
	if err != nil {
		return applyResult{Err: err}
	}
	_, run, err := f.runOf(e.runRef)
	if err != nil {
		return applyResult{Err: err}
	}
	if !run.Waiting() || e.Attempt != run.Attempt+1 {
		return applyResult{Err: fmt.Errorf("%w: run of %s for %s is at attempt %d (waiting %v); attempt %d cannot start", ErrConflict,
			e.Name, stamp(e.ScheduledFor), run.Attempt, run.Waiting(), e.Attempt)}
	}
	run.Attempt, run.RetryAt = e.Attempt, time.Time{}
	return applyResult{ID: stamp(e.ScheduledFor)}
}

func (f *FSM) applyScheduleFinish(buf []byte) applyResult {
	e, err := decode[entryScheduleFinish](buf)
	if err != nil {
		return applyResult{Err: err}
	}
	_, run, err := f.runOf(e.runRef)
	if err != nil {
		return applyResult{Err: err}
	}
	if run.Waiting() || run.Attempt != e.Attempt {
		return applyResult{Err: fmt.Errorf("%w: run of %s for %s is at attempt %d (waiting %v), not %d", ErrConflict,
			e.Name, stamp(e.ScheduledFor), run.Attempt, run.Waiting(), e.Attempt)}
	}
	if e.State != proto.JobSucceeded && e.State != proto.JobFailed {
		return applyResult{Err: fmt.Errorf("%w: a run cannot finish as %q", ErrConflict, e.State)}
	}
	run.State, run.Reason, run.Finished = e.State, e.Reason, e.Time
	if e.Model != "" {
		run.Model = e.Model
	}
	run.Jobs = addJobs(run.Jobs, e.Jobs)
	run.Output, run.Rows = e.Output, e.Rows
	return applyResult{ID: stamp(e.ScheduledFor)}
}

func addJobs(have, more []string) []string {
	for _, j := range more {
		if !slices.Contains(have, j) {
			have = append(have, j)
		}
	}
	return have
}

// Schedule returns a schedule with its history.
func (f *FSM) Schedule(name string) (*proto.Schedule, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	s, err := f.schedule(name)
	if err != nil {
		return nil, err
	}
	return clone(s), nil
}

// Schedules lists the schedules with their histories, by name.
func (f *FSM) Schedules() []*proto.Schedule {
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := make([]*proto.Schedule, 0, len(f.st.Schedules))
	for _, s := range f.st.Schedules {
		out = append(out, clone(s))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
