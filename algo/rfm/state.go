package rfm

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
	// Step counts completed passes; Tasks carry it and Results echo it.
	Step int64 `json:"step"`
	// ShardN holds each shard's customer count, fixed by the first Absorb.
	ShardN []int64 `json:"shard_n,omitempty"`
	// N is the number of customers scored, known after the first pass.
	N int64 `json:"n"`
	// Dropped totals what the shards left out, known after the first pass.
	Dropped Dropped `json:"dropped"`
	// Searches holds, after the first pass, the search for each cut:
	// feature-major, cuts 1..4 within a feature.
	Searches []Search `json:"searches,omitempty"`
	// Final holds the cuts once every search is done.
	Final *Cuts `json:"final,omitempty"`
}

// Search is the state of the search for one cut: the key of the customer
// at rank Rank of a feature's goodness lies in Lo..Hi, which holds In
// customers, Below customers having smaller keys. Once Done, Lo = Hi is the
// cut's key.
type Search struct {
	Feature Feature `json:"feature"`
	Rank    int64   `json:"rank"`
	Lo      uint64  `json:"lo"`
	Hi      uint64  `json:"hi"`
	Below   int64   `json:"below"`
	In      int64   `json:"in"`
	Done    bool    `json:"done"`
}

// New validates cfg and returns the initial state of a job.
func New(cfg Config) (*State, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &State{Config: cfg}, nil
}

// Next returns the task every shard must run next, or done when the cuts
// are final. The Task is a fresh copy that the caller may keep or send.
func (s *State) Next() (t *Task, done bool) {
	if s.Final != nil {
		return nil, true
	}
	return &Task{Step: s.Step, AsOf: s.Config.AsOf, Brackets: s.brackets()}, false
}

// brackets returns the current pass's brackets: every feature's whole key
// range on the first pass, then the distinct brackets of the searches not
// done, sorted by feature and Lo.
func (s *State) brackets() []Bracket {
	var bs []Bracket
	if s.Step == 0 {
		for f := range Feature(NumFeatures) {
			bs = append(bs, Bracket{Feature: f, Lo: 0, Hi: math.MaxUint64})
		}
		return bs
	}
	for _, sr := range s.Searches {
		if b := (Bracket{sr.Feature, sr.Lo, sr.Hi}); !sr.Done && !slices.Contains(bs, b) {
			bs = append(bs, b)
		}
	}
	slices.SortFunc(bs, func(a, b Bracket) int {
		return cmp.Or(cmp.Compare(a.Feature, b.Feature), cmp.Compare(a.Lo, b.Lo))
	})
	return bs
}

// Absorb takes exactly one Result per shard, results[i] being shard i's,
// and advances the state. The number of shards is fixed by the first call.
// Each Result is checked against the current task (step, customer count,
// one well-formed histogram per bracket, totals that add up), so a stale or
// corrupt Result is ErrBadResult. On error the state is unchanged;
// ErrNoCustomers is final for the job. Absorb keeps no reference to
// results.
func (s *State) Absorb(results []*Result) error {
	if s.Final != nil {
		return ErrDone
	}
	bs := s.brackets()
	if err := s.checkResults(results, bs); err != nil {
		return err
	}
	merged := make([]binAcc, len(bs))
	for i, b := range bs {
		merged[i].init(b)
	}
	var n int64
	var dropped Dropped
	for _, r := range results { // in shard order
		n += r.N
		dropped.add(r.Dropped)
		for i, h := range r.Hist {
			merged[i].merge(h)
		}
	}
	next := *s
	if s.Step == 0 {
		if n == 0 {
			return errorf(ErrNoCustomers, "%d shards hold no customer with a purchase before as-of %d (%d left out, %d rows at or after it)",
				len(results), s.Config.AsOf, dropped.NoPurchase, dropped.AfterAsOf)
		}
		next.N, next.Dropped = n, dropped
		next.ShardN = make([]int64, len(results))
		for i, r := range results {
			next.ShardN[i] = r.N
		}
		next.Searches = make([]Search, 0, NumFeatures*4)
		for f := range Feature(NumFeatures) {
			for j := 1; j <= 4; j++ {
				next.Searches = append(next.Searches, Search{Feature: f, Rank: rank(j, n), Lo: 0, Hi: math.MaxUint64, In: n})
			}
		}
	} else {
		if n != s.N || dropped != s.Dropped {
			return errorf(ErrBadResult, "shards report %d customers and %+v left out, the first pass %d and %+v", n, dropped, s.N, s.Dropped)
		}
		next.Searches = slices.Clone(s.Searches)
	}
	for i := range next.Searches {
		sr := &next.Searches[i]
		if sr.Done {
			continue
		}
		b := slices.Index(bs, Bracket{sr.Feature, sr.Lo, sr.Hi})
		if b < 0 { // only a hand-edited State gets here
			return errorf(ErrBadResult, "search %d has no bracket", i)
		}
		if err := sr.refine(&merged[b]); err != nil {
			return err
		}
	}
	if next.searchesDone() {
		next.Final = next.cuts()
		if err := next.Final.Validate(); err != nil { // only forged Results get here
			return errorf(ErrBadResult, "the shards' values give impossible cuts: %v", err)
		}
	}
	next.Step++
	*s = next
	return nil
}

// refine narrows the search to the bin of acc holding its rank.
func (sr *Search) refine(acc *binAcc) error {
	var total int64
	for _, c := range acc.count {
		total += c
	}
	if total != sr.In {
		return errorf(ErrBadResult, "%v bracket %d..%d holds %d customers over all shards, the previous pass counted %d", sr.Feature, sr.Lo, sr.Hi, total, sr.In)
	}
	below := sr.Below
	for b, c := range acc.count {
		if c > 0 && below+c >= sr.Rank {
			sr.Lo, sr.Hi, sr.Below, sr.In = acc.min[b], acc.max[b], below, c
			sr.Done = sr.Lo == sr.Hi
			return nil
		}
		below += c
	}
	// Unreachable after the total check: Below < Rank ≤ Below + In.
	return errorf(ErrBadResult, "%v bracket %d..%d does not reach rank %d", sr.Feature, sr.Lo, sr.Hi, sr.Rank)
}

