package quantile

import (
	"cmp"
	"math"
	"slices"
)

// State is the whole algorithm state of one job. It holds only exported
// values and round-trips exactly through encoding/json, so a new leader can
// resume from the last committed copy.
type State struct {
	// Config is the job's configuration.
	Config Config `json:"config"`
	// Columns is the number of value columns.
	Columns int `json:"columns"`
	// Step counts completed passes; Tasks carry it and Results echo it.
	Step int64 `json:"step"`
	// ShardN and ShardMissing hold each shard's Result.N and
	// Result.Missing, fixed by the first Absorb.
	ShardN       [][]int64 `json:"shard_n,omitempty"`
	ShardMissing [][]int64 `json:"shard_missing,omitempty"`
	// N and Missing hold each column's totals of values ranked and NaNs
	// left out, known after the first pass.
	N       []int64 `json:"n,omitempty"`
	Missing []int64 `json:"missing,omitempty"`
	// Searches holds, after the first pass, the search for each cut:
	// column-major, cuts 1..Q−1 within a column. A column without values
	// has none.
	Searches []Search `json:"searches,omitempty"`
}

// Search is the state of the search for one cut: the key of the value at
// ascending rank Rank of a column lies in Lo..Hi, which holds In values,
// Below values having smaller keys. Once Done, Lo = Hi is the cut's key.
type Search struct {
	Column int    `json:"column"`
	Rank   int64  `json:"rank"`
	Lo     uint64 `json:"lo"`
	Hi     uint64 `json:"hi"`
	Below  int64  `json:"below"`
	In     int64  `json:"in"`
	Done   bool   `json:"done"`
}

// New validates cfg and returns the initial state of a job over the given
// number of value columns.
func New(cfg Config, columns int) (*State, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if columns < 1 {
		return nil, errorf(ErrConfig, "%d columns, want at least 1", columns)
	}
	return &State{Config: cfg, Columns: columns}, nil
}

// Done reports whether the cuts are final.
func (s *State) Done() bool {
	if s.Step == 0 {
		return false
	}
	for _, sr := range s.Searches {
		if !sr.Done {
			return false
		}
	}
	return true
}

// Next returns the task every shard must run next, or done when the cuts
// are final. The Task is a fresh copy that the caller may keep or send.
func (s *State) Next() (t *Task, done bool) {
	if s.Done() {
		return nil, true
	}
	return &Task{Step: s.Step, Columns: s.Columns, Brackets: s.brackets()}, false
}

// brackets returns the current pass's brackets: every column's whole key
// range on the first pass, then the distinct brackets of the searches not
// done, sorted by column and Lo.
func (s *State) brackets() []Bracket {
	var bs []Bracket
	if s.Step == 0 {
		for c := range s.Columns {
			bs = append(bs, Bracket{Column: c, Lo: 0, Hi: math.MaxUint64})
		}
		return bs
	}
	for _, sr := range s.Searches {
		if !sr.Done {
			bs = append(bs, Bracket{sr.Column, sr.Lo, sr.Hi})
		}
	}
	slices.SortFunc(bs, compareBrackets)
	return slices.Compact(bs)
}

func compareBrackets(a, b Bracket) int {
	return cmp.Or(cmp.Compare(a.Column, b.Column), cmp.Compare(a.Lo, b.Lo), cmp.Compare(a.Hi, b.Hi))
}

