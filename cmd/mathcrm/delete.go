package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/mathcrm/mathcrm/internal/client"
	"github.com/mathcrm/mathcrm/internal/describe"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/spf13/cobra"
)

const deleteLong = `Without --force a delete is refused while a schedule or a queued or running job
uses what it would delete, and the error names them. --force cancels those jobs
and pauses those schedules (resume or delete them afterwards), and says so.
What is deleted disappears from list, show and export at once; the coordinator
collects its blobs when nothing else refers to them.`

// newDelete makes "<noun> delete": verb is the API subject, versions says
// whether --version applies.
func newDelete(noun, verb, use, short, example string, versions bool) *cobra.Command {
	var d proto.Delete
	cmd := &cobra.Command{
		Use:     use,
		Short:   short,
		Long:    short + ".\n\n" + deleteLong,
		Example: example,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if d.Version < 0 {
				return fmt.Errorf("--version must be 1 or more, not %d", d.Version)
			}
			d.Name, d.RequestID = args[0], client.NewRequestID()
			return withClient(cmd, func(ctx context.Context, c *client.Client) error {
				var out proto.Deleted
				if err := c.Call(ctx, verb, d, &out); err != nil {
					return err
				}
				if jsonOut() {
					return printJSON(os.Stdout, out)
				}
				fmt.Println(describeDeleted(noun, d.Version, &out))
				return nil
			})
		},
	}
	if versions {
		cmd.Flags().IntVar(&d.Version, "version", 0, "delete only this version (default every version)")
	}
	cmd.Flags().BoolVar(&d.Force, "force", false, "cancel the jobs and pause the schedules that use it, then delete")
	return cmd
}

// describeDeleted says what a delete of one version (or of all, version
// 0) did, in one line.
func describeDeleted(noun string, version int, d *proto.Deleted) string {
	var b strings.Builder
	fmt.Fprintf(&b, "deleted %s %s", noun, d.Name)
	if version != 0 {
		fmt.Fprintf(&b, " version %d", version)
	} else if len(d.Versions) > 0 {
		fmt.Fprintf(&b, " (versions %s)", proto.VersionList(d.Versions))
	}
	fmt.Fprintf(&b, ", %s", describe.Bytes(d.Bytes))
	if len(d.Cancelled) > 0 {
		fmt.Fprintf(&b, "; cancelled %s", plural("job", d.Cancelled))
	}
	if len(d.Paused) > 0 {
		fmt.Fprintf(&b, "; paused %s", plural("schedule", d.Paused))
	}
	return b.String()
}

func plural(one string, names []string) string {
	if len(names) == 1 {
		return one + " " + names[0]
	}
	return one + "s " + strings.Join(names, ", ")
}

func newDatasetDelete() *cobra.Command {
	return newDelete("dataset", proto.APIDatasetDelete, "delete NAME [--version N] [--force]",
		"Delete a dataset, or one version of it", `  mathcrm dataset delete telco --version 1
  mathcrm dataset delete telco --force`, true)
}

func newScoresDelete() *cobra.Command {
	return newDelete("score set", proto.APIScoresDelete, "delete NAME [--version N] [--force]",
		"Delete a score set, or one version of it", `  mathcrm scores delete telco-segments --version 2
  mathcrm scores delete nightly --force`, true)
}

func newModelDelete() *cobra.Command {
	return newDelete("model", proto.APIModelDelete, "delete ID [--force]",
		"Delete a model", "  mathcrm model delete model-3", false)
}

func newJobDelete() *cobra.Command {
	return newDelete("job", proto.APIJobDelete, "delete ID [--force]",
		"Delete a job's record (its model, dataset version or score set stays)",
		"  mathcrm job delete job-7\n  mathcrm job delete job-9 --force   # cancels it first", false)
}

const retainLong = `retain keeps the newest N versions of %s: older ones are dropped now and
whenever a new version arrives, by the leader, each in one raft commit.
--keep 0 keeps every version (the default).

`

func newRetain(what, verb, more, example string) *cobra.Command {
	var keep int
	cmd := &cobra.Command{
		Use:     "retain NAME --keep N",
		Short:   "Keep only the newest N versions of " + what,
		Long:    fmt.Sprintf(retainLong, what) + more,
		Example: example,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !cmd.Flags().Changed("keep") {
				return fmt.Errorf("--keep is required (1 to %d, or 0 to keep every version)", proto.MaxKeep)
			}
			return withClient(cmd, func(ctx context.Context, c *client.Client) error {
				out, err := retain(ctx, c, verb, args[0], keep)
				if err != nil {
					return err
				}
				if jsonOut() {
					return printJSON(os.Stdout, out)
				}
				fmt.Println(describeRetained(out))
				return nil
			})
		},
	}
	cmd.Flags().IntVar(&keep, "keep", 0, "versions to keep (0: every version)")
	return cmd
}

func retain(ctx context.Context, c *client.Client, verb, name string, keep int) (*proto.Retained, error) {
	if keep < 0 || keep > proto.MaxKeep {
		return nil, fmt.Errorf("--keep must be 1 to %d, or 0 to keep every version, not %d", proto.MaxKeep, keep)
	}
	var out proto.Retained
	if err := c.Call(ctx, verb, proto.Retain{Name: name, Keep: keep}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

func describeRetained(r *proto.Retained) string {
	s := fmt.Sprintf("%s: %s; versions %s", r.Name, retention(r.Keep), proto.VersionList(r.Versions))
	if len(r.Dropped) > 0 {
		s += "; dropped " + proto.VersionList(r.Dropped)
	}
	if len(r.Pinned) > 0 {
		s += "; kept while in use " + proto.VersionList(r.Pinned)
	}
	return s
}

func retention(keep int) string {
	if keep == 0 {
		return "every version kept"
	}
	return fmt.Sprintf("keeps the newest %d", keep)
}

func newDatasetRetain() *cobra.Command {
	return newRetain("a dataset", proto.APIDatasetRetain, `A version a queued or running job reads, or that a schedule's run in progress
pinned, is kept until they end. dataset import --keep N sets the count too.`,
		"  mathcrm dataset retain telco --keep 3")
}

func newScoresRetain() *cobra.Command {
	return newRetain("a score set", proto.APIScoresRetain, `The count may be set before the set exists: a schedule writes the score set of
its own name. score --keep N sets the count too.`,
		"  mathcrm scores retain nightly --keep 7")
}

func newModelList() *cobra.Command {
	return listCmd("List models, oldest first: the job, algorithm and dataset version that made each, and its size",
		"  mathcrm model list\n  mathcrm model list --output json", proto.APIModelList,
		"ID\tJOB\tALGO\tDATASET\tCREATED\tSIZE", func(m proto.ModelSummary) string {
			return fmt.Sprintf("%s\t%s\t%s\t%s@%d\t%s\t%s", m.ID, m.Job, m.Algo, m.Dataset, m.DatasetVersion,
				m.Created.Format(time.DateTime), describe.Bytes(m.Bytes))
		})
}

// versionSizes lists a dataset's versions with the size of their shards.
func versionSizes(ds *proto.Dataset) []map[string]any {
	out := make([]map[string]any, len(ds.Versions))
	for i, v := range ds.Versions {
		out[i] = map[string]any{"version": v.Version, "rows": v.Rows, "bytes": v.Bytes, "created": v.Created}
	}
	return out
}
