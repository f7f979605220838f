package logistic

// checkResults rejects a set of Results that does not answer the current
// task: wrong count, kind, step, shard index, row count, lengths, or values
// that cannot be sums.
func (s *State) checkResults(results []*Result) error {
	if len(results) == 0 {
		return errorf(ErrBadResult, "no results")
	}
	if s.ShardRows != nil && len(results) != len(s.ShardRows) {
		return errorf(ErrBadResult, "%d results for %d shards", len(results), len(s.ShardRows))
	}
	for i, r := range results {
		if err := s.checkResult(r, i); err != nil {
			return errorf(ErrBadResult, "shard %d: %v", i, err)
		}
	}
	return nil
}

type resultError string

func (e resultError) Error() string { return string(e) }

func (s *State) checkResult(r *Result, i int) error {
	d1 := s.D + 1
	switch {
	case r == nil:
		return resultError("missing result")
	case r.Kind != s.Stage || r.Step != s.Step:
		return resultError("result for " + string(r.Kind) + " at another step")
	case r.Shard != i:
		return resultError("result carries another shard's index")
	case r.N < 0 || (s.ShardRows != nil && r.N != s.ShardRows[i]):
		return resultError("row count differs from earlier passes")
	}
	switch s.Stage {
	case TaskCount:
		if r.Counts[0]+r.Counts[1]+r.Counts[2]+r.Counts[3] != r.N || !allFinite(r.Weights[:]) {
			return resultError("class counts do not add up to the rows")
		}
		for k := range r.Counts {
			if r.Counts[k] < 0 || !(r.Weights[k] >= 0) {
				return resultError("negative count or weight")
			}
		}
	case TaskNewton, TaskGrad:
		hess := 0
		if s.Stage == TaskNewton {
			hess = upperLen(d1)
		}
		if len(r.Grad) != d1 || len(r.Hess) != hess || !finite(r.Loss) || r.Loss < 0 || !allFinite(r.Grad) || !allFinite(r.Hess) {
			return resultError("loss pass has wrong lengths or non-finite sums")
		}
		if r.Train == nil && r.Holdout == nil {
			return nil
		}
		if s.Line == nil || !s.Line.Eval {
			return resultError("loss pass carries eval sums it was not asked for")
		}
		return s.checkEval(r)
	case TaskEval:
		return s.checkEval(r)
	}
	return nil
}

// checkEval checks the eval sums of r.
func (s *State) checkEval(r *Result) error {
	if r.Train == nil || r.Holdout == nil || r.Train.N+r.Holdout.N != r.N {
		return resultError("eval result lacks a set or miscounts the rows")
	}
	for _, set := range []struct {
		sums  *SetSums
		exact bool
	}{{r.Train, s.exactTrain()}, {r.Holdout, s.exactHoldout()}} {
		if err := checkSetSums(set.sums, set.exact); err != nil {
			return err
		}
	}
	return nil
}

func checkSetSums(e *SetSums, exact bool) error {
	switch {
	case len(e.CalN) != CalBins || len(e.CalW) != CalBins || len(e.CalP) != CalBins || len(e.CalY) != CalBins:
		return resultError("calibration sums have the wrong length")
	case !finite(e.W) || !finite(e.LogLoss) || !allFinite(e.CalW) || !allFinite(e.CalP) || !allFinite(e.CalY):
		return resultError("non-finite metric sums")
	case exact && (e.Hist != nil || int64(len(e.Scores)) != e.N || len(e.Labels) != len(e.Scores) || (e.ScoreW != nil && len(e.ScoreW) != len(e.Scores))):
		return resultError("exact AUC scores do not list every row")
	case exact && (!allFinite(e.Scores) || !allFinite(e.ScoreW)):
		return resultError("non-finite scores")
	case !exact && (len(e.Hist) != 2*HistBins || e.Scores != nil || !allFinite(e.Hist)):
		return resultError("score histogram has the wrong length or non-finite sums")
	}
	return checkCurve(e)
}

// checkCurve checks a set's curve bins: none (a worker of an earlier
// build), or counts of the right length that add up to the set's rows,
// with finite, non-negative weights when there are weights.
func checkCurve(e *SetSums) error {
	if e.CurveN == nil {
		if e.CurveW != nil {
			return resultError("curve weights without curve counts")
		}
		return nil
	}
	if len(e.CurveN) != 2*CurveBins || (e.CurveW != nil && len(e.CurveW) != 2*CurveBins) {
		return resultError("curve bins have the wrong length")
	}
	var n int64
	for b, c := range e.CurveN {
		if c < 0 || (e.CurveW != nil && !(e.CurveW[b] >= 0 && finite(e.CurveW[b]))) {
			return resultError("negative or non-finite curve bin")
		}
		n += c
	}
	if n != e.N {
		return resultError("curve bins do not add up to the set's rows")
	}
	return nil
}

func (s *State) exactTrain() bool {
	return s.Counts[0]+s.Counts[1] <= s.Config.ExactAUCMaxRows
}

func (s *State) exactHoldout() bool {
	return s.Counts[2]+s.Counts[3] <= s.Config.ExactAUCMaxRows
}
