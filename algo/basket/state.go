package basket

import (
	"slices"
	"strings"
)

// Level is the frequent itemsets of one length: Sets holds Len positions
// (in State.Items) per itemset, flattened, in lexicographic order.
type Level struct {
	Len    int     `json:"len"`
	Sets   []int32 `json:"sets"`
	Counts []int64 `json:"counts"`
}

// State is the leader's side of a basket job. It is plain data, saved as
// JSON between passes.
type State struct {
	Config Config `json:"config"`
	Stage  Kind   `json:"stage"`
	Step   int    `json:"step"`
	Done   bool   `json:"done"`
	// Shards is fixed by the first Absorb.
	Shards int `json:"shards"`
	// Baskets is the number of baskets over all shards.
	Baskets  int64 `json:"baskets"`
	MinCount int64 `json:"min_count"`
	// Items are the frequent items, ids ascending, and ItemCounts theirs.
	Items      []string `json:"items"`
	ItemCounts []int64  `json:"item_counts"`
	// Names are the display names of the frequent items that have one.
	Names map[string]string `json:"names,omitempty"`
	// Levels are the frequent itemsets of length 2, 3, …
	Levels []Level `json:"levels"`
	// Cands are the candidates the current TaskCount counts.
	Cands []int32 `json:"cands,omitempty"`
	Len   int     `json:"len,omitempty"`
}

// New starts a basket job.
func New(cfg Config) (*State, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &State{Config: cfg, Stage: TaskItems}, nil
}

// Next returns the task every shard runs next, or done.
func (s *State) Next() (*Task, bool) {
	if s.Done {
		return nil, true
	}
	t := &Task{Kind: s.Stage, Step: s.Step}
	if s.Stage == TaskCount {
		t.Len, t.Items, t.Cands = s.Len, s.Items, s.Cands
	}
	return t, false
}

// Progress says where the job is: the pass, and the itemsets found so far.
func (s *State) Progress() (pass int, itemsets int) {
	n := len(s.Items)
	for _, l := range s.Levels {
		n += len(l.Counts)
	}
	return s.Step, n
}

// Absorb takes exactly one Result per shard, results[i] being shard i's, and
// advances the state. On error the state is unchanged.
func (s *State) Absorb(results []*Result) error {
	if s.Done {
		return ErrDone
	}
	if err := s.checkResults(results); err != nil {
		return err
	}
	next := *s
	var err error
	if s.Stage == TaskItems {
		err = next.absorbItems(results)
	} else {
		err = next.absorbCount(results)
	}
	if err != nil {
		return err
	}
	next.Step++
	*s = next
	return nil
}

func (s *State) checkResults(results []*Result) error {
	if len(results) == 0 {
		return errorf(ErrBadResult, "no results")
	}
	if s.Shards != 0 && len(results) != s.Shards {
		return errorf(ErrBadResult, "%d results for %d shards", len(results), s.Shards)
	}
	for i, r := range results {
		switch {
		case r == nil:
			return errorf(ErrBadResult, "shard %d: missing result", i)
		case r.Kind != s.Stage || r.Step != s.Step:
			return errorf(ErrBadResult, "shard %d: result for %s step %d, want %s step %d", i, r.Kind, r.Step, s.Stage, s.Step)
		case r.Shard != i:
			return errorf(ErrBadResult, "shard %d: result carries shard index %d", i, r.Shard)
		case r.Baskets < 0:
			return errorf(ErrBadResult, "shard %d: negative basket count %d", i, r.Baskets)
		case s.Stage == TaskItems && len(r.ItemCounts) != len(r.Items):
			return errorf(ErrBadResult, "shard %d: %d counts for %d items", i, len(r.ItemCounts), len(r.Items))
		case s.Stage == TaskItems && r.Names != nil && len(r.Names) != len(r.Items):
			return errorf(ErrBadResult, "shard %d: %d names for %d items", i, len(r.Names), len(r.Items))
		case s.Stage == TaskCount && len(r.Counts) != len(s.Cands)/s.Len:
			return errorf(ErrBadResult, "shard %d: %d counts for %d candidates", i, len(r.Counts), len(s.Cands)/s.Len)
		}
		for j, c := range r.ItemCounts {
			if c < 1 || c > r.Baskets || j > 0 && r.Items[j] <= r.Items[j-1] {
				return errorf(ErrBadResult, "shard %d: item %q: count %d of %d baskets, or items out of order", i, r.Items[j], c, r.Baskets)
			}
		}
		for _, c := range r.Counts {
			if c < 0 || c > r.Baskets {
				return errorf(ErrBadResult, "shard %d: candidate count %d of %d baskets", i, c, r.Baskets)
			}
		}
	}
	return nil
}

