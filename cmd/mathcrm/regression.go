package main

import (
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/mathcrm/mathcrm/algo/logistic"
	"github.com/mathcrm/mathcrm/algo/supervised"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/spf13/cobra"
)

func newTrainRegression(algo string) *cobra.Command {
	rs := new(supervised.Params)
	spec := proto.JobSpec{Algo: algo}
	var features string
	var wait bool
	use, short, long, example := "", "", "", ""
	switch algo {
	case supervised.LinearName:
		use = "linear --dataset NAME --target COL [--features a,b,..] [--l2 λ] [--holdout F] [--wait]"
		short = "Predict a value (CLV, spend) with linear or ridge regression"
		long = `linear fits ŷ = b + x·β in one pass over the data (per-shard centred cross-products,
combined in shard order), solved by Cholesky with a pseudo-inverse fallback (and a warning)
when the system is ill-conditioned, then a second pass for R² and RMSE on the training and
held-out rows. --l2 λ minimises ½Σ(y−ŷ)² + ½λ‖β‖² (scikit-learn's Ridge(alpha=λ)); the
intercept is not penalised. With λ = 0 the model has standard errors and t values.
Features default to every column but the target; a categorical column enters one-hot.`
		example = `  mathcrm train linear --dataset diabetes --target target --wait
  mathcrm train linear --dataset customers --target spend --features tenure,Contract --l2 1 --holdout 0.2 --wait`
	case supervised.LogisticName:
		use = "logistic --dataset NAME --target COL [--features ..] [--c C] [--class-weight balanced] [--max-iter N] [--tol T] [--holdout F] [--wait]"
		short = "Predict churn or response with logistic regression"
		long = `logistic fits P(y=1) = σ(b + x·β) by Newton/IRLS (L-BFGS for more than 256
features): every pass, each shard returns its gradient, Hessian and log-loss, combined in
shard order. The objective is scikit-learn's LogisticRegression(C): C·Σ logloss + ½‖β‖².
The target is a 0/1 column or one value of a categorical column (--target Churn=Yes).
--class-weight balanced weighs each class by n/(2·n_class). Reports log-loss, AUC, a
calibration table and gains and lift by decile on the training and held-out rows.`
		example = `  mathcrm train logistic --dataset telco --target Churn=Yes --features tenure,MonthlyCharges,Contract --wait
  mathcrm train logistic --dataset telco --target Churn=Yes --class-weight balanced --holdout 0.25 --wait`
	}
	cmd := &cobra.Command{
		Use: use, Short: short, Long: long, Example: example, Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if features != "" {
				rs.Features = splitList(features)
			}
			spec.Params = proto.MustJSON(rs)
			return submitJob(cmd, spec, wait)
		},
	}
	f := cmd.Flags()
	f.StringVar(&spec.Dataset, "dataset", "", "dataset name (required)")
	f.IntVar(&spec.DatasetVersion, "dataset-version", 0, "dataset version (default latest)")
	f.StringVar(&rs.Target, "target", "", "target column, or col=value of a categorical column (required)")
	f.StringVar(&features, "features", "", "feature columns, comma separated (default: every column but the target)")
	f.Float64Var(&rs.Holdout, "holdout", 0, "fraction of rows held out (by a hash of the key) for the held-out metrics")
	f.Uint64Var(&spec.Seed, "seed", 1, "seed of the held-out split")
	f.BoolVar(&wait, "wait", false, "wait for the job and show its progress")
	if algo == supervised.LinearName {
		f.Float64Var(&rs.L2, "l2", 0, "ridge penalty λ (0: ordinary least squares)")
	} else {
		d := logistic.DefaultConfig()
		rs.C, rs.MaxIter, rs.Tol = new(d.C), new(d.MaxIter), new(d.Tol)
		f.Float64Var(rs.C, "c", d.C, "inverse L2 penalty, as scikit-learn's C")
		f.StringVar(&rs.ClassWeight, "class-weight", "", `"balanced" weighs the rare class up`)
		f.StringVar(&rs.Penalty, "penalty", d.Penalty, "l2 or none")
		f.IntVar(rs.MaxIter, "max-iter", d.MaxIter, "maximum iterations")
		f.Float64Var(rs.Tol, "tol", d.Tol, "convergence tolerance")
		f.StringVar(&rs.Solver, "solver", d.Solver, "auto, newton or lbfgs")
	}
	_ = cmd.MarkFlagRequired("dataset")
	_ = cmd.MarkFlagRequired("target")
	return cmd
}

