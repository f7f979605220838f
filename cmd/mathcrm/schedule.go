package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/mathcrm/mathcrm/coordinator"
	"github.com/mathcrm/mathcrm/internal/client"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/spf13/cobra"
)

func newSchedule() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "schedule",
		Short: "Score a dataset on a cron schedule, optionally retraining first, exactly once per window",
		Long: `A schedule scores a dataset with a model at every window of a cron expression,
optionally retraining the model first, and keeps the history of its runs
(the last 100 entries per schedule).

The leader commits each run to raft before it submits any job, so a
coordinator failover neither skips nor repeats a window. Windows that pass
while no coordinator leads are handled by the schedule's --catch-up policy.
Runs of one schedule never overlap: a window that comes while a run is in
progress is recorded as skipped, with the reason; a run that is only waiting
to retry gives way to the new one.`,
	}
	cmd.AddCommand(newScheduleCreate(), newScheduleList(), newScheduleShow(), newScheduleRuns(), newScheduleRunNow(),
		newSchedulePause("pause", proto.APISchedulePause, "Stop firing a schedule (a run in progress carries on)"),
		newSchedulePause("resume", proto.APIScheduleResume, "Fire a paused schedule again, from its next window (windows missed while paused are not run)"),
		newScheduleDelete())
	return cmd
}

func newScheduleCreate() *cobra.Command {
	var spec proto.ScheduleSpec
	var backoff time.Duration
	cmd := &cobra.Command{
		Use:   "create NAME --cron EXPR --model MODEL --dataset DATASET [--retrain]",
		Short: "Create a schedule",
		Long: `create makes a schedule that, at every window of --cron, scores the latest
version of --dataset with --model into the score set NAME (a new version per run).

With --retrain, every run first trains a new model with --model's own job spec
(same algorithm, parameters and seed) on the latest version of the dataset
--model was trained on, and scores --dataset with that new model.

--cron takes five fields (minute hour day-of-month month day-of-week) or a
descriptor (@daily, @hourly, ...), read in UTC unless prefixed with
CRON_TZ=<zone>.

--catch-up says what happens to windows that passed while no coordinator led
(the whole cluster was down): run-once runs the latest of them once, skip runs
none; either way the history records them.

A run whose job fails is tried again --retries times, after --backoff, doubling
each time (at most an hour), and then recorded as failed with its reason.`,
		Example: `  mathcrm schedule create nightly-segments --cron "0 2 * * *" --model model-3 --dataset customers
  mathcrm schedule create churn --cron "CRON_TZ=Europe/Berlin 30 6 * * mon-fri" --model model-7 --dataset customers --retrain --catch-up skip`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			spec.Name, spec.BackoffSeconds = args[0], backoff.Seconds()
			if err := checkName("schedule name", spec.Name); err != nil {
				return err
			}
			if err := checkInt("--retries", spec.Retries, 0, proto.MaxScheduleRetries); err != nil {
				return err
			}
			if backoff <= 0 {
				return fmt.Errorf("--backoff %v is out of range: must be greater than 0", backoff)
			}
			return withClient(cmd, func(ctx context.Context, c *client.Client) error {
				var info proto.ScheduleInfo
				if err := c.Call(ctx, proto.APIScheduleCreate, spec, &info); err != nil {
					return err
				}
				if jsonOut() {
					return printJSON(os.Stdout, info)
				}
				fmt.Printf("schedule %s created: %s, next window %s\n", info.Name, describeSchedule(&info), when(info.Next))
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&spec.Cron, "cron", "", "cron expression, e.g. \"0 2 * * *\" (required)")
	f.StringVar(&spec.Model, "model", "", "model to score with, or to retrain (required)")
	f.StringVar(&spec.Dataset, "dataset", "", "dataset to score, its latest version at each window (required)")
	f.BoolVar(&spec.Retrain, "retrain", false, "retrain the model on the latest version of its training dataset first")
	f.StringVar(&spec.CatchUp, "catch-up", proto.CatchUpRunOnce, "windows missed while the cluster was down: run-once or skip")
	f.IntVar(&spec.Retries, "retries", proto.DefaultScheduleRetries, "how many times a failed run is tried again")
	f.DurationVar(&backoff, "backoff", proto.DefaultScheduleBackoff, "wait before the first retry; doubles for each further one")
	for _, name := range []string{"cron", "model", "dataset"} {
		_ = cmd.MarkFlagRequired(name)
	}
	return cmd
}

func describeSchedule(s *proto.ScheduleInfo) string {
	what := fmt.Sprintf("score %s with %s", s.Dataset, s.Model)
	if s.Retrain {
		what = fmt.Sprintf("retrain %s, then score %s", s.Model, s.Dataset)
	}
	return fmt.Sprintf("%s at %q", what, s.Cron)
}

func when(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

func newScheduleList() *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Short:   "List schedules with their next window and latest run",
		Example: "  mathcrm schedule list\n  mathcrm schedule list --output json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withClient(cmd, func(ctx context.Context, c *client.Client) error {
				var list []proto.ScheduleInfo
				if err := c.Call(ctx, proto.APIScheduleList, nil, &list); err != nil {
					return err
				}
				if jsonOut() {
					return printJSON(os.Stdout, list)
				}
				tw := table(os.Stdout)
				fmt.Fprintln(tw, "NAME\tCRON\tMODEL\tDATASET\tRETRAIN\tSTATUS\tNEXT\tLAST RUN")
				for _, s := range list {
					status := "active"
					if s.Paused {
						status = "paused"
					}
					last := "-"
					if r := s.LastRun; r != nil {
						last = fmt.Sprintf("%s %s", when(r.ScheduledFor), r.State)
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%v\t%s\t%s\t%s\n", s.Name, s.Cron, s.Model, s.Dataset, s.Retrain, status, when(s.Next), last)
				}
				return tw.Flush()
			})
		},
	}
}

