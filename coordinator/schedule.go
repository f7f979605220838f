package coordinator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	scorealgo "github.com/mathcrm/mathcrm/algo/score"
	"github.com/mathcrm/mathcrm/internal/cron"
	"github.com/mathcrm/mathcrm/internal/metrics"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/internal/secrets"
)

// A schedule's run is a pipeline of ordinary jobs — optionally retrain,
// then score — and a run is exactly-once because of two rules:
//
//  1. The leader commits a run (schedule, window, attempt 1, the dataset
//     versions it will use) before it submits any job, and Apply refuses a
//     second start of the same window or of a window not after the last
//     one. A window is therefore started at most once whoever leads; a new
//     leader that finds it committed resumes it, one that does not finds it
//     due and starts it.
//  2. Every job of a run is submitted with a request id made of (schedule,
//     window, attempt, step), and a submit is idempotent by request id. A
//     leader resuming a run submits its steps again and gets back the jobs
//     the old leader created, then follows them.
//
// Attempts are committed the same way: a failed attempt, with the time of
// the next one, then the start of the next one before its jobs exist.

// scheduleHost is what the schedule runner needs from the coordinator:
// commits and the job submit path. Tests give it one without raft.
type scheduleHost interface {
	// commit applies one entry through raft; it fails with ErrNotLeader
	// when this node no longer leads.
	commit(t msgType, v any) (string, error)
	// submit submits a job as the job.submit API does.
	submit(ctx context.Context, spec proto.JobSpec) (*proto.Job, error)
}

// scheduler fires schedules and follows their runs while its node leads.
// One is made per term of leadership.
type scheduler struct {
	fsm   *FSM
	host  scheduleHost
	log   *slog.Logger
	clock func() time.Time
	check time.Duration // how often to look for due windows and retries
	poll  time.Duration // how often a run looks at its jobs
	grace time.Duration

	mu        sync.Mutex
	following map[string]bool // runs with a goroutine, by runKey
	wg        sync.WaitGroup
}

func newScheduler(fsm *FSM, host scheduleHost, log *slog.Logger, clock func() time.Time, check, grace time.Duration) *scheduler {
	if clock == nil {
		clock = time.Now
	}
	if check <= 0 {
		check = time.Second
	}
	if grace <= 0 {
		grace = time.Minute
	}
	return &scheduler{fsm: fsm, host: host, log: log, clock: clock, check: check, poll: min(check, 200*time.Millisecond),
		grace: grace, following: map[string]bool{}}
}

// now is the scheduler's clock in UTC, to the millisecond (what history shows).
func (s *scheduler) now() time.Time { return s.clock().UTC().Truncate(time.Millisecond) }