func printSupervised(w io.Writer, d *proto.ModelDetail) {
	m := supervisedModel(d)
	fmt.Fprintf(w, "model %s: %s regression of %s, from job %s on %s version %d", d.Model.ID, m.Kind, m.Target, d.Model.Job, m.Dataset, m.Version)
	if m.Skipped > 0 {
		fmt.Fprintf(w, ", %d rows skipped for missing values", m.Skipped)
	}
	fmt.Fprintln(w)
	tw := table(w)
	if l := m.Linear; l != nil {
		fmt.Fprintf(tw, "training rows %d\tR² %.6f\tRMSE %.6g\n", l.N, l.R2, l.RMSE)
		if l.NHoldout > 0 {
			fmt.Fprintf(tw, "held-out rows %d\tR² %.6f\tRMSE %.6g\n", l.NHoldout, l.HoldoutR2, l.HoldoutRMSE)
		}
		tw.Flush()
		if l.Warning != "" {
			fmt.Fprintf(w, "warning: %s\n", l.Warning)
		}
		fmt.Fprintln(w)
		tw = table(w)
		fmt.Fprintln(tw, "FEATURE\tCOEFFICIENT\tSTD ERROR\tt")
		fmt.Fprintf(tw, "(intercept)\t%.6g\t%s\t%s\n", l.Intercept, optional(l.StdErrors != nil, l.InterceptStdError), optional(l.StdErrors != nil, l.InterceptT))
		for i, f := range m.Features {
			se, t := math.NaN(), math.NaN()
			if l.StdErrors != nil {
				se, t = l.StdErrors[i], l.TValues[i]
			}
			fmt.Fprintf(tw, "%s\t%.6g\t%s\t%s\n", f, l.Coefficients[i], optional(l.StdErrors != nil, se), optional(l.StdErrors != nil, t))
		}
		tw.Flush()
		return
	}
	g := m.Logistic
	fmt.Fprintf(tw, "%d iterations (%s), converged %v\n", g.Iterations, g.Solver, g.Converged)
	fmt.Fprintf(tw, "training rows %d\tlog-loss %.6f\tAUC %.4f\n", g.Train.N, g.Train.LogLoss, g.Train.AUC)
	if g.Holdout.N > 0 {
		fmt.Fprintf(tw, "held-out rows %d\tlog-loss %.6f\tAUC %.4f\n", g.Holdout.N, g.Holdout.LogLoss, g.Holdout.AUC)
	}
	tw.Flush()
	if g.Warning != "" {
		fmt.Fprintf(w, "warning: %s\n", g.Warning)
	}
	fmt.Fprintln(w)
	tw = table(w)
	fmt.Fprintln(tw, "FEATURE\tCOEFFICIENT\tODDS RATIO")
	fmt.Fprintf(tw, "(intercept)\t%.6g\t\n", g.Intercept)
	for i, f := range m.Features {
		fmt.Fprintf(tw, "%s\t%.6g\t%.4g\n", f, g.Coefficients[i], math.Exp(g.Coefficients[i]))
	}
	tw.Flush()
	cal := g.Holdout
	name := "held-out"
	if cal.N == 0 {
		cal, name = g.Train, "training"
	}
	fmt.Fprintf(w, "\nCalibration (%s rows):\n", name)
	tw = table(w)
	fmt.Fprintln(tw, "PREDICTED\tMEAN PREDICTED\tOBSERVED RATE\tROWS")
	for _, b := range cal.Calibration {
		fmt.Fprintf(tw, "%s\t%.4f\t%.4f\t%d\n", strings.TrimSpace(fmt.Sprintf("%.1f–%.1f", b.Lo, b.Hi)), b.MeanPredicted, b.ObservedRate, b.Count)
	}
	tw.Flush()
	if len(cal.Deciles) == 0 {
		return
	}
	fmt.Fprintf(w, "\nGains and lift by decile (%s rows; ROC area %.4f from %d score bins):\n", name, cal.CurveAUC, len(cal.Curve))
	tw = table(w)
	fmt.Fprintln(tw, "DECILE\tROWS\tGAINS\tLIFT\tCUMULATIVE LIFT")
	for _, d := range cal.Deciles {
		fmt.Fprintf(tw, "%d\ttop %.0f%%\t%.1f%%\t%.3f\t%.3f\n", d.Decile, 100*d.Share, 100*d.Gains, d.Lift, d.CumulativeLift)
	}
	tw.Flush()
}

func optional(ok bool, x float64) string {
	if !ok {
		return "-"
	}
	return fmt.Sprintf("%.4g", x)
}
