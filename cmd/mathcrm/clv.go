package main

import (
	"github.com/mathcrm/mathcrm/algo/clv"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/spf13/cobra"
)

func newTrainCLV() *cobra.Command {
	spec := proto.JobSpec{Algo: clv.Name}
	p := new(clv.Params)
	var wait bool
	cmd := &cobra.Command{
		Use:   "clv --dataset TX --calibration-end DATE [--time-unit day|week|month] [--model bgnbd|paretonbd] [--penalty λ] [--holdout-end DATE] [--wait]",
		Short: "Fit customer value: BG/NBD or Pareto/NBD purchases and Gamma-Gamma spend",
		Long: `clv fits the buy-till-you-die models on a transactions dataset by maximum
likelihood: the purchase model, BG/NBD (Fader, Hardie & Lee 2005, the default)
or Pareto/NBD, and the Gamma-Gamma spend model (Fader & Hardie 2013). Per
customer, from the purchases on or before --calibration-end: purchases on one
day are one purchase; x = repeat purchases, t_x = time from the first to the
last purchase, T = time from the first purchase to the calibration end, in
--time-unit (week = 7 days, month = 365.25/12 days); the mean spend of the
repeat purchases. Returns are left out.

Each pass every shard returns its customers' log-likelihood and gradient,
summed exactly; the leader steps L-BFGS and commits the pass, so the model is
the same bit for bit however many workers run it. A fit that does not
converge fails the job. --penalty adds λ times the sum of the squared
parameters (lifetimes' penalizer_coef). With --holdout-end, model show
compares the purchases after the calibration end up to that day with the
model's predictions.

Score the model with mathcrm score --model ID --dataset TX: P(alive),
expected purchases, expected spend, CLV and A/B/C value tiers.`,
		Example: `  mathcrm train clv --dataset cdnow --calibration-end 1997-09-30 --holdout-end 1998-06-30 --wait
  mathcrm train clv --dataset retail --calibration-end 2011-09-30 --time-unit day --model paretonbd --penalty 0.001`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			spec.Params = proto.MustJSON(p)
			return submitJob(cmd, spec, wait)
		},
	}
	f := cmd.Flags()
	f.StringVar(&spec.Dataset, "dataset", "", "transactions dataset (required)")
	f.IntVar(&spec.DatasetVersion, "dataset-version", 0, "dataset version (default latest)")
	f.StringVar(&p.CalibrationEnd, "calibration-end", "", "last day of the calibration period, YYYY-MM-DD (required)")
	f.StringVar(&p.HoldoutEnd, "holdout-end", "", "last day of the holdout period, YYYY-MM-DD: the calibration-vs-holdout table")
	f.StringVar(&p.TimeUnit, "time-unit", clv.Week, "time unit: day, week or month")
	f.StringVar(&p.Model, "model", clv.BGNBD, "purchase model: bgnbd or paretonbd")
	f.Float64Var(&p.Penalty, "penalty", 0, "penalty λ on the squared parameters")
	f.IntVar(&p.MaxIter, "max-iter", clv.DefaultMaxIter, "maximum L-BFGS steps of each fit")
	f.BoolVar(&wait, "wait", false, "wait for the job and show its progress")
	_ = cmd.MarkFlagRequired("dataset")
	_ = cmd.MarkFlagRequired("calibration-end")
	return cmd
}
