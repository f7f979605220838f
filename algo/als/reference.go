package als

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
)

// Reference runs a whole job in one process: the State, RunTask on every
// block in shard order, and an in-memory store in place of the object
// store, with the Tables and Preps kept between passes as a worker keeps
// them. byUser[i] is user shard i's block and byItem[i] item shard i's.
// The model is the one the cluster computes from the same blocks, bit for
// bit, and since every row is solved from its own interactions and YᵀY is
// summed in id order, it does not depend on the number of shards either.
func Reference(cfg Config, byUser, byItem []*Block) (*Model, error) {
	st, err := New(cfg, len(byUser), len(byItem))
	if err != nil {
		return nil, err
	}
	store := map[string]*Factors{}
	tables := map[Side]*Table{}
	preps := map[Side][]*Prep{Users: make([]*Prep, len(byUser)), Items: make([]*Prep, len(byItem))}
	blocks := map[Side][]*Block{Users: byUser, Items: byItem}
	fetch := func(refs []FactorRef) []*Factors {
		out := make([]*Factors, len(refs))
		for i, r := range refs {
			out[i] = store[r.Object]
		}
		return out
	}
	for {
		t, done := st.Next()
		if done {
			break
		}
		var tab *Table
		if t.Other != nil {
			if tab, err = NewTable(tables[t.Side.Other()], fetch(t.Other)); err != nil {
				return nil, err
			}
			tables[t.Side.Other()] = tab
		}
		var prev []*Factors
		if t.Prev != nil {
			prev = fetch(t.Prev)
		}
		blks := blocks[t.Side]
		results := make([]*Result, len(blks))
		for shard, blk := range blks {
			var prep *Prep
			if tab != nil {
				prep = preps[t.Side][shard]
				if !prep.Fits(t, blk, tab) {
					if prep, err = Prepare(t, blk, tab); err != nil {
						return nil, contextf(err, "shard %d", shard)
					}
					preps[t.Side][shard] = prep
				}
			}
			var pf *Factors
			if prev != nil {
				pf = prev[shard]
			}
			res, f, err := RunTask(t, blk, tab, prep, pf, shard)
			if err != nil {
				return nil, err
			}
			if f != nil {
				res.Ref = memRef(t, shard, f)
				store[res.Ref.Object] = f
			}
			results[shard] = res
		}
		if err := st.Absorb(results); err != nil {
			return nil, err
		}
	}
	sum := st.Summary()
	return NewModel(sum, fetch(sum.Users), fetch(sum.Items))
}

// memRef names factors in Reference's in-memory store, with a digest of
// their bits standing in for a blob's checksum.
func memRef(t *Task, shard int, f *Factors) FactorRef {
	h := sha256.New()
	var b [8]byte
	for _, v := range f.F {
		binary.LittleEndian.PutUint64(b[:], math.Float64bits(v))
		h.Write(b[:])
	}
	return FactorRef{
		Object: fmt.Sprintf("%s/step-%d/shard-%d", t.Side, t.Step, shard),
		Size:   int64(8 * len(f.F)),
		SHA256: hex.EncodeToString(h.Sum(nil)),
	}
}
