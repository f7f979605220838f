package coordinator

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/mathcrm/mathcrm/internal/cron"
	"github.com/mathcrm/mathcrm/internal/proto"
)

// scheduleHandlers are the API verbs of schedules.
func (c *Coordinator) scheduleHandlers() map[string]handler {
	return map[string]handler{
		proto.APIScheduleCreate: c.apiScheduleCreate,
		proto.APIScheduleList:   c.apiScheduleList,
		proto.APIScheduleShow:   c.apiScheduleShow,
		proto.APIScheduleRuns:   c.apiScheduleRuns,
		proto.APIScheduleRunNow: c.apiScheduleRunNow,
		proto.APISchedulePause:  c.apiSchedulePause(true),
		proto.APIScheduleResume: c.apiSchedulePause(false),
		proto.APIScheduleDelete: c.apiScheduleDelete,
	}
}

// checkScheduleSpec validates a schedule and fills in its defaults: the
// cron expression in canonical form and the catch-up policy.
func checkScheduleSpec(fsm *FSM, s *proto.ScheduleSpec, now time.Time) error {
	if !ValidName(s.Name) {
		return fmt.Errorf("%w: schedule name %q (letters, digits, _ . -; it also names the score set)", ErrInvalid, s.Name)
	}
	cs, err := cron.Parse(s.Cron)
	if err != nil {
		return fmt.Errorf("%w: --cron: %v", ErrInvalid, err)
	}
	if cs.Next(now).IsZero() {
		return fmt.Errorf("%w: --cron %q never fires in the next five years", ErrInvalid, cs.String())
	}
	s.Cron = cs.String()
	m, err := fsm.Model(s.Model)
	if err != nil {
		return err
	}
	if _, err := fsm.Dataset(s.Dataset); err != nil {
		return err
	}
	if s.Retrain {
		spec, err := trainSpec(fsm, &proto.Schedule{ScheduleSpec: *s})
		if err != nil {
			return fmt.Errorf("--retrain needs the job that trained %s: %w", m.ID, err)
		}
		if _, err := fsm.Dataset(spec.Dataset); err != nil {
			return fmt.Errorf("--retrain: the training dataset of %s: %w", m.ID, err)
		}
	}
	switch s.CatchUp {
	case "":
		s.CatchUp = proto.CatchUpRunOnce
	case proto.CatchUpRunOnce, proto.CatchUpSkip:
	default:
		return fmt.Errorf("%w: --catch-up %q (run-once or skip)", ErrInvalid, s.CatchUp)
	}
	if s.Retries < 0 || s.Retries > proto.MaxScheduleRetries {
		return fmt.Errorf("%w: --retries %d (0 to %d)", ErrInvalid, s.Retries, proto.MaxScheduleRetries)
	}
	if !(s.BackoffSeconds > 0) || math.IsInf(s.BackoffSeconds, 0) {
		return fmt.Errorf("%w: %w", ErrInvalid, &proto.ParamError{Field: "backoff_seconds", Flag: "--backoff",
			Value: fmt.Sprint(s.BackoffSeconds), Want: "a finite number of seconds greater than 0"})
	}
	return nil
}

