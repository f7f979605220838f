package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/mathcrm/mathcrm/algo/als/alsjob"
	"github.com/mathcrm/mathcrm/algo/basket"
	"github.com/mathcrm/mathcrm/algo/builtin"
	"github.com/mathcrm/mathcrm/algo/kmeans"
	"github.com/mathcrm/mathcrm/algo/supervised"
	"github.com/mathcrm/mathcrm/internal/client"
	"github.com/mathcrm/mathcrm/internal/describe"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/spf13/cobra"
)

func newModel() *cobra.Command {
	cmd := &cobra.Command{Use: "model", Short: "List, show, export and delete models"}
	cmd.AddCommand(newModelList(), newModelShow(), newModelExport(), newModelDelete())
	return cmd
}

func getModel(ctx context.Context, c *client.Client, id string) (*proto.ModelDetail, error) {
	var d proto.ModelDetail
	if err := c.Call(ctx, proto.APIModelShow, proto.Named{Name: id}, &d); err != nil {
		return nil, err
	}
	return &d, nil
}

func newModelShow() *cobra.Command {
	return &cobra.Command{
		Use:   "show ID",
		Short: "Show a model: for k-means, centroids, segment sizes and the profile of every feature",
		Example: `  mathcrm model show model-1
  mathcrm model show model-1 --output json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withClient(cmd, func(ctx context.Context, c *client.Client) error {
				d, err := getModel(ctx, c, args[0])
				if err != nil {
					return err
				}
				if jsonOut() {
					return printJSON(os.Stdout, d)
				}
				switch {
				case detailOf[kmeans.Segmentation](d) != nil:
					printKMeans(os.Stdout, d)
				case supervisedModel(d) != nil:
					printSupervised(os.Stdout, d)
				case detailOf[alsjob.Factorization](d) != nil:
					printALS(os.Stdout, d)
				default:
					desc, err := builtin.Describe(d)
					if err != nil {
						return fmt.Errorf("model %s is of kind %s, which this build cannot show: %w", d.Model.ID, d.Model.Kind, err)
					}
					printDescription(os.Stdout, desc)
				}
				fmt.Printf("\nstorage: %s\n", describe.Bytes(d.Model.Bytes))
				printRetrain(os.Stdout, d.Retrain)
				return nil
			})
		},
	}
}

func printKMeans(w io.Writer, d *proto.ModelDetail) {
	m := detailOf[kmeans.Segmentation](d)
	var total int64
	for _, s := range m.Sizes {
		total += s
	}
	fmt.Fprintf(w, "model %s: k-means, k=%d, from job %s on %s version %d\n", d.Model.ID, len(m.Sizes), d.Model.Job, m.Dataset, m.Version)
	conv := "did not converge"
	if m.Converged {
		conv = "converged"
	}
	space := "original units"
	if m.Standardize {
		space = "standardised units"
	}
	fmt.Fprintf(w, "%d iterations (%s), inertia %.10g (%s), %d rows", m.Iterations, conv, m.Inertia, space, total)
	if m.Skipped > 0 {
		fmt.Fprintf(w, ", %d rows skipped for missing values", m.Skipped)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Centroids (original units):")
	tw := table(w)
	fmt.Fprintf(tw, "SEGMENT\t%s\n", strings.Join(m.Columns, "\t"))
	for c, row := range m.Centroids {
		fmt.Fprintf(tw, "%d\t%s\n", c, joinFloats(row))
	}
	tw.Flush()
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Segments: size, share, and the mean of every feature (for a category, the share with that value):")
	tw = table(w)
	fmt.Fprint(tw, "\t")
	for c := range m.Sizes {
		fmt.Fprintf(tw, "SEGMENT %d\t", c)
	}
	fmt.Fprintln(tw)
	fmt.Fprint(tw, "size\t")
	for _, size := range m.Sizes {
		fmt.Fprintf(tw, "%d\t", size)
	}
	fmt.Fprintln(tw)
	fmt.Fprint(tw, "share\t")
	for _, size := range m.Sizes {
		fmt.Fprintf(tw, "%.1f%%\t", 100*float64(size)/float64(max(total, 1)))
	}
	fmt.Fprintln(tw)
	if m.Profile != nil {
		for j, col := range m.Profile.Columns {
			fmt.Fprintf(tw, "%s\t", col)
			for c := range m.Sizes {
				fmt.Fprintf(tw, "%s\t", profileCell(col, m.Profile.Means[c][j]))
			}
			fmt.Fprintln(tw)
		}
	}
	if names := rfmSegmentOfCentroids(m); names != nil {
		fmt.Fprintf(tw, "rfm segment (standard map)\t%s\t\n", strings.Join(names, "\t"))
	}
	tw.Flush()
}

// profileCell prints a segment's mean of a feature; a one-hot column's mean
// is the share of the segment with that value, shown as a percentage.
func profileCell(col string, x float64) string {
	if strings.Contains(col, "=") {
		return fmt.Sprintf("%.1f%%", 100*x)
	}
	return fmt.Sprintf("%.4g", x)
}

func joinFloats(xs []float64) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = fmt.Sprintf("%.4g", x)
	}
	return strings.Join(parts, "\t")
}

// kmeansExport is the exported k-means document.
type kmeansExport struct {
	Kind       string        `json:"kind"`
	Columns    []string      `json:"columns"`
	Centroids  [][]float64   `json:"centroids"`
	Sizes      []int64       `json:"sizes"`
	Inertia    float64       `json:"inertia"`
	Iterations int           `json:"iterations"`
	Converged  bool          `json:"converged"`
	Spec       proto.JobSpec `json:"spec"`
	Transform  any           `json:"transform,omitempty"`
	Profile    any           `json:"profile,omitempty"`
	Model      string        `json:"model"`
	Dataset    string        `json:"dataset"`
	Version    int           `json:"dataset_version"`
}

func newModelExport() *cobra.Command {
	var format, out string
	cmd := &cobra.Command{
		Use:   "export ID --format json|parquet [--out FILE]",
		Short: "Export a model as JSON (k-means centroids in original units; coefficients in input units; ALS factors)",
		Long: `export writes a model with what is needed to score new rows. k-means: centroids
in original units and the standardisation; linear and logistic: coefficients in
the units of the input columns (a one-hot column is named col=value) and the
transform; ALS: {"kind":"als","rank":..,"users":[..],"items":[..],
"user_factors":[[..]],"item_factors":[[..]]}, streamed one factor shard at a
time, or with --format parquet a directory holding users.parquet, items.parquet
(id, count, f0..) and model.json.`,
		Example: `  mathcrm model export model-1 --format json --out segments.json
  mathcrm model export model-1 --format json | jq .centroids
  mathcrm model export model-3 --format parquet --out als-model/`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withClient(cmd, func(ctx context.Context, c *client.Client) error {
				d, err := getModel(ctx, c, args[0])
				if err != nil {
					return err
				}
				if m := detailOf[alsjob.Factorization](d); m != nil {
					return exportALS(ctx, c, d, m, format, out)
				}
				if format != "json" {
					return fmt.Errorf("--format %q is not supported for a %s model (json)", format, d.Model.Kind)
				}
				if sm := supervisedModel(d); sm != nil {
					return writeOut(out, func(w io.Writer) error { return printJSON(w, supervisedExport(d.Model.ID, sm)) })
				}
				if b := detailOf[basket.Mined](d); b != nil {
					return writeOut(out, func(w io.Writer) error { return printJSON(w, b.Export()) })
				}
				m := detailOf[kmeans.Segmentation](d)
				if m == nil {
					// Any other kind: its exported form, as the registry decodes it.
					v, err := builtin.Detail(d)
					if err != nil {
						return fmt.Errorf("model %s is of kind %s, which this build cannot export: %w", d.Model.ID, d.Model.Kind, err)
					}
					return writeOut(out, func(w io.Writer) error { return printJSON(w, v) })
				}
				doc := kmeansExport{Kind: "kmeans", Columns: m.Columns, Centroids: m.Centroids, Sizes: m.Sizes,
					Inertia: m.Inertia, Iterations: m.Iterations, Converged: m.Converged, Spec: m.Spec,
					Model: d.Model.ID, Dataset: m.Dataset, Version: m.Version}
				if m.Standardize {
					doc.Transform = map[string]any{"standardize": map[string]any{"mean": m.Mean, "scale": m.Scale}}
				}
				if m.Profile != nil {
					doc.Profile = m.Profile
				}
				return writeOut(out, func(w io.Writer) error { return printJSON(w, doc) })
			})
		},
	}
	cmd.Flags().StringVar(&format, "format", "json", "export format: json, or parquet for ALS")
	cmd.Flags().StringVar(&out, "out", "", "output file (default standard output)")
	return cmd
}

// writeOut writes to a file atomically (temp file, then rename) or to stdout.
func writeOut(path string, fn func(io.Writer) error) error {
	if path == "" || path == "-" {
		return fn(os.Stdout)
	}
	f, err := os.CreateTemp(dirOf(path), ".mathcrm-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := fn(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

func dirOf(path string) string {
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		return path[:i+1]
	}
	return "."
}

// supervisedModel is a linear or logistic model's exported form, or nil for
// another model.
func supervisedModel(d *proto.ModelDetail) *supervised.Model {
	m := detailOf[supervised.Model](d)
	if m == nil || m.Linear == nil && m.Logistic == nil {
		return nil
	}
	return m
}

// supervisedExport is the exported linear or logistic model: coefficients in
// the units of the input columns (a one-hot column is named col=value), and
// the transform that turns a row of the dataset into the features.
func supervisedExport(id string, m *supervised.Model) map[string]any {
	doc := map[string]any{"kind": m.Kind, "model": id, "target": m.Target, "features": m.Features,
		"dataset": m.Dataset, "dataset_version": m.Version, "spec": m.Spec,
		"transform": map[string]any{"one_hot": m.Categories}}
	if l := m.Linear; l != nil {
		doc["coefficients"], doc["intercept"] = l.Coefficients, l.Intercept
		doc["metrics"] = map[string]any{"r2": l.R2, "rmse": l.RMSE, "holdout_r2": l.HoldoutR2, "holdout_rmse": l.HoldoutRMSE}
		if l.StdErrors != nil {
			doc["std_errors"] = l.StdErrors
		}
		if l.Residuals != nil {
			doc["residuals"] = l.Residuals
		}
	}
	if g := m.Logistic; g != nil {
		doc["coefficients"], doc["intercept"] = g.Coefficients, g.Intercept
		doc["metrics"] = map[string]any{"train": g.Train, "holdout": g.Holdout}
	}
	return doc
}

// detailOf decodes a model's detail as a T, or nil when the model is not
// of T's kind.
func detailOf[T any](d *proto.ModelDetail) *T {
	v, err := builtin.Detail(d)
	if err != nil {
		return nil
	}
	t, _ := v.(*T)
	return t
}
