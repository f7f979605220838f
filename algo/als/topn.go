package als

import (
	"math"
	"math/bits"

	"github.com/mathcrm/mathcrm/algo/internal/kernel"
)

// Batched top-N. A Ranker scores a batch of users against a block of items
// at a time and keeps each user's best n, with the results of TopN bit for
// bit: every score is dot's (eight partial FMA chains over k ≡ l (mod 8),
// reduced ((p0+p4)+(p2+p6)) + ((p1+p5)+(p3+p7))), computed here with the
// lanes of a vector across four items rather than across k, which changes
// no operation and no order; items are offered to a user's top in table
// order; and an item whose score is below the user's current n-th best
// (which TopN's top would reject) is never offered. The untrained items
// are left out of the packed factors once, and exclusions are table
// positions, walked with a cursor, instead of a map per user.

// rankPanel is the number of items whose factors are interleaved in a
// panel: the lanes of a 256-bit vector.
const rankPanel = kernel.PanelItems

// rankChunk is the number of items scored per user before their scores
// are offered: 16 panels, whose factors (16 KiB at rank 32) stay in L1
// while every user of a batch passes over them. It is at most 64: a chunk's
// candidates are the bits of a uint64.
const rankChunk = kernel.PanelChunk

// rankUsers is the number of users of a batch, whose factors and tops stay
// in cache while the item chunks pass.
const rankUsers = 32

// Ranker finds the items of a Table that score highest for many users. It
// is safe for concurrent use; each goroutine brings its own RankScratch.
type Ranker struct {
	items *Table
	r, rp int
	// pos holds the table position of each trained item, ascending: the
	// packed items.
	pos []int32
	// pack holds the packed items' factors in panels of rankPanel items:
	// panel p is rp×rankPanel values, [k][j] the factor k of packed item
	// rankPanel·p + j, zero past the rank and past the last item. There
	// is an even number of panels.
	pack []float64
}

// NewRanker packs the trained items of items (all of them when items has
// no counts).
func NewRanker(items *Table) *Ranker {
	rk := &Ranker{items: items, r: items.Rank, rp: padRank(items.Rank)}
	for i := range items.Len() {
		if items.Count == nil || items.Count[i] > 0 {
			rk.pos = append(rk.pos, int32(i))
		}
	}
	np := (len(rk.pos) + rankPanel - 1) / rankPanel
	np += np & 1
	rk.pack = make([]float64, np*rk.rp*rankPanel)
	for q, p := range rk.pos {
		pan := rk.pack[(q/rankPanel)*rk.rp*rankPanel:]
		for k, v := range items.Row(int(p)) {
			pan[k*rankPanel+q%rankPanel] = v
		}
	}
	return rk
}

// Items returns the table the Ranker ranks.
func (rk *Ranker) Items() *Table { return rk.items }

// Size returns the bytes the Ranker holds beyond its table.
func (rk *Ranker) Size() int64 { return int64(len(rk.pack))*8 + int64(len(rk.pos))*4 }

// RankScratch is the working memory of Ranker.TopN. The zero value is
// ready; reuse one per goroutine so that TopN does not allocate.
type RankScratch struct {
	u      []float64 // the batch's factors, rp apart
	tops   []topk
	cur    []int // each user's cursor into its exclusions
	scores [2 * rankChunk]float64
}

