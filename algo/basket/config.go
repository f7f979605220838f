package basket

import "math"

// Defaults.
const (
	DefaultMaxLen        = 3
	DefaultMaxCandidates = 1_000_000
)

// Config describes a basket job.
type Config struct {
	// MinSupport is the least share of baskets an itemset must be in to be
	// frequent, in (0, 1].
	MinSupport float64 `json:"min_support"`
	// MinConfidence is the least confidence of a rule, in [0, 1].
	MinConfidence float64 `json:"min_confidence"`
	// MaxLen is the longest itemset mined, at least 2; 0 means
	// DefaultMaxLen.
	MaxLen int `json:"max_len,omitempty"`
	// MaxCandidates bounds the candidate itemsets of one level (and so a
	// partial's size); 0 means DefaultMaxCandidates.
	MaxCandidates int `json:"max_candidates,omitempty"`
}

// WithDefaults returns c with its unset fields set to their defaults.
func (c Config) WithDefaults() Config {
	if c.MaxLen == 0 {
		c.MaxLen = DefaultMaxLen
	}
	if c.MaxCandidates == 0 {
		c.MaxCandidates = DefaultMaxCandidates
	}
	return c
}

// Validate reports the first thing wrong with c (after WithDefaults).
func (c Config) Validate() error {
	switch {
	case !(c.MinSupport > 0 && c.MinSupport <= 1):
		return errorf(ErrConfig, "min support %v is not in (0, 1]", c.MinSupport)
	case !(c.MinConfidence >= 0 && c.MinConfidence <= 1):
		return errorf(ErrConfig, "min confidence %v is not in [0, 1]", c.MinConfidence)
	case c.MaxLen < 2 || c.MaxLen > 64:
		return errorf(ErrConfig, "max length %d is not in [2, 64]", c.MaxLen)
	case c.MaxCandidates < 1:
		return errorf(ErrConfig, "max candidates %d is not positive", c.MaxCandidates)
	}
	return nil
}

// MinCount is the least number of baskets, out of n, a frequent itemset is
// in: ⌈MinSupport·n⌉, and at least 1. The product is rounded the way
// mlxtend and Spark compare supports (support ≥ MinSupport), checked in
// integers so that no rounding of the share can admit or drop an itemset.
func (c Config) MinCount(n int64) int64 {
	m := int64(math.Ceil(c.MinSupport * float64(n)))
	// Correct the float product: the least m with m/n ≥ MinSupport.
	for m > 1 && float64(m-1)/float64(n) >= c.MinSupport {
		m--
	}
	for float64(m)/float64(n) < c.MinSupport {
		m++
	}
	return max(m, 1)
}
