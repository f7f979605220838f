package main

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/mathcrm/mathcrm/internal/client"
	"github.com/mathcrm/mathcrm/internal/describe"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/partition"
	"github.com/spf13/cobra"
)

func newDataset() *cobra.Command {
	cmd := &cobra.Command{Use: "dataset", Short: "Import, list and inspect datasets"}
	cmd.AddCommand(newDatasetImport(), newDatasetList(), newDatasetShow(), newDatasetExport())
	cmd.AddCommand(newDatasetDelete(), newDatasetRetain())
	return cmd
}

func newDatasetImport() *cobra.Command {
	var o client.ImportOptions
	var columns, categorical, tz, names, onBad string
	var noHeader bool
	var keep int
	cmd := &cobra.Command{
		Use:   "import NAME FILE [--kind features|interactions|transactions] ...",
		Short: "Import a CSV (plain or .gz) or Parquet file as a new version of a dataset",
		Long: `import streams a CSV file, hashes each row's key into S shards, stores each
shard as a Parquet file (zstd) with its checksum and makes the version visible in
one raft commit. The file is parsed on every core and shards are stored while
the others are written; memory does not grow with the file.

A Parquet file (found by its contents) is read column by column: its flat
columns are the header, numeric ones are imported as numbers, and errors name
the row instead of the line; --delimiter and --no-header do not apply. Without --columns every numeric column is imported: a column is
numeric when more than half of its non-empty values in the first 1000 rows are
numbers (or all are empty), and then every value of it must be a number. Text
columns are listed as ignored unless named in --categorical, which imports them
as categories (the dictionary is stored with the dataset; models use them one-hot
encoded, as "col=value" columns). An empty field is a missing value.

A value that is not a number in a numeric column stops the import, wherever it
is in the file; --on-bad-value skip drops such rows and --on-bad-value missing
(features only) stores such values as missing instead, and both count them.
--key @row numbers the rows 1, 2, ... in file order, for a file without an id
column. --no-header --names a,b,c reads a file without a header row. The
delimiter may be longer than one character (--delimiter '::'); such a file is
split line by line, without quoting.

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
  mathcrm dataset import ml ratings.dat --kind interactions --no-header \
      --names user,item,rating,ts --delimiter '::' --user user --item item --value rating
  mathcrm dataset import survey answers.csv --key @row --on-bad-value missing
  mathcrm dataset import events events.parquet --key customer_id
  mathcrm dataset import ratings testdata/ratings/sample_movielens_ratings.csv \
      --kind interactions --user user --item item --value rating
  mathcrm dataset import retail testdata/online-retail/onlineretail-sample.csv.gz --kind transactions \
      --key CustomerID --time InvoiceDate --quantity Quantity --price UnitPrice --invoice InvoiceNo --skip-missing-key`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkName("dataset name", args[0]); err != nil {
				return err
			}
			if err := checkInt("--shards", o.Shards, 1, partition.MaxShards); err != nil {
				return err
			}
			if o.Key == partition.RowKey && o.Kind != "features" {
				return fmt.Errorf("--key %s numbers rows: only --kind features can use it", partition.RowKey)
			}
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
				o.Transactions.Key, o.Transactions.Item = o.Key, o.Interactions.Item
				if o.Key == "" || o.Transactions.Time == "" {
					return fmt.Errorf("--kind transactions needs --key and --time")
				}
				if o.Transactions.ItemName != "" && o.Transactions.Item == "" {
					return fmt.Errorf("--item-name needs --item")
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
			if o.Transactions.ItemName != "" && o.Kind != "transactions" {
				return fmt.Errorf("--item-name is for --kind transactions")
			}
			if columns != "" {
				o.Columns = splitList(columns)
			}
			if categorical != "" {
				o.Categorical = splitList(categorical)
			}
			if err := importInput(&o.Input, noHeader, names, onBad); err != nil {
				return err
			}
			if o.OnBadValue == partition.BadValueMissing && o.Kind != "features" {
				return fmt.Errorf("--on-bad-value missing is for --kind features: %s have no missing values; use skip", o.Kind)
			}
			if keep < 0 || keep > proto.MaxKeep {
				return fmt.Errorf("--keep must be 1 to %d, or 0 to keep every version, not %d", proto.MaxKeep, keep)
			}
			var found partition.Findings
			o.Found = func(f partition.Findings) { found = f }
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
			if cmd.Flags().Changed("keep") {
				if _, err := retain(ctx, c, proto.APIDatasetRetain, ds.Name, keep); err != nil {
					return fmt.Errorf("imported %s version %d, but --keep: %w", ds.Name, ds.Latest().Version, err)
				}
			}
			v := ds.Latest()
			if jsonOut() {
				return printJSON(os.Stdout, map[string]any{"name": ds.Name, "kind": ds.Kind, "version": v.Version,
					"rows": v.Rows, "shards": len(v.Shards), "key": v.Key, "columns": v.Columns,
					"interactions": v.Interactions, "transactions": v.Transactions,
					"ignored": found.Ignored, "skipped_rows": found.SkippedRows, "bad_values": found.BadValues})
			}
			defer printFindings(found, o.OnBadValue)
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
				if tx.Item != "" {
					fmt.Printf("items: %d distinct in column %s, %d with a name\n", tx.Items, tx.Item, tx.Named)
				}
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
	f.StringVar(&o.Interactions.Item, "item", "", "interactions: item id column; transactions: the item (product) id of each line, for basket rules and ALS")
	f.StringVar(&o.Transactions.ItemName, "item-name", "", "transactions: item display name column (an item's first non-blank name), shown by recommend, similar and exports")
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
	f.IntVar(&o.Shards, "shards", partition.DefaultShards, fmt.Sprintf("number of shards, 1 to %d", partition.MaxShards))
	f.BoolVar(&o.Replace, "replace", false, "make the new version even when NAME holds another kind or schema")
	f.StringVar(&o.Delimiter, "delimiter", ",", "field delimiter (\\t or tab for a tab); longer than one character (e.g. '::') splits lines literally, without quoting")
	f.BoolVar(&noHeader, "no-header", false, "the file has no header row; name its columns with --names")
	f.StringVar(&names, "names", "", "with --no-header: the column names, comma separated, one per field")
	f.StringVar(&onBad, "on-bad-value", "stop", "a value that is not a number in a numeric column: stop, skip (drop the row) or missing (features only)")
	f.IntVar(&keep, "keep", 0, "keep only the newest N versions of the dataset (see dataset retain)")
	return cmd
}

// importInput checks and sets the flags that say how to read the file.
func importInput(in *partition.Input, noHeader bool, names, onBad string) error {
	switch p := partition.BadValuePolicy(onBad); p {
	case partition.BadValueStop, partition.BadValueSkip, partition.BadValueMissing:
		in.OnBadValue = p
	default:
		return fmt.Errorf("--on-bad-value %q is not stop, skip or missing", onBad)
	}
	switch in.Delimiter {
	case "":
		return fmt.Errorf("--delimiter is empty")
	case `\t`, "tab":
		in.Delimiter = "\t" // a literal backslash-t is never what was meant
	}
	switch {
	case noHeader && names == "":
		return fmt.Errorf("--no-header needs --names with one name per field")
	case !noHeader && names != "":
		return fmt.Errorf("--names is for a file without a header row: add --no-header")
	case noHeader:
		in.Names = strings.Split(names, ",")
		for i, n := range in.Names {
			in.Names[i] = strings.TrimSpace(n)
		}
		if err := partition.CheckNames(in.Names); err != nil {
			return fmt.Errorf("--names: %w", err)
		}
	}
	return nil
}

// printFindings tells what an import found besides rows.
func printFindings(f partition.Findings, policy partition.BadValuePolicy) {
	if len(f.Ignored) > 0 {
		fmt.Printf("ignored text columns: %s (name them in --categorical to import them)\n", strings.Join(f.Ignored, ", "))
	}
	if len(f.BadValues) == 0 {
		return
	}
	cols := slices.Sorted(maps.Keys(f.BadValues))
	var n int64
	parts := make([]string, len(cols))
	for i, c := range cols {
		n += f.BadValues[c]
		parts[i] = fmt.Sprintf("%s %d", c, f.BadValues[c])
	}
	if policy == partition.BadValueSkip {
		fmt.Printf("skipped %d rows with a value that is not a number (%s)\n", f.SkippedRows, strings.Join(parts, ", "))
		return
	}
	fmt.Printf("stored %d values that are not numbers as missing (%s)\n", n, strings.Join(parts, ", "))
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
						"latest": v.Version, "rows": v.Rows, "shards": len(v.Shards), "created": v.Created, "bytes": ds.Bytes, "keep": ds.Keep})
				}
				return printJSON(os.Stdout, out)
			}
			tw := table(os.Stdout)
			fmt.Fprintln(tw, "NAME\tKIND\tVERSION\tROWS\tSHARDS\tCOLUMNS\tCREATED\tSIZE")
			for _, ds := range list {
				v := ds.Latest()
				fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%s\t%s\n", ds.Name, ds.Kind, v.Version, v.Rows, len(v.Shards),
					len(v.Columns), v.Created.Format("2006-01-02 15:04:05"), describe.Bytes(ds.Bytes))
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
				if v = ds.Version(version); v == nil {
					return fmt.Errorf("dataset %s has no version %d (it has %s)", ds.Name, version, proto.VersionList(ds.VersionNumbers()))
				}
			}
			if jsonOut() {
				return printJSON(os.Stdout, map[string]any{"name": ds.Name, "kind": ds.Kind, "version": v.Version,
					"versions": len(ds.Versions), "rows": v.Rows, "key": v.Key, "source": v.Source, "created": v.Created,
					"shards": v.Shards, "item_shards": v.ItemShards, "columns": v.Columns,
					"interactions": v.Interactions, "transactions": v.Transactions,
					"bytes": v.Bytes, "dataset_bytes": ds.Bytes, "keep": ds.Keep, "storage": versionSizes(&ds)})
			}
			fmt.Printf("dataset %s (%s), version %d (versions %s), from %s, %s\n", ds.Name, ds.Kind, v.Version,
				proto.VersionList(ds.VersionNumbers()), v.Source, v.Created.Format("2006-01-02 15:04:05"))
			fmt.Printf("rows %d, shards %d, key %s, %s\n", v.Rows, len(v.Shards), v.Key, describe.Bytes(v.Bytes))
			sizes := make([]string, len(ds.Versions))
			for i, v := range ds.Versions {
				sizes[i] = fmt.Sprintf("%d: %s", v.Version, describe.Bytes(v.Bytes))
			}
			fmt.Printf("storage: %s in %d versions (%s), %s\n", describe.Bytes(ds.Bytes), len(ds.Versions), strings.Join(sizes, ", "), retention(ds.Keep))
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
				if tx.Item != "" {
					fmt.Printf("items: %s (%d), names %s (%d named)\n", tx.Item, tx.Items, cmp.Or(tx.ItemName, "(none)"), tx.Named)
				}
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
			if err := tw.Flush(); err != nil {
				return err
			}
			var invalid []string
			for _, cs := range v.Columns {
				if cs.Invalid > 0 {
					invalid = append(invalid, fmt.Sprintf("%s %d", cs.Name, cs.Invalid))
				}
			}
			if len(invalid) > 0 {
				fmt.Printf("\nvalues that were not numbers at import (rows skipped or values missing): %s\n", strings.Join(invalid, ", "))
			}
			return nil
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
