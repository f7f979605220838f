package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/mathcrm/mathcrm/internal/client"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/spf13/cobra"
)

func newCustomer() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "customer",
		Short: "Act on customers across every dataset and score set",
	}
	cmd.AddCommand(newCustomerErase(), newCustomerShow())
	return cmd
}

func newCustomerErase() *cobra.Command {
	var fromFile string
	cmd := &cobra.Command{
		Use:   "erase KEY... [--from-file F]",
		Short: "Erase customers from every version of every dataset and score set (right to erasure)",
		Long: `erase removes customers by key from every version of every dataset keyed by
customer (features, transactions, both layouts of interactions) and of every
score set. It rewrites only the shards that hold them, and swaps each version's
shards in one commit; the old shards are deleted by the cluster's garbage
collection. The cluster keeps only a salted hash of each key and when it was
erased. Keys found nowhere are reported, not an error. Models trained on a
version that held the customers are listed for retraining (also in model show).`,
		Example: `  mathcrm customer erase 7590-VHVEG 5575-GNVDE
  mathcrm customer erase --from-file erasure-requests.txt --output json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			keys := args
			if fromFile != "" {
				more, err := client.ReadKeyFile(fromFile)
				if err != nil {
					return err
				}
				keys = append(keys, more...)
			}
			keys, err := client.CheckKeys(keys)
			if errors.Is(err, client.ErrNoKeys) {
				return fmt.Errorf("%w: pass KEY... or --from-file F", err)
			}
			if err != nil {
				return err
			}
			return withClient(cmd, func(ctx context.Context, c *client.Client) error {
				say := func(string, ...any) {}
				if g.verbose {
					say = func(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }
				}
				rep, err := c.Erase(ctx, keys, say)
				if err != nil {
					return err
				}
				if jsonOut() {
					return printJSON(os.Stdout, rep)
				}
				printErasure(os.Stdout, rep)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&fromFile, "from-file", "", "file of customer keys to erase, one a line")
	return cmd
}

func printErasure(w io.Writer, rep *proto.EraseReport) {
	fmt.Fprintf(w, "erased %d of %d customers at %s\n", rep.Found, rep.Keys, rep.Time.Format(time.RFC3339))
	if len(rep.NotFound) > 0 {
		fmt.Fprintf(w, "not found anywhere: %s\n", strings.Join(rep.NotFound, ", "))
	}
	if len(rep.Touched) > 0 {
		tw := table(w)
		fmt.Fprintln(tw, "\nKIND\tNAME@VERSION\tSHARDS REWRITTEN\tROWS REMOVED")
		for _, t := range rep.Touched {
			kind, name := "dataset", t.Dataset
			if t.Scores != "" {
				kind, name = "scores", t.Scores
			}
			fmt.Fprintf(tw, "%s\t%s@%d\t%d\t%d\n", kind, name, t.Version, t.Shards, t.Rows)
		}
		tw.Flush()
	}
	if len(rep.Retrain) > 0 {
		fmt.Fprintln(w, "\nretrain these models, trained on data that held the customers:")
		tw := table(w)
		for _, r := range rep.Retrain {
			fmt.Fprintf(tw, "  %s\t%s\t%s@%d\n", r.Model, r.Kind, r.Dataset, r.Version)
		}
		tw.Flush()
	}
}

// printRetrain notes on model show that a model should be retrained.
func printRetrain(w io.Writer, r *proto.Retrain) {
	if r == nil {
		return
	}
	fmt.Fprintf(w, "retrain: customers were erased from %s version %d at %s, after this model's job started\n",
		r.Dataset, r.Version, r.Erased.Format(time.RFC3339))
}
