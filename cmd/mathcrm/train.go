package main

import (
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/mathcrm/mathcrm/algo/kmeans"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/spf13/cobra"
)

// trainers are the train subcommands of the algorithms whose CLI file
// adds itself (in an init function): a new algorithm's CLI is one file.
var trainers []func() *cobra.Command

func newTrain() *cobra.Command {
	cmd := &cobra.Command{Use: "train", Short: "Train a model on a dataset"}
	cmd.AddCommand(newTrainKMeans(), newTrainRegression("linear"), newTrainRegression("logistic"), newTrainALS(), newTrainCLV())
	for _, t := range trainers {
		cmd.AddCommand(t())
	}
	return cmd
}

func newTrainKMeans() *cobra.Command {
	spec := proto.JobSpec{Algo: kmeans.Name}
	km := new(kmeans.Params)
	var columns string
	var wait bool
	cmd := &cobra.Command{
		Use:   "kmeans --dataset NAME --k K [--columns ..] [--standardize] [--seed S] [--max-iter N] [--tol T] [--init METHOD] [--wait]",
		Short: "Segment customers with k-means",
		Long: `kmeans submits a k-means job and prints its id. The workers compute the
initialisation and every Lloyd iteration, one partial per shard; the leader
combines them in shard order and commits each iteration to raft, so the model is
the same bit for bit however many workers run it.

--init is kmeans|| (default, Bahmani et al. 2012), random, or a CSV file of
starting centroids in original units: a header naming the columns, then K rows.
Rows with a missing value in a training column are skipped and counted.
Convergence: every centroid moves at most --tol (in training units) in one
iteration, or --max-iter iterations.`,
		Example: `  mathcrm train kmeans --dataset telco --k 4 --columns tenure,MonthlyCharges,TotalCharges --standardize --wait
  mathcrm train kmeans --dataset rfm --k 5 --init starts.csv --seed 7 --output json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if columns != "" {
				km.Columns = splitList(columns)
			}
			if km.Init != "kmeans||" && km.Init != "random" {
				cols, given, k, err := readCentroids(km.Init, km.Columns)
				if err != nil {
					return err
				}
				if km.K == 0 {
					km.K = k
				}
				if k != km.K {
					return fmt.Errorf("%s holds %d centroids but --k is %d", km.Init, k, km.K)
				}
				km.Init, km.Columns, km.Given = "given", cols, given
			}
			if km.K == 0 && !cmd.Flags().Changed("k") {
				return fmt.Errorf("--k is required: the number of segments, 1 to %d", kmeans.MaxK)
			}
			spec.Params = proto.MustJSON(km)
			return submitJob(cmd, spec, wait)
		},
	}
	f := cmd.Flags()
	f.StringVar(&spec.Dataset, "dataset", "", "dataset name (required)")
	f.IntVar(&spec.DatasetVersion, "dataset-version", 0, "dataset version (default latest)")
	f.IntVar(&km.K, "k", 0, "number of segments")
	f.StringVar(&columns, "columns", "", "training columns, comma separated (default: every numeric column)")
	f.BoolVar(&km.Standardize, "standardize", false, "scale every column to mean 0, standard deviation 1 before clustering")
	f.Uint64Var(&spec.Seed, "seed", 1, "random seed")
	f.IntVar(&km.MaxIter, "max-iter", kmeans.DefaultMaxIter, "maximum Lloyd iterations")
	f.Float64Var(&km.Tol, "tol", kmeans.DefaultTol, "convergence tolerance on centroid movement (0: run max-iter)")
	f.StringVar(&km.Init, "init", kmeans.InitKMeansParallel, "kmeans||, random, or a CSV file of starting centroids")
	f.BoolVar(&wait, "wait", false, "wait for the job and show its progress")
	_ = cmd.MarkFlagRequired("dataset")
	return cmd
}

// readCentroids reads starting centroids: a header of column names, then one
// row per centroid. When columns are given, the header must hold them all.
func readCentroids(path string, columns []string) ([]string, []float64, int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("--init: %w (expected kmeans||, random or a CSV file)", err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	header, err := r.Read()
	if err != nil {
		return nil, nil, 0, fmt.Errorf("%s:1: %w", path, err)
	}
	for i := range header {
		header[i] = strings.TrimSpace(strings.TrimPrefix(header[i], "\ufeff"))
	}
	if len(columns) == 0 {
		columns = header
	}
	idx := make([]int, len(columns))
	for j, name := range columns {
		idx[j] = -1
		for i, h := range header {
			if h == name {
				idx[j] = i
			}
		}
		if idx[j] < 0 {
			return nil, nil, 0, fmt.Errorf("%s:1: no column %q in the header", path, name)
		}
	}
	var out []float64
	k := 0
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		line, _ := r.FieldPos(0)
		if err != nil {
			return nil, nil, 0, fmt.Errorf("%s: %w", path, err)
		}
		for j, i := range idx {
			v, err := strconv.ParseFloat(strings.TrimSpace(rec[i]), 64)
			if err != nil || v != v || v > 1.7976931348623157e308 || v < -1.7976931348623157e308 {
				return nil, nil, 0, fmt.Errorf("%s:%d: column %q: not a finite number: %q", path, line, columns[j], rec[i])
			}
			out = append(out, v)
		}
		k++
	}
	if k == 0 {
		return nil, nil, 0, fmt.Errorf("%s: no centroid rows", path)
	}
	return columns, out, k, nil
}

// submitJob submits a job and prints its id, or with wait follows it to its
// end and prints its outcome.
func submitJob(cmd *cobra.Command, spec proto.JobSpec, wait bool) error {
	if err := checkName("--dataset", spec.Dataset); err != nil {
		return err
	}
	if err := checkSpec(cmd, &spec); err != nil {
		return err
	}
	c, err := dial()
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := callCtx(cmd)
	defer cancel()
	job, err := c.Submit(ctx, spec)
	if err != nil {
		return err
	}
	if !wait {
		if jsonOut() {
			return printJSON(os.Stdout, map[string]any{"job": job.ID, "state": job.State})
		}
		fmt.Println(job.ID)
		return nil
	}
	if !jsonOut() {
		fmt.Fprintf(os.Stderr, "submitted %s\n", job.ID)
	}
	return waitJob(cmd, c, job.ID)
}