func newScheduleShow() *cobra.Command {
	return &cobra.Command{
		Use:     "show NAME",
		Short:   "Show a schedule, its settings and its history",
		Example: "  mathcrm schedule show nightly-segments\n  mathcrm schedule show nightly-segments --output json",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withClient(cmd, func(ctx context.Context, c *client.Client) error {
				var s proto.ScheduleInfo
				if err := c.Call(ctx, proto.APIScheduleShow, proto.Named{Name: args[0]}, &s); err != nil {
					return err
				}
				if jsonOut() {
					return printJSON(os.Stdout, s)
				}
				fmt.Printf("schedule %s (%s): %s\n", s.Name, s.ID, describeSchedule(&s))
				fmt.Printf("  catch-up %s, %d retries, backoff %v, created %s", s.CatchUp, s.Retries,
					time.Duration(s.BackoffSeconds*float64(time.Second)), when(s.Created))
				if s.Paused {
					fmt.Print(", paused")
				}
				fmt.Printf("\n  next window %s\n", when(s.Next))
				return printRuns(os.Stdout, s.Runs)
			})
		},
	}
}

func newScheduleRuns() *cobra.Command {
	return &cobra.Command{
		Use:   "runs NAME",
		Short: "Show a schedule's runs: when, which dataset version and model, rows, outcome",
		Long: `runs lists a schedule's history, oldest first: every run (state running,
succeeded or failed, with the reason of a failure) and every skipped window.
With --output json it prints a list of objects with the keys scheduled_for,
started, finished (RFC 3339; absent until set), state, dataset_version, model
and rows, and also trigger, attempt, reason, jobs and output.`,
		Example: "  mathcrm schedule runs nightly-segments\n  mathcrm schedule runs nightly-segments --output json | jq '.[] | select(.state == \"failed\")'",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withClient(cmd, func(ctx context.Context, c *client.Client) error {
				runs, err := scheduleRuns(ctx, c, args[0])
				if err != nil {
					return err
				}
				if jsonOut() {
					return printJSON(os.Stdout, runs)
				}
				return printRuns(os.Stdout, runs)
			})
		},
	}
}

func scheduleRuns(ctx context.Context, c *client.Client, name string) ([]proto.ScheduleRun, error) {
	var runs []proto.ScheduleRun
	err := c.Call(ctx, proto.APIScheduleRuns, proto.Named{Name: name}, &runs)
	return runs, err
}

func printRuns(w io.Writer, runs []proto.ScheduleRun) error {
	if len(runs) == 0 {
		fmt.Fprintln(w, "no runs yet")
		return nil
	}
	tw := table(w)
	fmt.Fprintln(tw, "SCHEDULED FOR\tTRIGGER\tSTATE\tATTEMPT\tDATASET VERSION\tMODEL\tROWS\tSTARTED\tSECONDS\tOUTPUT\tREASON")
	for _, r := range runs {
		secs := "-"
		if !r.Started.IsZero() && !r.Finished.IsZero() {
			secs = fmt.Sprintf("%.1f", r.Finished.Sub(r.Started).Seconds())
		}
		reason := r.Reason
		if r.Waiting() {
			reason = fmt.Sprintf("retry at %s after: %s", when(r.RetryAt), r.Reason)
		}
		if r.State == proto.RunSkipped && r.Missed > 1 {
			reason = fmt.Sprintf("%d windows from %s: %s", r.Missed, when(r.FirstMissed), r.Reason)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\t%d\t%s\t%s\t%s\t%s\n", when(r.ScheduledFor), r.Trigger, r.State, r.Attempt,
			r.DatasetVersion, dash(r.Model), r.Rows, when(r.Started), secs, dash(r.Output), dash(strings.ReplaceAll(reason, "\n", " ")))
	}
	return tw.Flush()
}

