package linear

import (
	"math"

	"github.com/mathcrm/mathcrm/algo/step"
)

// Model is the result of a linear or ridge regression job.
type Model struct {
	// Features names the D columns when the Config did.
	Features []string `json:"features,omitempty"`
	D        int      `json:"d"`
	Lambda   float64  `json:"lambda"`
	// Coefficients holds β, one per feature, and Intercept b: ŷ = b + x·β.
	Coefficients []float64 `json:"coefficients"`
	Intercept    float64   `json:"intercept"`
	// StdErrors and TValues are set only for λ = 0, a full-rank solve and
	// DF ≥ 1, with σ̂² = Sigma2 = RSS/(N−D−1) and Cov(β̂) = σ̂²(X̃ᵀWX̃)⁻¹, X̃
	// the centred features; with weights this is weighted least squares
	// (Var εᵢ = σ²/wᵢ), as statsmodels' WLS. Two-sided p values are
	// 2·(1 − F(|t|)), F Student's t distribution with DF degrees of
	// freedom; the model leaves them to the reader because no library
	// computes F with the same bits on every build.
	StdErrors         []float64 `json:"std_errors,omitempty"`
	TValues           []float64 `json:"t_values,omitempty"`
	InterceptStdError float64   `json:"intercept_std_error,omitempty"`
	InterceptT        float64   `json:"intercept_t,omitempty"`
	DF                int64     `json:"df,omitempty"`
	Sigma2            float64   `json:"sigma2,omitempty"`
	// N counts the training rows and SumWeights sums their weights.
	N          int64   `json:"n"`
	SumWeights float64 `json:"sum_weights"`
	// R2 and RMSE are on the training rows; RMSE = √(Σw r²/Σw).
	R2   float64 `json:"r2"`
	RMSE float64 `json:"rmse"`
	// NHoldout counts the held-out rows; their R² and RMSE are 0 when
	// there are none.
	NHoldout    int64   `json:"nholdout"`
	HoldoutR2   float64 `json:"holdout_r2"`
	HoldoutRMSE float64 `json:"holdout_rmse"`
	// Objective is ½Σw(y−ŷ)² + ½λ‖β‖² over the training rows.
	Objective float64 `json:"objective"`
	// Cond is the condition estimate of the equilibrated normal equations
	// (math.MaxFloat64 when singular) and Rank the directions solved for.
	Cond float64 `json:"cond"`
	Rank int     `json:"rank"`
	// Warning is empty unless the fit needs a caveat: singular or
	// ill-conditioned normal equations solved by pseudo-inverse, constant
	// features, missing standard errors.
	Warning string `json:"warning,omitempty"`
	// Residuals are histograms of the residuals when Config.Residuals
	// asked for them.
	Residuals *Residuals `json:"residuals,omitempty"`
}

// Residuals are histograms of the residuals y − ŷ of the training and the
// held-out rows (nil without held-out rows): rows per ResidualBin, in
// units of Unit, the training RMSE as the cross-products give it.
type Residuals struct {
	Unit    float64 `json:"unit"`
	Train   []int64 `json:"train"`
	Holdout []int64 `json:"holdout,omitempty"`
}

// ResidualEdges returns the ResidualBins+1 bin edges in units of Unit:
// −∞, −4, −3.75, …, 4, +∞.
func ResidualEdges() []float64 {
	e := make([]float64, ResidualBins+1)
	e[0], e[ResidualBins] = math.Inf(-1), math.Inf(1)
	for i := 1; i < ResidualBins; i++ {
		e[i] = float64(i-17) / 4
	}
	return e
}

// Predict returns b + x·β for one row of D features, summed as the eval
// pass does: one FMA chain from the intercept over the features in order.
func (m *Model) Predict(x []float64) float64 {
	p := m.Intercept
	for j, c := range m.Coefficients {
		p = math.FMA(x[j], c, p)
	}
	return p
}

// Shard is one shard's rows, as Reference takes them.
type Shard struct {
	// X holds the rows' D features, row-major; Y their targets.
	X, Y []float64
	// W holds sample weights; nil means every weight is 1.
	W []float64
	// Keys holds the rows' keys; it may be nil when Config.Holdout is 0.
	Keys []string
}

// Reference runs the whole state machine in one process over shards in
// order. The model is bit-identical to a distributed run over the same
// shards.
func Reference(cfg Config, d int, shards ...Shard) (*Model, error) {
	if d < 1 {
		return nil, errorf(ErrShape, "need at least 1 feature column, got %d", d)
	}
	if len(shards) == 0 {
		return nil, errorf(ErrNoRows, "no shards")
	}
	for i, sh := range shards {
		if len(sh.X) != len(sh.Y)*d {
			return nil, errorf(ErrShape, "shard %d holds %d feature values for %d targets and d=%d", i, len(sh.X), len(sh.Y), d)
		}
	}
	s, err := New(cfg, d)
	if err != nil {
		return nil, err
	}
	err = step.Run(s, len(shards), func(prev *Result, t *Task, i int) (*Result, error) {
		sh := shards[i]
		return RunTask(prev, t, sh.X, len(sh.Y), d, sh.Y, sh.W, sh.Keys, i)
	})
	if err != nil {
		return nil, err
	}
	return s.Model(), nil
}
