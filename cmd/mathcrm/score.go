package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/mathcrm/mathcrm/algo/als/alsjob"
	"github.com/mathcrm/mathcrm/algo/basket"
	"github.com/mathcrm/mathcrm/internal/client"
	"github.com/mathcrm/mathcrm/internal/describe"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/spf13/cobra"
)

func newScore() *cobra.Command {
	spec := proto.JobSpec{Algo: proto.ScoreAlgo}
	var sp proto.ScoreSpec
	var wait bool
	var keep, top int
	var horizon, rate float64
	cmd := &cobra.Command{
		Use:   "score --model M (--dataset D | --items) [--as NAME] [--top N] [--keep N] [--wait]",
		Short: "Score every row of a dataset with a model into a new score set",
		Long: `score submits a job that applies a model to every row of a dataset version on
the workers, shard by shard, with the transform stored with the model applied
exactly as in training (standardisation, one-hot columns col=value). Each shard's
scores are written to the object store; the score set's new version becomes
visible in one raft commit when every shard is written.

  k-means   → segment, distance (to the segment's centroid, in training units)
  linear    → prediction
  logistic  → probability, decile (1 = the 10% highest probabilities, exact)
  ALS       → rank, item, score: the top --top items of every user of an
              interactions dataset, excluding items the user has; a user the
              model cannot score gets the most popular items
  basket    → rank, item, score, rule: the top --top offers of the rules that
              fire for each customer's items (confidence, and the rule)
  clv       → p_alive, expected_purchases (over --horizon, in the model's time
              unit; default one year), expected_spend, clv (discounted monthly
              at --discount-rate over the horizon's months) and value_tier:
              A = the customers holding the top 80% of the total CLV, B the
              next 15%, C the rest, cut exactly over the whole dataset

--items scores the model's items instead of a dataset's rows: every item's
--top nearest items, keyed by item — the "customers who bought this also
bought" table (what mathcrm similar prints for one item):

  ALS       → rank, neighbour, score: the cosine of the item factors
  basket    → rank, neighbour, score, baskets, by: the pair's lift (items a
              rule links; by co-occurrence when no rule holds for the item)

with the neighbour's name when the dataset named items. The dataset defaults
to the model's training dataset and version; an item without neighbours is
unscored.

Rows with a missing input value are counted as unscored and exported with
empty scores.
--as names the score set (default DATASET-MODEL); scoring again into the same
name makes a new version; --keep N keeps only the newest N versions of the
score set (see scores retain).`,
		Example: `  mathcrm score --model model-1 --dataset telco --as telco-segments --wait
  mathcrm score --model model-4 --dataset ratings --top 10 --wait
  mathcrm score --model model-5 --dataset cdnow --horizon 39 --discount-rate 0.01 --wait
  mathcrm score --model model-4 --items --top 10 --as also-bought --wait`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if sp.As != "" {
				if err := checkName("--as", sp.As); err != nil {
					return err
				}
			}
			if cmd.Flags().Changed("top") {
				sp.Top = &top // left out, the leader fills in the default for ALS models
			}
			if cmd.Flags().Changed("horizon") {
				sp.Horizon = &horizon // left out, the leader fills in the model's default
			}
			if cmd.Flags().Changed("discount-rate") {
				sp.DiscountRate = &rate
			}
			if sp.Items && spec.Dataset == "" {
				err := withClient(cmd, func(ctx context.Context, c *client.Client) error {
					var err error
					spec.Dataset, spec.DatasetVersion, err = trainedOn(ctx, c, sp.Model)
					return err
				})
				if err != nil {
					return err
				}
			}
			if spec.Dataset == "" {
				return fmt.Errorf("--dataset is required (or --items, to score the model's items)")
			}
			spec.Params = proto.MustJSON(sp)
			if err := checkSpec(cmd, &spec); err != nil {
				return err // before --keep changes anything
			}
			if cmd.Flags().Changed("keep") {
				name := sp.As
				if name == "" {
					name = spec.Dataset + "-" + sp.Model
					if sp.Items {
						name += "-items"
					}
				}
				err := withClient(cmd, func(ctx context.Context, c *client.Client) error {
					_, err := retain(ctx, c, proto.APIScoresRetain, name, keep)
					return err
				})
				if err != nil {
					return fmt.Errorf("--keep: %w", err)
				}
			}
			return submitJob(cmd, spec, wait)
		},
	}
	f := cmd.Flags()
	f.StringVar(&sp.Model, "model", "", "model id (required)")
	f.StringVar(&spec.Dataset, "dataset", "", "dataset to score (required unless --items)")
	f.BoolVar(&sp.Items, "items", false, "ALS, basket: write every item's --top nearest items instead of scoring rows")
	f.IntVar(&spec.DatasetVersion, "dataset-version", 0, "dataset version (default latest)")
	f.StringVar(&sp.As, "as", "", "score set name (default DATASET-MODEL)")
	f.IntVar(&top, "top", proto.DefaultTop, fmt.Sprintf("ALS, basket: items per user, 1 to %d", proto.MaxTop))
	f.Float64Var(&horizon, "horizon", 0, "customer value: horizon in the model's time units (default one year)")
	f.Float64Var(&rate, "discount-rate", 0, "customer value: monthly discount rate of CLV (default 0.01)")
	f.BoolVar(&wait, "wait", false, "wait for the job and show its progress")
	f.IntVar(&keep, "keep", 0, "keep only the newest N versions of the score set")
	_ = cmd.MarkFlagRequired("model")
	return cmd
}

