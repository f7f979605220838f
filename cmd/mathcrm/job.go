package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/mathcrm/mathcrm/algo/kmeans"
	"github.com/mathcrm/mathcrm/internal/client"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/spf13/cobra"
)

func newJob() *cobra.Command {
	cmd := &cobra.Command{Use: "job", Short: "List, inspect, watch, cancel and delete jobs"}
	cmd.AddCommand(newJobList(), newJobStatus(), newJobWatch(), newJobCancel(), newJobDelete())
	return cmd
}

func withClient(cmd *cobra.Command, fn func(ctx context.Context, c *client.Client) error) error {
	c, err := dial()
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := callCtx(cmd)
	defer cancel()
	return fn(ctx, c)
}

// listCmd is a "list" command: it reads verb's list and prints it as JSON or
// as a table of header's columns, one row a line.
func listCmd[T any](short, example, verb, header string, row func(T) string) *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Short:   short,
		Example: example,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withClient(cmd, func(ctx context.Context, c *client.Client) error {
				var list []T
				if err := c.Call(ctx, verb, nil, &list); err != nil {
					return err
				}
				if jsonOut() {
					return printJSON(os.Stdout, list)
				}
				tw := table(os.Stdout)
				fmt.Fprintln(tw, header)
				for _, x := range list {
					fmt.Fprintln(tw, row(x))
				}
				return tw.Flush()
			})
		},
	}
}