// TopN finds, for each of the users (factors of length Rank), the n items
// with the highest scores, best first, ties to the smaller id, among the
// trained items not in exclude[i] (table positions, ascending; exclude may
// be nil): what TopN returns for each, bit for bit. It appends every
// user's items to dst[:0], user after user, and sets ends[i] to the end of
// user i's items in dst. It panics if ends is shorter than users, exclude
// is neither nil nor as long, or a factor's length is not the rank.
func (rk *Ranker) TopN(dst []Scored, ends []int, users [][]float64, exclude [][]int32, n int, s *RankScratch) []Scored {
	dst = dst[:0]
	m := len(users)
	if len(ends) < m || (exclude != nil && len(exclude) != m) {
		panic("als: Ranker.TopN needs an end and an exclusion list per user")
	}
	if n <= 0 || len(rk.pos) == 0 {
		clear(ends[:m])
		return dst
	}
	rp := rk.rp
	s.u = grow(s.u, rankUsers*rp)
	if len(s.tops) < rankUsers {
		s.tops = make([]topk, rankUsers)
		s.cur = make([]int, rankUsers)
	}
	for b0 := 0; b0 < m; b0 += rankUsers {
		bm := min(rankUsers, m-b0)
		for i := range bm {
			u := users[b0+i]
			if len(u) != rk.r {
				panic("als: Ranker.TopN factor length differs from the table's rank")
			}
			row := s.u[i*rp : (i+1)*rp]
			copy(row, u)
			clear(row[len(u):])
			s.tops[i].reset(n)
			s.cur[i] = 0
		}
		var ex [][]int32
		if exclude != nil {
			ex = exclude[b0 : b0+bm]
		}
		rk.batch(s, bm, ex)
		for i := range bm {
			t := &s.tops[i]
			for j, p := range t.pos {
				dst = append(dst, Scored{ID: rk.items.IDs[p], Score: t.score[j]})
			}
			ends[b0+i] = len(dst)
		}
	}
	return dst
}

// batch runs the first bm users of s over every chunk of packed items.
func (rk *Ranker) batch(s *RankScratch, bm int, ex [][]int32) {
	rp, span := rk.rp, rk.rp*rankPanel
	for c0 := 0; c0 < len(rk.pos); c0 += rankChunk {
		cn := min(rankChunk, len(rk.pos)-c0)
		np := (cn + rankPanel - 1) / rankPanel
		np += np & 1
		v := rk.pack[c0/rankPanel*span : (c0/rankPanel+np)*span]
		valid := ^uint64(0) >> (64 - cn)
		for i := 0; i < bm; i += 2 {
			j := min(i+1, bm-1) // an odd last user is scored twice
			t0, t1 := &s.tops[i], &s.tops[j]
			m0, m1 := scorePanels(&s.scores, s.u[i*rp:(i+1)*rp], s.u[j*rp:(j+1)*rp], v, np, rp, t0.bar(), t1.bar())
			rk.offer(t0, &s.cur[i], exOf(ex, i), s.scores[:rankChunk], c0, m0&valid)
			if j != i {
				rk.offer(t1, &s.cur[j], exOf(ex, j), s.scores[rankChunk:], c0, m1&valid)
			}
		}
	}
}

func exOf(ex [][]int32, i int) []int32 {
	if ex == nil {
		return nil
	}
	return ex[i]
}

// bar returns the lowest score t can still take in: its n-th best when it
// is full, −∞ otherwise. A NaN score compares false with it and is left
// out, as offer leaves it out of a full top; a top that is not full takes
// everything, so offer then ignores the candidates.
func (t *topk) bar() float64 {
	if m := len(t.pos); m == t.n && m > 0 {
		return t.score[m-1]
	}
	return math.Inf(-1)
}

// offer offers the chunk's candidates (bits of mask; every item while t is
// not full) that the user does not exclude to t, in packed order, which is
// table order.
func (rk *Ranker) offer(t *topk, cur *int, ex []int32, scores []float64, c0 int, mask uint64) {
	ids := rk.items.IDs
	cn := min(rankChunk, len(rk.pos)-c0)
	for j := 0; j < cn; {
		if len(t.pos) == t.n {
			mask &^= (uint64(1) << j) - 1 // bits below j are done
			if mask == 0 {
				return
			}
			j = bits.TrailingZeros64(mask)
		}
		p := rk.pos[c0+j]
		c := *cur
		for c < len(ex) && ex[c] < p {
			c++
		}
		*cur = c
		if c >= len(ex) || ex[c] != p {
			t.offer(p, scores[j], ids)
		}
		j++
	}
}

// scorePanels writes the scores of the np panels at v (np even) for the
// users u0 and u1 (rp factors each, zero past the rank) into
// out[:np·rankPanel] and out[rankChunk:] respectively, and returns for
// each user the bits of the items whose score is at least its bar
// (kernel.ScorePanels).
func scorePanels(out *[2 * rankChunk]float64, u0, u1, v []float64, np, rp int, bar0, bar1 float64) (uint64, uint64) {
	return kernel.ScorePanels(out, u0, u1, v, np, rp, bar0, bar1)
}