// run fires due windows and follows runs until ctx ends, then waits for
// every run it follows to stop. What it leaves undone is in raft, for the
// next leader.
func (s *scheduler) run(ctx context.Context) {
	defer s.wg.Wait()
	t := time.NewTicker(s.check)
	defer t.Stop()
	for {
		s.tick(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// tick fires every schedule that is due and makes sure every run in
// progress, including those a previous leader started, is followed.
func (s *scheduler) tick(ctx context.Context) {
	for _, sc := range s.fsm.Schedules() {
		if ctx.Err() != nil {
			return
		}
		if err := s.fire(sc); err != nil {
			if errors.Is(err, ErrNotLeader) {
				return
			}
			s.log.Warn("schedule not fired", "schedule", sc.Name, "err", err)
		}
	}
	for _, sc := range s.fsm.Schedules() {
		if a := sc.Active(); a != nil && ctx.Err() == nil {
			s.follow(ctx, sc.Name, sc.ID, a.ScheduledFor)
		}
	}
}

// fire commits what planFiring decides for one schedule.
func (s *scheduler) fire(sc *proto.Schedule) error {
	cs, err := cron.Parse(sc.Cron)
	if err != nil {
		return err
	}
	now := s.now()
	f := planFiring(sc, cs, now, s.grace)
	if f.skip != nil {
		f.skip.Time = now
		if _, err := s.host.commit(msgScheduleSkip, *f.skip); err != nil {
			return err
		}
		s.log.Warn("schedule windows skipped", "schedule", sc.Name, "windows", f.skip.Missed,
			"latest", stamp(f.skip.ScheduledFor), "reason", f.skip.Reason)
	}
	if f.start != nil {
		resolveRun(s.fsm, sc, f.start)
		f.start.Time = now
		if _, err := s.host.commit(msgScheduleStart, *f.start); err != nil {
			// A conflict is a run-now that started in between: the next
			// check sees it and records this window as skipped.
			return err
		}
		s.log.Info("schedule run started", "schedule", sc.Name, "scheduled_for", stamp(f.start.ScheduledFor),
			"trigger", f.start.Trigger, "dataset_version", f.start.DatasetVersion)
	}
	return nil
}

// resolveRun fills in what a run uses, as of now: the latest version of
// the scored dataset and, for a retraining run, of the training dataset.
// Anything missing stays zero and the run's attempt fails saying what.
func resolveRun(fsm *FSM, sc *proto.Schedule, e *entryScheduleStart) {
	if ds, err := fsm.Dataset(sc.Dataset); err == nil && ds.Latest() != nil {
		e.DatasetVersion = ds.Latest().Version
	}
	if !sc.Retrain {
		e.Model = sc.Model
		return
	}
	if spec, err := trainSpec(fsm, sc); err == nil {
		if ds, err := fsm.Dataset(spec.Dataset); err == nil && ds.Latest() != nil {
			e.TrainDatasetVersion = ds.Latest().Version
		}
	}
}

// trainSpec is the spec of the job that trained the schedule's model.
func trainSpec(fsm *FSM, sc *proto.Schedule) (proto.JobSpec, error) {
	m, err := fsm.Model(sc.Model)
	if err != nil {
		return proto.JobSpec{}, err
	}
	if m.Spec != nil { // its job was deleted
		return *m.Spec, nil
	}
	j, err := fsm.Job(m.Job)
	if err != nil {
		return proto.JobSpec{}, fmt.Errorf("model %s: %w", m.ID, err)
	}
	return j.Spec, nil
}

func runKey(name, id string, at time.Time) string { return name + "/" + id + "/" + stamp(at) }

// follow starts a goroutine that drives one run to its end, unless one does.
func (s *scheduler) follow(ctx context.Context, name, id string, at time.Time) {
	key := runKey(name, id, at)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.following[key] {
		return
	}
	s.following[key] = true
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer func() {
			s.mu.Lock()
			delete(s.following, key)
			s.mu.Unlock()
		}()
		s.drive(ctx, runRef{Name: name, ScheduleID: id, ScheduledFor: at})
	}()
}

// errJobCancelled ends a run without retries: a user cancelled its job.
var errJobCancelled = errors.New("cancelled")

// drive runs attempts of one run until it is finished, this node stops
// leading, or the run is no longer in progress (replaced, or its schedule
// deleted).
func (s *scheduler) drive(ctx context.Context, ref runRef) {
	for ctx.Err() == nil {
		sc, run := s.running(ref)
		if run == nil {
			return
		}
		if run.Waiting() {
			// A window that is due first replaces the run (see planFiring);
			// the retry waits for the leader to fire it.
			if s.now().Before(run.RetryAt) || s.windowDue(sc) {
				s.sleep(ctx, s.poll)
				continue
			}
			_, err := s.host.commit(msgScheduleAttempt, entryScheduleAttempt{runRef: ref, Attempt: run.Attempt + 1, Time: s.now()})
			if s.stop(ctx, err) {
				return
			}
			continue // on a conflict the run was replaced: the next read says so
		}
		out, err := s.attempt(ctx, sc, run)
		if ctx.Err() != nil || errors.Is(err, ErrNotLeader) {
			return
		}
		now := s.now()
		var t msgType
		var entry any
		switch {
		case err == nil:
			t, entry = msgScheduleFinish, entryScheduleFinish{runRef: ref, Attempt: run.Attempt, State: proto.JobSucceeded,
				Model: out.model, Jobs: out.jobs, Output: out.output, Rows: out.rows, Time: now}
		case run.Attempt > sc.Retries || errors.Is(err, errJobCancelled) || permanentRun(err):
			t, entry = msgScheduleFinish, entryScheduleFinish{runRef: ref, Attempt: run.Attempt, State: proto.JobFailed,
				Reason: fmt.Sprintf("attempt %d: %v", run.Attempt, err), Model: out.model, Jobs: out.jobs, Time: now}
		default:
			retryAt := now.Add(sc.Backoff(run.Attempt))
			t, entry = msgScheduleRetry, entryScheduleRetry{runRef: ref, Attempt: run.Attempt, Reason: err.Error(),
				Jobs: out.jobs, RetryAt: retryAt, Time: now}
			s.log.Warn("schedule run attempt failed; retrying", "schedule", ref.Name, "scheduled_for", stamp(ref.ScheduledFor),
				"attempt", run.Attempt, "retry_at", stamp(retryAt), "err", err)
		}
		_, cerr := s.host.commit(t, entry)
		if s.stop(ctx, cerr) {
			return
		}
		if cerr == nil && t == msgScheduleFinish {
			metrics.ScheduleRuns.WithLabelValues(entry.(entryScheduleFinish).State).Inc()
		} else if cerr == nil {
			metrics.ScheduleRuns.WithLabelValues("retry").Inc()
		}
		if cerr == nil && t == msgScheduleFinish {
			s.log.Info("schedule run finished", "schedule", ref.Name, "scheduled_for", stamp(ref.ScheduledFor),
				"state", entry.(entryScheduleFinish).State, "attempt", run.Attempt, "output", out.output, "err", err)
		}
		// Otherwise read the run again: an attempt tried again submits the
		// same jobs and comes to the same end.
	}
}

// windowDue reports whether sc has a window to fire or skip now.
func (s *scheduler) windowDue(sc *proto.Schedule) bool {
	cs, err := cron.Parse(sc.Cron)
	if err != nil || sc.Paused {
		return false
	}
	n, _, _, _ := dueWindows(cs, later(sc.LastScheduled, sc.Since), s.now())
	return n > 0
}

// running returns a run in progress and its schedule, or nil.
func (s *scheduler) running(ref runRef) (*proto.Schedule, *proto.ScheduleRun) {
	sc, err := s.fsm.Schedule(ref.Name)
	if err != nil || sc.ID != ref.ScheduleID {
		return nil, nil
	}
	if a := sc.Active(); a != nil && a.ScheduledFor.Equal(ref.ScheduledFor) {
		return sc, a
	}
	return nil, nil
}

// stop reports whether a run's goroutine should stop after a commit: this
// node no longer leads. Any other error is waited out and the state read
// again.
func (s *scheduler) stop(ctx context.Context, err error) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, ErrNotLeader) || ctx.Err() != nil:
		return true
	case errors.Is(err, ErrConflict) || errors.Is(err, ErrNotFound):
		s.sleep(ctx, s.poll)
		return false
	}
	s.log.Warn("schedule commit failed; trying again", "err", err)
	s.sleep(ctx, time.Second)
	return false
}

