package logistic

import (
	"math"
	"math/bits"
)

// The AUC of a row set. An exact AUC visits every row in increasing order
// of score, tied rows in shard then row order, and sums the Mann–Whitney
// statistic over groups of tied scores in that order. The order is that of
// a stable sort of all rows listed in shard then row order, but nobody
// sorts a million rows in one place: each shard lists its rows already
// sorted by score (ties in row order, sortScores), and the leader merges
// the shards' runs, ties going to the lower shard (mergeAUC). A run that
// arrives unsorted, from a worker of an earlier build, is sorted by the
// leader first; a sorted run is its own stable sort, so either way the
// groups and their sums, and so the AUC's bits, are the same.

// AUC methods.
const (
	// AUCExact ranks every row's score; ties count one half, as
	// scikit-learn's roc_auc_score.
	AUCExact = "exact"
	// AUCHistogram ranks per-class score histograms of HistBins bins;
	// rows within one bin count as tied, so the AUC can differ from the
	// exact one by at most half the weight of pairs sharing a bin.
	AUCHistogram = "histogram"
)

// aucAcc accumulates the Mann–Whitney statistic over groups of tied scores
// visited in increasing order: each positive beats every negative below
// its group and half of those in it.
type aucAcc struct{ num, negBelow, pos float64 }

func (a *aucAcc) group(pos, neg float64) {
	a.num = math.FMA(pos, a.negBelow+float64(0.5*neg), a.num)
	a.negBelow += neg
	a.pos += pos
}

func (a *aucAcc) auc() (float64, bool) {
	if !(a.pos > 0 && a.negBelow > 0) {
		return 0, false
	}
	return a.num / a.pos / a.negBelow, true
}

// sortScores puts the rows s lists in increasing order of score, tied rows
// in row order, moving Labels and ScoreW with Scores.
func sortScores(s *SetSums) {
	keys := make([]uint64, len(s.Scores))
	if scoreKeys(keys, s.Scores) {
		return
	}
	order := stableOrder(keys)
	s.Scores = permute(s.Scores, order)
	s.Labels = permute(s.Labels, order)
	if s.ScoreW != nil {
		s.ScoreW = permute(s.ScoreW, order)
	}
}

// scoreKeys sets keys to the orderKeys of scores and reports whether they
// are already in order.
func scoreKeys(keys []uint64, scores []float64) (sorted bool) {
	keys = keys[:len(scores)]
	prev := uint64(0)
	sorted = true
	for i, v := range scores {
		k := orderKey(v)
		keys[i] = k
		sorted = sorted && k >= prev
		prev = k
	}
	return sorted
}

// permute returns s[order[0]], s[order[1]], … in a new slice.
func permute[T any](s []T, order []uint32) []T {
	out := make([]T, len(order))
	for i, r := range order {
		out[i] = s[r]
	}
	return out
}

// exactAUC ranks the rows the shards listed: sorted runs as they are,
// others sorted first, then merged.
func exactAUC(parts []*SetSums) (float64, bool) {
	runs := make([]scoreRun, 0, len(parts))
	for _, p := range parts {
		if len(p.Scores) == 0 {
			continue
		}
		r := scoreRun{keys: make([]uint64, len(p.Scores)), pos: p.Labels, w: p.ScoreW}
		if !scoreKeys(r.keys, p.Scores) {
			order := stableOrder(r.keys)
			r.keys, r.pos = permute(r.keys, order), permute(r.pos, order)
			if r.w != nil {
				r.w = permute(r.w, order)
			}
		}
		runs = append(runs, r)
	}
	return mergeAUC(runs)
}

// scoreRun is one shard's rows in increasing order of key, ties in row
// order: their orderKeys, labels and weights (nil: all 1).
type scoreRun struct {
	keys []uint64
	pos  []bool
	w    []float64
}

