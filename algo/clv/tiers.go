package clv

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sync"
)

// TopFraction is the share of the customers, those of highest CLV, whose
// share of the total CLV a score set reports.
const TopFraction = 0.2

// TierSearch finds, over every shard's CLVs, the value tier cuts TierCuts
// would find on all of them at once, and the share of the total CLV the
// top fifth of the customers hold, without gathering the values: each
// pass histograms the key ranges still holding a cut into 256 bins of
// counts and exact sums (the first, of the whole range, also totals the
// CLVs exactly), and the leader narrows each range to the bin where the
// running total from the highest CLV down reaches the cut's share (or,
// for the top fifth, its rank). A value's key is its IEEE bits, ordered
// as the values (CLVs are ≥ 0), so a search ends after at most eight
// passes. Every sum is exact, so the cuts depend only on the multiset of
// the CLVs.
type TierSearch struct {
	Step  int64 `json:"step"`
	N     int64 `json:"n"`
	Total Sum   `json:"total"`
	// Searches are the tier A cut, the tier B cut and the top fifth's
	// rank, after the first pass (none when the total is not positive).
	Searches []TierBracket `json:"searches,omitempty"`
}

// TierBracket is one search: the cut's key lies in Lo..Hi; Above and
// AboveN are the sum and count of the values whose keys are above Hi.
type TierBracket struct {
	// Target is the running total at which the cut lies, or, when 0,
	// Rank is the cut's rank from the highest value.
	Target float64 `json:"target,omitempty"`
	Rank   int64   `json:"rank,omitempty"`
	Lo     uint64  `json:"lo"`
	Hi     uint64  `json:"hi"`
	Above  Sum     `json:"above"`
	AboveN int64   `json:"above_n"`
	Done   bool    `json:"done"`
}

// TierTask is a pass of a TierSearch: the open key ranges.
type TierTask struct {
	Step   int64       `json:"step"`
	Ranges [][2]uint64 `json:"ranges,omitempty"`
}

// TierAnswer is one shard's answer to a TierTask.
type TierAnswer struct {
	Step  int64      `json:"step"`
	N     int64      `json:"n"`
	Total Sum        `json:"total"`
	Hists []TierHist `json:"hists,omitempty"`
}

// TierHist is the histogram of one range's non-empty bins.
type TierHist struct {
	Bin   []int    `json:"bin"`
	Count []int64  `json:"count"`
	Sum   []Sum    `json:"sum"`
	Min   []uint64 `json:"min"`
	Max   []uint64 `json:"max"`
}

// tierBins is the number of bins a range is cut into.
const tierBins = 256

// key is a CLV's key: its bits, −0 folded onto +0.
func key(v float64) uint64 { return math.Float64bits(v + 0) }

func binShift(lo, hi uint64) uint {
	s := uint(0)
	for (hi-lo)>>s >= tierBins {
		s++
	}
	return s
}

// ranges returns the distinct open ranges, sorted.
func (s *TierSearch) ranges() [][2]uint64 {
	var out [][2]uint64
	for _, b := range s.Searches {
		if !b.Done {
			out = append(out, [2]uint64{b.Lo, b.Hi})
		}
	}
	slices.SortFunc(out, func(a, b [2]uint64) int { return cmp.Or(cmp.Compare(a[0], b[0]), cmp.Compare(a[1], b[1])) })
	return slices.Compact(out)
}

// Next returns the next pass's task, or done.
func (s *TierSearch) Next() (*TierTask, bool) {
	if s.Step == 0 {
		return &TierTask{Step: 0, Ranges: [][2]uint64{{0, math.MaxUint64}}}, false
	}
	r := s.ranges()
	if len(r) == 0 {
		return nil, true
	}
	return &TierTask{Step: s.Step, Ranges: r}, false
}

// RunTierTask answers a task from a shard's CLVs.
func RunTierTask(t *TierTask, clvs []float64) (*TierAnswer, error) {
	a := &TierAnswer{Step: t.Step, N: int64(len(clvs))}
	for i, v := range clvs {
		if !(v >= 0) || !finite(v) {
			return nil, errorf(ErrPredict, "CLV %d is %v, not a finite number ≥ 0", i, v)
		}
	}
	if t.Step == 0 {
		for _, v := range clvs {
			a.Total.Add(v)
		}
	}
	bins := tierBinPool.Get().(*[tierBins]tierBin) // all zero
	defer tierBinPool.Put(bins)
	for _, r := range t.Ranges {
		lo, hi := r[0], r[1]
		sh := binShift(lo, hi)
		for _, v := range clvs {
			k := key(v)
			if k < lo || k > hi {
				continue
			}
			b := &bins[(k-lo)>>sh]
			if b.n == 0 {
				b.min, b.max = k, k
			}
			b.n++
			b.sum.Add(v)
			b.min, b.max = min(b.min, k), max(b.max, k)
		}
		var h TierHist
		for i := range tierBins {
			if b := &bins[i]; b.n > 0 {
				h.Bin, h.Count, h.Sum = append(h.Bin, i), append(h.Count, b.n), append(h.Sum, b.sum)
				h.Min, h.Max = append(h.Min, b.min), append(h.Max, b.max)
				*b = tierBin{}
			}
		}
		a.Hists = append(a.Hists, h)
	}
	return a, nil
}

// tierBin is one bin of a shard's tier histogram.
type tierBin struct {
	n        int64
	sum      Sum
	min, max uint64
}

// tierBinPool holds zeroed bins for RunTierTask: 145 kB that every pass
// of every shard would otherwise allocate and clear per range, while only
// the bins holding values need clearing.
var tierBinPool = sync.Pool{New: func() any { return new([tierBins]tierBin) }}

