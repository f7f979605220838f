package proto

import "time"

// API verbs of schedules, "schedule.<verb>" (see APISubject).
const (
	APIScheduleCreate = "schedule.create"
	APIScheduleList   = "schedule.list"
	APIScheduleShow   = "schedule.show"
	APIScheduleRuns   = "schedule.runs"
	APIScheduleRunNow = "schedule.run-now"
	APISchedulePause  = "schedule.pause"
	APIScheduleResume = "schedule.resume"
	APIScheduleDelete = "schedule.delete"
)

// Catch-up policies: what a schedule does about windows that passed while
// no coordinator led (the whole cluster was down, or an election outlasted
// the grace period).
const (
	// CatchUpRunOnce runs the latest missed window once, then carries on.
	CatchUpRunOnce = "run-once"
	// CatchUpSkip runs none of them; the history records them as skipped.
	CatchUpSkip = "skip"
)

// RunSkipped is the state of a history entry that stands for windows that
// did not run. A run is otherwise running, succeeded or failed (the job
// states).
const RunSkipped = "skipped"

// What started a run.
const (
	TriggerCron    = "cron"     // its window came
	TriggerCatchUp = "catch-up" // a missed window, run late by the run-once policy
	TriggerManual  = "manual"   // schedule run-now
)

// Schedule defaults and bounds.
const (
	DefaultScheduleRetries = 3
	DefaultScheduleBackoff = 30 * time.Second
	MaxScheduleRetries     = 20
	// MaxScheduleRuns is how many history entries a schedule keeps; older
	// ones are dropped, oldest first, but never a run still in progress.
	MaxScheduleRuns = 100
)

// ScheduleSpec is what a user creates: score Dataset with Model on every
// window of Cron, after retraining the model first if Retrain is set.
type ScheduleSpec struct {
	Name string `json:"name"`
	// Cron is a five-field cron expression, optionally prefixed with
	// CRON_TZ=<zone> (see internal/cron); stored in canonical form.
	Cron string `json:"cron"`
	// Model scores Dataset. With Retrain, every run first trains a new model
	// with Model's own job spec on the latest version of Model's training
	// dataset, and scores with that.
	Model   string `json:"model"`
	Dataset string `json:"dataset"`
	Retrain bool   `json:"retrain"`
	// CatchUp is CatchUpRunOnce or CatchUpSkip.
	CatchUp string `json:"catch_up"`
	// Retries is how many times a failed run is tried again, after
	// BackoffSeconds, doubling each time (at most an hour).
	// A backoff left out of a request takes DefaultScheduleBackoff (the
	// leader fills it in); one given must be greater than 0.
	Retries        int     `json:"retries"`
	BackoffSeconds float64 `json:"backoff_seconds,omitempty"`
}

// Backoff is the wait before attempt n+1 after attempt n failed: the base
// backoff doubled n-1 times, at most an hour.
func (s *ScheduleSpec) Backoff(n int) time.Duration {
	d := time.Duration(s.BackoffSeconds * float64(time.Second))
	for i := 1; i < n && d < time.Hour; i++ {
		d *= 2
	}
	return min(d, time.Hour)
}

// Schedule is a schedule in raft with its history.
type Schedule struct {
	ScheduleSpec
	// ID tells apart two schedules that had the same name: runs of a
	// deleted schedule never touch one created later under its name.
	ID      string    `json:"id"`
	Created time.Time `json:"created"`
	Paused  bool      `json:"paused"`
	// Since is when the schedule was created or last resumed: windows at or
	// before it are not owed.
	Since time.Time `json:"since"`
	// Role is the role that created the schedule: its runs' jobs are that
	// role's and count against its bound of active jobs. Empty in a
	// schedule created before the role was recorded; the leader counts
	// those as the admin's.
	Role string `json:"role,omitempty"`
	// LastScheduled is the latest window committed, run or skipped.
	LastScheduled time.Time `json:"last_scheduled_for,omitzero"`
	// Runs is the history, in the order the runs were committed.
	Runs []ScheduleRun `json:"runs,omitempty"`
}

// Active returns the run in progress, if any: at most one is.
func (s *Schedule) Active() *ScheduleRun {
	for i := len(s.Runs) - 1; i >= 0; i-- {
		if s.Runs[i].State == JobRunning {
			return &s.Runs[i]
		}
	}
	return nil
}

// ScheduleRun is one entry of a schedule's history: a run, or windows
// that were skipped.
type ScheduleRun struct {
	// ScheduledFor is the window (for a manual run, when it was asked for).
	ScheduledFor time.Time `json:"scheduled_for"`
	Started      time.Time `json:"started,omitzero"`
	Finished     time.Time `json:"finished,omitzero"`
	// State is running, succeeded, failed or skipped.
	State string `json:"state"`
	// DatasetVersion is the version of the scored dataset, the latest when
	// the run started.
	DatasetVersion int `json:"dataset_version"`
	// Model is the model scored with: the schedule's, or the one the run
	// trained (known once trained).
	Model string `json:"model"`
	// Rows is the number of rows of the score set the run wrote.
	Rows    int64  `json:"rows"`
	Trigger string `json:"trigger"`
	// Attempt is the attempt in progress or the last one made.
	Attempt int    `json:"attempt,omitempty"`
	Reason  string `json:"reason,omitempty"`
	// RetryAt is when the next attempt starts, while the run waits for it.
	RetryAt time.Time `json:"retry_at,omitzero"`
	// TrainDatasetVersion is the version of the training dataset a
	// retraining run trains on.
	TrainDatasetVersion int `json:"train_dataset_version,omitempty"`
	// Jobs are the jobs the run submitted, over all its attempts.
	Jobs []string `json:"jobs,omitempty"`
	// Output is the score set version written, "<name>:<version>".
	Output string `json:"output,omitempty"`
	// Missed is how many windows a skipped entry stands for; FirstMissed
	// is the earliest of them and ScheduledFor the latest.
	Missed      int       `json:"missed,omitempty"`
	FirstMissed time.Time `json:"first_missed,omitzero"`
	// RequestID makes a run-now idempotent.
	RequestID string `json:"request_id,omitempty"`
}

// Waiting reports whether a running run is between attempts.
func (r *ScheduleRun) Waiting() bool { return r.State == JobRunning && !r.RetryAt.IsZero() }

// ScheduleInfo answers schedule.list and schedule.show: the schedule, its
// next window (computed by the leader, not stored) and its latest run.
type ScheduleInfo struct {
	Schedule
	Next    time.Time    `json:"next,omitzero"`
	LastRun *ScheduleRun `json:"last_run,omitempty"`
}

// RunNow asks for a manual run.
type RunNow struct {
	Name string `json:"name"`
	// RequestID makes a retried request start one run, not two.
	RequestID string `json:"request_id,omitempty"`
}
