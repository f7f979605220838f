package supervised

import (
	"fmt"

	"github.com/mathcrm/mathcrm/algo/job"
	"github.com/mathcrm/mathcrm/algo/logistic"
	"github.com/mathcrm/mathcrm/internal/proto"
)

// The algorithms' names in job specs, which are also their model kinds.
const (
	LinearName   = "linear"
	LogisticName = "logistic"
)

// MaxFeatures and MaxIterations bound a job's parameters.
const (
	MaxFeatures   = 4096
	MaxIterations = 100000
)

// Params are a linear or logistic regression job's parameters ("linear" or
// "logistic" in a job spec).
type Params struct {
	Target   string   `json:"target"`
	Features []string `json:"features"`
	// L2 is the ridge penalty λ for linear regression; for logistic
	// regression the penalty is 1/C with C as in scikit-learn.
	// C, MaxIter and Tol are logistic regression's; nil (left out) takes
	// the algorithm's default, a value given is checked, 0 included.
	L2          float64  `json:"l2"`
	C           *float64 `json:"c,omitempty"`
	Holdout     float64  `json:"holdout"`
	ClassWeight string   `json:"class_weight,omitempty"`
	Penalty     string   `json:"penalty,omitempty"`
	Solver      string   `json:"solver,omitempty"`
	MaxIter     *int     `json:"max_iter,omitempty"`
	Tol         *float64 `json:"tol,omitempty"`
}

// Check checks the parameters of algorithm algo that do not depend on the
// dataset. A field left out (nil) is not checked: it takes the algorithm's
// default.
func (p *Params) Check(algo string) error {
	if p.Target == "" {
		return fmt.Errorf("%w: %s.target: a target column is required", proto.ErrParam, algo)
	}
	if err := proto.FloatParam(algo+".holdout", "--holdout", p.Holdout, p.Holdout >= 0 && p.Holdout < 1, "at least 0 and less than 1"); err != nil {
		return err
	}
	if len(p.Features) > MaxFeatures {
		return &proto.ParamError{Field: algo + ".features", Flag: "--features", Value: fmt.Sprintf("(%d columns)", len(p.Features)),
			Want: fmt.Sprintf("at most %d columns", MaxFeatures)}
	}
	if algo == LinearName {
		return proto.FloatParam("linear.l2", "--l2", p.L2, p.L2 >= 0, "a finite number of at least 0")
	}
	if p.C != nil {
		if err := proto.FloatParam("logistic.c", "--c", *p.C, *p.C > 0, "a finite number greater than 0"); err != nil {
			return err
		}
	}
	if p.MaxIter != nil {
		if err := proto.IntParam("logistic.max_iter", "--max-iter", *p.MaxIter, 1, MaxIterations); err != nil {
			return err
		}
	}
	if p.Tol != nil {
		if err := proto.FloatParam("logistic.tol", "--tol", *p.Tol, *p.Tol > 0, "a finite number greater than 0"); err != nil {
			return err
		}
	}
	if p.ClassWeight != "" {
		if err := proto.OneOf("logistic.class_weight", "--class-weight", p.ClassWeight, logistic.Balanced); err != nil {
			return err
		}
	}
	if p.Penalty != "" {
		if err := proto.OneOf("logistic.penalty", "--penalty", p.Penalty, logistic.PenaltyL2, logistic.PenaltyNone); err != nil {
			return err
		}
	}
	if p.Solver != "" {
		return proto.OneOf("logistic.solver", "--solver", p.Solver, logistic.SolverAuto, logistic.SolverNewton, logistic.SolverLBFGS)
	}
	return nil
}

// Spec is the spec of a linear (algo LinearName) or logistic (LogisticName)
// regression job.
func Spec(algo, dataset string, p Params) proto.JobSpec {
	s := proto.JobSpec{Algo: algo, Dataset: dataset}
	_ = job.SetParams(&s, p) // Params always encode
	return s
}

// ParamsOf decodes a spec's regression parameters.
func ParamsOf(spec *proto.JobSpec) (*Params, error) {
	p := new(Params)
	return p, job.Params(spec, p)
}

// logisticConfig is the configuration a logistic job runs with: a field
// left out (nil) takes the algorithm's default, as DefaultConfig has it.
func logisticConfig(seed uint64, p *Params) logistic.Config {
	cfg := logistic.DefaultConfig()
	cfg.ClassWeight, cfg.Solver = p.ClassWeight, p.Solver
	if p.C != nil {
		cfg.C = *p.C
	}
	if p.MaxIter != nil {
		cfg.MaxIter = *p.MaxIter
	}
	if p.Tol != nil {
		cfg.Tol = *p.Tol
	}
	cfg.Penalty = p.Penalty
	cfg.Holdout, cfg.SplitSeed, cfg.Features = p.Holdout, seed, p.Features
	return cfg
}
