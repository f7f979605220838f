package quantile

// MaxQ bounds Config.Q: a pass of a job with C columns sends each shard at
// most C·(Q−1) brackets and gets back at most C·(Q−1)·NumBins bins.
const MaxQ = 1000

// Config describes a quantile job.
type Config struct {
	// Q is the number of groups: 10 for deciles, 5 for quintiles, 100 for
	// percentiles. Cut j (1..Q−1) is at nearest rank ⌈j·N/Q⌉.
	Q int `json:"q"`
	// Descending ranks from the largest value: with Q = 10, bucket 1 holds
	// the tenth of the values that are largest. Otherwise ranks run from
	// the smallest, and bucket 1 holds the smallest values.
	Descending bool `json:"descending,omitempty"`
}

// DefaultConfig returns deciles, the largest values first.
func DefaultConfig() Config { return Config{Q: 10, Descending: true} }

// Validate reports the first thing wrong with c.
func (c Config) Validate() error {
	if c.Q < 2 || c.Q > MaxQ {
		return errorf(ErrConfig, "Q is %d, want 2 to %d", c.Q, MaxQ)
	}
	return nil
}

// rank returns the ascending 1-based rank of cut j of n values: the
// nearest rank ⌈j·n/Q⌉, counted from the largest value when Descending.
// It does not overflow: j < Q ≤ MaxQ.
func (c Config) rank(j int, n int64) int64 {
	q := int64(c.Q)
	r := int64(j)*(n/q) + (int64(j)*(n%q)+q-1)/q
	if c.Descending {
		return n + 1 - r
	}
	return r
}