func (s *State) searchesDone() bool {
	for _, sr := range s.Searches {
		if !sr.Done {
			return false
		}
	}
	return true
}

// cuts converts the found keys to feature values.
func (s *State) cuts() *Cuts {
	c := &Cuts{AsOf: s.Config.AsOf, N: s.N}
	for i, sr := range s.Searches {
		c.of(sr.Feature)[i%4] = fromGoodness(sr.Feature, unkey(sr.Lo))
	}
	return c
}

func (s *State) checkResults(results []*Result, bs []Bracket) error {
	if len(results) == 0 {
		return errorf(ErrBadResult, "no results")
	}
	if s.ShardN != nil && len(results) != len(s.ShardN) {
		return errorf(ErrBadResult, "%d results for %d shards", len(results), len(s.ShardN))
	}
	var n int64
	var dropped Dropped
	for i, r := range results {
		bad := func(format string, args ...any) error {
			return errorf(ErrBadResult, "shard %d: "+format, append([]any{i}, args...)...)
		}
		switch {
		case r == nil:
			return bad("missing result")
		case r.Step != s.Step:
			return bad("result for step %d, want step %d", r.Step, s.Step)
		case r.N < 0 || r.Dropped.NoPurchase < 0 || r.Dropped.AfterAsOf < 0:
			return bad("negative count")
		case r.N > math.MaxInt64-n || r.Dropped.NoPurchase > math.MaxInt64-dropped.NoPurchase || r.Dropped.AfterAsOf > math.MaxInt64-dropped.AfterAsOf:
			return bad("counts overflow the totals")
		case s.ShardN != nil && r.N != s.ShardN[i]:
			return bad("%d customers, the first pass saw %d", r.N, s.ShardN[i])
		case len(r.Hist) != len(bs):
			return bad("%d histograms for %d brackets", len(r.Hist), len(bs))
		}
		n += r.N
		dropped.add(r.Dropped)
		var perFeature [NumFeatures]int64
		for j, h := range r.Hist {
			c, err := checkHist(h, bs[j], r.N)
			if err != nil {
				return bad("bracket %d: %v", j, err)
			}
			f := bs[j].Feature
			if c > r.N-perFeature[f] {
				return bad("%v brackets hold more than its %d customers", f, r.N)
			}
			perFeature[f] += c
		}
		if s.Step == 0 {
			for f, c := range perFeature {
				if c != r.N {
					return bad("%v histogram counts %d of its %d customers", Feature(f), c, r.N)
				}
			}
		}
	}
	return nil
}

// checkHist checks one shard's histogram of bracket b against the bins b
// has, and returns the number of customers it counts (at most n).
func checkHist(h Hist, b Bracket, n int64) (int64, error) {
	if len(h.Count) != len(h.Bin) || len(h.Min) != len(h.Bin) || len(h.Max) != len(h.Bin) {
		return 0, errorf(ErrBadResult, "histogram of %d bins has %d counts, %d minima and %d maxima", len(h.Bin), len(h.Count), len(h.Min), len(h.Max))
	}
	shift := binShift(b.Lo, b.Hi)
	nbins := int64((b.Hi-b.Lo)>>shift) + 1
	var total int64
	for i, bin := range h.Bin {
		first, last := binRange(b.Lo, b.Hi, shift, int(bin))
		c := h.Count[i]
		switch {
		case bin < 0 || int64(bin) >= nbins || i > 0 && bin <= h.Bin[i-1]:
			return 0, errorf(ErrBadResult, "bin %d out of range or order", bin)
		case c < 1 || c > n-total:
			return 0, errorf(ErrBadResult, "bin %d counts %d customers", bin, c)
		case h.Min[i] < first || h.Max[i] > last || h.Min[i] > h.Max[i] || c == 1 && h.Min[i] != h.Max[i]:
			return 0, errorf(ErrBadResult, "bin %d: keys %d..%d outside %d..%d", bin, h.Min[i], h.Max[i], first, last)
		}
		total += c
	}
	return total, nil
}

// merge adds a checked sparse histogram into a.
func (a *binAcc) merge(h Hist) {
	for i, b := range h.Bin {
		if a.count[b] == 0 || h.Min[i] < a.min[b] {
			a.min[b] = h.Min[i]
		}
		if a.count[b] == 0 || h.Max[i] > a.max[b] {
			a.max[b] = h.Max[i]
		}
		a.count[b] += h.Count[i]
	}
}

// Cuts returns the final cut points; before the job is done it returns the
// zero Cuts, which do not Validate.
func (s *State) Cuts() Cuts {
	if s.Final == nil {
		return Cuts{}
	}
	return *s.Final
}

// Customers returns the number of customers scored (0 before the first
// pass is absorbed).
func (s *State) Customers() int64 { return s.N }

// DroppedTotals returns what all shards left out (zero before the first
// pass is absorbed).
func (s *State) DroppedTotals() Dropped { return s.Dropped }

// Phase reports "count" (the first pass, over every key, is next),
// "refine" (narrowing the brackets) or "done".
func (s *State) Phase() string {
	switch {
	case s.Final != nil:
		return "done"
	case s.Step == 0:
		return "count"
	}
	return "refine"
}

// Iteration reports the number of passes completed.
func (s *State) Iteration() int { return int(s.Step) }