func newJobList() *cobra.Command {
	return listCmd("List jobs, oldest first", "  mathcrm job list\n  mathcrm job list --output json", proto.APIJobList,
		"ID\tALGO\tDATASET\tSTATE\tITER\tOBJECTIVE\tMODEL\tCREATED", func(j proto.Job) string {
			return fmt.Sprintf("%s\t%s\t%s@%d\t%s\t%d\t%.6g\t%s\t%s", j.ID, j.Spec.Algo, j.Spec.Dataset, j.Spec.DatasetVersion,
				j.State, j.Iteration, j.Objective, dash(j.Model), j.Created.Format("2006-01-02 15:04:05"))
		})
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func newJobStatus() *cobra.Command {
	var trace bool
	cmd := &cobra.Command{
		Use:   "status ID [--trace]",
		Short: "Show a job: spec, state and every committed pass",
		Long: `status shows a job's spec, state and every committed pass. With --trace, where
each pass's time went, in milliseconds: dispatch (until the pass's first step
went out), the workers' queue, compute and encode (summed over the steps),
transfer (the steps' round trips less the workers' time), the leader's decode
and combine (absorbing the partials in shard order), saving the state, the
raft commit of the pass before, the slowest worker's compute, and overhead:
the pass less its slowest worker's compute. The overhead is dispatch plus, for
the last partial to arrive, transit (its round trip less the time its worker
held it), worker-wait (that hold, plus how long after the first step its batch
went out, less the slowest compute) and tail (from its arrival to the end of the
pass).`,
		Example: "  mathcrm job status job-1\n  mathcrm job status job-1 --trace\n  mathcrm job status job-1 --output json",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withClient(cmd, func(ctx context.Context, c *client.Client) error {
				var j proto.Job
				if err := c.Call(ctx, proto.APIJobStatus, proto.Named{Name: args[0]}, &j); err != nil {
					return err
				}
				if jsonOut() {
					return printJSON(os.Stdout, j)
				}
				printJob(&j)
				if trace {
					printTrace(os.Stdout, &j)
				}
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&trace, "trace", false, "show where each pass's time went")
	return cmd
}

func printTrace(w io.Writer, j *proto.Job) {
	fmt.Fprintln(w, "\nWhere each pass's time went (ms; worker phases summed over the steps):")
	tw := table(w)
	fmt.Fprintln(tw, "  PASS\tSTEPS\tTOTAL\tDISPATCH\tQUEUE\tCOMPUTE\tENCODE\tTRANSFER\tDECODE\tCOMBINE\tSAVE\tSTORE\tCOMMIT-PREV\tSLOWEST\tOVERHEAD\tTRANSIT\tWORKER-WAIT\tTAIL\tPARTIAL-KB")
	ms := func(s float64) string { return fmt.Sprintf("%.2f", s*1e3) }
	for _, p := range j.History {
		t := p.Trace
		if t == nil {
			continue
		}
		fmt.Fprintf(tw, "  %d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%.1f\n", p.Pass, t.Steps, ms(t.Total), ms(t.Dispatch),
			ms(t.Queue), ms(t.Compute), ms(t.Encode), ms(t.Transfer), ms(t.Decode), ms(t.Combine), ms(t.Save), ms(t.Store), ms(t.CommitPrev),
			ms(t.SlowestCompute), ms(t.Overhead), ms(t.Transit), ms(t.WorkerWait), ms(t.Tail), float64(t.PartialBytes)/1024)
	}
	tw.Flush()
}

func printJob(j *proto.Job) {
	fmt.Printf("job %s: %s on %s version %d, seed %d\n", j.ID, j.Spec.Algo, j.Spec.Dataset, j.Spec.DatasetVersion, j.Spec.Seed)
	if km, err := kmeans.ParamsOf(&j.Spec); j.Spec.Algo == kmeans.Name && err == nil {
		fmt.Printf("  k=%d columns=%s standardize=%v init=%s max-iter=%d tol=%g\n", km.K, strings.Join(km.Columns, ","),
			km.Standardize, km.Init, km.MaxIter, km.Tol)
	}
	fmt.Printf("  state %s", j.State)
	if j.Reason != "" {
		fmt.Printf(" (%s)", j.Reason)
	}
	if j.Model != "" {
		fmt.Printf(", model %s", j.Model)
	}
	fmt.Printf(", iteration %d, objective %.10g\n", j.Iteration, j.Objective)
	if !j.Finished.IsZero() && !j.Started.IsZero() {
		fmt.Printf("  ran %.2fs\n", j.Finished.Sub(j.Started).Seconds())
	}
	if len(j.History) > 0 {
		tw := table(os.Stdout)
		fmt.Fprintln(tw, "  PASS\tPHASE\tITER\tOBJECTIVE\tSHIFT\tSECONDS\tRETRIES")
		for _, p := range j.History {
			fmt.Fprintf(tw, "  %d\t%s\t%d\t%.10g\t%.4g\t%.3f\t%d\n", p.Pass, p.Phase, p.Iteration, p.Objective, p.Shift, p.Seconds, p.Retries)
		}
		tw.Flush()
	}
}

func newJobWatch() *cobra.Command {
	return &cobra.Command{
		Use:     "watch ID",
		Short:   "Follow a job's progress until it ends (a bar on a terminal, plain lines otherwise)",
		Example: "  mathcrm job watch job-1",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := dial()
			if err != nil {
				return err
			}
			defer c.Close()
			return waitJob(cmd, c, args[0])
		},
	}
}

func newJobCancel() *cobra.Command {
	return &cobra.Command{
		Use:     "cancel ID",
		Short:   "Cancel a queued or running job",
		Example: "  mathcrm job cancel job-3",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withClient(cmd, func(ctx context.Context, c *client.Client) error {
				var j proto.Job
				if err := c.Call(ctx, proto.APIJobCancel, proto.Named{Name: args[0]}, &j); err != nil {
					return err
				}
				if jsonOut() {
					return printJSON(os.Stdout, map[string]any{"job": j.ID, "state": j.State})
				}
				fmt.Printf("%s %s\n", j.ID, j.State)
				return nil
			})
		},
	}
}

// waitJob follows a job to its end, then prints its outcome. It exits 3 when
// the job did not succeed.
func waitJob(cmd *cobra.Command, c *client.Client, id string) error {
	ctx, cancel := signalCtx()
	defer cancel()
	bar := !jsonOut() && isTerminal(os.Stderr)
	lastPass := -1
	var lastAt [2]any
	start := time.Now()
	j, err := c.Watch(ctx, id, func(ev proto.JobEvent) bool {
		if jsonOut() {
			return true
		}
		if bar {
			fmt.Fprintf(os.Stderr, "\r\033[K%s", progressLine(ev, true))
			return true
		}
		// One line per committed pass that moves the job on: a new phase
		// or iteration.
		if ev.ShardsDone == ev.ShardsTotal && ev.State == proto.JobRunning && ev.Pass != lastPass {
			lastPass = ev.Pass
			if at := [2]any{ev.Phase, ev.Iteration}; at != lastAt {
				lastAt = at
				fmt.Fprintln(os.Stderr, progressLine(ev, false))
			}
		}
		return true
	})
	if bar {
		fmt.Fprintln(os.Stderr)
	}
	if err != nil {
		return err
	}
	if jsonOut() {
		if err := printJSON(os.Stdout, map[string]any{"job": j.ID, "model": j.Model, "output": j.Output, "state": j.State,
			"reason": j.Reason, "iterations": j.Iteration, "objective": j.Objective}); err != nil {
			return err
		}
	} else {
		fmt.Printf("job %s %s", j.ID, j.State)
		if j.Reason != "" {
			fmt.Printf(": %s", j.Reason)
		}
		if j.Model != "" {
			fmt.Printf(": model %s, %d iterations, objective %.10g", j.Model, j.Iteration, j.Objective)
		}
		if j.Output != "" && j.Spec.Algo == "score" {
			fmt.Printf(": score set %s", j.Output)
		} else if j.Output != "" {
			fmt.Printf(": dataset %s", j.Output)
		}
		fmt.Printf(" (%.1fs)\n", time.Since(start).Seconds())
	}
	if j.State != proto.JobSucceeded {
		return exitJobNotSucceeded
	}
	return nil
}

func progressLine(ev proto.JobEvent, withBar bool) string {
	var b strings.Builder
	if withBar && ev.MaxIter > 0 {
		const width = 24
		filled := min(width, ev.Iteration*width/ev.MaxIter)
		fmt.Fprintf(&b, "[%s%s] ", strings.Repeat("#", filled), strings.Repeat(".", width-filled))
	}
	switch {
	case ev.Algo == "rfm" || ev.Algo == "score":
		fmt.Fprintf(&b, "%s %s %s (pass %d)", ev.Job, ev.Algo, ev.Phase, ev.Pass)
	case ev.Phase == "init" || ev.Iteration == 0:
		fmt.Fprintf(&b, "%s initialising (pass %d)", ev.Job, ev.Pass)
	case ev.Algo == "kmeans":
		fmt.Fprintf(&b, "%s %s iteration %d/%d inertia %.6g shift %.3g", ev.Job, ev.Phase, ev.Iteration, ev.MaxIter, ev.Objective, ev.Shift)
	default:
		fmt.Fprintf(&b, "%s %s iteration %d/%d objective %.6g", ev.Job, ev.Phase, ev.Iteration, ev.MaxIter, ev.Objective)
		for _, m := range ev.Metrics {
			fmt.Fprintf(&b, " %s %.4f", m.Name, m.Value)
		}
	}
	fmt.Fprintf(&b, " shards %d/%d", ev.ShardsDone, ev.ShardsTotal)
	if ev.ETASeconds > 0 {
		fmt.Fprintf(&b, " ETA %.1fs", ev.ETASeconds)
	}
	return b.String()
}
