package als

// Prep is what RunTask needs from a Block besides its values: the position
// in the other side's Table of every interaction's other id, and which
// interactions are held out. It depends only on the Block, the Table's
// layout (its ids in order) and the split (the Task's side, Holdout and
// Seed), which are the same in every pass over that side of one job; a
// worker keeps it, keyed by the block, and calls Prepare again only when
// Fits says no. Resolving and hashing cost more than a pass's arithmetic
// at small ranks, so keeping it matters.
type Prep struct {
	side    Side
	holdout float64
	seed    uint64
	layout  uint64
	rows    int
	nnz     int
	pos     []int32  // per interaction, position in the Table
	hold    []uint64 // bit j set: interaction j is held out; nil without a holdout
}

// Prepare validates blk (Block.Validate) and resolves its other ids in tab,
// the other side's factors for the task's side. An other id that tab does
// not hold is ErrUnknownID.
func Prepare(t *Task, blk *Block, tab *Table) (*Prep, error) {
	if t == nil || tab == nil || blk == nil {
		return nil, errorf(ErrBadTask, "Prepare needs a task, a block and a table")
	}
	if t.Side != Users && t.Side != Items {
		return nil, errorf(ErrBadTask, "unknown side %q", t.Side)
	}
	if err := blk.Validate(); err != nil {
		return nil, err
	}
	p := &Prep{
		side: t.Side, holdout: t.Config.Holdout, seed: t.Config.Seed, layout: tab.Layout(),
		rows: len(blk.IDs), nnz: len(blk.Other), pos: make([]int32, len(blk.Other)),
	}
	idx := tab.lay.idx
	for r, id := range blk.IDs {
		lo, hi := int(blk.Ptr[r]), int(blk.Ptr[r+1])
		for j := lo; j < hi; j++ {
			o := blk.Other[j]
			if j > lo && o == blk.Other[j-1] {
				p.pos[j] = p.pos[j-1]
				continue
			}
			i, ok := idx[o]
			if !ok {
				return nil, errorf(ErrUnknownID, "%s %q interacts with %s %q, which no %s factor shard holds", t.Side.singular(), id, t.Side.Other().singular(), o, t.Side.Other().singular())
			}
			p.pos[j] = i
		}
	}
	if p.holdout > 0 {
		p.hold = make([]uint64, (len(blk.Other)+63)/64)
		fnv := tab.lay.fnv
		for r, id := range blk.IDs {
			lo, hi := int(blk.Ptr[r]), int(blk.Ptr[r+1])
			if t.Side == Users {
				uk := KeyHash(id, p.seed)
				for j := lo; j < hi; j++ {
					if below(pairHash(uk, fnv[p.pos[j]]), p.holdout) {
						p.hold[j/64] |= 1 << (j % 64)
					}
				}
			} else {
				itemFNV := fnv1a(id)
				for j := lo; j < hi; j++ {
					if below(pairHash(splitmix(fnv[p.pos[j]]^p.seed), itemFNV), p.holdout) {
						p.hold[j/64] |= 1 << (j % 64)
					}
				}
			}
		}
	}
	return p, nil
}

// Fits reports whether p was prepared for a block shaped like blk, for the
// split of t and for tables with tab's layout. It cannot tell two blocks
// of the same shape apart: keep a Prep with the block it was made from.
func (p *Prep) Fits(t *Task, blk *Block, tab *Table) bool {
	return p != nil && t != nil && blk != nil && tab != nil &&
		p.side == t.Side && p.holdout == t.Config.Holdout && p.seed == t.Config.Seed &&
		p.layout == tab.Layout() && p.rows == len(blk.IDs) && p.nnz == len(blk.Other)
}

// held reports whether interaction j is held out.
func (p *Prep) held(j int) bool { return p.hold != nil && p.hold[j/64]&(1<<(j%64)) != 0 }

func (s Side) singular() string {
	if s == Users {
		return "user"
	}
	return "item"
}
