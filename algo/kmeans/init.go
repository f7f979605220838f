package kmeans

import (
	"encoding/binary"
	"math"
	"slices"
)

// The leader side of initialisation: merging picks and samples into a set of
// distinct candidates, and (k-means||) reducing the weighted candidates to K
// centroids with k-means++ and Lloyd, as Spark's LocalKMeans does.

// regularRounds is the number of sampling rounds run before checking that
// there are K distinct candidates: Rounds for k-means||, none for random.
func (s *State) regularRounds() int {
	if s.Config.Init == InitRandom {
		return 0
	}
	return s.Config.Rounds
}

// oversample is ℓ for the next sampling round. Extra rounds, run only when
// too few distinct candidates were found, double ℓ each time.
func (s *State) oversample() float64 {
	l := s.Config.Oversample
	if extra := s.Round - s.regularRounds() + 1; extra > 0 {
		l = math.Ldexp(l, min(extra, 60))
	}
	return l
}

// picked is a row returned by some shard.
type picked struct {
	key        float64
	shard, row int
	x          []float64
}

func (s *State) absorbPick(results []*Result) error {
	k := s.Config.K
	if total := s.totalRows(); total == 0 {
		return errorf(ErrNoRows, "all %d shards are empty", len(results))
	} else if total < int64(k) {
		return errorf(ErrTooFewRows, "%d rows for K=%d", total, k)
	}
	var all []picked
	for i, r := range results {
		for j, row := range r.Rows {
			all = append(all, picked{r.Keys[j], i, int(row), r.X[j*s.D : (j+1)*s.D]})
		}
	}
	slices.SortFunc(all, func(a, b picked) int {
		switch {
		case a.key != b.key:
			return cmpFloat(a.key, b.key)
		case a.shard != b.shard:
			return a.shard - b.shard
		}
		return a.row - b.row
	})
	t, _ := s.Next()
	set := newDistinct(nil, s.D)
	for _, p := range all[:min(t.M, len(all))] {
		set.add(p.x)
	}
	s.Candidates = set.rows
	if s.Config.Init == InitRandom && s.nCand() >= k {
		return s.endSampling()
	}
	s.Stage = TaskCost
	return nil
}

func (s *State) absorbCost(results []*Result) error {
	phi := 0.0
	for _, r := range results {
		phi += r.Cost
	}
	if !finite(phi) {
		return errorf(ErrNonFinite, "the k-means|| cost overflowed")
	}
	if phi == 0 {
		// Every row equals a candidate: no round can add one.
		if s.nCand() < s.Config.K {
			return errorf(ErrTooFewRows, "the data has only %d distinct rows for K=%d", s.nCand(), s.Config.K)
		}
		return s.endSampling()
	}
	s.Phi = phi
	s.Stage = TaskSample
	return nil
}

func (s *State) absorbSample(results []*Result) error {
	set := newDistinct(s.Candidates, s.D)
	for _, r := range results {
		for j := range r.Rows {
			set.add(r.X[j*s.D : (j+1)*s.D])
		}
	}
	s.Candidates = set.rows
	s.Round++
	switch {
	case s.Round < s.regularRounds():
		s.Stage = TaskCost
	case s.nCand() >= s.Config.K:
		return s.endSampling()
	case s.Round-s.regularRounds() >= maxExtraRounds:
		return errorf(ErrTooFewRows, "found only %d distinct rows for K=%d after %d sampling rounds", s.nCand(), s.Config.K, s.Round)
	default:
		s.Stage = TaskCost
	}
	return nil
}

// endSampling moves on once there are at least K distinct candidates.
func (s *State) endSampling() error {
	k, d := s.Config.K, s.D
	if s.Config.Init == InitRandom || s.nCand() == k {
		// Random init keeps the first K in priority-then-sampling order;
		// k-means|| with exactly K candidates has nothing to choose.
		s.Centroids = clone(s.Candidates[:k*d])
		s.Candidates = nil
		s.Stage = TaskLloyd
		return nil
	}
	s.Stage = TaskCounts
	return nil
}

func (s *State) absorbCounts(results []*Result) error {
	n := s.nCand()
	w := make([]float64, n)
	for _, r := range results {
		for j, c := range r.Counts {
			w[j] += float64(c)
		}
	}
	c := kmeansPP(s.Candidates, w, n, s.D, s.Config.K, s.Config.Seed)
	s.Centroids = localLloyd(c, s.Candidates, w, n, s.D, s.Config.K)
	s.Candidates = nil
	s.Stage = TaskLloyd
	return nil
}

