package main

import (
	"github.com/mathcrm/mathcrm/algo/histogram"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/spf13/cobra"
)

func init() { trainers = append(trainers, newTrainHistogram) }

func newTrainHistogram() *cobra.Command {
	spec := proto.JobSpec{Algo: histogram.Name}
	var p histogram.Params
	var wait bool
	cmd := &cobra.Command{
		Use:   "histogram --dataset NAME --column COL [--bins N] [--wait]",
		Short: "Count a numeric column's values in equal-width bins, on the workers",
		Long: `histogram counts the rows of every shard per bin of a numeric column, over the
column's range in the dataset version ([min, max], the last bin closed), and
adds the shards' counts: the same exact histogram from any number of workers.
Rows without a value are counted as missing. The model shows as a bar chart in
the console and in model show.`,
		Example: `  mathcrm train histogram --dataset telco --column MonthlyCharges --bins 20 --wait`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			spec.Params = proto.MustJSON(p)
			return submitJob(cmd, spec, wait)
		},
	}
	f := cmd.Flags()
	f.StringVar(&spec.Dataset, "dataset", "", "dataset name (required)")
	f.IntVar(&spec.DatasetVersion, "dataset-version", 0, "dataset version (default latest)")
	f.StringVar(&p.Column, "column", "", "numeric column (required)")
	f.IntVar(&p.Bins, "bins", 20, "number of bins")
	f.BoolVar(&wait, "wait", false, "wait for the job and show its progress")
	_ = cmd.MarkFlagRequired("dataset")
	_ = cmd.MarkFlagRequired("column")
	return cmd
}