// parseScheduleSpec decodes a schedule to create: a backoff left out of the
// request takes DefaultScheduleBackoff; one given is checked, 0 included.
func parseScheduleSpec(body json.RawMessage) (proto.ScheduleSpec, error) {
	spec, err := parse[proto.ScheduleSpec](body)
	if err != nil {
		return spec, err
	}
	var given struct {
		Backoff *float64 `json:"backoff_seconds"`
	}
	if err := json.Unmarshal(body, &given); err != nil {
		return spec, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if given.Backoff == nil {
		spec.BackoffSeconds = proto.DefaultScheduleBackoff.Seconds()
	}
	return spec, nil
}

func (c *Coordinator) apiScheduleCreate(ctx context.Context, body json.RawMessage) (any, error) {
	spec, err := parseScheduleSpec(body)
	if err != nil {
		return nil, err
	}
	now := c.scheduleClock()
	if err := checkScheduleSpec(c.fsm, &spec, now); err != nil {
		return nil, err
	}
	if err := c.checkScheduleColumns(ctx, &spec); err != nil {
		return nil, err
	}
	if _, err := c.apply(msgScheduleCreate, entryScheduleCreate{Spec: spec, Time: now, Role: callerRole(ctx)}); err != nil {
		return nil, err
	}
	c.log.Info("schedule created", "schedule", spec.Name, "cron", spec.Cron, "model", spec.Model, "dataset", spec.Dataset)
	return c.scheduleInfo(spec.Name, false)
}

// scheduleInfo is a schedule with its next window and latest run; its
// history only when asked for.
func (c *Coordinator) scheduleInfo(name string, runs bool) (*proto.ScheduleInfo, error) {
	s, err := c.fsm.Schedule(name)
	if err != nil {
		return nil, err
	}
	return c.infoOf(s, runs), nil
}

func (c *Coordinator) infoOf(s *proto.Schedule, runs bool) *proto.ScheduleInfo {
	info := &proto.ScheduleInfo{Schedule: *s}
	if n := len(s.Runs); n > 0 {
		last := s.Runs[n-1]
		info.LastRun = &last
	}
	if cs, err := cron.Parse(s.Cron); err == nil {
		info.Next = nextWindow(s, cs, c.scheduleClock())
	}
	if !runs {
		info.Runs = nil
	}
	return info
}

func (c *Coordinator) apiScheduleList(context.Context, json.RawMessage) (any, error) {
	out := []*proto.ScheduleInfo{}
	for _, s := range c.fsm.Schedules() {
		out = append(out, c.infoOf(s, false))
	}
	return out, nil
}

func (c *Coordinator) apiScheduleShow(_ context.Context, body json.RawMessage) (any, error) {
	n, err := parse[proto.Named](body)
	if err != nil {
		return nil, err
	}
	return c.scheduleInfo(n.Name, true)
}

func (c *Coordinator) apiScheduleRuns(_ context.Context, body json.RawMessage) (any, error) {
	n, err := parse[proto.Named](body)
	if err != nil {
		return nil, err
	}
	s, err := c.fsm.Schedule(n.Name)
	if err != nil {
		return nil, err
	}
	if s.Runs == nil {
		s.Runs = []proto.ScheduleRun{}
	}
	return s.Runs, nil
}

// apiScheduleRunNow commits a manual run, scheduled for now, through the
// same path as a window: the leader follows it from its next check. A run in
// progress refuses it; a run waiting to retry gives way to it.
func (c *Coordinator) apiScheduleRunNow(_ context.Context, body json.RawMessage) (any, error) {
	r, err := parse[proto.RunNow](body)
	if err != nil {
		return nil, err
	}
	s, err := c.fsm.Schedule(r.Name)
	if err != nil {
		return nil, err
	}
	e := entryScheduleStart{runRef: runRef{Name: s.Name, ScheduleID: s.ID, ScheduledFor: c.scheduleClock()},
		Trigger: proto.TriggerManual, RequestID: r.RequestID}
	resolveRun(c.fsm, s, &e)
	e.Time = e.ScheduledFor
	id, err := c.apply(msgScheduleStart, e)
	if err != nil {
		return nil, err
	}
	at, err := time.Parse(time.RFC3339Nano, id)
	if err != nil {
		return nil, err
	}
	if s, err = c.fsm.Schedule(r.Name); err != nil {
		return nil, err
	}
	for _, run := range s.Runs {
		if run.ScheduledFor.Equal(at) {
			c.log.Info("schedule run started", "schedule", s.Name, "scheduled_for", id, "trigger", proto.TriggerManual)
			return run, nil
		}
	}
	return nil, fmt.Errorf("%w: run of %s for %s", ErrNotFound, s.Name, id)
}

func (c *Coordinator) apiSchedulePause(pause bool) handler {
	return func(_ context.Context, body json.RawMessage) (any, error) {
		n, err := parse[proto.Named](body)
		if err != nil {
			return nil, err
		}
		if _, err := c.apply(msgSchedulePause, entrySchedulePause{Name: n.Name, Paused: pause, Time: c.scheduleClock()}); err != nil {
			return nil, err
		}
		return c.scheduleInfo(n.Name, false)
	}
}

func (c *Coordinator) apiScheduleDelete(_ context.Context, body json.RawMessage) (any, error) {
	n, err := parse[proto.Named](body)
	if err != nil {
		return nil, err
	}
	if _, err := c.apply(msgScheduleDelete, entryScheduleDelete{Name: n.Name, Time: c.scheduleClock()}); err != nil {
		return nil, err
	}
	c.log.Info("schedule deleted", "schedule", n.Name)
	return proto.Named{Name: n.Name}, nil
}