// kmeansPP chooses k of the n distinct weighted candidates by greedy
// k-means++ (Arthur and Vassilvitskii; the greedy form is scikit-learn's):
// the first with probability proportional to weight; then, at each step,
// 2+⌊ln k⌋ trials drawn with probability proportional to weight times
// squared distance to the chosen set, keeping the trial that leaves the
// smallest total weighted cost. The greedy trials make a poor draw, such as
// a second centre in an already covered cluster, much less likely than with
// Spark's single draw.
func kmeansPP(cand, w []float64, n, d, k int, seed uint64) []float64 {
	row := func(j int) []float64 { return cand[j*d : (j+1)*d] }
	trials := 2 + int(math.Log(float64(k)))
	cost := make([]float64, n)
	score := make([]float64, n)
	j := pickWeighted(w, uniform(streamKey(seed, purposeKpp, 0, 0), 0))
	centres := append(make([]float64, 0, k*d), row(j)...)
	for i := range cost {
		cost[i] = sqDist(row(i), row(j))
	}
	for step := 1; step < k; step++ {
		for i := range score {
			score[i] = float64(w[i] * cost[i]) // no fusion with the sum
		}
		key := streamKey(seed, purposeKpp, step, 0)
		j, best := -1, math.Inf(1)
		for tr := range trials {
			c := pickWeighted(score, uniform(key, tr))
			if c < 0 {
				break
			}
			pot := 0.0
			for i := range cost {
				pot = math.FMA(w[i], min(cost[i], sqDist(row(i), row(c))), pot)
			}
			if pot < best {
				j, best = c, pot
			}
		}
		if j < 0 {
			// Every candidate left has weight 0: ignore weights.
			j = pickWeighted(cost, uniform(key, trials))
		}
		if j < 0 {
			j = firstPositive(cost)
		}
		centres = append(centres, row(j)...)
		for i := range cost {
			cost[i] = min(cost[i], sqDist(row(i), row(j)))
		}
	}
	return centres
}

// pickWeighted returns the first index whose running sum of w exceeds u
// times the total, or -1 if the total is not positive.
func pickWeighted(w []float64, u float64) int {
	total := 0.0
	for _, v := range w {
		total += v
	}
	if !(total > 0) {
		return -1
	}
	r, cum, last := float64(u*total), 0.0, -1
	for i, v := range w {
		if v <= 0 {
			continue
		}
		cum += v
		last = i
		if cum > r {
			return i
		}
	}
	return last // only reached through rounding
}

// firstPositive returns the first index with v > 0. With at least k distinct
// candidates one exists whenever fewer than k are chosen; if the distances
// underflowed, fall back to index 0.
func firstPositive(v []float64) int {
	for i, x := range v {
		if x > 0 {
			return i
		}
	}
	return 0
}

// localLloyd refines centres by weighted Lloyd over the candidates until no
// assignment changes or localIters pass. A centre that loses all weight
// stays where it is; the distributed Lloyd re-seeds it if it stays empty.
func localLloyd(centres, cand, w []float64, n, d, k int) []float64 {
	assign := make([]int, n)
	for i := range assign {
		assign[i] = -1
	}
	sums := make([]float64, k*d)
	tw := make([]float64, k)
	for it := 0; it < localIters; it++ {
		changed := false
		for i := range n {
			l, _ := Nearest(centres, k, d, cand[i*d:(i+1)*d])
			changed = changed || l != assign[i]
			assign[i] = l
		}
		if !changed {
			break
		}
		clear(sums)
		clear(tw)
		for i, l := range assign {
			s := sums[l*d : (l+1)*d]
			for j, v := range cand[i*d : (i+1)*d] {
				s[j] = math.FMA(w[i], v, s[j])
			}
			tw[l] += w[i]
		}
		for c := range k {
			if tw[c] > 0 {
				for j := range d {
					centres[c*d+j] = sums[c*d+j] / tw[c]
				}
			}
		}
	}
	return centres
}

// distinct is a set of row-major rows without numeric duplicates.
type distinct struct {
	d    int
	rows []float64
	seen map[string]struct{}
	buf  []byte
}

func newDistinct(rows []float64, d int) *distinct {
	set := &distinct{d: d, rows: rows[:0:0], seen: make(map[string]struct{})}
	for i := 0; i+d <= len(rows); i += d {
		set.add(rows[i : i+d])
	}
	return set
}

// add appends row unless an equal row is already in the set. The key maps
// -0 to +0, so rows that compare equal are duplicates.
func (s *distinct) add(row []float64) {
	s.buf = s.buf[:0]
	for _, v := range row {
		s.buf = binary.LittleEndian.AppendUint64(s.buf, math.Float64bits(v+0))
	}
	if _, ok := s.seen[string(s.buf)]; ok {
		return
	}
	s.seen[string(s.buf)] = struct{}{}
	s.rows = append(s.rows, row...)
}

func cmpFloat(a, b float64) int {
	if a < b {
		return -1
	}
	if a > b {
		return 1
	}
	return 0
}