// Absorb takes one answer per shard, in shard order.
func (s *TierSearch) Absorb(answers []*TierAnswer) error {
	t, done := s.Next()
	if done {
		return ErrDone
	}
	var n int64
	var total Sum
	for i, a := range answers {
		if a == nil || a.Step != t.Step || len(a.Hists) != len(t.Ranges) {
			return errorf(ErrBadResult, "shard %d: tier answer does not answer step %d", i, t.Step)
		}
		n += a.N
		total.AddSum(&a.Total)
	}
	next := *s
	if s.Step == 0 {
		next.N, next.Total = n, total
		tot := total.Float64()
		if tot > 0 && finite(tot) {
			full := TierBracket{Lo: 0, Hi: math.MaxUint64}
			a, b, top := full, full, full
			a.Target, b.Target, top.Rank = TierAShare*tot, TierABShare*tot, topRank(n)
			next.Searches = []TierBracket{a, b, top}
			// The first pass histogrammed the whole range with the totals.
			for si := range next.Searches {
				if err := next.Searches[si].refine(answers, 0); err != nil {
					return err
				}
			}
		}
		next.Step++
		*s = next
		return nil
	}
	if n != s.N {
		return errorf(ErrBadResult, "shards hold %d CLVs, the first pass %d", n, s.N)
	}
	next.Searches = slices.Clone(s.Searches)
	for si := range next.Searches {
		b := &next.Searches[si]
		if b.Done {
			continue
		}
		ri := slices.Index(t.Ranges, [2]uint64{b.Lo, b.Hi})
		if err := b.refine(answers, ri); err != nil {
			return err
		}
	}
	next.Step++
	*s = next
	return nil
}

// refine narrows b to the bin of range ri holding its cut.
func (b *TierBracket) refine(answers []*TierAnswer, ri int) error {
	type bin struct {
		n        int64
		sum      Sum
		min, max uint64
	}
	bins := map[int]*bin{}
	for _, a := range answers { // in shard order
		h := &a.Hists[ri]
		if len(h.Count) != len(h.Bin) || len(h.Sum) != len(h.Bin) || len(h.Min) != len(h.Bin) || len(h.Max) != len(h.Bin) {
			return errorf(ErrBadResult, "a tier histogram of %d bins with %d counts", len(h.Bin), len(h.Count))
		}
		for j, i := range h.Bin {
			x := bins[i]
			if x == nil {
				x = &bin{min: h.Min[j], max: h.Max[j]}
				bins[i] = x
			}
			x.n += h.Count[j]
			x.sum.AddSum(&h.Sum[j])
			x.min, x.max = min(x.min, h.Min[j]), max(x.max, h.Max[j])
		}
	}
	for i := tierBins - 1; i >= 0; i-- { // from the highest values down
		x := bins[i]
		if x == nil {
			continue
		}
		run := b.Above
		run.AddSum(&x.sum)
		reached := b.AboveN+x.n >= b.Rank
		if b.Target != 0 {
			reached = run.Float64() >= b.Target
		}
		if reached {
			b.Lo, b.Hi = x.min, x.max
			b.Done = b.Lo == b.Hi
			return nil
		}
		b.Above, b.AboveN = run, b.AboveN+x.n
	}
	return errorf(ErrBadResult, "the running total does not reach the cut in %d..%d", b.Lo, b.Hi)
}

func topRank(n int64) int64 { return max(1, (n+4)/5) } // ⌈n/5⌉

// Tiers returns the tier cuts found, once done.
func (s *TierSearch) Tiers() (Tiers, error) {
	if _, done := s.Next(); !done {
		return Tiers{}, fmt.Errorf("clv: the tier search is not done")
	}
	if len(s.Searches) == 0 {
		return Tiers{A: math.Inf(1), B: math.Inf(1)}, nil
	}
	return Tiers{A: math.Float64frombits(s.Searches[0].Lo), B: math.Float64frombits(s.Searches[1].Lo)}, nil
}

// TopShare returns the number of customers in the top fifth and the share
// of the total CLV they hold, once done.
func (s *TierSearch) TopShare() (int64, float64) {
	if len(s.Searches) < 3 {
		return topRank(s.N), 0
	}
	b := s.Searches[2]
	v := math.Float64frombits(b.Lo)
	top := b.Above
	for range min(b.Rank-b.AboveN, 1<<20) {
		top.Add(v)
	}
	if b.Rank-b.AboveN > 1<<20 { // ties beyond a million: one rounding more
		top.Add(v * float64(b.Rank-b.AboveN-1<<20))
	}
	return b.Rank, top.Float64() / s.Total.Float64()
}

// tiersJSON is what the write pass gets: the cuts, or none when no CLV is
// positive (everyone in tier C).
type tiersJSON struct {
	A    float64 `json:"a"`
	B    float64 `json:"b"`
	None bool    `json:"none,omitempty"`
}

func marshalTiers(t Tiers) (json.RawMessage, error) {
	if math.IsInf(t.A, 1) {
		return json.Marshal(tiersJSON{None: true})
	}
	return json.Marshal(tiersJSON{A: t.A, B: t.B})
}

func unmarshalTiers(b json.RawMessage) (Tiers, error) {
	var v tiersJSON
	if err := json.Unmarshal(b, &v); err != nil {
		return Tiers{}, fmt.Errorf("clv: tier cuts: %w", err)
	}
	if v.None {
		return Tiers{A: math.Inf(1), B: math.Inf(1)}, nil
	}
	return Tiers{A: v.A, B: v.B}, nil
}
