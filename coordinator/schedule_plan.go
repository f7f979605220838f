package coordinator

import (
	"fmt"
	"time"

	"github.com/mathcrm/mathcrm/internal/cron"
	"github.com/mathcrm/mathcrm/internal/proto"
)

// The decisions of the schedule runner, as pure functions of a schedule's
// committed state and the leader's clock: no raft, no NATS, no jobs.

// maxCatchUpSpan bounds how far back the leader looks for missed windows:
// a schedule owed windows from further back than that owes the latest ones.
const maxCatchUpSpan = 400 * 24 * time.Hour

// firing is what the leader commits about one schedule now: windows to
// record as skipped, a run to start, or both (skipped first).
type firing struct {
	skip  *entryScheduleSkip
	start *entryScheduleStart
}

// planFiring decides what to do about the windows of s that are due at now:
// those after the last window committed (or after creation or the last
// resume) and at or before now.
//
//   - A window that comes while a run is in progress is skipped, with the
//     reason recorded (Kubernetes' concurrencyPolicy: Forbid). A run that is
//     only waiting to retry does not count: the new run replaces it.
//   - The latest due window runs when it is at most grace late. Any earlier
//     due windows were missed (no leader fired them in time): they are
//     recorded as one skipped entry and do not run; the latest one stands
//     for them.
//   - When even the latest due window is more than grace late, the catch-up
//     policy decides: run-once runs it (trigger catch-up), skip records
//     every due window as skipped.
func planFiring(s *proto.Schedule, cs *cron.Schedule, now time.Time, grace time.Duration) firing {
	if s.Paused {
		return firing{}
	}
	n, first, prev, latest := dueWindows(cs, later(s.LastScheduled, s.Since), now)
	if n == 0 {
		return firing{}
	}
	ref := func(at time.Time) runRef { return runRef{Name: s.Name, ScheduleID: s.ID, ScheduledFor: at} }
	if a := s.Active(); a != nil && !a.Waiting() {
		return firing{skip: &entryScheduleSkip{runRef: ref(latest), FirstMissed: first, Missed: n, InProgress: a.ScheduledFor,
			Reason: fmt.Sprintf("the run for %s was still in progress (attempt %d); runs of one schedule do not overlap",
				stamp(a.ScheduledFor), a.Attempt)}}
	}
	late := now.Sub(latest) > grace
	if late && s.CatchUp == proto.CatchUpSkip {
		return firing{skip: &entryScheduleSkip{runRef: ref(latest), FirstMissed: first, Missed: n,
			Reason: fmt.Sprintf("missed: no leader fired %s in time (catch-up policy: skip)", plural(n, "window"))}}
	}
	var f firing
	if n > 1 {
		f.skip = &entryScheduleSkip{runRef: ref(prev), FirstMissed: first, Missed: n - 1,
			Reason: fmt.Sprintf("missed: no leader fired %s in time; the run for %s stands for them", plural(n-1, "window"), stamp(latest))}
	}
	trigger := proto.TriggerCron
	if late {
		trigger = proto.TriggerCatchUp
	}
	f.start = &entryScheduleStart{runRef: ref(latest), Trigger: trigger}
	return f
}

// dueWindows returns the windows of cs in (after, now]: how many, the
// first, the one before the latest, and the latest (all UTC).
func dueWindows(cs *cron.Schedule, after, now time.Time) (n int, first, prev, latest time.Time) {
	if now.Sub(after) > maxCatchUpSpan {
		after = now.Add(-maxCatchUpSpan)
	}
	for t := cs.Next(after); !t.IsZero() && !t.After(now); t = cs.Next(t) {
		n++
		if n == 1 {
			first = t.UTC()
		}
		prev, latest = latest, t.UTC()
	}
	return n, first, prev, latest
}

// nextWindow is the first window after the last one committed and after
// now: when the schedule fires next, as far as its history goes.
func nextWindow(s *proto.Schedule, cs *cron.Schedule, now time.Time) time.Time {
	if s.Paused {
		return time.Time{}
	}
	base := later(s.LastScheduled, s.Since)
	if n, _, _, _ := dueWindows(cs, base, now); n > 0 {
		return now // due now; the leader fires it at its next check
	}
	return cs.Next(base).UTC()
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// stepRequestID is the request id of one job of one attempt of a run. A
// leader that resumes the run after a failover submits the step again with
// the same id and gets the job the first submit created, so a run's jobs
// are submitted exactly once whoever leads.
func stepRequestID(s *proto.Schedule, at time.Time, attempt int, step string) string {
	return fmt.Sprintf("schedule/%s/%s/%s/%d/%s", s.Name, s.ID, stamp(at), attempt, step)
}
