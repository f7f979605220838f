package main

import (
	"cmp"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/mathcrm/mathcrm/internal/client"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/spf13/cobra"
)

func newDataset() *cobra.Command {
	cmd := &cobra.Command{Use: "dataset", Short: "Import, list and inspect datasets"}
	cmd.AddCommand(newDatasetImport(), newDatasetList(), newDatasetShow(), newDatasetExport())
	return cmd
}

func newDatasetImport() *cobra.Command {
	var o client.ImportOptions
	var columns, categorical, delim, tz string
	cmd := &cobra.Command{
		Use:   "import NAME FILE [--kind features|interactions|transactions] ...",
		Short: "Import a CSV file (plain or .gz) as a new version of a dataset",
		Long: `import streams a CSV file, hashes each row's key into S shards, stores each
shard as a Parquet file (zstd) with its checksum and makes the version visible in
one raft commit. Without --columns every numeric column is imported; text
columns are listed as ignored unless named in --categorical, which imports them
as categories (the dictionary is stored with the dataset; models use them one-hot
encoded, as "col=value" columns). An empty field is a missing value.

Kinds:
  features      one row per customer: --key and numeric or --categorical columns.
  interactions  user × item pairs: --user, --item and optionally --value (an
                explicit rating or an implicit count; without it every pair
                counts 1). Stored twice, sharded by user and by item, for ALS.
  transactions  purchases: --key (customer), --time, and --amount or
                --quantity with --price (amount = quantity × price), optionally
                --invoice. Returns (negative amounts or quantities) are kept
                and flagged. A row without a customer id is an error naming its
                line, unless --skip-missing-key counts and skips such rows.

Bad input — a malformed row, a non-numeric value in a numeric column, a
missing key column, an empty or duplicate key, an unparseable time, an empty
file — stops the import with the file, line and column named, and no version
becomes visible.`,
		Example: `  mathcrm dataset import telco testdata/telco/Telco-Customer-Churn.csv \
      --kind features --key customerID --columns tenure,MonthlyCharges,TotalCharges --categorical Contract,Churn
  mathcrm dataset import bank bank.csv.gz --kind features --key id --delimiter ';'
  mathcrm dataset import ratings testdata/ratings/sample_movielens_ratings.csv \
      --kind interactions --user user --item item --value rating
  mathcrm dataset import retail testdata/online-retail/onlineretail-sample.csv.gz --kind transactions \
      --key CustomerID --time InvoiceDate --quantity Quantity --price UnitPrice --invoice InvoiceNo --skip-missing-key`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch o.Kind {
			case "features":
				if o.Key == "" {
					return fmt.Errorf("--kind features needs --key")
				}
			case "interactions":
				if o.Interactions.User == "" || o.Interactions.Item == "" {
					return fmt.Errorf("--kind interactions needs --user and --item")
				}
			case "transactions":
				o.Transactions.Key = o.Key
				if o.Key == "" || o.Transactions.Time == "" {
					return fmt.Errorf("--kind transactions needs --key and --time")
				}
				if tz != "" {
					loc, err := time.LoadLocation(tz)
					if err != nil {
						return fmt.Errorf("--time-zone: %w", err)
					}
					o.Transactions.Location = loc
				}
			default:
				return fmt.Errorf("--kind %q is not supported (features, interactions, transactions)", o.Kind)
			}
			if columns != "" {
				o.Columns = splitList(columns)
			}
			if categorical != "" {
				o.Categorical = splitList(categorical)
			}
			if r := []rune(delim); len(r) == 1 {
				o.Delimiter = r[0]
			} else {
				return fmt.Errorf("--delimiter must be one character, not %q", delim)
			}
			if !jsonOut() {
				o.Progress = func(format string, a ...any) { fmt.Fprintf(os.Stderr, format+"\n", a...) }
			}
			c, err := dial()
			if err != nil {
				return err
			}
			defer c.Close()
			ctx, cancel := signalCtx()
			defer cancel()
			ds, err := c.Import(ctx, args[0], args[1], o)
			if err != nil {
				return err
			}
			v := ds.Latest()
			if jsonOut() {
				return printJSON(os.Stdout, map[string]any{"name": ds.Name, "kind": ds.Kind, "version": v.Version,
					"rows": v.Rows, "shards": len(v.Shards), "key": v.Key, "columns": v.Columns,
					"interactions": v.Interactions, "transactions": v.Transactions})
			}
			switch {
			case v.Interactions != nil:
				in := v.Interactions
				fmt.Printf("imported %s version %d: %d interactions of %d users × %d items, %d shards by user and by item\n",
					ds.Name, v.Version, v.Rows, in.Users, in.Items, len(v.Shards))
			case v.Transactions != nil:
				tx := v.Transactions
				fmt.Printf("imported %s version %d: %d transactions of %d customers, %s to %s, %d returns, %d rows without a customer skipped, %d shards\n",
					ds.Name, v.Version, v.Rows, tx.Customers, tx.First.Format(time.DateTime), tx.Last.Format(time.DateTime),
					tx.Returns, tx.SkippedMissingKey, len(v.Shards))
			default:
				fmt.Printf("imported %s version %d: %d rows, %d shards, key %s, columns %s\n", ds.Name, v.Version, v.Rows,
					len(v.Shards), v.Key, strings.Join(colNames(v.Columns), ","))
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Kind, "kind", "features", "dataset kind: features, interactions or transactions")
	f.StringVar(&o.Key, "key", "", "key column (customer id) of a features or transactions dataset")
	f.StringVar(&o.Interactions.User, "user", "", "interactions: user id column")
	f.StringVar(&o.Interactions.Item, "item", "", "interactions: item id column")
	f.StringVar(&o.Interactions.Value, "value", "", "interactions: rating or count column (default: every pair counts 1)")
	f.StringVar(&o.Transactions.Time, "time", "", "transactions: timestamp column")
	f.StringVar(&o.Transactions.TimeFormat, "time-format", "", "transactions: Go time layout or unix (default: detect RFC 3339, 2006-01-02 15:04:05, 2006-01-02, unix seconds)")
	f.StringVar(&tz, "time-zone", "", "transactions: zone of timestamps written without one (default UTC)")
	f.StringVar(&o.Transactions.Amount, "amount", "", "transactions: amount column")
	f.StringVar(&o.Transactions.Quantity, "quantity", "", "transactions: quantity column (amount = quantity × price)")
	f.StringVar(&o.Transactions.Price, "price", "", "transactions: unit price column")
	f.StringVar(&o.Transactions.Invoice, "invoice", "", "transactions: invoice id column (frequency counts distinct invoices)")
	f.BoolVar(&o.Transactions.SkipMissingKey, "skip-missing-key", false, "transactions: count and skip rows without a customer id instead of failing")
	f.StringVar(&columns, "columns", "", "numeric columns to import, comma separated (default: every numeric column)")
	f.StringVar(&categorical, "categorical", "", "text columns to import as categories, comma separated (one-hot encoded as col=value when used)")
	f.IntVar(&o.Shards, "shards", 64, "number of shards")
	f.StringVar(&delim, "delimiter", ",", "field delimiter")
	return cmd
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func colNames(cs []proto.ColumnStats) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Name
	}
	return out
}

