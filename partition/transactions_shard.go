package partition

import (
	"io"
)

// Transactions is one transactions shard in memory, grouped by customer.
type Transactions struct {
	// Keys are the shard's distinct customer ids, ascending.
	Keys []string
	// Ptr has len(Keys)+1 entries: customer i's rows are Ptr[i]:Ptr[i+1] of
	// the row columns below, ascending by (Time, Invoice).
	Ptr []int32
	// Time is each row's time in unix seconds (UTC).
	Time   []int64
	Amount []float64
	// Invoice is nil when the import named no invoice column; "" is a
	// missing invoice id.
	Invoice []string
	// Return flags returns: a negative amount or quantity.
	Return []bool
	// KeyColumn is the customer id column's name.
	KeyColumn string
}

// ReadTransactions decodes a shard file written by [SplitTransactions]. Any
// input that is not such a file yields an error wrapping ErrCorrupt, never a
// panic.
func ReadTransactions(r io.ReaderAt, size int64) (*Transactions, error) {
	return nil, errNotYet
}

// SizeBytes approximates the shard's in-memory footprint, for a
// byte-budgeted cache.
func (s *Transactions) SizeBytes() int64 {
	return 0
}
