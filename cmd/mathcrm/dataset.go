package main

import (
	"fmt"
	"io"
	"os"
	"strings"

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
	var columns, categorical, delim string
	cmd := &cobra.Command{
		Use:   "import NAME FILE --kind features --key COLUMN [--columns a,b,..] [--shards S]",
		Short: "Import a CSV file (plain or .gz) as a new version of a dataset",
		Long: `import streams a CSV file, hashes each row's key into S shards, stores each
shard as a Parquet file (zstd) with its checksum and makes the version visible in
one raft commit. Without --columns every numeric column is imported; text
columns are listed as ignored unless named in --categorical, which imports them
as categories (the dictionary is stored with the dataset; models use them one-hot
encoded, as "col=value" columns). An empty field is a missing value.

Bad input — a malformed row, a non-numeric value in a numeric column, a
missing key column, an empty or duplicate key, an empty file — stops the import
with the file, line and column named, and no version becomes visible.`,
		Example: `  mathcrm dataset import telco testdata/telco/Telco-Customer-Churn.csv \
      --kind features --key customerID --columns tenure,MonthlyCharges,TotalCharges --categorical Contract,Churn
  mathcrm dataset import bank bank.csv.gz --kind features --key id --delimiter ';'`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.Kind != "features" {
				return fmt.Errorf("--kind %q is not supported (features)", o.Kind)
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
					"rows": v.Rows, "shards": len(v.Shards), "key": v.Key, "columns": v.Columns})
			}
			fmt.Printf("imported %s version %d: %d rows, %d shards, key %s, columns %s\n", ds.Name, v.Version, v.Rows,
				len(v.Shards), v.Key, strings.Join(colNames(v.Columns), ","))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Kind, "kind", "features", "dataset kind: features")
	f.StringVar(&o.Key, "key", "", "key column (customer id) (required)")
	f.StringVar(&columns, "columns", "", "numeric columns to import, comma separated (default: every numeric column)")
	f.StringVar(&categorical, "categorical", "", "text columns to import as categories, comma separated (one-hot encoded as col=value when used)")
	f.IntVar(&o.Shards, "shards", 64, "number of shards")
	f.StringVar(&delim, "delimiter", ",", "field delimiter")
	_ = cmd.MarkFlagRequired("key")
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
					"shards": v.Shards, "columns": v.Columns})
			}
			fmt.Printf("dataset %s (%s), version %d of %d, from %s, %s\n", ds.Name, ds.Kind, v.Version, len(ds.Versions),
				v.Source, v.Created.Format("2006-01-02 15:04:05"))
			fmt.Printf("rows %d, shards %d, key %s\n\n", v.Rows, len(v.Shards), v.Key)
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
against its checksum, into one CSV or Parquet file: the key column, then every
column, categorical columns as their values, missing values empty (CSV) or null
(Parquet). Numbers are written so that they read back as the same float64.
The file appears only when it is complete.`,
		Example: `  mathcrm dataset export telco --format csv --out telco.csv
  mathcrm dataset export telco --format parquet --out telco.parquet --version 1`,
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