func (s *scheduler) sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// runOutcome is what an attempt made.
type runOutcome struct {
	model  string
	jobs   []string
	output string
	rows   int64
}

// scheduleRole is the role a schedule's jobs are submitted as: the one that
// created it, or the admin for a schedule created before the role was
// recorded (the broadest role that may create one, so that such a schedule
// keeps running as it did, within the admin's bound).
func scheduleRole(sc *proto.Schedule) string {
	if sc.Role == "" {
		return secrets.RoleAdmin
	}
	return sc.Role
}

// attempt runs one attempt's pipeline: retrain (if asked), then score. Its
// jobs are submitted as the role that created the schedule, and count
// against that role's bound of active jobs.
func (s *scheduler) attempt(ctx context.Context, sc *proto.Schedule, run *proto.ScheduleRun) (runOutcome, error) {
	ctx = withRole(ctx, scheduleRole(sc))
	out := runOutcome{model: run.Model}
	if sc.Retrain {
		spec, err := trainSpec(s.fsm, sc)
		if err != nil {
			return out, fmt.Errorf("retrain: %w", err)
		}
		if run.TrainDatasetVersion == 0 {
			return out, fmt.Errorf("retrain: %w: training dataset %q has no version", ErrNotFound, spec.Dataset)
		}
		spec.DatasetVersion = run.TrainDatasetVersion
		spec.RequestID = stepRequestID(sc, run.ScheduledFor, run.Attempt, "train")
		spec.Schedule, spec.ScheduledFor = sc.Name, run.ScheduledFor
		j, err := s.runJob(ctx, spec, &out)
		if err != nil {
			return out, fmt.Errorf("retrain: %w", err)
		}
		out.model = j.Model
	}
	if run.DatasetVersion == 0 {
		return out, fmt.Errorf("score: %w: dataset %q has no version", ErrNotFound, sc.Dataset)
	}
	spec := scorealgo.Spec(sc.Dataset, proto.ScoreSpec{Model: out.model, As: sc.Name})
	spec.DatasetVersion = run.DatasetVersion
	spec.RequestID = stepRequestID(sc, run.ScheduledFor, run.Attempt, "score")
	spec.Schedule, spec.ScheduledFor = sc.Name, run.ScheduledFor
	j, err := s.runJob(ctx, spec, &out)
	if err != nil {
		return out, fmt.Errorf("score: %w", err)
	}
	out.output = j.Output
	name, version, ok := strings.Cut(j.Output, ":")
	v, verr := strconv.Atoi(version)
	if !ok || verr != nil {
		return out, fmt.Errorf("score: job %s succeeded without a score set (output %q)", j.ID, j.Output)
	}
	ss, err := s.fsm.ScoreSet(name, v)
	if err != nil {
		return out, fmt.Errorf("score: %w", err)
	}
	out.rows = ss.Rows
	return out, nil
}

