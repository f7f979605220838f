package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/mathcrm/mathcrm/internal/client"
	"github.com/mathcrm/mathcrm/internal/describe"
	"github.com/spf13/cobra"
)

func newGC() *cobra.Command {
	var grace time.Duration
	cmd := &cobra.Command{
		Use:   "gc [--grace DURATION]",
		Short: "Collect the blobs no dataset, model, score set or running job refers to, now",
		Long: `gc asks the leader to delete, now, every blob in the object store that no
committed state refers to and that is older than the grace: shards of failed
or interrupted imports (and the chunks of uploads cut off midway), the states
and intermediate factor shards of ended jobs, what crashed processes left. The leader also does this by itself every
minute with the configured grace (1h by default). Blobs written by a job that
is still running are kept for it.

--grace 0 collects everything unreferenced now: an import still uploading
then loses its shards and fails at its commit, naming the missing shard;
nothing half-imported ever becomes visible.`,
		Example: `  mathcrm gc
  mathcrm gc --grace 0
  mathcrm gc --grace 10m --output json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var g *time.Duration
			if cmd.Flags().Changed("grace") {
				if grace < 0 {
					return fmt.Errorf("--grace %v is negative (0 or more; 0 collects everything unreferenced now)", grace)
				}
				g = &grace
			}
			return withClient(cmd, func(ctx context.Context, c *client.Client) error {
				res, err := c.GC(ctx, g)
				if err != nil {
					return err
				}
				if jsonOut() {
					return printJSON(os.Stdout, res)
				}
				fmt.Printf("removed %d blobs (%s) and %d partial uploads; kept %d referenced, %d younger than %v, %d of running jobs\n",
					res.Removed, describe.Bytes(res.Bytes), res.Partials, res.Referenced, res.Young, res.Grace, res.Running)
				if res.Failed > 0 {
					return fmt.Errorf("%d blobs could not be listed or deleted; see the coordinator's log", res.Failed)
				}
				return nil
			})
		},
	}
	cmd.Flags().DurationVar(&grace, "grace", 0, "collect only blobs at least this old (default: the cluster's configured grace; 0: everything unreferenced now)")
	return cmd
}
