package cron

import (
	"math/bits"
	"time"
)

// horizon is how far Next looks before it gives up.
const horizon = 5 // years

// Next returns the first firing time strictly after after, in the schedule's
// location, or the zero time if the schedule does not fire within five
// years. Around daylight-saving transitions it follows the rules in the
// package documentation.
//
// It walks the zone's offset periods (time.Time.ZoneBounds) from after: in a
// period the wall clock is after + offset, so the search is a calendar
// search on wall-clock times, and the period's boundaries are where the
// gap and overlap rules apply.
func (s *Schedule) Next(after time.Time) time.Time {
	loc := s.Location()
	limit := after.AddDate(horizon, 0, 0)
	from := after.UTC()
	period := after
	for first := true; ; first = false {
		lt := period.In(loc)
		_, sec := lt.Zone()
		off := time.Duration(sec) * time.Second
		start, end := lt.ZoneBounds()

		// lo is the earliest wall-clock minute this period may fire at.
		var lo time.Time
		if first {
			lo = from.Add(off).Truncate(time.Minute).Add(time.Minute) // strictly after
		} else {
			lo = ceilMinute(start.UTC().Add(off))
		}
		if !start.IsZero() && !s.wild {
			_, psec := start.Add(-time.Second).In(loc).Zone()
			prev := time.Duration(psec) * time.Second
			switch {
			case prev > off:
				// Fall back: the wall clock reads [start+off, start+prev)
				// a second time. A fixed-time schedule fired on the
				// first pass.
				if w := ceilMinute(start.UTC().Add(prev)); w.After(lo) {
					lo = w
				}
			case prev < off && start.After(after):
				// Spring forward: [start+prev, start+off) never happens.
				// A fixed-time schedule due then fires at start.
				gapLo := ceilMinute(start.UTC().Add(prev))
				if _, ok := s.nextCivil(gapLo, start.UTC().Add(off)); ok {
					return start.In(loc)
				}
			}
		}
		stop := limit
		if !end.IsZero() && end.Before(limit) {
			stop = end
		}
		if c, ok := s.nextCivil(lo, stop.UTC().Add(off)); ok {
			return c.Add(-off).In(loc)
		}
		if end.IsZero() || !end.Before(limit) {
			return time.Time{}
		}
		period = end
	}
}

// Between returns the firing times in (from, to], in order, at most max of
// them: the runs a schedule owed while the cluster was down.
func (s *Schedule) Between(from, to time.Time, max int) []time.Time {
	var out []time.Time
	for t := from; len(out) < max; {
		t = s.Next(t)
		if t.IsZero() || t.After(to) {
			break
		}
		out = append(out, t)
	}
	return out
}

// nextCivil returns the first wall-clock minute c with from ≤ c < before that
// the fields match. Wall-clock times are represented as UTC times, where
// every day has 24 hours; from is on a whole minute.
func (s *Schedule) nextCivil(from, before time.Time) (time.Time, bool) {
	c := from
	for c.Before(before) {
		y, mo, d := c.Date()
		h, m := c.Hour(), c.Minute()
		switch {
		case s.month&(1<<uint(mo)) == 0:
			c = time.Date(y, mo+1, 1, 0, 0, 0, 0, time.UTC)
		case !s.dayMatches(d, c.Weekday()):
			c = time.Date(y, mo, d+1, 0, 0, 0, 0, time.UTC)
		case s.hour&(1<<uint(h)) == 0:
			if nh := nextBit(s.hour, h); nh >= 0 {
				c = time.Date(y, mo, d, nh, 0, 0, 0, time.UTC)
			} else {
				c = time.Date(y, mo, d+1, 0, 0, 0, 0, time.UTC)
			}
		case s.minute&(1<<uint(m)) == 0:
			if nm := nextBit(s.minute, m); nm >= 0 {
				c = time.Date(y, mo, d, h, nm, 0, 0, time.UTC)
			} else {
				c = time.Date(y, mo, d, h+1, 0, 0, 0, time.UTC)
			}
		default:
			return c, true
		}
	}
	return time.Time{}, false
}

// dayMatches applies the Vixie rule: if either day field begins with "*",
// both must match; otherwise either may.
func (s *Schedule) dayMatches(dom int, dow time.Weekday) bool {
	a := s.dom&(1<<uint(dom)) != 0
	b := s.dow&(1<<uint(dow)) != 0
	if s.domStar || s.dowStar {
		return a && b
	}
	return a || b
}

// nextBit returns the lowest set bit of set at or above i, or -1.
func nextBit(set uint64, i int) int {
	r := set >> uint(i)
	if r == 0 {
		return -1
	}
	return i + bits.TrailingZeros64(r)
}

// ceilMinute rounds a UTC time up to a whole minute.
func ceilMinute(t time.Time) time.Time {
	if f := t.Truncate(time.Minute); !f.Equal(t) {
		return f.Add(time.Minute)
	}
	return t
}
