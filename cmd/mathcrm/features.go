package main

import (
	"fmt"
	"math"
	"os"
	"time"

	"github.com/mathcrm/mathcrm/algo/kmeans"
	"github.com/mathcrm/mathcrm/algo/rfm"
	"github.com/mathcrm/mathcrm/algo/rfm/rfmjob"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/spf13/cobra"
)

func newFeatures() *cobra.Command {
	cmd := &cobra.Command{Use: "features", Short: "Compute features datasets from other datasets"}
	cmd.AddCommand(newFeaturesRFM())
	return cmd
}

func newFeaturesRFM() *cobra.Command {
	spec := proto.JobSpec{Algo: rfmjob.Name}
	p := new(rfmjob.Params)
	var asOf, segments string
	var wait bool
	cmd := &cobra.Command{
		Use:   "rfm --dataset TX --as NAME [--as-of DATE] [--segments FILE] [--wait]",
		Short: "Compute recency, frequency and monetary features per customer from a transactions dataset",
		Long: `rfm submits a job that computes, on the workers and shard by shard, one row per
customer of a transactions dataset, and writes them as a new version of the
features dataset NAME (keyed by the transactions' customer column):

  recency_days    as-of minus the last purchase, in whole days
  frequency       distinct invoices (distinct purchase times without --invoice at import)
  monetary_sum    net amount (purchases minus returns)
  monetary_mean   monetary_sum / frequency
  tenure_days     as-of minus the first purchase, in whole days
  r_score, f_score, m_score
                  1–5 by exact quintile over all customers (5 = most recent,
                  most frequent, highest spend); equal values get equal scores
  segment         categorical: the customer's named segment from its scores

The standard segment map is the common grid on the R and F scores:

         f=1             f=2                 f=3                 f=4        f=5
  r=5    New             Potential loyalist  Potential loyalist  Champions  Champions
  r=4    Promising       Potential loyalist  Potential loyalist  Loyal      Loyal
  r=3    About to sleep  About to sleep      Needs attention     Loyal      Loyal
  r=2    Hibernating     Hibernating         At risk             At risk    Can't lose them
  r=1    Lost            Lost                At risk             At risk    Can't lose them

--segments FILE replaces it: a CSV with the header
segment,r_min,r_max,f_min,f_max,m_min,m_max (any order) and one rule per line,
score ranges 1–5, bounds included; a customer gets the first rule that its
scores match, and every (r, f, m) must match one.

Returns are not purchases: they count in monetary_sum only. A customer with no
purchase before as-of gets no row; transactions at or after as-of are ignored.
--as-of (a date, YYYY-MM-DD, UTC midnight) defaults to the day after the last
transaction. The new version becomes visible when the job succeeds, atomically.`,
		Example: `  mathcrm features rfm --dataset retail --as retail_rfm --wait
  mathcrm features rfm --dataset retail --as retail_rfm --as-of 2011-12-10 --wait
  mathcrm features rfm --dataset retail --as retail_rfm --segments my-segments.csv --wait
  mathcrm train kmeans --dataset retail_rfm --k 5 --columns recency_days,frequency,monetary_sum --standardize --wait`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if asOf != "" {
				t, err := time.Parse(time.DateOnly, asOf)
				if err != nil {
					return fmt.Errorf("--as-of %q: want a date, YYYY-MM-DD", asOf)
				}
				p.AsOf = t.UTC()
			}
			if err := checkName("--as", p.As); err != nil {
				return err
			}
			if segments != "" {
				f, err := os.Open(segments)
				if err != nil {
					return fmt.Errorf("--segments: %w", err)
				}
				defer f.Close()
				if p.Segments, err = rfm.ParseSegments(segments, f); err != nil {
					return err
				}
			}
			spec.Params = proto.MustJSON(p)
			return submitJob(cmd, spec, wait)
		},
	}
	f := cmd.Flags()
	f.StringVar(&spec.Dataset, "dataset", "", "transactions dataset (required)")
	f.IntVar(&spec.DatasetVersion, "dataset-version", 0, "dataset version (default latest)")
	f.StringVar(&p.As, "as", "", "name of the features dataset to write (required)")
	f.BoolVar(&p.Replace, "replace", false, "write into NAME even when it holds another kind or schema")
	f.StringVar(&asOf, "as-of", "", "reference date, YYYY-MM-DD (default: the day after the last transaction)")
	f.StringVar(&segments, "segments", "", "CSV of score ranges → segment names (default: the standard map above)")
	f.BoolVar(&wait, "wait", false, "wait for the job and show its progress")
	_ = cmd.MarkFlagRequired("dataset")
	_ = cmd.MarkFlagRequired("as")
	return cmd
}

// rfmSegmentOfCentroids names, for a k-means model trained on columns that
// include r_score, f_score and m_score, the standard RFM segment of each
// centroid's scores rounded to whole scores 1..5; nil for another model.
func rfmSegmentOfCentroids(m *kmeans.Segmentation) []string {
	idx := [3]int{-1, -1, -1}
	for j, c := range m.Columns {
		switch c {
		case "r_score":
			idx[0] = j
		case "f_score":
			idx[1] = j
		case "m_score":
			idx[2] = j
		}
	}
	if idx[0] < 0 || idx[1] < 0 || idx[2] < 0 {
		return nil
	}
	std := rfm.StandardSegments()
	out := make([]string, len(m.Centroids))
	for c, row := range m.Centroids {
		var s [3]int
		out[c] = "-" // a centroid without values (NaN)
		for k, j := range idx {
			if math.IsNaN(row[j]) {
				s[k] = 0
				continue
			}
			s[k] = int(min(max(math.Round(row[j]), 1), rfm.MaxScore))
		}
		if name, ok := std.Segment(s[0], s[1], s[2]); ok {
			out[c] = name
		}
	}
	return out
}
