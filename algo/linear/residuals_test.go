package linear

import (
	"math"
	"testing"
)

// TestResidualHistograms: on the diabetes data, with and without held-out
// rows, the histograms count each row in the bin of its own residual
// (Model.Predict, the unit the model states), the unit is the training
// RMSE, and asking for them leaves the fit and its metrics as they were.
func TestResidualHistograms(t *testing.T) {
	_, x, y, keys := diabetes(t)
	const d = 10
	for _, holdout := range []float64{0, 0.25} {
		cfg := DefaultConfig()
		cfg.Holdout, cfg.SplitSeed = holdout, 7
		plain, err := Reference(cfg, d, shardsByKey(x, y, nil, keys, d, 4)...)
		if err != nil {
			t.Fatal(err)
		}
		if plain.Residuals != nil {
			t.Fatalf("holdout %v: residuals nobody asked for", holdout)
		}
		cfg.Residuals = true
		m, err := Reference(cfg, d, shardsByKey(x, y, nil, keys, d, 4)...)
		if err != nil {
			t.Fatal(err)
		}
		sameFloatBits(t, "coefficients", m.Coefficients, plain.Coefficients)
		for what, pair := range map[string][2]float64{"R²": {m.R2, plain.R2}, "RMSE": {m.RMSE, plain.RMSE},
			"held-out R²": {m.HoldoutR2, plain.HoldoutR2}, "held-out RMSE": {m.HoldoutRMSE, plain.HoldoutRMSE}} {
			if e := relErr(pair[0], pair[1], 1); e > 1e-12 {
				t.Errorf("holdout %v: %s %v with residuals, %v without", holdout, what, pair[0], pair[1])
			}
		}
		r := m.Residuals
		if r == nil || len(r.Train) != ResidualBins || (holdout > 0) != (r.Holdout != nil) {
			t.Fatalf("holdout %v: residuals %+v", holdout, r)
		}
		if e := relErr(r.Unit, m.RMSE, 1); e > 1e-9 {
			t.Errorf("holdout %v: unit %v, training RMSE %v", holdout, r.Unit, m.RMSE)
		}
		train, hold := make([]int64, ResidualBins), make([]int64, ResidualBins)
		for i := range y {
			b := ResidualBin(y[i]-m.Predict(x[i*d:(i+1)*d]), r.Unit)
			if holdout > 0 && IsHoldout(keys[i], holdout, 7) {
				hold[b]++
			} else {
				train[b]++
			}
		}
		for b := range ResidualBins {
			if train[b] != r.Train[b] || (r.Holdout != nil && hold[b] != r.Holdout[b]) {
				t.Errorf("holdout %v: bin %d counts %d and %v, rows %d and %d", holdout, b, r.Train[b], r.Holdout, train[b], hold[b])
			}
		}
		// Within one unit of 0 (bins 13 to 20) lie about two thirds of the
		// training rows, as for any residuals with an RMSE of one unit.
		var in, all int64
		for b, c := range r.Train {
			all += c
			if b >= 13 && b <= 20 {
				in += c
			}
		}
		if all != m.N || in < all/2 || in > all*9/10 {
			t.Errorf("holdout %v: %d of %d training rows within one unit (model %d rows)", holdout, in, all, m.N)
		}
	}
}

func sameFloatBits(t *testing.T, what string, a, b []float64) {
	t.Helper()
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			t.Fatalf("%s[%d]: %v and %v", what, i, a[i], b[i])
		}
	}
}

// TestResidualBin pins the bins' edges.
func TestResidualBin(t *testing.T) {
	for _, c := range []struct {
		r    float64
		want int
	}{{-100, 0}, {-4.0001, 0}, {-4, 1}, {-3.76, 1}, {-3.75, 2}, {-0.0001, 16}, {0, 17}, {math.Copysign(0, -1), 17}, {0.2499, 17},
		{0.25, 18}, {3.9999, 32}, {4, 33}, {1e300, 33}, {math.Inf(1), 33}, {math.Inf(-1), 0}} {
		if got := ResidualBin(c.r, 1); got != c.want {
			t.Errorf("ResidualBin(%v, 1) = %d, want %d", c.r, got, c.want)
		}
	}
	e := ResidualEdges()
	if len(e) != ResidualBins+1 || e[1] != -4 || e[17] != 0 || e[33] != 4 || !math.IsInf(e[0], -1) {
		t.Errorf("edges %v", e)
	}
	for b := 1; b < ResidualBins-1; b++ {
		if ResidualBin(e[b], 1) != b {
			t.Errorf("edge %v falls in bin %d, want %d", e[b], ResidualBin(e[b], 1), b)
		}
	}
}
