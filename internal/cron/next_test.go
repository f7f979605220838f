package cron

import (
	"testing"
	"time"
)

// utc is a shorthand for a UTC instant to the minute.
func utc(y int, mo time.Month, d, h, m int) time.Time {
	return time.Date(y, mo, d, h, m, 0, 0, time.UTC)
}

func mustParse(t testing.TB, expr string) *Schedule {
	t.Helper()
	s, err := Parse(expr)
	if err != nil {
		t.Fatalf("Parse(%q): %v", expr, err)
	}
	return s
}

// TestNext checks Next in UTC against times worked out by hand with a
// calendar (2026-01-01 is a Thursday, 2028 and 2000 are leap years, 2100 is
// not).
func TestNext(t *testing.T) {
	tests := []struct {
		expr        string
		after, want time.Time
	}{
		// Strictly after, at minute resolution.
		{"* * * * *", utc(2026, 1, 1, 0, 0), utc(2026, 1, 1, 0, 1)},
		{"* * * * *", utc(2026, 1, 1, 0, 0).Add(time.Nanosecond), utc(2026, 1, 1, 0, 1)},
		{"* * * * *", utc(2026, 1, 1, 0, 0).Add(-time.Nanosecond), utc(2026, 1, 1, 0, 0)},
		{"* * * * *", utc(2026, 1, 1, 0, 0).Add(59 * time.Second), utc(2026, 1, 1, 0, 1)},
		{"0 2 * * *", utc(2026, 1, 1, 2, 0), utc(2026, 1, 2, 2, 0)},
		{"0 2 * * *", utc(2026, 1, 1, 1, 59), utc(2026, 1, 1, 2, 0)},
		// Carries through every field.
		{"59 23 31 12 *", utc(2026, 6, 1, 0, 0), utc(2026, 12, 31, 23, 59)},
		{"0 0 1 1 *", utc(2026, 12, 31, 23, 59), utc(2027, 1, 1, 0, 0)},
		{"*/15 * * * *", utc(2026, 12, 31, 23, 50), utc(2027, 1, 1, 0, 0)},
		{"30 */6 * * *", utc(2026, 3, 5, 18, 30), utc(2026, 3, 6, 0, 30)},
		{"0 9-17/4 * * *", utc(2026, 3, 5, 13, 0), utc(2026, 3, 5, 17, 0)},
		{"0 9-17/4 * * *", utc(2026, 3, 5, 17, 0), utc(2026, 3, 6, 9, 0)},
		{"0 0 * 2,8 *", utc(2026, 3, 1, 0, 0), utc(2026, 8, 1, 0, 0)},
		{"0 0 * jan,nov-dec *", utc(2026, 2, 1, 0, 0), utc(2026, 11, 1, 0, 0)},
		{"0 0 * jan,nov-dec *", utc(2026, 11, 30, 0, 0), utc(2026, 12, 1, 0, 0)},
		// Month ends.
		{"0 0 31 * *", utc(2026, 1, 31, 0, 0), utc(2026, 3, 31, 0, 0)},
		{"0 0 31 * *", utc(2026, 4, 1, 0, 0), utc(2026, 5, 31, 0, 0)},
		{"0 0 31 * *", utc(2026, 7, 31, 0, 0), utc(2026, 8, 31, 0, 0)},
		{"0 0 30 * *", utc(2026, 1, 30, 0, 0), utc(2026, 3, 30, 0, 0)},
		{"0 0 31 4,6,9,11 *", utc(2026, 1, 1, 0, 0), time.Time{}},
		{"0 0 30 2 *", utc(2026, 1, 1, 0, 0), time.Time{}},
		// Leap years.
		{"0 0 29 2 *", utc(2026, 1, 1, 0, 0), utc(2028, 2, 29, 0, 0)},
		{"0 0 29 2 *", utc(2028, 2, 29, 0, 0), utc(2032, 2, 29, 0, 0)},
		{"0 0 29 2 *", utc(1999, 3, 1, 0, 0), utc(2000, 2, 29, 0, 0)},
		{"0 0 29 2 *", utc(2096, 3, 1, 0, 0), time.Time{}}, // 2100 is not a leap year, 2104 is too far
		{"0 0 29 2 *", utc(2099, 3, 1, 0, 0), utc(2104, 2, 29, 0, 0)},
		{"0 0 28-29 2 *", utc(2027, 2, 28, 0, 0), utc(2028, 2, 28, 0, 0)},
		{"0 0 28-29 2 *", utc(2028, 2, 28, 0, 0), utc(2028, 2, 29, 0, 0)},
		{"0 12 * 3 *", utc(2028, 2, 29, 12, 0), utc(2028, 3, 1, 12, 0)},
		// Day of week: 2026-02-01 is a Sunday, 2026-02-13 a Friday.
		{"0 0 * * 1", utc(2026, 2, 1, 0, 0), utc(2026, 2, 2, 0, 0)},
		{"0 0 * * 0", utc(2026, 2, 1, 0, 0), utc(2026, 2, 8, 0, 0)},
		{"0 0 * * 7", utc(2026, 2, 1, 0, 0), utc(2026, 2, 8, 0, 0)},
		{"0 0 * * sat", utc(2026, 2, 1, 0, 0), utc(2026, 2, 7, 0, 0)},
		{"0 8 * * mon-fri", utc(2026, 2, 6, 8, 0), utc(2026, 2, 9, 8, 0)},
		// Both day fields restricted: either matches.
		{"0 0 13 * 5", utc(2026, 2, 1, 0, 0), utc(2026, 2, 6, 0, 0)},
		{"0 0 13 * 5", utc(2026, 2, 6, 0, 0), utc(2026, 2, 13, 0, 0)},
		{"0 0 13 * 5", utc(2026, 2, 13, 0, 0), utc(2026, 2, 20, 0, 0)},
		{"0 0 1 * mon", utc(2026, 2, 23, 0, 0), utc(2026, 3, 1, 0, 0)},
		{"0 0 1 * mon", utc(2026, 3, 1, 0, 0), utc(2026, 3, 2, 0, 0)},
		// One day field starts with "*": both must match.
		{"0 0 13 * *", utc(2026, 2, 1, 0, 0), utc(2026, 2, 13, 0, 0)},
		{"0 0 * * 5", utc(2026, 2, 6, 0, 0), utc(2026, 2, 13, 0, 0)},
		{"0 0 */2 * 1", utc(2026, 2, 1, 0, 0), utc(2026, 2, 9, 0, 0)},    // Feb 2 is even
		{"0 0 1-31/2 * 1", utc(2026, 2, 1, 0, 0), utc(2026, 2, 2, 0, 0)}, // no star: either
		{"0 0 13 * */1", utc(2026, 1, 14, 0, 0), utc(2026, 2, 13, 0, 0)}, // "*/1" starts with "*": every 13th
		// Descriptors.
		{"@yearly", utc(2026, 5, 5, 5, 5), utc(2027, 1, 1, 0, 0)},
		{"@monthly", utc(2026, 5, 5, 5, 5), utc(2026, 6, 1, 0, 0)},
		{"@weekly", utc(2026, 2, 2, 0, 0), utc(2026, 2, 8, 0, 0)},
		{"@daily", utc(2026, 2, 28, 23, 59), utc(2026, 3, 1, 0, 0)},
		{"@midnight", utc(2026, 2, 28, 0, 0), utc(2026, 3, 1, 0, 0)},
		{"@hourly", utc(2026, 2, 28, 23, 0), utc(2026, 3, 1, 0, 0)},
		// Far from any firing.
		{"0 0 1 1 1", utc(2026, 1, 2, 0, 0), utc(2026, 1, 5, 0, 0)}, // Jan 1st or a Monday in January
		{"0 0 1 1 *", utc(9999, 6, 1, 0, 0), utc(10000, 1, 1, 0, 0)},
		{"0 0 * * *", time.Time{}, utc(1, 1, 2, 0, 0)},
	}
	for _, tc := range tests {
		s := mustParse(t, tc.expr)
		got := s.Next(tc.after)
		if !got.Equal(tc.want) || got.IsZero() != tc.want.IsZero() {
			t.Errorf("%q.Next(%v) = %v, want %v", tc.expr, tc.after, got, tc.want)
		}
	}
}

