package main

import (
	"cmp"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/mathcrm/mathcrm/algo/clv"
	"github.com/mathcrm/mathcrm/internal/client"
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

// atRisk is one customer of the at-risk view.
type atRisk struct {
	key                          string
	pAlive, clv, expected, spend float64
}

// printAtRisk prints the n customers of value tier A least likely to be
// alive (the highest CLV first among equals) of a values score set: the
// customers worth most whom the business is losing. It streams the score
// set once, keeping n rows.
func printAtRisk(ctx context.Context, c *client.Client, name string, version, n int, w io.Writer) error {
	var ss proto.ScoreSet
	if err := c.Call(ctx, proto.APIScoresShow, proto.NamedVersion{Name: name, Version: version}, &ss); err != nil {
		return err
	}
	if ss.Kind != proto.ScoresValues {
		return fmt.Errorf("--at-risk: score set %s holds %s scores, not customer values (score a clv model)", name, ss.Kind)
	}
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		_, err := c.ExportScores(ctx, name, ss.Version, "csv", pw)
		pw.CloseWithError(err)
		done <- err
	}()
	top, err := readAtRisk(pr, n)
	pr.CloseWithError(io.ErrClosedPipe) // stops the export if reading failed
	if eerr := <-done; err == nil && eerr != nil {
		err = eerr
	}
	if err != nil {
		return fmt.Errorf("--at-risk: score set %s: %w", name, err)
	}
	if jsonOut() {
		out := make([]map[string]any, len(top))
		for i, r := range top {
			out[i] = map[string]any{ss.Key: r.key, "p_alive": r.pAlive, "clv": r.clv, "expected_purchases": r.expected, "expected_spend": r.spend}
		}
		return printJSON(w, out)
	}
	fmt.Fprintf(w, "%d at-risk high-value customers of %s version %d: tier A (the customers holding 80%% of the CLV),\nlowest P(alive) first, the highest CLV first among equals\n",
		len(top), name, ss.Version)
	tw := table(w)
	fmt.Fprintf(tw, "%s\tP(ALIVE)\tCLV\tEXPECTED PURCHASES\tEXPECTED SPEND\n", strings.ToUpper(ss.Key))
	for _, r := range top {
		fmt.Fprintf(tw, "%s\t%.3f\t%.2f\t%.2f\t%.2f\n", r.key, r.pAlive, r.clv, r.expected, r.spend)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(top) > 0 && math.Round(top[0].pAlive*1000) == 1000 {
		fmt.Fprintln(w, "note: P(alive) rounds to 1 for every customer listed: the purchase model sees (almost) no drop-out\n"+
			"in these data (model show says why), so these are tier A's highest CLVs, none at risk by P(alive)")
	}
	return nil
}

// readAtRisk reads a values score set's CSV export and returns its n tier A
// customers of lowest P(alive) to 0.001, ties by the highest CLV, then by
// key.
func readAtRisk(r io.Reader, n int) ([]atRisk, error) {
	cr := csv.NewReader(r)
	head, err := cr.Read()
	if err != nil {
		return nil, err
	}
	col := map[string]int{}
	for i, h := range head {
		col[h] = i
	}
	for _, h := range []string{"p_alive", "clv", "expected_purchases", "expected_spend", "value_tier"} {
		if _, ok := col[h]; !ok {
			return nil, fmt.Errorf("no column %s", h)
		}
	}
	// P(alive) to the 0.001 it is shown to: finer differences mean
	// nothing to whoever acts on the list.
	less := func(a, b atRisk) int {
		return cmp.Or(cmp.Compare(math.Round(a.pAlive*1000), math.Round(b.pAlive*1000)), cmp.Compare(b.clv, a.clv), strings.Compare(a.key, b.key))
	}
	var top []atRisk
	for row := 2; ; row++ {
		rec, err := cr.Read()
		if err == io.EOF {
			return top, nil
		}
		if err != nil {
			return nil, err
		}
		if rec[col["value_tier"]] != "A" {
			continue
		}
		var v [4]float64
		for i, h := range []string{"p_alive", "clv", "expected_purchases", "expected_spend"} {
			if v[i], err = strconv.ParseFloat(rec[col[h]], 64); err != nil {
				return nil, fmt.Errorf("row %d column %s: %w", row, h, err)
			}
		}
		a := atRisk{key: rec[0], pAlive: v[0], clv: v[1], expected: v[2], spend: v[3]}
		if len(top) == n && less(a, top[n-1]) >= 0 {
			continue
		}
		i, _ := slices.BinarySearchFunc(top, a, less)
		top = slices.Insert(top, i, a)
		if len(top) > n {
			top = top[:n]
		}
	}
}
