package logistic

import (
	"math"

	"github.com/mathcrm/mathcrm/algo/step"
)

// Model is the result of a logistic regression job.
type Model struct {
	// Features names the D columns when the Config did.
	Features []string `json:"features,omitempty"`
	D        int      `json:"d"`
	// C is the inverse penalty (0 with Penalty "none").
	C       float64 `json:"c"`
	Penalty string  `json:"penalty"`
	// ClassWeights are the weights of class 0 and class 1 in the loss.
	ClassWeights []float64 `json:"class_weights"`
	// Solver is "newton" or "lbfgs".
	Solver string `json:"solver"`
	// Coefficients holds β, one per feature, and Intercept b:
	// P(y = 1 | x) = σ(b + x·β).
	Coefficients []float64 `json:"coefficients"`
	Intercept    float64   `json:"intercept"`
	// Iterations counts the accepted steps; Converged reports that a
	// tolerance test passed before MaxIter.
	Iterations int  `json:"iterations"`
	Converged  bool `json:"converged"`
	// Objective is Σw·ℓ + ½λ‖β‖² over the training rows, w the sample
	// weight times the class weight: scikit-learn's objective divided by C.
	Objective float64 `json:"objective"`
	// Train and Holdout are the metrics of the two row sets; Holdout is
	// empty (N = 0) without a held-out split.
	Train   Metrics `json:"train"`
	Holdout Metrics `json:"holdout"`
	// Warning is empty unless the fit needs a caveat: no convergence, a
	// singular Hessian, a failed line search.
	Warning string `json:"warning,omitempty"`
	// History holds one entry per accepted step.
	History []Iter `json:"history,omitempty"`
}

// Metrics describe the model on one row set. Class weights do not enter
// them; sample weights do.
type Metrics struct {
	N          int64   `json:"n"`
	SumWeights float64 `json:"sum_weights"`
	// LogLoss is the weighted mean log-loss, as scikit-learn's log_loss.
	LogLoss float64 `json:"log_loss"`
	// AUC is the area under the ROC curve, computed as AUCMethod says:
	// "exact" or "histogram", or "" (and AUC 0) when the set lacks a class.
	AUC       float64 `json:"auc"`
	AUCMethod string  `json:"auc_method"`
	// Calibration holds CalBins bins of equal width in predicted
	// probability.
	Calibration []CalBin `json:"calibration"`
	// Curve holds CurveBins bins of equal width in predicted probability
	// with the rows of each class; ROC (CurveBins+1 points, from the top
	// bin down), CurveAUC (its area: the AUC of the scores rounded down to
	// their bin) and Deciles (cumulative gains and lift) derive from it.
	// All are empty when the set lacks a class, and Curve also when a
	// worker of an earlier build ran the eval pass.
	Curve    []CurveBin `json:"curve,omitempty"`
	ROC      []ROCPoint `json:"roc,omitempty"`
	CurveAUC float64    `json:"curve_auc,omitempty"`
	Deciles  []Decile   `json:"deciles,omitempty"`
}

// CalBin is one calibration bin: the rows with Lo < p ≤ Hi (the first bin
// also p = 0), their count and weight, their weighted mean predicted
// probability and observed rate of class 1 (both 0 for an empty bin).
type CalBin struct {
	Lo            float64 `json:"lo"`
	Hi            float64 `json:"hi"`
	Count         int64   `json:"count"`
	Weight        float64 `json:"weight"`
	MeanPredicted float64 `json:"mean_predicted"`
	ObservedRate  float64 `json:"observed_rate"`
}

// Margin returns b + x·β for one row of D features, summed as the shards
// do: one FMA chain from the intercept over the features in order.
func (m *Model) Margin(x []float64) float64 {
	eta := m.Intercept
	for j, c := range m.Coefficients {
		eta = math.FMA(x[j], c, eta)
	}
	return eta
}

// Probability returns P(y = 1 | x) = σ(b + x·β), with the same bits as the
// eval pass computes.
func (m *Model) Probability(x []float64) float64 { return sigmoid(m.Margin(x)) }

// Shard is one shard's rows, as Reference takes them.
type Shard struct {
	// X holds the rows' D features, row-major; Y their targets, 0 or 1.
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
		return nil, errorf(ErrOneClass, "no shards")
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