// Absorb takes exactly one Result per shard, results[i] being shard i's,
// and advances the state. The number of shards is fixed by the first call.
// Each Result is checked against the current task (step, counts, one
// well-formed histogram per bracket, totals that add up), so a stale or
// corrupt Result is ErrBadResult. On error the state is unchanged. Absorb
// keeps no reference to results.
func (s *State) Absorb(results []*Result) error {
	if s.Done() {
		return ErrDone
	}
	if err := s.check(); err != nil {
		return err
	}
	bs := s.brackets()
	if err := s.checkResults(results, bs); err != nil {
		return err
	}
	merged := make([]binAcc, len(bs))
	for i, b := range bs {
		merged[i].init(b.Lo, b.Hi)
	}
	n := make([]int64, s.Columns)
	missing := make([]int64, s.Columns)
	for _, r := range results { // in shard order
		for c := range n {
			n[c] += r.N[c]
			missing[c] += r.Missing[c]
		}
		for i := range r.Hist {
			merged[i].merge(&r.Hist[i])
		}
	}
	next := *s
	if s.Step == 0 {
		next.N, next.Missing = n, missing
		next.ShardN = make([][]int64, len(results))
		next.ShardMissing = make([][]int64, len(results))
		for i, r := range results {
			next.ShardN[i], next.ShardMissing[i] = slices.Clone(r.N), slices.Clone(r.Missing)
		}
		next.Searches = nil
		for c, nc := range n {
			for j := 1; nc > 0 && j < s.Config.Q; j++ {
				next.Searches = append(next.Searches, Search{Column: c, Rank: s.Config.rank(j, nc), Lo: 0, Hi: math.MaxUint64, In: nc})
			}
		}
	} else {
		next.Searches = slices.Clone(s.Searches)
	}
	for i := range next.Searches {
		sr := &next.Searches[i]
		if sr.Done {
			continue
		}
		b, ok := slices.BinarySearchFunc(bs, Bracket{sr.Column, sr.Lo, sr.Hi}, compareBrackets)
		if !ok { // only a hand-edited State gets here
			return errorf(ErrBadState, "search %d has no bracket", i)
		}
		if err := sr.refine(&merged[b]); err != nil {
			return err
		}
	}
	next.Step++
	*s = next
	return nil
}

// refine narrows the search to the bin of acc holding its rank.
func (sr *Search) refine(acc *binAcc) error {
	var total int64
	for _, c := range acc.count[:acc.n] {
		total += c
	}
	if total != sr.In {
		return errorf(ErrBadResult, "column %d bracket %d..%d holds %d values over all shards, the previous pass counted %d",
			sr.Column, sr.Lo, sr.Hi, total, sr.In)
	}
	below := sr.Below
	for b, c := range acc.count[:acc.n] {
		if c > 0 && below+c >= sr.Rank {
			sr.Lo, sr.Hi, sr.Below, sr.In = acc.min[b], acc.max[b], below, c
			sr.Done = sr.Lo == sr.Hi
			return nil
		}
		below += c
	}
	// Unreachable after the total check: Below < Rank ≤ Below + In.
	return errorf(ErrBadResult, "column %d bracket %d..%d does not reach rank %d", sr.Column, sr.Lo, sr.Hi, sr.Rank)
}

// check reports a State that New and Absorb could not have made, as far as
// Absorb would trip over it.
func (s *State) check() error {
	if err := s.Config.Validate(); err != nil {
		return errorf(ErrBadState, "%v", err)
	}
	if s.Columns < 1 || s.Step < 0 {
		return errorf(ErrBadState, "%d columns at step %d", s.Columns, s.Step)
	}
	if s.Step == 0 {
		return nil
	}
	if len(s.N) != s.Columns || len(s.Missing) != s.Columns || len(s.ShardN) == 0 || len(s.ShardMissing) != len(s.ShardN) {
		return errorf(ErrBadState, "counts for %d columns and %d shards, want %d columns", len(s.N), len(s.ShardN), s.Columns)
	}
	for i := range s.ShardN {
		if len(s.ShardN[i]) != s.Columns || len(s.ShardMissing[i]) != s.Columns {
			return errorf(ErrBadState, "shard %d has counts for %d columns, want %d", i, len(s.ShardN[i]), s.Columns)
		}
	}
	for i, sr := range s.Searches {
		if sr.Column < 0 || sr.Column >= s.Columns || sr.Lo > sr.Hi {
			return errorf(ErrBadState, "search %d: column %d, keys %d..%d", i, sr.Column, sr.Lo, sr.Hi)
		}
	}
	return nil
}

