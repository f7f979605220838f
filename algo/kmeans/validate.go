package kmeans

// Results arrive over the network, so Absorb checks each against the task it
// answers before using it; a malformed Result is an error, never a panic.

func (s *State) checkResults(results []*Result) error {
	if len(results) == 0 {
		return errorf(ErrNoRows, "no shards")
	}
	if s.ShardRows != nil && len(results) != len(s.ShardRows) {
		return errorf(ErrBadResult, "got %d results, the job has %d shards", len(results), len(s.ShardRows))
	}
	t, _ := s.Next()
	for i, r := range results {
		if r == nil {
			return errorf(ErrBadResult, "result %d is missing", i)
		}
		if err := s.checkResult(t, i, r); err != nil {
			return errorf(ErrBadResult, "shard %d %s result: %v", i, t.Kind, err)
		}
	}
	return nil
}

type resultError string

func (e resultError) Error() string { return string(e) }

func (s *State) checkResult(t *Task, i int, r *Result) error {
	switch {
	case r.Kind != t.Kind:
		return resultError("answers a " + string(r.Kind) + " task")
	case r.Step != t.Step:
		return resultError("is from another pass (stale or replayed)")
	case r.Shard != i:
		return resultError("carries another shard's index")
	case r.N < 0 || (s.ShardRows != nil && r.N != s.ShardRows[i]):
		return resultError("row count differs from the shard's")
	}
	k, d, n := int64(t.K), int64(t.D), r.N
	switch t.Kind {
	case TaskPick:
		return checkPick(t, i, r)
	case TaskCost:
		return checkCost(r.Cost)
	case TaskSample:
		return checkRows(r, n, d, true)
	case TaskCounts:
		return checkCounts(r.Counts, k, n)
	case TaskLloyd:
		if int64(len(r.Sums)) != k*d || !allFinite(r.Sums) {
			return resultError("sums have the wrong length or are not finite")
		}
		if err := checkCounts(r.Counts, k, n); err != nil {
			return err
		}
		if err := checkCost(r.Cost); err != nil {
			return err
		}
		return checkFar(r, k, d, min(k, n))
	case TaskFinal:
		return checkFinal(r, k, int64(t.NProfile))
	}
	return nil
}

func checkCost(c float64) error {
	if !finite(c) || c < 0 {
		return resultError("cost or inertia is negative or not finite")
	}
	return nil
}

func checkCounts(c []int64, k, n int64) error {
	if int64(len(c)) != k {
		return resultError("counts have the wrong length")
	}
	var sum int64
	for _, v := range c {
		if v < 0 || v > n {
			return resultError("a count is out of range")
		}
		sum += v
	}
	if sum != n {
		return resultError("counts do not add up to the shard's rows")
	}
	return nil
}

// checkRows checks Rows and X; increasing demands strictly increasing rows.
func checkRows(r *Result, n, d int64, increasing bool) error {
	if int64(len(r.X)) != int64(len(r.Rows))*d || !allFinite(r.X) {
		return resultError("rows and values disagree or values are not finite")
	}
	for j, row := range r.Rows {
		if row < 0 || row >= n || (increasing && j > 0 && row <= r.Rows[j-1]) {
			return resultError("a row index is out of range or out of order")
		}
	}
	return nil
}

func checkPick(t *Task, shard int, r *Result) error {
	if int64(len(r.Rows)) != min(int64(t.M), r.N) || len(r.Keys) != len(r.Rows) {
		return resultError("wrong number of picked rows")
	}
	if err := checkRows(r, r.N, int64(t.D), false); err != nil {
		return err
	}
	key := streamKey(t.Seed, purposePick, 0, shard)
	for j, row := range r.Rows {
		if r.Keys[j] != uniform(key, int(row)) {
			return resultError("a priority does not match its row")
		}
		if j > 0 && !(entry{r.Keys[j-1], int(r.Rows[j-1])}).less(entry{r.Keys[j], int(row)}) {
			return resultError("picked rows are out of order")
		}
	}
	return nil
}

func checkFar(r *Result, k, d, want int64) error {
	if int64(len(r.Rows)) != want || len(r.Keys) != len(r.Rows) || len(r.Labels) != len(r.Rows) {
		return resultError("wrong number of farthest rows")
	}
	if err := checkRows(r, r.N, d, false); err != nil {
		return err
	}
	for j, l := range r.Labels {
		if l < 0 || int64(l) >= k || !finite(r.Keys[j]) || r.Keys[j] < 0 {
			return resultError("a farthest row has a bad label or distance")
		}
	}
	return nil
}

func checkFinal(r *Result, k, p int64) error {
	if err := checkCounts(r.Counts, k, r.N); err != nil {
		return err
	}
	if err := checkCost(r.Cost); err != nil {
		return err
	}
	if int64(len(r.ProfSums)) != k*p || int64(len(r.ProfCounts)) != k*p || !allFinite(r.ProfSums) {
		return resultError("profile sums have the wrong length or are not finite")
	}
	for j, c := range r.ProfCounts {
		if c < 0 || c > r.Counts[int64(j)/p] {
			return resultError("a profile count is out of range")
		}
	}
	return nil
}