func (s *State) absorbItems(results []*Result) error {
	s.Shards = len(results)
	counts := map[string]int64{}
	names := map[string]string{}
	for _, r := range results {
		s.Baskets += r.Baskets
		for j, it := range r.Items {
			counts[it] += r.ItemCounts[j]
			// An import names an item the same in every shard; should
			// two shards differ, the first in shard order wins.
			if r.Names != nil && r.Names[j] != "" && names[it] == "" {
				names[it] = r.Names[j]
			}
		}
	}
	if s.Baskets == 0 {
		return errorf(ErrNoBaskets, "no shard holds a basket")
	}
	s.MinCount = s.Config.MinCount(s.Baskets)
	s.Items, s.ItemCounts = nil, nil
	for it, c := range counts {
		if c >= s.MinCount {
			s.Items = append(s.Items, it)
		}
	}
	slices.Sort(s.Items)
	s.Names = nil
	for _, it := range s.Items {
		s.ItemCounts = append(s.ItemCounts, counts[it])
		if name := names[it]; name != "" {
			if s.Names == nil {
				s.Names = map[string]string{}
			}
			s.Names[it] = name
		}
	}
	f := int64(len(s.Items))
	if s.Config.MaxLen < 2 || f < 2 {
		s.Done = true
		return nil
	}
	if pairs := f * (f - 1) / 2; pairs > int64(s.Config.MaxCandidates) {
		return s.tooMany(pairs, 2, false)
	}
	s.Cands = s.Cands[:0]
	for i := int32(0); i < int32(f); i++ {
		for j := i + 1; j < int32(f); j++ {
			s.Cands = append(s.Cands, i, j)
		}
	}
	s.Len, s.Stage = 2, TaskCount
	return nil
}

// tooMany reports a level of more than MaxCandidates candidates (n of them,
// or more than n when the count stopped at the limit).
func (s *State) tooMany(n int64, k int, atLeast bool) error {
	more := ""
	if atLeast {
		more = "more than "
		n--
	}
	return errorf(ErrTooManyCandidates, "%s%d candidate itemsets of %d items exceed the limit of %d (%d frequent items in %d baskets at min support %v); raise the min support, lower the max length or raise the candidate limit",
		more, n, k, s.Config.MaxCandidates, len(s.Items), s.Baskets, s.Config.MinSupport)
}

func (s *State) absorbCount(results []*Result) error {
	k := s.Len
	n := len(s.Cands) / k
	total := make([]int64, n)
	for _, r := range results {
		for c, v := range r.Counts {
			total[c] += v
		}
	}
	lv := Level{Len: k}
	for c := 0; c < n; c++ {
		if total[c] >= s.MinCount {
			lv.Sets = append(lv.Sets, s.Cands[c*k:(c+1)*k]...)
			lv.Counts = append(lv.Counts, total[c])
		}
	}
	s.Levels = append(slices.Clip(s.Levels), lv)
	if len(lv.Counts) == 0 || k >= s.Config.MaxLen {
		s.Done, s.Cands, s.Len = true, nil, 0
		return nil
	}
	cands, err := s.generate(lv)
	if err != nil {
		return err
	}
	if len(cands) == 0 {
		s.Done, s.Cands, s.Len = true, nil, 0
		return nil
	}
	s.Cands, s.Len = cands, k+1
	return nil
}

// generate is apriori-gen: join the frequent k-itemsets of lv that share
// their first k−1 items, and prune every joined set with an infrequent
// k-subset. The result is in lexicographic order.
func (s *State) generate(lv Level) ([]int32, error) {
	k := lv.Len
	n := len(lv.Counts)
	set := func(i int) []int32 { return lv.Sets[i*k : (i+1)*k] }
	frequent := make(map[string]bool, n)
	for i := 0; i < n; i++ {
		frequent[key(set(i))] = true
	}
	var out []int32
	cand := make([]int32, k+1)
	sub := make([]int32, 0, k)
	for i := 0; i < n; i++ {
		a := set(i)
		for j := i + 1; j < n; j++ {
			b := set(j)
			if !slices.Equal(a[:k-1], b[:k-1]) {
				break // sorted: no later set shares a's prefix
			}
			copy(cand, a)
			cand[k] = b[k-1]
			ok := true
			for drop := 0; drop < k-1 && ok; drop++ { // the two subsets without a[k-1] or b[k-1] are a and b
				sub = append(sub[:0], cand[:drop]...)
				sub = append(sub, cand[drop+1:]...)
				ok = frequent[key(sub)]
			}
			if ok {
				if len(out)/(k+1) >= s.Config.MaxCandidates {
					return nil, s.tooMany(int64(len(out)/(k+1)+1), k+1, true)
				}
				out = append(out, cand...)
			}
		}
	}
	return out, nil
}

// key encodes an itemset of positions as a map key.
func key(set []int32) string {
	var b strings.Builder
	b.Grow(4 * len(set))
	for _, p := range set {
		b.WriteByte(byte(p))
		b.WriteByte(byte(p >> 8))
		b.WriteByte(byte(p >> 16))
		b.WriteByte(byte(p >> 24))
	}
	return b.String()
}
