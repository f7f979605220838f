package main

import (
	"fmt"
	"io"
	"os"

	"github.com/mathcrm/mathcrm/algo/basket"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/spf13/cobra"
)

func init() { trainers = append(trainers, newTrainBasket) }

func newTrainBasket() *cobra.Command {
	spec := proto.JobSpec{Algo: basket.Name}
	p := basket.Params{MaxLen: basket.DefaultMaxLen, MaxCandidates: basket.DefaultMaxCandidates}
	var wait bool
	cmd := &cobra.Command{
		Use:   "basket --dataset D --min-support S --min-confidence C [--max-len L] [--basket invoice|customer] [--exclude-returns] [--wait]",
		Short: "Mine frequent itemsets and association rules from market baskets",
		Long: `basket submits a job that finds every itemset in at least --min-support of the
baskets, up to --max-len items, with its exact count, and every association rule
A → C between them with a confidence count(A∪C)/count(A) of at least
--min-confidence, with its support, lift, leverage and conviction.

The workers count (Apriori's levels, count distribution): first every item,
then, one pass per length, the candidate itemsets the leader proposes from the
frequent ones. A partial holds one count per candidate, never one per basket;
a level of more than --max-candidates candidates fails at once, naming how many
it would need: raise --min-support or lower --max-len.

An interactions dataset has one basket per user: the user's distinct items.
--exclude-returns leaves out interactions with a value of 0 or less (returned
or cancelled lines). For a transactions dataset, a basket is an invoice
(--basket invoice) or a customer's purchases on one day (--basket customer);
its lines need an item, kept by importing it with --item.`,
		Example: `  mathcrm train basket --dataset invoices --min-support 0.01 --min-confidence 0.3 --max-len 4 --exclude-returns --wait`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			spec.Params = proto.MustJSON(p)
			return submitJob(cmd, spec, wait)
		},
	}
	f := cmd.Flags()
	f.StringVar(&spec.Dataset, "dataset", "", "interactions or transactions dataset (required)")
	f.IntVar(&spec.DatasetVersion, "dataset-version", 0, "dataset version (default latest)")
	f.Float64Var(&p.MinSupport, "min-support", 0, "least share of the baskets a frequent itemset is in, in (0, 1] (required)")
	f.Float64Var(&p.MinConfidence, "min-confidence", 0, "least confidence of a rule, in [0, 1] (required)")
	f.IntVar(&p.MaxLen, "max-len", basket.DefaultMaxLen, "longest itemset mined, at least 2")
	f.IntVar(&p.MaxCandidates, "max-candidates", basket.DefaultMaxCandidates, "most candidate itemsets of one length (bounds memory)")
	f.StringVar(&p.Basket, "basket", "", "transactions: a basket is an invoice or a customer's day (default invoice when the import named one)")
	f.BoolVar(&p.ExcludeReturns, "exclude-returns", false, "leave out returned lines")
	f.BoolVar(&wait, "wait", false, "wait for the job and show its progress")
	_ = cmd.MarkFlagRequired("dataset")
	_ = cmd.MarkFlagRequired("min-support")
	_ = cmd.MarkFlagRequired("min-confidence")
	return cmd
}

// recommendBasket prints the offers of a basket model's rules that fire for
// the items given.
func recommendBasket(w io.Writer, id string, m *basket.Mined, items []string, n int) error {
	if len(items) == 0 {
		return fmt.Errorf("--items is required for basket model %s: the items in the basket, comma separated", id)
	}
	offers, err := m.Model().Recommend(items, n)
	if err != nil {
		return err
	}
	if jsonOut() {
		type offer struct {
			Item       string   `json:"item"`
			Name       string   `json:"name,omitempty"`
			Confidence float64  `json:"confidence"`
			Lift       float64  `json:"lift"`
			Antecedent []string `json:"antecedent"`
			Consequent []string `json:"consequent"`
		}
		out := make([]offer, len(offers))
		for i, o := range offers {
			r := m.Rules[o.Rule]
			out[i] = offer{Item: o.Item, Name: m.Names[o.Item], Confidence: o.Confidence, Lift: o.Lift, Antecedent: r.Antecedent, Consequent: r.Consequent}
		}
		return printJSON(os.Stdout, map[string]any{"model": id, "items": items, "offers": out})
	}
	if len(offers) == 0 {
		fmt.Fprintf(w, "no rule of model %s fires for these items\n", id)
		return nil
	}
	tw := table(w)
	if m.Names == nil {
		fmt.Fprintln(tw, "RANK\tITEM\tCONFIDENCE\tLIFT\tRULE")
		for i, o := range offers {
			fmt.Fprintf(tw, "%d\t%s\t%.4g\t%.4g\t%s\n", i+1, o.Item, o.Confidence, o.Lift, basket.RuleText(m.Rules[o.Rule]))
		}
		return tw.Flush()
	}
	fmt.Fprintln(tw, "RANK\tITEM\tNAME\tCONFIDENCE\tLIFT\tRULE")
	for i, o := range offers {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%.4g\t%.4g\t%s\n", i+1, o.Item, m.Names[o.Item], o.Confidence, o.Lift, basket.RuleText(m.Rules[o.Rule]))
	}
	return tw.Flush()
}
