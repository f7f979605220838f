package coordinator

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/mathcrm/mathcrm/algo/linear"
	"github.com/mathcrm/mathcrm/algo/logistic"
	"github.com/mathcrm/mathcrm/internal/blob"
	"github.com/mathcrm/mathcrm/internal/proto"
)

const supervisedModelKind = proto.SupervisedModelKind

// checkRegression validates a linear or logistic spec against the dataset
// version and fills in its defaults: the features default to every column
// but the target (and the categorical column it is a value of).
func checkRegression(spec *proto.JobSpec, ver *proto.DatasetVersion) error {
	rs := spec.Linear
	if spec.Algo == "logistic" {
		rs = spec.Logistic
	}
	if rs == nil {
		return fmt.Errorf("%w: %s parameters missing", ErrInvalid, spec.Algo)
	}
	if rs.Target == "" {
		return fmt.Errorf("%w: a target column is required", ErrInvalid)
	}
	target, err := expandColumns(ver, []string{rs.Target})
	if err != nil {
		return err
	}
	if len(target) != 1 {
		return fmt.Errorf("%w: target %q is categorical: name one value, e.g. %s", ErrInvalid, rs.Target, target[len(target)-1])
	}
	source, _, _ := strings.Cut(rs.Target, "=")
	if len(rs.Features) == 0 {
		for _, name := range columnNames(ver) {
			if name != source {
				rs.Features = append(rs.Features, name)
			}
		}
	}
	feats, err := expandColumns(ver, rs.Features)
	if err != nil {
		return err
	}
	for _, f := range feats {
		if f == rs.Target || strings.HasPrefix(f, source+"=") {
			return fmt.Errorf("%w: the target %q cannot also be a feature", ErrInvalid, rs.Target)
		}
	}
	if len(feats) == 0 || len(feats) > 4096 {
		return fmt.Errorf("%w: %d features (1 to 4096)", ErrInvalid, len(feats))
	}
	rs.Features = feats
	if rs.Holdout < 0 || rs.Holdout >= 1 {
		return fmt.Errorf("%w: holdout must be in [0, 1)", ErrInvalid)
	}
	_, err = newRegressionJob(*spec, ver)
	return err
}

// regressionJob drives linear or logistic regression.
type regressionJob struct {
	spec proto.JobSpec
	rs   *proto.RegressionSpec
	ver  *proto.DatasetVersion
	prep proto.Prep
	lin  *linear.State
	log  *logistic.State
	skip int64
}

func newRegressionJob(spec proto.JobSpec, ver *proto.DatasetVersion) (*regressionJob, error) {
	j := &regressionJob{spec: spec, ver: ver}
	j.rs = spec.Linear
	if spec.Algo == "logistic" {
		j.rs = spec.Logistic
	}
	j.prep = proto.Prep{Columns: j.rs.Features, Target: j.rs.Target}
	j.prep.Categories = categories(ver, j.prep.Columns, []string{j.rs.Target})
	d := len(j.rs.Features)
	var err error
	switch spec.Algo {
	case "linear":
		cfg := linear.DefaultConfig()
		cfg.Lambda, cfg.Holdout, cfg.SplitSeed, cfg.Features = j.rs.L2, j.rs.Holdout, spec.Seed, j.rs.Features
		j.lin, err = linear.New(cfg, d)
	case "logistic":
		cfg := logistic.DefaultConfig()
		cfg.ClassWeight, cfg.Solver = j.rs.ClassWeight, j.rs.Solver
		// Left out (nil): the algorithm's default, as DefaultConfig has it.
		if j.rs.C != nil {
			cfg.C = *j.rs.C
		}
		if j.rs.MaxIter != nil {
			cfg.MaxIter = *j.rs.MaxIter
		}
		if j.rs.Tol != nil {
			cfg.Tol = *j.rs.Tol
		}
		cfg.Penalty = j.rs.Penalty
		cfg.Holdout, cfg.SplitSeed, cfg.Features = j.rs.Holdout, spec.Seed, j.rs.Features
		j.log, err = logistic.New(cfg, d)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return j, nil
}

func (j *regressionJob) Next() (any, bool) {
	if j.lin != nil {
		return j.lin.Next()
	}
	return j.log.Next()
}

func (j *regressionJob) Absorb(parts []*proto.Partial) error {
	var skipped int64
	if j.lin != nil {
		res := make([]*linear.Result, len(parts))
		for i, p := range parts {
			if p.Linear == nil {
				return fmt.Errorf("coordinator: shard %d sent no linear result", i)
			}
			res[i], skipped = p.Linear, skipped+p.Skipped
		}
		j.skip = skipped
		return j.lin.Absorb(res)
	}
	res := make([]*logistic.Result, len(parts))
	for i, p := range parts {
		if p.Logistic == nil {
			return fmt.Errorf("coordinator: shard %d sent no logistic result", i)
		}
		res[i], skipped = p.Logistic, skipped+p.Skipped
	}
	j.skip = skipped
	return j.log.Absorb(res)
}

func (j *regressionJob) Progress() (string, int, float64, float64) {
	if j.lin != nil {
		return j.lin.Phase(), j.lin.Iteration(), j.lin.Objective(), 0
	}
	return j.log.Phase(), j.log.Iteration(), j.log.Objective(), 0
}

func (j *regressionJob) MaxIter() int {
	if j.log != nil {
		if j.rs.MaxIter != nil {
			return *j.rs.MaxIter
		}
		return logistic.DefaultMaxIter
	}
	return 1
}

func (j *regressionJob) Prep() proto.Prep { return j.prep }

type regressionSaved struct {
	State   []byte
	Skipped int64
}

func (j *regressionJob) Save() ([]byte, error) {
	var st any = j.lin
	if j.log != nil {
		st = j.log
	}
	b, err := json.Marshal(st)
	if err != nil {
		return nil, err
	}
	return blob.Encode(j.spec.Algo+".state", regressionSaved{State: b, Skipped: j.skip})
}

func (j *regressionJob) Load(b []byte) error {
	var s regressionSaved
	if err := blob.Decode(b, j.spec.Algo+".state", &s); err != nil {
		return err
	}
	j.skip = s.Skipped
	if j.lin != nil {
		j.lin = new(linear.State)
		return json.Unmarshal(s.State, j.lin)
	}
	j.log = new(logistic.State)
	return json.Unmarshal(s.State, j.log)
}

func (j *regressionJob) Model() (string, []byte, error) {
	m := proto.SupervisedModel{Kind: j.spec.Algo, Target: j.rs.Target, Features: j.rs.Features, Categories: j.prep.Categories,
		Skipped: j.skip, Spec: j.spec, Dataset: j.spec.Dataset, Version: j.spec.DatasetVersion}
	if j.lin != nil {
		m.Linear = j.lin.Model()
	} else {
		m.Logistic = j.log.Model()
	}
	b, err := blob.Encode(supervisedModelKind, m)
	return j.spec.Algo, b, err
}