func newDatasetList() *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Short:   "List datasets with their latest version",
		Example: "  mathcrm dataset list\n  mathcrm dataset list --output json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := dial()
			if err != nil {
				return err
			}
			defer c.Close()
			ctx, cancel := callCtx(cmd)
			defer cancel()
			var list []proto.Dataset
			if err := c.Call(ctx, proto.APIDatasetList, nil, &list); err != nil {
				return err
			}
			if jsonOut() {
				out := make([]map[string]any, 0, len(list))
				for _, ds := range list {
					v := ds.Latest()
					out = append(out, map[string]any{"name": ds.Name, "kind": ds.Kind, "versions": len(ds.Versions),
						"latest": v.Version, "rows": v.Rows, "shards": len(v.Shards), "created": v.Created})
				}
				return printJSON(os.Stdout, out)
			}
			tw := table(os.Stdout)
			fmt.Fprintln(tw, "NAME\tKIND\tVERSION\tROWS\tSHARDS\tCOLUMNS\tCREATED")
			for _, ds := range list {
				v := ds.Latest()
				fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%s\n", ds.Name, ds.Kind, v.Version, v.Rows, len(v.Shards),
					len(v.Columns), v.Created.Format("2006-01-02 15:04:05"))
			}
			return tw.Flush()
		},
	}
}

