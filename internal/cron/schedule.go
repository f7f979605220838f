package cron

import "time"

// Schedule is a parsed cron expression. Its identity is its String: two
// Schedules are the same schedule exactly when their Strings are equal, and
// it travels (in JSON, in raft entries) as that string. The zero Schedule
// never fires; use Parse.
type Schedule struct {
	src  string         // the fields (or descriptor) as written, blanks collapsed
	zone string         // the CRON_TZ name as written, "" when absent
	loc  *time.Location // UTC when zone is ""

	// One bit per value: minute 0-59, hour 0-23, dom 1-31, month 1-12,
	// dow 0-6 (Sunday is 0).
	minute, hour, dom, month, dow uint64
	// domStar and dowStar record that the day field begins with "*";
	// wild that the minute or the hour field does (see the DST rules).
	domStar, dowStar, wild bool
}

// String returns the expression in canonical form: as written, with any
// run of blanks replaced by one space. Parse(s.String()) gives the same
// schedule.
func (s *Schedule) String() string {
	if s.zone == "" {
		return s.src
	}
	return tzPrefix + s.zone + " " + s.src
}

// Location returns the zone whose wall clock the fields are read on: the
// CRON_TZ zone, or UTC.
func (s *Schedule) Location() *time.Location {
	if s.loc == nil {
		return time.UTC
	}
	return s.loc
}

// MarshalText encodes the schedule as its String.
func (s *Schedule) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText parses text as Parse does.
func (s *Schedule) UnmarshalText(text []byte) error {
	p, err := Parse(string(text))
	if err != nil {
		return err
	}
	*s = *p
	return nil
}
