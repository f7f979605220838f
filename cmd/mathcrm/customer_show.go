package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/mathcrm/mathcrm/internal/client"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/spf13/cobra"
)

func newCustomerShow() *cobra.Command {
	return &cobra.Command{
		Use:   "show KEY",
		Short: "Show one customer's scores: their row in the latest version of every score set",
		Long: `show prints a customer's row in the latest version of every score set that has
them — segment and distance, prediction, churn probability and decile, value,
next-best items — each with its score set, version and time. The owner of the
customer's shard answers from the score shard it keeps indexed by key: no score
set is scanned, and any coordinator answers, leader or not.`,
		Example: `  mathcrm customer show 7590-VHVEG
  mathcrm customer show 7590-VHVEG --output json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withClient(cmd, func(ctx context.Context, c *client.Client) error {
				cs, err := c.Customer(ctx, args[0])
				if err != nil {
					return err
				}
				if jsonOut() {
					return printJSON(os.Stdout, cs)
				}
				printCustomer(os.Stdout, cs)
				return nil
			})
		},
	}
}

func printCustomer(w io.Writer, cs *proto.CustomerScores) {
	fmt.Fprintf(w, "customer %s: in %d of %d score sets\n", cs.Key, len(cs.Sets), cs.Searched)
	for _, s := range cs.Sets {
		fmt.Fprintf(w, "\n%s version %d (%s, model %s on %s, %s)\n", s.Name, s.Version, s.Kind, s.Model, s.Dataset,
			s.Created.Format("2006-01-02 15:04:05Z07:00"))
		tw := table(w)
		fmt.Fprintln(tw, strings.ToUpper(strings.Join(s.Columns, "\t")))
		for _, r := range s.Rows {
			cells := make([]string, len(r))
			for i, v := range r {
				switch x := v.(type) {
				case nil:
					cells[i] = "-"
				case float64:
					cells[i] = fmt.Sprintf("%.6g", x)
				default:
					cells[i] = fmt.Sprint(x)
				}
			}
			fmt.Fprintln(tw, strings.Join(cells, "\t"))
		}
		tw.Flush()
	}
}
