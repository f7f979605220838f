package rfm

import (
	"encoding/json"
	"math"

	"github.com/mathcrm/mathcrm/algo/quantile"
)

// quintiles is the search for the four cuts of each feature's goodness:
// nearest ranks ⌈j·N/5⌉ from the worst customer.
var quintiles = quantile.Config{Q: 5}

// State is the whole algorithm state of one job. It holds only exported
// values and round-trips exactly through encoding/json, so a new leader can
// resume from the last committed copy.
type State struct {
	// Config is the job's configuration.
	Config Config `json:"config"`
	// Dropped totals what the shards left out, known after the first pass.
	Dropped Dropped `json:"dropped"`
	// Search is the quantile search over the features' goodness, one
	// column per Feature; it holds the pass number and the customer counts.
	Search *quantile.State `json:"search"`
	// Final holds the cuts once the search is done.
	Final *Cuts `json:"final,omitempty"`
}

// UnmarshalJSON decodes a State, refusing one that holds neither a search
// nor final cuts: one saved by a version that kept the search in other
// fields, which resumed would start the search over against shards that
// are past its first pass.
func (s *State) UnmarshalJSON(b []byte) error {
	type plain State // without this method
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	if p.Search == nil && p.Final == nil {
		return errorf(ErrBadState, "the state holds neither a search nor final cuts (saved by an older version?)")
	}
	*s = State(p)
	return nil
}

// New validates cfg and returns the initial state of a job.
func New(cfg Config) (*State, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	search, err := quantile.New(quintiles, NumFeatures)
	if err != nil { // a constant config
		return nil, err
	}
	return &State{Config: cfg, Search: search}, nil
}

// Next returns the task every shard must run next, or done when the cuts
// are final. The Task is a fresh copy that the caller may keep or send.
func (s *State) Next() (t *Task, done bool) {
	if s.Final != nil || s.Search == nil {
		return nil, true
	}
	qt, done := s.Search.Next()
	if done { // only a hand-edited State gets here: Absorb sets Final
		return nil, true
	}
	t = &Task{Step: qt.Step, AsOf: s.Config.AsOf, Brackets: make([]Bracket, len(qt.Brackets))}
	for i, b := range qt.Brackets {
		t.Brackets[i] = Bracket{Feature: Feature(b.Column), Lo: b.Lo, Hi: b.Hi}
	}
	return t, false
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
	if s.Search == nil {
		return errorf(ErrBadState, "no search")
	}
	if len(results) == 0 {
		return errorf(ErrBadResult, "no results")
	}
	qrs := make([]*quantile.Result, len(results))
	var dropped Dropped
	for i, r := range results {
		switch {
		case r == nil:
			return errorf(ErrBadResult, "shard %d: missing result", i)
		case r.Dropped.NoPurchase < 0 || r.Dropped.AfterAsOf < 0:
			return errorf(ErrBadResult, "shard %d: negative count", i)
		case r.Dropped.NoPurchase > math.MaxInt64-dropped.NoPurchase || r.Dropped.AfterAsOf > math.MaxInt64-dropped.AfterAsOf:
			return errorf(ErrBadResult, "shard %d: counts overflow the totals", i)
		}
		dropped.add(r.Dropped)
		// Every customer has all three features: no value is missing.
		qrs[i] = &quantile.Result{Step: r.Step, N: []int64{r.N, r.N, r.N}, Missing: make([]int64, NumFeatures), Hist: r.Hist}
	}
	search := s.Search.Clone()
	if err := search.Absorb(qrs); err != nil {
		return fromQuantile(err)
	}
	n, _ := search.Count(0)
	next := State{Config: s.Config, Dropped: s.Dropped, Search: search}
	if s.Search.Step == 0 {
		if n == 0 {
			return errorf(ErrNoCustomers, "%d shards hold no customer with a purchase before as-of %d (%d left out, %d rows at or after it)",
				len(results), s.Config.AsOf, dropped.NoPurchase, dropped.AfterAsOf)
		}
		next.Dropped = dropped
	} else if dropped != s.Dropped {
		return errorf(ErrBadResult, "shards report %+v left out, the first pass %+v", dropped, s.Dropped)
	}
	if search.Done() {
		c := cutsOf(search.Cuts(), s.Config.AsOf, n)
		if err := c.Validate(); err != nil { // only forged Results get here
			return errorf(ErrBadResult, "the shards' values give impossible cuts: %v", err)
		}
		next.Final = &c
	}
	*s = next
	return nil
}

// cutsOf converts the quantile cuts of each feature's goodness to Cuts.
func cutsOf(g [][]float64, asOf, n int64) Cuts {
	c := Cuts{AsOf: asOf, N: n}
	for f := range Feature(NumFeatures) {
		for j := range c.of(f) {
			c.of(f)[j] = fromGoodness(f, g[f][j])
		}
	}
	return c
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
func (s *State) Customers() int64 {
	if s.Final != nil {
		return s.Final.N
	}
	if s.Search == nil {
		return 0
	}
	n, _ := s.Search.Count(0)
	return n
}

// DroppedTotals returns what all shards left out (zero before the first
// pass is absorbed).
func (s *State) DroppedTotals() Dropped { return s.Dropped }

// Phase reports "count" (the first pass, over every key, is next),
// "refine" (narrowing the brackets) or "done".
func (s *State) Phase() string {
	switch {
	case s.Final != nil:
		return "done"
	case s.Iteration() == 0:
		return "count"
	}
	return "refine"
}

// Iteration reports the number of passes completed.
func (s *State) Iteration() int {
	if s.Search == nil {
		return 0
	}
	return int(s.Search.Step)
}