// TestNextAfterOtherZone: the instant matters, not the location it is
// expressed in.
func TestNextAfterOtherZone(t *testing.T) {
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	s := mustParse(t, "0 2 * * *")
	after := time.Date(2026, 1, 1, 10, 0, 0, 0, tokyo) // 01:00 UTC
	if got, want := s.Next(after), utc(2026, 1, 1, 2, 0); !got.Equal(want) {
		t.Fatalf("Next(%v) = %v, want %v", after, got, want)
	}
	k := mustParse(t, "CRON_TZ=Asia/Kolkata 0 2 * * *") // +05:30
	if got, want := k.Next(utc(2026, 1, 1, 0, 0)), utc(2026, 1, 1, 20, 30); !got.Equal(want) {
		t.Fatalf("Kolkata Next = %v, want %v", got, want)
	}
}

func TestZeroSchedule(t *testing.T) {
	var s Schedule
	if got := s.Next(utc(2026, 1, 1, 0, 0)); !got.IsZero() {
		t.Fatalf("zero Schedule fired at %v", got)
	}
	if s.String() != "" {
		t.Fatalf("zero Schedule String() = %q", s.String())
	}
}

func TestBetween(t *testing.T) {
	s := mustParse(t, "0 */6 * * *")
	from, to := utc(2026, 3, 1, 0, 0), utc(2026, 3, 2, 6, 0)
	want := []time.Time{utc(2026, 3, 1, 6, 0), utc(2026, 3, 1, 12, 0), utc(2026, 3, 1, 18, 0),
		utc(2026, 3, 2, 0, 0), utc(2026, 3, 2, 6, 0)}
	check := func(got, want []time.Time) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("got %d times %v, want %v", len(got), got, want)
		}
		for i := range got {
			if !got[i].Equal(want[i]) {
				t.Fatalf("time %d: got %v, want %v", i, got[i], want[i])
			}
		}
	}
	check(s.Between(from, to, 100), want)                           // (from, to]: from excluded, to included
	check(s.Between(from, to, 2), want[:2])                         // at most max
	check(s.Between(from, to.Add(-time.Nanosecond), 100), want[:4]) // to excluded when not reached
	check(s.Between(from, to, 0), nil)
	check(s.Between(to, from, 10), nil)
	check(mustParse(t, "0 0 30 2 *").Between(from, from.AddDate(20, 0, 0), 10), nil)
	// Years apart: each step looks five years ahead, not the whole window.
	check(mustParse(t, "0 0 29 2 *").Between(utc(2026, 1, 1, 0, 0), utc(2037, 1, 1, 0, 0), 10),
		[]time.Time{utc(2028, 2, 29, 0, 0), utc(2032, 2, 29, 0, 0), utc(2036, 2, 29, 0, 0)})
}
