package rfm

import "math"

// SecondsPerDay converts the unix-second differences to days.
const SecondsPerDay = 86400

// Config describes an RFM features job.
type Config struct {
	// AsOf is the instant, in unix seconds UTC, the features are computed
	// at: rows with Time ≥ AsOf are ignored (and counted in
	// Dropped.AfterAsOf), recency and tenure are measured back from it. It
	// must be set; DefaultAsOf gives the usual value, the midnight after
	// the dataset's last transaction.
	AsOf int64 `json:"as_of"`
	// Segments maps the scores to the names of the segment column; nil is
	// StandardSegments.
	Segments SegmentMap `json:"segments,omitempty"`
}

// SegmentMap returns the map of the segment column: c.Segments, or
// StandardSegments when it is nil.
func (c Config) SegmentMap() SegmentMap {
	if c.Segments == nil {
		return StandardSegments()
	}
	return c.Segments
}

// DefaultAsOf returns midnight UTC starting the day after the instant last
// (unix seconds), the default as-of for a dataset whose last transaction is
// at last: every row of the dataset is before it, and a purchase on the
// last day has recency 0. (Beyond the year 292,277,026,596 it returns the
// last representable midnight instead.)
func DefaultAsOf(last int64) int64 {
	day := last / SecondsPerDay
	if last%SecondsPerDay < 0 {
		day-- // floor, for instants before 1970
	}
	if day >= math.MaxInt64/SecondsPerDay {
		return math.MaxInt64 / SecondsPerDay * SecondsPerDay
	}
	return (day + 1) * SecondsPerDay
}

// Validate reports the first thing wrong with c.
func (c Config) Validate() error {
	if c.AsOf == 0 {
		return errorf(ErrConfig, "AsOf is not set (DefaultAsOf gives the midnight after the last transaction)")
	}
	if c.Segments != nil {
		return c.Segments.Validate()
	}
	return nil
}
