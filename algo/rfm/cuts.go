package rfm

import (
	"math"

	"github.com/mathcrm/mathcrm/algo/quantile"
)

// Feature names one of the three scored features.
type Feature int

// The scored features.
const (
	Recency   Feature = iota // recency_days: lower is better
	Frequency                // frequency: higher is better
	Monetary                 // monetary_sum: higher is better
)

// NumFeatures is the number of scored features.
const NumFeatures = 3

func (f Feature) String() string {
	switch f {
	case Recency:
		return "recency"
	case Frequency:
		return "frequency"
	case Monetary:
		return "monetary"
	}
	return "Feature(?)"
}

// Cuts are the quintile cut points of the scored features over every
// customer with a purchase before AsOf. Cut j (1..4) of a feature is the
// nearest-rank quantile at j/5 of the feature ordered from worst to best:
// the value of the customer at rank ⌈j·N/5⌉ (1-based) of that order.
// Scores follow from them alone (see RScore, FScore, MScore).
type Cuts struct {
	// AsOf is the Config.AsOf the cuts were computed at.
	AsOf int64 `json:"as_of"`
	// N is the number of customers scored.
	N int64 `json:"n"`
	// Recency holds recency_days cuts, worst first, so non-increasing.
	Recency [4]float64 `json:"recency"`
	// Frequency holds frequency cuts, non-decreasing.
	Frequency [4]float64 `json:"frequency"`
	// Monetary holds monetary_sum cuts, non-decreasing.
	Monetary [4]float64 `json:"monetary"`
}

// The scores are quantile buckets of the cuts in their worst-first order:
// recency's descending, the others' ascending. Bucket counts the cuts a
// value is strictly past by a binary search, so the cuts must be in order,
// as Validate checks.

// RScore returns the recency score, 1 + the number of cuts the customer's
// recency_days is strictly below: 5 is most recent.
func (c *Cuts) RScore(recencyDays float64) int {
	return quantile.Bucket(c.Recency[:], recencyDays, true)
}

// FScore returns the frequency score, 1 + the number of cuts the
// frequency is strictly above: 5 is most frequent.
func (c *Cuts) FScore(frequency float64) int {
	return quantile.Bucket(c.Frequency[:], frequency, false)
}

// MScore returns the monetary score, 1 + the number of cuts monetary_sum is
// strictly above: 5 is highest spend.
func (c *Cuts) MScore(monetarySum float64) int {
	return quantile.Bucket(c.Monetary[:], monetarySum, false)
}

// of returns feature f's cuts.
func (c *Cuts) of(f Feature) *[4]float64 {
	switch f {
	case Recency:
		return &c.Recency
	case Frequency:
		return &c.Frequency
	}
	return &c.Monetary
}

// Validate reports whether c can score: at least one customer, finite cuts
// in order (recency non-negative whole days, non-increasing; frequency
// whole numbers of at least 1, non-decreasing; monetary non-decreasing).
func (c *Cuts) Validate() error {
	if c.N < 1 {
		return errorf(ErrBadCuts, "cuts over %d customers", c.N)
	}
	for f := range Feature(NumFeatures) {
		cuts := c.of(f)
		for j, x := range cuts {
			g := goodness(f, x)
			switch {
			case math.IsNaN(x) || math.IsInf(x, 0):
				return errorf(ErrBadCuts, "%v cut %d is %v", f, j+1, x)
			case j > 0 && g < goodness(f, cuts[j-1]):
				return errorf(ErrBadCuts, "%v cuts out of order: %v", f, *cuts)
			case f == Recency && (x < 0 || x != math.Trunc(x)):
				return errorf(ErrBadCuts, "recency cut %d is %v, not a whole number of days", j+1, x)
			case f == Frequency && (x < 1 || x != math.Trunc(x)):
				return errorf(ErrBadCuts, "frequency cut %d is %v, not a count of at least 1", j+1, x)
			}
		}
	}
	return nil
}
