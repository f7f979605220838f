package cron

import (
	"errors"
	"testing"
	"time"
)

// FuzzParse: Parse never panics, fails only with its sentinels, and what it
// accepts survives Parse(s.String()); Next on it strictly increases.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"* * * * *", "0 2 * * *", "*/15 9-17 * * mon-fri", "1-5/2 0 1,15 jan-mar,dec 0-7/7",
		"0 0 13 * 5", "0 0 */2 * 1", "0 0 29 2 *", "0 0 30 2 *", "@yearly", "@hourly", "@reboot",
		"CRON_TZ=Europe/Berlin 30 2 * * *", "CRON_TZ=America/New_York @daily", "CRON_TZ=Local 0 0 * * *",
		"5/15 * * * *", "5-1 * * * *", "1,,2 * * * *", "99999999999999999999 * * * *", " \t0  2 *\n* * ",
	} {
		f.Add(seed)
	}
	after := time.Date(2026, 10, 25, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, expr string) {
		s, err := Parse(expr)
		if err != nil {
			if !errors.Is(err, ErrSyntax) && !errors.Is(err, ErrZone) {
				t.Fatalf("Parse(%q): error %v wraps neither sentinel", expr, err)
			}
			return
		}
		again, err := Parse(s.String())
		if err != nil {
			t.Fatalf("Parse(%q) = %q, which does not parse: %v", expr, s, err)
		}
		if again.String() != s.String() || !sameSchedule(again, s) {
			t.Fatalf("Parse(%q) = %q, reparsed as %q", expr, s, again)
		}
		prev := after
		for range 3 {
			next := s.Next(prev)
			if next.IsZero() {
				break
			}
			if !next.After(prev) {
				t.Fatalf("%q: Next(%v) = %v", s, prev, next)
			}
			prev = next
		}
	})
}
