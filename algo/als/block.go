package als

import (
	"math"
	"slices"
	"strings"
)

// Block is one shard of one side of the interactions: its rows (users, or
// items) and each row's interactions with the other side.
//
// Duplicate (row, other) pairs are allowed and must be adjacent (Other is
// sorted within a row). In an explicit job each duplicate is its own
// observation: it adds its own squared error, and counts once more in the
// row's n for weighted-λ. In an implicit job the values of a pair's
// duplicates are summed into one count r before anything else, so a pair
// counts once, with confidence 1 + α·r.
type Block struct {
	// IDs are the block's distinct row ids, ascending.
	IDs []string
	// Ptr has len(IDs)+1 entries: row r's interactions are
	// [Ptr[r], Ptr[r+1]) of Other and Value.
	Ptr []int32
	// Other holds the other side's id of each interaction, ascending within
	// a row (duplicates adjacent).
	Other []string
	// Value holds each interaction's rating (explicit) or count (implicit;
	// 1 where the dataset has no value column).
	Value []float64
}

// Rows returns the number of rows of b.
func (b *Block) Rows() int { return len(b.IDs) }

// Validate checks the shape and order of b and that every value is finite.
// Prepare calls it; RunTask checks only the shape, relying on the Prep.
func (b *Block) Validate() error {
	if err := b.checkShape(); err != nil {
		return err
	}
	for i := 1; i < len(b.IDs); i++ {
		if b.IDs[i-1] >= b.IDs[i] {
			return errorf(ErrBlock, "row ids not strictly ascending at row %d (%q after %q)", i, b.IDs[i], b.IDs[i-1])
		}
	}
	for r := range b.IDs {
		lo, hi := int(b.Ptr[r]), int(b.Ptr[r+1])
		for j := lo + 1; j < hi; j++ {
			if b.Other[j-1] > b.Other[j] {
				return errorf(ErrBlock, "row %q: other ids not ascending at interaction %d (%q after %q)", b.IDs[r], j-lo, b.Other[j], b.Other[j-1])
			}
		}
		for j := lo; j < hi; j++ {
			if v := b.Value[j]; math.IsNaN(v) || math.IsInf(v, 0) {
				return errorf(ErrBlock, "row %q, other %q: value %v", b.IDs[r], b.Other[j], v)
			}
		}
	}
	return nil
}

// checkShape checks the lengths and Ptr, in time linear in the rows.
func (b *Block) checkShape() error {
	n := len(b.IDs)
	switch {
	case len(b.Ptr) != n+1:
		return errorf(ErrBlock, "Ptr has %d entries for %d rows, want %d", len(b.Ptr), n, n+1)
	case len(b.Other) != len(b.Value):
		return errorf(ErrBlock, "%d other ids and %d values", len(b.Other), len(b.Value))
	case b.Ptr[0] != 0 || int(b.Ptr[n]) != len(b.Other):
		return errorf(ErrBlock, "Ptr runs from %d to %d over %d interactions", b.Ptr[0], b.Ptr[n], len(b.Other))
	case len(b.Other) > math.MaxInt32:
		return errorf(ErrBlock, "%d interactions in one block", len(b.Other))
	}
	for r := range n {
		if b.Ptr[r] > b.Ptr[r+1] {
			return errorf(ErrBlock, "Ptr decreases at row %d", r)
		}
	}
	return nil
}

// BuildBlocks splits interactions (users[i], items[i], values[i]) into
// shards blocks by user and shards blocks by item, shardOf(id) naming the
// shard of an id (it must return a value in [0, shards)); values may be
// nil, meaning every value is 1. Within a block rows are ascending, other
// ids ascending within a row, and the interactions of equal (row, other)
// pairs keep their input order. It is the layout the cluster imports, for
// tests, examples and single-process use.
func BuildBlocks(shards int, shardOf func(id string) int, users, items []string, values []float64) (byUser, byItem []*Block) {
	if shards < 1 || len(items) != len(users) || (values != nil && len(values) != len(users)) {
		panic("als: BuildBlocks shape mismatch")
	}
	idx := make([]int, len(users))
	for i := range idx {
		idx[i] = i
	}
	val := func(i int) float64 {
		if values == nil {
			return 1
		}
		return values[i]
	}
	build := func(rows, others []string) []*Block {
		order := slices.Clone(idx)
		slices.SortStableFunc(order, func(a, b int) int {
			if c := strings.Compare(rows[a], rows[b]); c != 0 {
				return c
			}
			return strings.Compare(others[a], others[b])
		})
		out := make([]*Block, shards)
		for s := range out {
			out[s] = &Block{Ptr: []int32{0}}
		}
		for _, i := range order {
			s := shardOf(rows[i])
			if s < 0 || s >= shards {
				panic("als: BuildBlocks shardOf out of range")
			}
			b := out[s]
			if n := len(b.IDs); n == 0 || b.IDs[n-1] != rows[i] {
				b.IDs = append(b.IDs, rows[i])
				b.Ptr = append(b.Ptr, b.Ptr[n])
			}
			b.Other = append(b.Other, others[i])
			b.Value = append(b.Value, val(i))
			b.Ptr[len(b.IDs)]++
		}
		return out
	}
	return build(users, items), build(items, users)
}
