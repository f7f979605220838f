package als

import (
	"math"
	"slices"
	"strings"
)

// RunTask runs t on one shard: blk is the shard's block of side t.Side,
// tab the other side's factors read from t.Other (nil for init), prep the
// block's Prep for tab (nil: RunTask prepares it, which a worker should
// avoid by keeping one, see Prep), prev this shard's factors from
// t.Prev[shard] when t.Eval is set or t.Kind is eval (nil otherwise), and
// shard the shard's index.
//
// It returns the shard's Result and, for init, users and items, its new
// factors, which the worker stores before setting Result.Ref. Every row is
// solved on its own from its own interactions, so the factors do not
// depend on the shard a row is in.
func RunTask(t *Task, blk *Block, tab *Table, prep *Prep, prev *Factors, shard int) (*Result, *Factors, error) {
	if err := checkTask(t, blk, tab, prev, shard); err != nil {
		return nil, nil, err
	}
	res := &Result{Kind: t.Kind, Step: t.Step, Iteration: t.Iteration, Shard: shard, Rows: int64(len(blk.IDs))}
	cfg := t.Config
	if t.Kind == TaskInit {
		f := &Factors{IDs: slices.Clone(blk.IDs), Rank: cfg.Rank, F: make([]float64, len(blk.IDs)*cfg.Rank)}
		for i, id := range f.IDs {
			InitFactor(f.Row(i), cfg.Seed, id)
		}
		return res, f, nil
	}
	if prep == nil {
		var err error
		if prep, err = Prepare(t, blk, tab); err != nil {
			return nil, nil, contextf(err, "shard %d", shard)
		}
	} else if !prep.Fits(t, blk, tab) {
		return nil, nil, errorf(ErrPrep, "shard %d: the prep was made for another block, table layout or split", shard)
	}
	wrap := func(err error, row int) error {
		return contextf(err, "shard %d, %s %q", shard, t.Side.singular(), blk.IDs[row])
	}
	if t.Eval != nil {
		ev := newEvaluator(t, tab, prev)
		for row := range blk.IDs {
			if err := ev.user(&res.Rank, blk, prep, row); err != nil {
				return nil, nil, wrap(err, row)
			}
		}
	}
	if t.Kind == TaskEval {
		return res, nil, nil
	}

	r := cfg.Rank
	out := &Factors{IDs: slices.Clone(blk.IDs), Rank: r, F: make([]float64, len(blk.IDs)*r), Count: make([]int32, len(blk.IDs))}
	s := newRowSolver(cfg, tab)
	var ls lossSums
	if t.Kind == TaskItems {
		ls.init(cfg, tab)
	}
	// Rows are measured as soon as their factors are final (on the SIMD
	// path, in batches), while the other side's rows they read are still
	// in cache.
	measure := func(row int) {
		lo, hi := int(blk.Ptr[row]), int(blk.Ptr[row+1])
		f, n := out.Row(row), int(out.Count[row])
		if n > 0 {
			res.Trained++
			res.NTrain += int64(n)
			sq := dot(f, f)
			if cfg.weighted() {
				sq = float64(sq * float64(n))
			}
			res.Reg += sq
		}
		if h := countHeld(cfg, blk, prep, lo, hi); h > 0 {
			res.NHoldout += int64(h)
			if n > 0 {
				res.Held++
			}
		}
		if t.Kind == TaskItems {
			ls.row(res, blk, prep, f, n, lo, hi)
		}
	}
	done := 0
	for row := range blk.IDs {
		n, err := s.solve(row, out.Row(row), blk, prep, int(blk.Ptr[row]), int(blk.Ptr[row+1]))
		if err == nil && row == len(blk.IDs)-1 {
			err = s.flush()
		}
		if re, ok := err.(*rowError); ok {
			return nil, nil, wrap(re.err, re.row)
		}
		out.Count[row] = int32(n)
		if s.pending() == 0 {
			for ; done <= row; done++ {
				measure(done)
			}
		}
	}
	if t.Kind == TaskItems && t.Popular > 0 {
		res.Popular = topPopular(blk.IDs, out.Count, t.Popular)
	}
	if !finite(res.Reg) || !finite(res.Loss) || !finite(res.Hold.SSE) {
		return nil, nil, errorf(ErrNonFinite, "shard %d: %s pass sums overflowed", shard, t.Kind)
	}
	return res, out, nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func checkTask(t *Task, blk *Block, tab *Table, prev *Factors, shard int) error {
	if t == nil {
		return errorf(ErrBadTask, "nil task")
	}
	if err := t.Config.Validate(); err != nil {
		return errorf(ErrBadTask, "%v", err)
	}
	want := map[TaskKind]Side{TaskInit: Items, TaskUsers: Users, TaskItems: Items, TaskEval: Users}
	side, ok := want[t.Kind]
	switch {
	case !ok:
		return errorf(ErrBadTask, "unknown task kind %q", t.Kind)
	case t.Side != side:
		return errorf(ErrBadTask, "%s task on side %q, want %q", t.Kind, t.Side, side)
	case shard < 0:
		return errorf(ErrBadTask, "negative shard index %d", shard)
	case blk == nil:
		return errorf(ErrBadTask, "shard %d: nil block", shard)
	case t.Kind == TaskEval && t.Eval == nil:
		return errorf(ErrBadTask, "eval task without an EvalSpec")
	case t.Eval != nil && (t.Kind == TaskItems || t.Kind == TaskInit):
		return errorf(ErrBadTask, "%s task with an EvalSpec", t.Kind)
	case t.Eval != nil && (t.Eval.K < 1 || t.Eval.K > MaxEvalK || !(t.Eval.Fraction >= 0 && t.Eval.Fraction <= 1)):
		return errorf(ErrBadTask, "EvalSpec K=%d Fraction=%v", t.Eval.K, t.Eval.Fraction)
	case t.Popular < 0:
		return errorf(ErrBadTask, "Popular %d", t.Popular)
	}
	if err := blk.checkShape(); err != nil {
		return contextf(err, "shard %d", shard)
	}
	if t.Kind == TaskInit {
		return nil
	}
	switch {
	case tab == nil:
		return errorf(ErrBadTask, "shard %d: %s task without the %s factors", shard, t.Kind, t.Side.Other())
	case tab.lay == nil:
		return errorf(ErrBadTask, "shard %d: table not built by NewTable", shard)
	case tab.Len() > 0 && tab.Rank != t.Config.Rank:
		return errorf(ErrFactors, "shard %d: %s factors of rank %d, the task has rank %d", shard, t.Side.Other(), tab.Rank, t.Config.Rank)
	}
	if t.Eval != nil {
		switch {
		case prev == nil:
			return errorf(ErrBadTask, "shard %d: evaluation without the shard's previous factors", shard)
		case prev.Rank != t.Config.Rank || len(prev.F) != len(prev.IDs)*prev.Rank || len(prev.Count) != len(prev.IDs):
			return errorf(ErrFactors, "shard %d: previous factors of rank %d with %d values and %d counts for %d rows", shard, prev.Rank, len(prev.F), len(prev.Count), len(prev.IDs))
		case !slices.Equal(prev.IDs, blk.IDs):
			return errorf(ErrFactors, "shard %d: previous factors are for other rows than the block's", shard)
		case tab.Count == nil:
			return errorf(ErrFactors, "shard %d: evaluation against untrained %s factors", shard, t.Side.Other())
		}
	}
	return nil
}

// countHeld counts a row's held-out interactions, as NTrain counts its
// training ones.
func countHeld(cfg Config, blk *Block, prep *Prep, lo, hi int) int {
	if prep.hold == nil {
		return 0
	}
	n := 0
	for j := lo; j < hi; j++ {
		if !prep.held(j) {
			continue
		}
		if !cfg.Implicit {
			n++
			continue
		}
		v := blk.Value[j]
		for j+1 < hi && prep.pos[j+1] == prep.pos[j] {
			j++
			v += blk.Value[j]
		}
		if v > 0 {
			n++
		}
	}
	return n
}

// lossSums measures the objective's data term and the held-out error of
// an items pass: every item's interactions with the users' factors of the
// same iteration, with the item's new factor.
type lossSums struct {
	cfg  Config
	tab  *Table
	gram []float64 // implicit: UᵀU, r×r full
	gv   []float64
	pf   prefetcher
}

func (l *lossSums) init(cfg Config, tab *Table) {
	l.cfg, l.tab = cfg, tab
	if cfg.Implicit {
		l.gram = make([]float64, cfg.Rank*cfg.Rank)
		if tab.Len() > 0 {
			l.gram = tab.Gram(l.gram)
		}
		l.gv = make([]float64, cfg.Rank)
	}
}

func (l *lossSums) row(res *Result, blk *Block, prep *Prep, v []float64, n, lo, hi int) {
	tab := l.tab
	pf := &l.pf
	*pf = prefetcher{tab: tab, pos: prep.pos, next: lo, hi: hi}
	if !l.cfg.Implicit {
		for j := lo; j < hi; j++ {
			pf.ahead(j)
			pos := int(prep.pos[j])
			held := prep.held(j)
			if held && (n == 0 || tab.Count == nil || tab.Count[pos] == 0) {
				res.Hold.Cold++
				continue
			}
			e := blk.Value[j] - dot(tab.Row(pos), v)
			if held {
				res.Hold.N++
				res.Hold.SSE = math.FMA(e, e, res.Hold.SSE)
			} else {
				res.Loss = math.FMA(e, e, res.Loss)
			}
		}
		return
	}
	// Σ_pairs [c(1 − s)² − s²] over the training pairs, then vᵀ(UᵀU)v,
	// which adds s² over every user.
	if n == 0 {
		return
	}
	alpha := l.cfg.Alpha
	for j := lo; j < hi; {
		pf.ahead(j)
		pos := prep.pos[j]
		c := blk.Value[j]
		e := j + 1
		for ; e < hi && prep.pos[e] == pos; e++ {
			c += blk.Value[e]
		}
		held := prep.held(j)
		j = e
		if held || c == 0 {
			continue
		}
		s := dot(tab.Row(int(pos)), v)
		c = 1 + float64(alpha*c)
		d := 1 - s
		res.Loss += float64(c*float64(d*d)) - float64(s*s)
	}
	r := l.cfg.Rank
	for p := range r {
		l.gv[p] = dot(l.gram[p*r:(p+1)*r], v)
	}
	res.Loss += dot(v, l.gv)
}

// prefetcher keeps the table rows of the next interactions of a row
// (positions pos[next:hi]) on their way into cache while earlier ones are
// used: the table is read at random and is larger than the cache.
type prefetcher struct {
	tab      *Table
	pos      []int32
	next, hi int
}

// prefetchAhead is the number of interactions whose rows are requested
// ahead of the one in use.
const prefetchAhead = 32

// ahead is called before interaction j is used.
func (p *prefetcher) ahead(j int) {
	if p.next < p.hi && j+prefetchAhead/2 >= p.next {
		e := min(j+prefetchAhead, p.hi)
		prefetchRows(p.tab.F, p.tab.Rank, p.pos[p.next:e])
		p.next = e
	}
}

// topPopular returns the at most n rows with the largest positive counts,
// by count descending then id ascending.
func topPopular(ids []string, count []int32, n int) []Popular {
	var out []Popular
	for i, c := range count {
		if c > 0 {
			out = append(out, Popular{ID: ids[i], Count: int64(c)})
		}
	}
	sortPopular(out)
	if len(out) > n {
		out = slices.Clip(out[:n])
	}
	return out
}

func sortPopular(p []Popular) {
	slices.SortFunc(p, func(a, b Popular) int {
		if a.Count != b.Count {
			if a.Count > b.Count {
				return -1
			}
			return 1
		}
		return strings.Compare(a.ID, b.ID)
	})
}