func newDatasetShow() *cobra.Command {
	var version int
	cmd := &cobra.Command{
		Use:     "show NAME [--version N]",
		Short:   "Show a dataset version: rows, shards and every column's statistics",
		Example: "  mathcrm dataset show telco\n  mathcrm dataset show telco --version 1 --output json",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := dial()
			if err != nil {
				return err
			}
			defer c.Close()
			ctx, cancel := callCtx(cmd)
			defer cancel()
			var ds proto.Dataset
			if err := c.Call(ctx, proto.APIDatasetShow, proto.Named{Name: args[0]}, &ds); err != nil {
				return err
			}
			v := ds.Latest()
			if version != 0 {
				if version < 1 || version > len(ds.Versions) {
					return fmt.Errorf("dataset %s has no version %d (it has 1..%d)", ds.Name, version, len(ds.Versions))
				}
				v = &ds.Versions[version-1]
			}
			if jsonOut() {
				return printJSON(os.Stdout, map[string]any{"name": ds.Name, "kind": ds.Kind, "version": v.Version,
					"versions": len(ds.Versions), "rows": v.Rows, "key": v.Key, "source": v.Source, "created": v.Created,
					"shards": v.Shards, "item_shards": v.ItemShards, "columns": v.Columns,
					"interactions": v.Interactions, "transactions": v.Transactions})
			}
			fmt.Printf("dataset %s (%s), version %d of %d, from %s, %s\n", ds.Name, ds.Kind, v.Version, len(ds.Versions),
				v.Source, v.Created.Format("2006-01-02 15:04:05"))
			fmt.Printf("rows %d, shards %d, key %s\n", v.Rows, len(v.Shards), v.Key)
			if in := v.Interactions; in != nil {
				value := in.Value
				if value == "" {
					value = "(every pair counts 1)"
				}
				fmt.Printf("interactions: user %s (%d), item %s (%d), value %s; stored by user and by item\n",
					in.User, in.Users, in.Item, in.Items, value)
			}
			if tx := v.Transactions; tx != nil {
				fmt.Printf("transactions: customer %s (%d), time %s from %s to %s, amount %s, invoice %s; %d returns, %d rows without a customer skipped\n",
					tx.Key, tx.Customers, tx.Time, tx.First.Format(time.DateTime), tx.Last.Format(time.DateTime), tx.Amount,
					cmp.Or(tx.Invoice, "(none)"), tx.Returns, tx.SkippedMissingKey)
			}
			fmt.Println()
			tw := table(os.Stdout)
			fmt.Fprintln(tw, "COLUMN\tCOUNT\tMISSING\tMIN\tMEAN\tMAX\tSTD")
			for _, cs := range v.Columns {
				if cs.Categorical() {
					fmt.Fprintf(tw, "%s\t%d\t%d\t%s\n", cs.Name, cs.Count, cs.Missing, levelSummary(&cs))
					continue
				}
				fmt.Fprintf(tw, "%s\t%d\t%d\t%.6g\t%.6g\t%.6g\t%.6g\n", cs.Name, cs.Count, cs.Missing, cs.Min, cs.Mean, cs.Max, cs.Std)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().IntVar(&version, "version", 0, "version to show (default latest)")
	return cmd
}

// levelSummary describes a categorical column: its values with their shares.
func levelSummary(cs *proto.ColumnStats) string {
	parts := make([]string, 0, len(cs.Levels))
	for i, v := range cs.Levels {
		if i == 6 {
			parts = append(parts, fmt.Sprintf("... %d values", len(cs.Levels)))
			break
		}
		parts = append(parts, fmt.Sprintf("%s %.1f%%", v, 100*float64(cs.LevelCounts[i])/float64(max(cs.Count, 1))))
	}
	return "categorical: " + strings.Join(parts, ", ")
}

func newDatasetExport() *cobra.Command {
	var format, out string
	var version int
	cmd := &cobra.Command{
		Use:   "export NAME --format csv|parquet --out FILE [--version N]",
		Short: "Stream a dataset version out as CSV or Parquet (categories as their values)",
		Long: `export streams every shard of a dataset version, in shard order and verified
against its checksum, into one CSV or Parquet file. Features: the key column,
then every column, categorical columns as their values, missing values empty
(CSV) or null (Parquet). Interactions: one row per interaction, the user, item
and (when imported) value columns. Transactions: one row per transaction, the
customer column, time (RFC 3339, UTC), amount (quantity × price when the import
computed it), the invoice column when imported, and return (1 or 0). Numbers are
written so that they read back as the same float64, and every export imports
again as the same dataset. The file appears only when it is complete.`,
		Example: `  mathcrm dataset export telco --format csv --out telco.csv
  mathcrm dataset export telco --format parquet --out telco.parquet --version 1
  mathcrm dataset export retail --format csv --out retail.csv`,
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
				rows, err = c.ExportDataset(ctx, args[0], version, format, w)
				return err
			})
			if err != nil {
				return err
			}
			if out != "" && out != "-" {
				if jsonOut() {
					return printJSON(os.Stdout, map[string]any{"dataset": args[0], "rows": rows, "format": format, "out": out})
				}
				fmt.Fprintf(os.Stderr, "wrote %d rows to %s\n", rows, out)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "csv", "csv or parquet")
	cmd.Flags().StringVar(&out, "out", "", "output file (default standard output)")
	cmd.Flags().IntVar(&version, "version", 0, "dataset version (default latest)")
	return cmd
}