func (s *State) checkResults(results []*Result, bs []Bracket) error {
	if len(results) == 0 {
		return errorf(ErrBadResult, "no results")
	}
	if s.Step > 0 && len(results) != len(s.ShardN) {
		return errorf(ErrBadResult, "%d results for %d shards", len(results), len(s.ShardN))
	}
	n := make([]int64, s.Columns)
	missing := make([]int64, s.Columns)
	counted := make([]int64, s.Columns) // by one shard's histograms
	for i, r := range results {
		bad := func(format string, args ...any) error {
			return errorf(ErrBadResult, "shard %d: "+format, append([]any{i}, args...)...)
		}
		switch {
		case r == nil:
			return bad("missing result")
		case r.Step != s.Step:
			return bad("result for step %d, want step %d", r.Step, s.Step)
		case len(r.N) != s.Columns || len(r.Missing) != s.Columns:
			return bad("counts for %d and %d columns, want %d", len(r.N), len(r.Missing), s.Columns)
		case len(r.Hist) != len(bs):
			return bad("%d histograms for %d brackets", len(r.Hist), len(bs))
		}
		for c := range n {
			switch {
			case r.N[c] < 0 || r.Missing[c] < 0:
				return bad("column %d: negative count", c)
			case r.N[c] > math.MaxInt64-n[c] || r.Missing[c] > math.MaxInt64-missing[c]:
				return bad("column %d: counts overflow the totals", c)
			case s.Step > 0 && (r.N[c] != s.ShardN[i][c] || r.Missing[c] != s.ShardMissing[i][c]):
				return bad("column %d: %d values and %d missing, the first pass saw %d and %d",
					c, r.N[c], r.Missing[c], s.ShardN[i][c], s.ShardMissing[i][c])
			}
			n[c] += r.N[c]
			missing[c] += r.Missing[c]
		}
		clear(counted)
		for j := range r.Hist {
			c := bs[j].Column
			got, err := checkHist(&r.Hist[j], bs[j], r.N[c]-counted[c])
			if err != nil {
				return bad("bracket %d: %v", j, err)
			}
			counted[c] += got
		}
		if s.Step == 0 {
			for c, got := range counted {
				if got != r.N[c] {
					return bad("column %d histogram counts %d of its %d values", c, got, r.N[c])
				}
			}
		}
	}
	return nil
}

// checkHist checks one shard's histogram of bracket b against the bins b
// has, and returns the number of values it counts, at most n.
func checkHist(h *Hist, b Bracket, n int64) (int64, error) {
	if len(h.Count) != len(h.Bin) || len(h.Min) != len(h.Bin) || len(h.Max) != len(h.Bin) {
		return 0, errorf(ErrBadResult, "histogram of %d bins has %d counts, %d minima and %d maxima", len(h.Bin), len(h.Count), len(h.Min), len(h.Max))
	}
	shift := binShift(b.Lo, b.Hi)
	nbins := int64((b.Hi-b.Lo)>>shift) + 1
	var total int64
	for i, bin := range h.Bin {
		c := h.Count[i]
		if bin < 0 || int64(bin) >= nbins || i > 0 && bin <= h.Bin[i-1] {
			return 0, errorf(ErrBadResult, "bin %d out of range or order", bin)
		}
		if c < 1 || c > n-total {
			return 0, errorf(ErrBadResult, "bin %d counts %d values, more than the shard has", bin, c)
		}
		first, last := binRange(b.Lo, b.Hi, shift, int(bin))
		if h.Min[i] < first || h.Max[i] > last || h.Min[i] > h.Max[i] || c == 1 && h.Min[i] != h.Max[i] {
			return 0, errorf(ErrBadResult, "bin %d: keys %d..%d outside %d..%d", bin, h.Min[i], h.Max[i], first, last)
		}
		total += c
	}
	return total, nil
}

// Cuts returns each column's Q−1 cut values in rank order, cut j being
// the value at nearest rank ⌈j·N/Q⌉ (from the largest when Descending):
// ascending, or descending when Descending. A column without values has
// no cuts (nil). A zero cut is +0. Before the job is done Cuts returns nil.
func (s *State) Cuts() [][]float64 {
	if !s.Done() || s.check() != nil {
		return nil
	}
	out := make([][]float64, s.Columns)
	for _, sr := range s.Searches {
		out[sr.Column] = append(out[sr.Column], FromKey(sr.Lo))
	}
	return out
}

// Count returns column c's number of values ranked and of NaNs left out,
// both 0 before the first pass is absorbed.
func (s *State) Count(c int) (n, missing int64) {
	if c < 0 || c >= len(s.N) || c >= len(s.Missing) {
		return 0, 0
	}
	return s.N[c], s.Missing[c]
}

// Clone returns a deep copy of s.
func (s *State) Clone() *State {
	c := *s
	c.ShardN = cloneAll(s.ShardN)
	c.ShardMissing = cloneAll(s.ShardMissing)
	c.N, c.Missing = slices.Clone(s.N), slices.Clone(s.Missing)
	c.Searches = slices.Clone(s.Searches)
	return &c
}

func cloneAll(v [][]int64) [][]int64 {
	if v == nil {
		return nil
	}
	out := make([][]int64, len(v))
	for i := range v {
		out[i] = slices.Clone(v[i])
	}
	return out
}
