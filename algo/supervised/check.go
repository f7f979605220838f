package supervised

import (
	"fmt"
	"strings"

	"github.com/mathcrm/mathcrm/algo/feature"
	"github.com/mathcrm/mathcrm/algo/job"
	"github.com/mathcrm/mathcrm/internal/proto"
)

// check resolves a linear or logistic spec against the dataset version and
// fills in its defaults: the features default to every column but the
// target (and the categorical column it is a value of). A logistic target
// must hold 0 and 1, and every column read must have values.
func check(spec *proto.JobSpec, ver *proto.DatasetVersion) error {
	rs, err := ParamsOf(spec)
	if err != nil {
		return fmt.Errorf("%w: %w", proto.ErrInvalid, err)
	}
	if rs.Target == "" {
		return job.Invalid("a target column is required")
	}
	target, err := feature.Expand(ver, []string{rs.Target})
	if err != nil {
		return err
	}
	if len(target) != 1 {
		return job.Invalid("target %q is categorical: name one value, e.g. %s", rs.Target, target[len(target)-1])
	}
	source, _, _ := strings.Cut(rs.Target, "=")
	if len(rs.Features) == 0 {
		for _, name := range feature.Names(ver) {
			if name != source {
				rs.Features = append(rs.Features, name)
			}
		}
	}
	feats, err := feature.Expand(ver, rs.Features)
	if err != nil {
		return err
	}
	for _, f := range feats {
		if f == rs.Target || strings.HasPrefix(f, source+"=") {
			return job.Invalid("the target %q cannot also be a feature", rs.Target)
		}
	}
	if len(feats) == 0 || len(feats) > MaxFeatures {
		return job.Invalid("%d features (1 to %d)", len(feats), MaxFeatures)
	}
	rs.Features = feats
	if rs.Holdout < 0 || rs.Holdout >= 1 {
		return job.Invalid("holdout must be in [0, 1)")
	}
	if _, err := newJob(spec.Algo, *spec, rs, ver); err != nil {
		return err
	}
	if spec.Algo == LogisticName {
		if err := checkBinaryTarget(ver, rs.Target); err != nil {
			return err
		}
	}
	for _, name := range append([]string{rs.Target}, rs.Features...) {
		cs := feature.Column(ver, name)
		if cs == nil {
			cs, _, _ = feature.OneHot(ver, name)
		}
		if cs != nil && cs.Count == 0 {
			return job.Invalid("column %q has no value in version %d (every row is missing it)", name, ver.Version)
		}
	}
	return job.SetParams(spec, rs)
}

// binaryTol bounds how far a 0/1 column's variance may be from p(1-p): the
// import's Welford moments are exact to about 1e-15 for such a column, and
// one value strictly between 0 and 1 among a million rows moves it by more.
const binaryTol = 1e-9

// checkBinaryTarget checks that a logistic target holds only 0 and 1, both:
// a one-hot column "c=v" always does; a numeric column does when its range
// is [0, 1] and its variance is that of a 0/1 column, p(1-p) with p its
// mean (any value strictly between 0 and 1 makes it smaller).
func checkBinaryTarget(ver *proto.DatasetVersion, target string) error {
	cs := feature.Column(ver, target)
	if cs == nil || cs.Categorical() {
		return nil // a one-hot column
	}
	hint := ""
	if c := firstCategorical(ver); c != nil {
		hint = fmt.Sprintf(" (or name one value of a categorical column, e.g. --target %s=%s)", c.Name, c.Levels[len(c.Levels)-1])
	}
	switch {
	case cs.Count == 0:
		return job.Invalid("logistic target %q has no value in version %d", target, ver.Version)
	case cs.Min < 0 || cs.Max > 1:
		return job.Invalid("logistic target %q must hold only 0 and 1, but its values range from %v to %v%s", target, cs.Min, cs.Max, hint)
	case cs.Min == cs.Max:
		return job.Invalid("logistic target %q holds only %v: it needs rows of both classes, 0 and 1", target, cs.Min)
	case cs.Mean*(1-cs.Mean)-cs.Std*cs.Std > binaryTol:
		return job.Invalid("logistic target %q must hold only 0 and 1, but it holds values between 0 and 1%s", target, hint)
	}
	return nil
}

func firstCategorical(ver *proto.DatasetVersion) *proto.ColumnStats {
	for i := range ver.Columns {
		if c := &ver.Columns[i]; c.Categorical() && len(c.Levels) > 0 {
			return c
		}
	}
	return nil
}