// runJob submits one step and follows its job to the end.
func (s *scheduler) runJob(ctx context.Context, spec proto.JobSpec, out *runOutcome) (*proto.Job, error) {
	j, err := s.submit(ctx, spec)
	if err != nil {
		return nil, err
	}
	out.jobs = addJobs(out.jobs, []string{j.ID})
	for !j.Terminal() {
		s.sleep(ctx, s.poll)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if j, err = s.fsm.Job(j.ID); err != nil {
			return nil, err
		}
	}
	switch j.State {
	case proto.JobSucceeded:
		return j, nil
	case proto.JobCancelled:
		return nil, fmt.Errorf("job %s was %w", j.ID, errJobCancelled)
	}
	if j.Permanent {
		return nil, fmt.Errorf("job %s failed (%w): %s", j.ID, errNoRetry, j.Reason)
	}
	return nil, fmt.Errorf("job %s failed: %s", j.ID, j.Reason)
}

// submit submits a step, trying again while the failure is not about the
// spec (raft slow to commit): the request id makes that safe.
func (s *scheduler) submit(ctx context.Context, spec proto.JobSpec) (*proto.Job, error) {
	for {
		j, err := s.host.submit(ctx, spec)
		switch {
		case err == nil:
			return j, nil
		case errors.Is(err, ErrNotLeader), ctx.Err() != nil,
			errors.Is(err, ErrInvalid), errors.Is(err, ErrNotFound), errors.Is(err, ErrConflict), errors.Is(err, ErrLimit):
			return nil, err
		}
		s.log.Warn("schedule step submit failed; trying again", "request", spec.RequestID, "err", err)
		s.sleep(ctx, time.Second)
	}
}

// coordScheduleHost commits through raft and submits through the API's
// submit path.
type coordScheduleHost struct{ c *Coordinator }

func (h coordScheduleHost) commit(t msgType, v any) (string, error) { return h.c.apply(t, v) }

func (h coordScheduleHost) submit(ctx context.Context, spec proto.JobSpec) (*proto.Job, error) {
	b, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}
	out, err := h.c.apiJobSubmit(ctx, b)
	if err != nil {
		return nil, err
	}
	j, ok := out.(*proto.Job)
	if !ok {
		return nil, fmt.Errorf("coordinator: submit answered %T", out)
	}
	return j, nil
}

// scheduleClock is the clock schedules fire by, in UTC to the millisecond.
func (c *Coordinator) scheduleClock() time.Time {
	now := time.Now
	if c.cfg.ScheduleClock != nil {
		now = c.cfg.ScheduleClock
	}
	return now().UTC().Truncate(time.Millisecond)
}

// runSchedules fires schedules and drives their runs while ctx (this
// node's term as leader) lasts.
func (c *Coordinator) runSchedules(ctx context.Context) {
	newScheduler(c.fsm, coordScheduleHost{c}, c.log, c.scheduleClock, c.cfg.ScheduleCheck, c.cfg.ScheduleGrace).run(ctx)
}