// trainedOn returns the dataset and version an ALS or basket model was
// trained on.
func trainedOn(ctx context.Context, c *client.Client, model string) (string, int, error) {
	d, err := getModel(ctx, c, model)
	if err != nil {
		return "", 0, err
	}
	if m := detailOf[alsjob.Factorization](d); m != nil {
		return m.Dataset, m.Version, nil
	}
	if m := detailOf[basket.Mined](d); m != nil {
		return m.Dataset, m.Version, nil
	}
	return "", 0, fmt.Errorf("model %s is %s: --items is for ALS and basket models", model, d.Model.Kind)
}

func newScores() *cobra.Command {
	cmd := &cobra.Command{Use: "scores", Short: "List, show and export score sets"}
	cmd.AddCommand(newScoresList(), newScoresShow(), newScoresExport(), newScoresDelete(), newScoresRetain())
	return cmd
}

func newScoresList() *cobra.Command {
	return listCmd("List score sets with their latest version", "  mathcrm scores list\n  mathcrm scores list --output json",
		proto.APIScoresList, "NAME\tVERSION\tKIND\tMODEL\tDATASET\tROWS\tCREATED\tSIZE", func(s proto.ScoreSet) string {
			return fmt.Sprintf("%s\t%d\t%s\t%s\t%s v%d\t%d\t%s\t%s", s.Name, s.Version, s.Kind, s.Model, s.Dataset,
				s.DatasetVersion, s.Rows, s.Created.Format(time.DateTime), describe.Bytes(s.Bytes))
		})
}

func newScoresShow() *cobra.Command {
	var version, atRisk int
	cmd := &cobra.Command{
		Use:   "show NAME [--version N] [--at-risk N]",
		Short: "Show a score set: rows, and the distribution (segment sizes, decile table, most recommended items)",
		Example: `  mathcrm scores show telco-segments
  mathcrm scores show churn-risk --version 3 --output json
  mathcrm scores show clv-values --at-risk 10`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().Changed("at-risk") && (atRisk < 1 || atRisk > 10000) {
				return fmt.Errorf("--at-risk %d: want 1 to 10000 customers", atRisk)
			}
			return withClient(cmd, func(ctx context.Context, c *client.Client) error {
				if atRisk > 0 {
					return printAtRisk(ctx, c, args[0], version, atRisk, os.Stdout)
				}
				var ss proto.ScoreSet
				if err := c.Call(ctx, proto.APIScoresShow, proto.NamedVersion{Name: args[0], Version: version}, &ss); err != nil {
					return err
				}
				if jsonOut() {
					return printJSON(os.Stdout, ss)
				}
				printScoreSet(os.Stdout, &ss)
				return nil
			})
		},
	}
	cmd.Flags().IntVar(&version, "version", 0, "version (default latest)")
	cmd.Flags().IntVar(&atRisk, "at-risk", 0, "customer values: list the N tier A customers of lowest P(alive)")
	return cmd
}

