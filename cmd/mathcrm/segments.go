package main

import (
	"context"
	"fmt"
	"os"

	"github.com/mathcrm/mathcrm/algo/builtin"
	"github.com/mathcrm/mathcrm/algo/migrate"
	"github.com/mathcrm/mathcrm/internal/client"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/spf13/cobra"
)

func newSegments() *cobra.Command {
	cmd := &cobra.Command{Use: "segments", Short: "Compare customer segments between snapshots"}
	cmd.AddCommand(newSegmentsMigrate())
	return cmd
}

func newSegmentsMigrate() *cobra.Command {
	spec := proto.JobSpec{Algo: migrate.Name}
	p := migrate.Params{Column: migrate.DefaultColumn}
	cmd := &cobra.Command{
		Use:   "migrate --from DS1 --to DS2 [--column segment] [--output json]",
		Short: "Count how customers moved between the segments of two snapshots",
		Long: `migrate computes on the workers the transition table of a column (default
segment) between two features datasets keyed by customer — e.g. RFM features as
of two dates: rows are the segments of --from, columns those of --to, each cell
the customers in both, with row percentages; customers only in --to are counted
as new (the last row), those only in --from as gone (the last column).

Both snapshots must have the same number of shards (import them with the same
--shards): a customer's shard is a hash of its key, so shard i of both holds
the same customers and each worker joins one pair of shards. The table is kept
as a model of kind migration (model show, model export).`,
		Example: `  mathcrm segments migrate --from rfm_2011q3 --to rfm_2011q4
  mathcrm segments migrate --from rfm_2011q3 --to rfm_2011q4 --column segment --output json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkName("--from", p.From); err != nil {
				return err
			}
			if err := checkName("--to", spec.Dataset); err != nil {
				return err
			}
			spec.Params = proto.MustJSON(p)
			if err := checkSpec(cmd, &spec); err != nil {
				return err
			}
			return withClient(cmd, func(ctx context.Context, c *client.Client) error {
				j, err := c.Submit(ctx, spec)
				if err != nil {
					return err
				}
				wctx, cancel := signalCtx()
				defer cancel()
				if j, err = c.Watch(wctx, j.ID, func(proto.JobEvent) bool { return true }); err != nil {
					return err
				}
				if j.State != proto.JobSucceeded {
					fmt.Fprintf(os.Stderr, "job %s %s: %s\n", j.ID, j.State, j.Reason)
					return exitJobNotSucceeded
				}
				gctx, gcancel := callCtx(cmd) // the job may have outlasted ctx
				defer gcancel()
				d, err := getModel(gctx, c, j.Model)
				if err != nil {
					return err
				}
				if jsonOut() {
					v, err := builtin.Detail(d)
					if err != nil {
						return err
					}
					return printJSON(os.Stdout, v)
				}
				desc, err := builtin.Describe(d)
				if err != nil {
					return err
				}
				printDescription(os.Stdout, desc)
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&p.From, "from", "", "the earlier snapshot, a features dataset (required)")
	f.IntVar(&p.FromVersion, "from-version", 0, "its version (default latest)")
	f.StringVar(&spec.Dataset, "to", "", "the later snapshot, a features dataset (required)")
	f.IntVar(&spec.DatasetVersion, "to-version", 0, "its version (default latest)")
	f.StringVar(&p.Column, "column", migrate.DefaultColumn, "the column compared")
	_ = cmd.MarkFlagRequired("from")
	_ = cmd.MarkFlagRequired("to")
	return cmd
}