// mergeAUC visits the rows of runs in increasing order of key, equal keys
// in run order, through a tree of losers, and sums the AUC over the groups
// of equal keys as it goes.
func mergeAUC(runs []scoreRun) (float64, bool) {
	var acc aucAcc
	if len(runs) == 0 {
		return acc.auc()
	}
	m := newMerger(runs)
	n := 0
	for _, r := range runs {
		n += len(r.keys)
	}
	cur := m.win.key
	var sum [2]float64 // the group's negatives' and positives' weights
	for range n {
		r := int(m.win.tag)
		if k := m.win.key; k != cur {
			acc.group(sum[1], sum[0])
			sum, cur = [2]float64{}, k
		}
		run := &runs[r]
		i := m.at[r]
		w := 1.0
		if run.w != nil {
			w = run.w[i]
		}
		// Indexed by the label, not branched on it: the labels of rows in
		// score order are hard to predict.
		sum[b2i(run.pos[i])] += w
		m.next(r)
	}
	acc.group(sum[1], sum[0])
	return acc.auc()
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// merger is a tree of losers over sorted runs (Knuth, TAOCP vol. 3,
// 5.4.1): win is the head that comes first, each inner node of tree the
// head that lost the match there. A head is a run's next key and a tag,
// the run's index, or the index plus the number of leaves once the run is
// exhausted (with the largest key), so that an exhausted run loses to
// every live one, ties included.
type merger struct {
	runs []scoreRun
	k    int    // leaves, a power of two
	tree []head // k nodes, 1 to k−1 used
	win  head
	at   []int // each run's next row
}

type head struct{ key, tag uint64 }

// before reports whether a comes before b: (key, tag) compared as one
// 128-bit number, without a branch, for the matches' outcomes are hard to
// predict.
func (a head) before(b head) uint64 {
	_, borrow := bits.Sub64(a.tag, b.tag, 0)
	_, borrow = bits.Sub64(a.key, b.key, borrow)
	return borrow
}

func newMerger(runs []scoreRun) *merger {
	k := 1
	for k < len(runs) {
		k *= 2
	}
	m := &merger{runs: runs, k: k, tree: make([]head, k), at: make([]int, k)}
	// Play the matches bottom up: win[v] is the winner below node v.
	win := make([]head, 2*k)
	for r := range k {
		win[k+r] = head{math.MaxUint64, uint64(r + k)}
		if r < len(runs) && len(runs[r].keys) > 0 {
			win[k+r] = head{runs[r].keys[0], uint64(r)}
		}
	}
	for v := k - 1; v >= 1; v-- {
		a, b := win[2*v], win[2*v+1]
		if b.before(a) == 1 {
			a, b = b, a
		}
		win[v], m.tree[v] = a, b
	}
	m.win = win[1]
	return m
}

// next advances run r, the winner, and replays its matches to the root.
func (m *merger) next(r int) {
	m.at[r]++
	w := head{math.MaxUint64, uint64(r + m.k)}
	if i := m.at[r]; i < len(m.runs[r].keys) {
		w = head{m.runs[r].keys[i], uint64(r)}
	}
	for v := (m.k + r) / 2; v >= 1; v /= 2 {
		l := m.tree[v]
		// Swap w and l where l comes first, by masks.
		swap := -l.before(w)
		dk, dt := (w.key^l.key)&swap, (w.tag^l.tag)&swap
		m.tree[v] = head{l.key ^ dk, l.tag ^ dt}
		w = head{w.key ^ dk, w.tag ^ dt}
	}
	m.win = w
}

// orderKey maps a finite float64 to a uint64 that sorts as the number does:
// equal keys for equal numbers (−0 and +0 included), a larger key for a
// larger number.
func orderKey(v float64) uint64 {
	if v == 0 {
		v = 0 // −0 ties with +0
	}
	b := math.Float64bits(v)
	if b>>63 != 0 {
		return ^b
	}
	return b | 1<<63
}

// stableOrder returns the permutation that sorts keys, equal keys in their
// original order: a least-significant-digit radix sort that moves each key
// with its index (sequential reads), skipping the digits all keys share.
// Digits are 16 bits wide for many keys and 11 for a shard's few
// thousand, whose counts would not pay for 2¹⁶ buckets. For a million
// scores it is some ten times faster than a stable comparison sort.
func stableOrder(keys []uint64) []uint32 {
	width := 11
	if len(keys) >= 1<<18 {
		width = 16
	}
	passes, buckets, mask := (64+width-1)/width, 1<<width, uint64(1)<<width-1
	n := len(keys)
	counts := make([]uint32, passes*buckets)
	for _, k := range keys {
		for p := range passes {
			counts[p*buckets+int(k>>(width*p)&mask)]++
		}
	}
	order, next := make([]uint32, n), make([]uint32, n)
	for i := range order {
		order[i] = uint32(i)
	}
	cur, tmp, owned := keys, make([]uint64, n), false
	for p := range passes {
		c := counts[p*buckets : (p+1)*buckets]
		shift := width * p
		if n == 0 || c[keys[0]>>shift&mask] == uint32(n) {
			continue // every key has this digit
		}
		sum := uint32(0)
		for b, v := range c {
			c[b] = sum
			sum += v
		}
		for i, k := range cur[:n] {
			j := c[k>>shift&mask]
			c[k>>shift&mask] = j + 1
			tmp[j], next[j] = k, order[i]
		}
		order, next = next, order
		if owned {
			cur, tmp = tmp, cur
		} else { // keys are the caller's
			cur, tmp, owned = tmp, make([]uint64, n), true
		}
	}
	return order
}

// histAUC ranks the shards' histograms, summed bin by bin in shard order.
func histAUC(parts []*SetSums) (float64, bool) {
	neg := make([]float64, HistBins)
	pos := make([]float64, HistBins)
	for _, p := range parts {
		for b := range HistBins {
			neg[b] += p.Hist[b]
			pos[b] += p.Hist[HistBins+b]
		}
	}
	var acc aucAcc
	for b := range HistBins {
		acc.group(pos[b], neg[b])
	}
	return acc.auc()
}