func newScheduleRunNow() *cobra.Command {
	var wait bool
	cmd := &cobra.Command{
		Use:   "run-now NAME [--wait]",
		Short: "Start a run of a schedule now, as if a window had come",
		Long: `run-now commits a manual run, scheduled for now, that runs like any other:
its history entry, retries and exactly-once guarantee are the same. It is
refused while a run of the schedule is in progress. With --wait it follows
the run to its end and exits 3 unless it succeeded.`,
		Example: "  mathcrm schedule run-now nightly-segments --wait",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := dial()
			if err != nil {
				return err
			}
			defer c.Close()
			ctx, cancel := callCtx(cmd)
			defer cancel()
			var run proto.ScheduleRun
			if err := c.Call(ctx, proto.APIScheduleRunNow, proto.RunNow{Name: args[0], RequestID: client.NewRequestID()}, &run); err != nil {
				return err
			}
			if wait {
				sctx, stop := signalCtx()
				defer stop()
				if run, err = waitRun(sctx, c, args[0], run.ScheduledFor); err != nil {
					return err
				}
			}
			if jsonOut() {
				if err := printJSON(os.Stdout, run); err != nil {
					return err
				}
			} else {
				fmt.Printf("schedule %s: run for %s %s", args[0], when(run.ScheduledFor), run.State)
				if run.Reason != "" {
					fmt.Printf(": %s", run.Reason)
				}
				if run.Output != "" {
					fmt.Printf(": score set %s, %d rows, model %s", run.Output, run.Rows, run.Model)
				}
				fmt.Println()
			}
			if wait && run.State != proto.JobSucceeded {
				return exitJobNotSucceeded
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&wait, "wait", false, "follow the run until it ends; exit 3 unless it succeeded")
	return cmd
}

// waitRun polls a schedule's history until the run for at has ended.
func waitRun(ctx context.Context, c *client.Client, name string, at time.Time) (proto.ScheduleRun, error) {
	for {
		runs, err := scheduleRuns(ctx, c, name)
		if err != nil {
			return proto.ScheduleRun{}, err
		}
		for _, r := range runs {
			if r.ScheduledFor.Equal(at) && r.State != proto.JobRunning {
				return r, nil
			}
		}
		select {
		case <-ctx.Done():
			return proto.ScheduleRun{}, ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

func newSchedulePause(verb, api, short string) *cobra.Command {
	return &cobra.Command{
		Use:     verb + " NAME",
		Short:   short,
		Example: fmt.Sprintf("  mathcrm schedule %s nightly-segments", verb),
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withClient(cmd, func(ctx context.Context, c *client.Client) error {
				var info proto.ScheduleInfo
				if err := c.Call(ctx, api, proto.Named{Name: args[0]}, &info); err != nil {
					return err
				}
				if jsonOut() {
					return printJSON(os.Stdout, info)
				}
				if info.Paused {
					fmt.Printf("schedule %s paused\n", info.Name)
				} else {
					fmt.Printf("schedule %s active, next window %s\n", info.Name, when(info.Next))
				}
				return nil
			})
		},
	}
}

func newScheduleDelete() *cobra.Command {
	return &cobra.Command{
		Use:     "delete NAME",
		Short:   "Delete a schedule and its history (jobs a run already submitted run to their end)",
		Example: "  mathcrm schedule delete nightly-segments",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withClient(cmd, func(ctx context.Context, c *client.Client) error {
				if err := c.Call(ctx, proto.APIScheduleDelete, proto.Named{Name: args[0]}, nil); err != nil {
					return err
				}
				if jsonOut() {
					return printJSON(os.Stdout, map[string]string{"deleted": args[0]})
				}
				fmt.Printf("schedule %s deleted\n", args[0])
				return nil
			})
		},
	}
}

// scheduleFlags adds the coordinator's schedule options to its command.
func scheduleFlags(cmd *cobra.Command, cfg *coordinator.Config) {
	f := cmd.Flags()
	f.DurationVar(&cfg.ScheduleCheck, "schedule-check", cfg.ScheduleCheck, "how often the leader checks for due schedule windows and retries")
	f.DurationVar(&cfg.ScheduleGrace, "schedule-grace", cfg.ScheduleGrace,
		"how late a schedule window may start and still count as on time; a later one follows the schedule's --catch-up policy")
	// The fault tests run real coordinator processes on a shifted clock so
	// that a window comes seconds after the cluster is up.
	f.Var(&clockOffset{cfg: cfg}, "schedule-clock-offset", "shift the clock schedules fire by (for tests)")
	_ = f.MarkHidden("schedule-clock-offset")
}

// clockOffset is a flag that sets a coordinator's schedule clock to the
// system clock shifted by a duration.
type clockOffset struct {
	cfg *coordinator.Config
	d   time.Duration
}

func (o *clockOffset) String() string { return o.d.String() }
func (o *clockOffset) Type() string   { return "duration" }

func (o *clockOffset) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	o.d = d
	o.cfg.ScheduleClock = func() time.Time { return time.Now().Add(d) }
	return nil
}
