package partition

import (
	"io"
)

// Interactions is one shard of one interactions layout in memory, grouped by
// the layout's own side: the by-user layout has users as Keys and items as
// Other, the by-item layout the reverse.
type Interactions struct {
	// Keys are the distinct ids of this layout's side, ascending.
	Keys []string
	// Ptr has len(Keys)+1 entries: key i's interactions are rows
	// Ptr[i]:Ptr[i+1] of Other and Value.
	Ptr []int32
	// Other is the other side's id of each interaction, ascending within a
	// key; repeated interactions are kept, adjacent.
	Other []string
	Value []float64
	// KeyColumn, OtherColumn and ValueColumn are the column names.
	KeyColumn, OtherColumn, ValueColumn string
}

// ReadInteractions decodes a shard file written by [SplitInteractions]. Any
// input that is not such a file yields an error wrapping ErrCorrupt, never a
// panic.
func ReadInteractions(r io.ReaderAt, size int64) (*Interactions, error) {
	return nil, errNotYet
}

// SizeBytes approximates the shard's in-memory footprint, for a
// byte-budgeted cache.
func (s *Interactions) SizeBytes() int64 {
	return 0
}