func printScoreSet(w io.Writer, ss *proto.ScoreSet) {
	fmt.Fprintf(w, "score set %s version %d: %s of %s version %d by model %s (job %s), %s\n", ss.Name, ss.Version, ss.Kind,
		ss.Dataset, ss.DatasetVersion, ss.Model, ss.Job, ss.Created.Format(time.DateTime))
	why := "a missing input value"
	switch ss.Kind {
	case proto.ScoresValues:
		why = "an infinite expected spend"
	case proto.ScoresRecommendations:
		why = "nothing to recommend"
	}
	fmt.Fprintf(w, "%d rows (%s, %s), %d shards; %d scored, %d unscored (%s)\n", ss.Rows, ss.Key,
		strings.Join(ss.Columns, ", "), len(ss.Shards), ss.Scored, ss.Unscored, why)
	fmt.Fprintf(w, "storage: %s; %s\n\n", describe.Bytes(ss.Bytes), retention(ss.Keep))
	sum := &ss.Summary
	tw := table(w)
	switch {
	case len(sum.Segments) > 0:
		fmt.Fprintln(tw, "SEGMENT\tROWS\tSHARE")
		for s, n := range sum.Segments {
			fmt.Fprintf(tw, "%d\t%d\t%.1f%%\n", s, n, 100*float64(n)/float64(max(ss.Rows, 1)))
		}
		_ = tw.Flush()
		fmt.Fprintf(w, "\ndistance to the centroid: mean %.4g, max %.4g\n", sum.Moments.Mean, sum.Moments.Max)
	case len(sum.Deciles) > 0:
		fmt.Fprintln(tw, "DECILE\tROWS\tMIN\tMEAN\tMAX")
		for _, d := range sum.Deciles {
			fmt.Fprintf(tw, "%d\t%d\t%.6g\t%.6g\t%.6g\n", d.Decile, d.Rows, d.Min, d.Mean, d.Max)
		}
		_ = tw.Flush()
	case len(sum.Tiers) > 0:
		printTiers(w, sum)
	case len(sum.Items) > 0 && ss.Kind == proto.ScoresNeighbours:
		fmt.Fprintln(tw, "MOST FREQUENT NEIGHBOUR\tITEMS")
		for _, it := range sum.Items {
			fmt.Fprintf(tw, "%s\t%d\n", it.Item, it.Count)
		}
		_ = tw.Flush()
	case len(sum.Items) > 0:
		fmt.Fprintln(tw, "MOST RECOMMENDED ITEM\tUSERS")
		for _, it := range sum.Items {
			fmt.Fprintf(tw, "%s\t%d\n", it.Item, it.Count)
		}
		_ = tw.Flush()
	}
}

func newScoresExport() *cobra.Command {
	var format, out string
	var version int
	cmd := &cobra.Command{
		Use:   "export NAME --format csv|parquet --out FILE [--version N]",
		Short: "Stream a score set out as CSV or Parquet",
		Long: `export streams every shard of a score set version, verified against its
checksum, into one CSV or Parquet file, never holding the whole set in memory:
the dataset's key column under its own name, then segment, distance (k-means);
prediction (linear); probability, decile (logistic); rank, item, score, one row
per recommended item (ALS). The file appears only when it is complete.`,
		Example: `  mathcrm scores export telco-segments --format csv --out segments.csv
  mathcrm scores export churn-risk --format parquet --out churn.parquet`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := dial()
			if err != nil {
				return err
			}
			defer c.Close()
			ctx, cancel := signalCtx()
			defer cancel()
			var rows int64
			err = writeOut(out, func(w io.Writer) error {
				var err error
				rows, err = c.ExportScores(ctx, args[0], version, format, w)
				return err
			})
			if err != nil {
				return err
			}
			if out != "" && out != "-" {
				if jsonOut() {
					return printJSON(os.Stdout, map[string]any{"scores": args[0], "rows": rows, "format": format, "out": out})
				}
				fmt.Fprintf(os.Stderr, "wrote %d rows to %s\n", rows, out)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "csv", "csv or parquet")
	cmd.Flags().StringVar(&out, "out", "", "output file (default standard output)")
	cmd.Flags().IntVar(&version, "version", 0, "version (default latest)")
	return cmd
}

// printTiers prints a values score set's tier table and the share of the
// total value its top customers hold.
func printTiers(w io.Writer, sum *proto.ScoreSummary) {
	var rows int64
	var total float64
	for _, t := range sum.Tiers {
		rows += t.Rows
		total += t.Sum
	}
	tw := table(w)
	fmt.Fprintln(tw, "TIER\tCUSTOMERS\tSHARE\tCLV\tCLV SHARE\tMIN CLV\tMAX CLV")
	for _, t := range sum.Tiers {
		share := 0.0
		if total > 0 {
			share = 100 * t.Sum / total
		}
		fmt.Fprintf(tw, "%s\t%d\t%.1f%%\t%.2f\t%.1f%%\t%.4g\t%.4g\n", t.Tier, t.Rows, 100*float64(t.Rows)/float64(max(rows, 1)), t.Sum, share, t.Min, t.Max)
	}
	_ = tw.Flush()
	if ts := sum.TopShare; ts != nil {
		fmt.Fprintf(w, "\nthe top %.0f%% of customers (%d) hold %.1f%% of the total CLV (%.2f)\n", 100*ts.Fraction, ts.Rows, 100*ts.Share, total)
	}
}
