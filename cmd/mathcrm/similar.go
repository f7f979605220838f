package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/mathcrm/mathcrm/algo/als"
	"github.com/mathcrm/mathcrm/algo/als/alsjob"
	"github.com/mathcrm/mathcrm/algo/basket"
	"github.com/mathcrm/mathcrm/internal/client"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/spf13/cobra"
)

func newSimilar() *cobra.Command {
	var model, item string
	var n int
	cmd := &cobra.Command{
		Use:   "similar --model M --item X [--n 10]",
		Short: "Print the items most like an item: ALS factor cosine, or basket associations",
		Long: `similar prints the N items nearest an item: the "customers who bought this
also bought" list.

  ALS     the items whose trained factors have the highest cosine with the
          item's, read from the model's item factor shards
  basket  the items a rule links to the item (item → Y or Y → item), by the
          pair's lift; when no rule holds for the item, the items of its
          frequent pairs, by how many baskets hold both (co-occurrence)

An item the model does not know is an error.`,
		Example: `  mathcrm similar --model model-3 --item 85123A
  mathcrm similar --model model-5 --item 22386 --n 5 --output json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if n < 1 {
				return fmt.Errorf("--n must be at least 1")
			}
			return withClient(cmd, func(ctx context.Context, c *client.Client) error {
				d, err := getModel(ctx, c, model)
				if err != nil {
					return err
				}
				if m := detailOf[basket.Mined](d); m != nil {
					return similarBasket(os.Stdout, model, m, item, n)
				}
				refs, ok := alsItemFactors(d)
				if !ok {
					return fmt.Errorf("model %s is %s, not an ALS or a basket model", model, d.Model.Kind)
				}
				fetch := func(ctx context.Context, ref als.FactorRef) (*als.Factors, error) { return readFactors(ctx, c, ref) }
				sims, err := similarALS(ctx, fetch, refs, item, n)
				if err != nil {
					return err
				}
				return printSimilar(os.Stdout, model, item, "cosine", sims, detailOf[alsjob.Factorization](d).ItemNames)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&model, "model", "", "ALS or basket model id (required)")
	f.StringVar(&item, "item", "", "item id (required)")
	f.IntVar(&n, "n", 10, "number of items")
	_ = cmd.MarkFlagRequired("model")
	_ = cmd.MarkFlagRequired("item")
	return cmd
}

// alsItemFactors returns the item factor shards of an ALS model.
func alsItemFactors(d *proto.ModelDetail) ([]als.FactorRef, bool) {
	m := detailOf[alsjob.Factorization](d)
	if m == nil {
		return nil, false
	}
	return m.Summary.Items, true
}

// similarALS reads every item factor shard with fetch and returns the n
// items with the highest cosine with item's factor.
func similarALS(ctx context.Context, fetch func(context.Context, als.FactorRef) (*als.Factors, error), refs []als.FactorRef, item string, n int) ([]als.Scored, error) {
	shards := make([]*als.Factors, len(refs))
	for i, ref := range refs {
		f, err := fetch(ctx, ref)
		if err != nil {
			return nil, err
		}
		shards[i] = f
	}
	tab, err := als.NewTable(nil, shards)
	if err != nil {
		return nil, err
	}
	return (&als.Model{Items: tab}).Similar(nil, item, n)
}

func similarBasket(w io.Writer, id string, m *basket.Mined, item string, n int) error {
	ns, byLift, err := m.Model().Neighbours(item, n)
	if err != nil {
		return err
	}
	by := "co-occurrence"
	if byLift {
		by = "lift"
	}
	if jsonOut() {
		return printJSON(os.Stdout, map[string]any{"model": id, "item": item, "by": by, "items": ns})
	}
	if len(ns) == 0 {
		fmt.Fprintf(w, "item %s is in no frequent pair of model %s\n", item, id)
		return nil
	}
	fmt.Fprintf(w, "items bought with %s, by %s:\n", m.Model().Label(item), by)
	tw := table(w)
	fmt.Fprintln(tw, "RANK\tITEM\tNAME\tLIFT\tBASKETS")
	for i, x := range ns {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%.4g\t%d\n", i+1, x.Item, x.Name, x.Lift, x.Count)
	}
	return tw.Flush()
}

func printSimilar(w io.Writer, id, item, by string, sims []als.Scored, names map[string]string) error {
	if jsonOut() {
		out := map[string]any{"model": id, "item": item, "by": by, "items": named(sims, names)}
		if names[item] != "" {
			out["name"] = names[item]
		}
		return printJSON(w, out)
	}
	if names[item] != "" {
		fmt.Fprintf(w, "items like %s %s, by cosine:\n", item, names[item])
	}
	return printScored(w, "COSINE", "%.6f", sims, names)
}
