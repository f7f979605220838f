package cron

import (
	"testing"
	"time"
)

// The transitions these tests rely on, as the embedded tz database has
// them. If a future database moves one, this test says so before the
// others fail in confusing ways.
func TestTransitionsAsAssumed(t *testing.T) {
	tests := []struct {
		zone       string
		at         time.Time // UTC instant of the change
		before     string    // wall clock one second before
		afterClock string    // wall clock at the change
	}{
		{"Europe/Berlin", utc(2026, 3, 29, 1, 0), "01:59:59 CET", "03:00:00 CEST"},
		{"Europe/Berlin", utc(2026, 10, 25, 1, 0), "02:59:59 CEST", "02:00:00 CET"},
		{"America/New_York", utc(2026, 3, 8, 7, 0), "01:59:59 EST", "03:00:00 EDT"},
		{"America/New_York", utc(2026, 11, 1, 6, 0), "01:59:59 EDT", "01:00:00 EST"},
		{"Australia/Lord_Howe", utc(2026, 10, 3, 15, 30), "01:59:59 +1030", "02:30:00 +11"},
		{"Australia/Lord_Howe", utc(2026, 4, 4, 15, 0), "01:59:59 +11", "01:30:00 +1030"},
		{"America/Havana", utc(2026, 3, 8, 5, 0), "23:59:59 CST", "01:00:00 CDT"},
		{"America/Havana", utc(2026, 11, 1, 5, 0), "00:59:59 CDT", "00:00:00 CST"},
		{"Pacific/Apia", utc(2011, 12, 30, 10, 0), "23:59:59 -10", "00:00:00 +14"},
	}
	for _, tc := range tests {
		loc, err := time.LoadLocation(tc.zone)
		if err != nil {
			t.Fatal(err)
		}
		if got := tc.at.Add(-time.Second).In(loc).Format("15:04:05 MST"); got != tc.before {
			t.Errorf("%s: 1s before %v reads %s, want %s", tc.zone, tc.at, got, tc.before)
		}
		if got := tc.at.In(loc).Format("15:04:05 MST"); got != tc.afterClock {
			t.Errorf("%s: %v reads %s, want %s", tc.zone, tc.at, got, tc.afterClock)
		}
	}
}

// TestDST lists, for schedules across each transition, every firing in a
// window, as UTC instants worked out from the transition times above and
// the rules in doc.go: a fixed-time schedule fires once at the end of a gap
// and only on the first pass of an overlap; a wildcard schedule (minute or
// hour field starting with "*") follows the wall clock, skipping the gap
// and firing on both passes.
func TestDST(t *testing.T) {
	tests := []struct {
		name     string
		expr     string
		from, to time.Time // (from, to], UTC
		want     []time.Time
	}{
		// Europe/Berlin, 2026-03-29: 02:00 CET becomes 03:00 CEST at 01:00Z.
		{"berlin spring fixed in gap", "CRON_TZ=Europe/Berlin 30 2 * * *", utc(2026, 3, 27, 12, 0), utc(2026, 3, 30, 12, 0),
			[]time.Time{utc(2026, 3, 28, 1, 30), utc(2026, 3, 29, 1, 0), utc(2026, 3, 30, 0, 30)}},
		{"berlin spring two fixed times in gap fire once", "CRON_TZ=Europe/Berlin 0,30 2 * * *", utc(2026, 3, 28, 12, 0), utc(2026, 3, 30, 1, 0),
			[]time.Time{utc(2026, 3, 29, 1, 0), utc(2026, 3, 30, 0, 0), utc(2026, 3, 30, 0, 30)}},
		{"berlin spring gap and 03:00 fire once", "CRON_TZ=Europe/Berlin 0 2,3 * * *", utc(2026, 3, 28, 12, 0), utc(2026, 3, 29, 12, 0),
			[]time.Time{utc(2026, 3, 29, 1, 0)}},
		{"berlin spring fixed outside gap", "CRON_TZ=Europe/Berlin 0 1,3 * * *", utc(2026, 3, 28, 23, 0), utc(2026, 3, 29, 12, 0),
			[]time.Time{utc(2026, 3, 29, 0, 0), utc(2026, 3, 29, 1, 0)}},
		{"berlin spring wildcard hour", "CRON_TZ=Europe/Berlin 30 * * * *", utc(2026, 3, 28, 23, 0), utc(2026, 3, 29, 2, 0),
			[]time.Time{utc(2026, 3, 28, 23, 30), utc(2026, 3, 29, 0, 30), utc(2026, 3, 29, 1, 30)}},
		{"berlin spring every 15 minutes", "CRON_TZ=Europe/Berlin */15 * * * *", utc(2026, 3, 29, 0, 30), utc(2026, 3, 29, 1, 15),
			[]time.Time{utc(2026, 3, 29, 0, 45), utc(2026, 3, 29, 1, 0), utc(2026, 3, 29, 1, 15)}},
		{"berlin spring wildcard minute in gap hour skipped", "CRON_TZ=Europe/Berlin */30 2 * * *", utc(2026, 3, 28, 0, 0), utc(2026, 3, 30, 12, 0),
			[]time.Time{utc(2026, 3, 28, 1, 0), utc(2026, 3, 28, 1, 30), utc(2026, 3, 30, 0, 0), utc(2026, 3, 30, 0, 30)}},

		// Europe/Berlin, 2026-10-25: 03:00 CEST becomes 02:00 CET at 01:00Z.
		{"berlin autumn fixed in overlap", "CRON_TZ=Europe/Berlin 30 2 * * *", utc(2026, 10, 24, 12, 0), utc(2026, 10, 26, 12, 0),
			[]time.Time{utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 1, 30)}},
		{"berlin autumn fixed from second pass", "CRON_TZ=Europe/Berlin 30 2 * * *", utc(2026, 10, 25, 1, 10), utc(2026, 10, 26, 12, 0),
			[]time.Time{utc(2026, 10, 26, 1, 30)}},
		{"berlin autumn fixed after overlap", "CRON_TZ=Europe/Berlin 0 3 * * *", utc(2026, 10, 24, 12, 0), utc(2026, 10, 25, 12, 0),
			[]time.Time{utc(2026, 10, 25, 2, 0)}},
		{"berlin autumn wildcard hour both passes", "CRON_TZ=Europe/Berlin 30 * * * *", utc(2026, 10, 24, 23, 0), utc(2026, 10, 25, 3, 0),
			[]time.Time{utc(2026, 10, 24, 23, 30), utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 1, 30), utc(2026, 10, 25, 2, 30)}},
		{"berlin autumn wildcard minute both passes", "CRON_TZ=Europe/Berlin */30 2 * * *", utc(2026, 10, 24, 12, 0), utc(2026, 10, 25, 12, 0),
			[]time.Time{utc(2026, 10, 25, 0, 0), utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 1, 0), utc(2026, 10, 25, 1, 30)}},
		{"berlin autumn daily", "CRON_TZ=Europe/Berlin @daily", utc(2026, 10, 23, 12, 0), utc(2026, 10, 26, 12, 0),
			[]time.Time{utc(2026, 10, 23, 22, 0), utc(2026, 10, 24, 22, 0), utc(2026, 10, 25, 23, 0)}},

		// America/New_York, 2026-03-08: 02:00 EST becomes 03:00 EDT at 07:00Z.
		{"new york spring fixed in gap", "CRON_TZ=America/New_York 30 2 * * *", utc(2026, 3, 7, 12, 0), utc(2026, 3, 9, 12, 0),
			[]time.Time{utc(2026, 3, 8, 7, 0), utc(2026, 3, 9, 6, 30)}},
		{"new york spring hourly", "CRON_TZ=America/New_York @hourly", utc(2026, 3, 8, 5, 30), utc(2026, 3, 8, 8, 0),
			[]time.Time{utc(2026, 3, 8, 6, 0), utc(2026, 3, 8, 7, 0), utc(2026, 3, 8, 8, 0)}},
		// 2026-11-01: 02:00 EDT becomes 01:00 EST at 06:00Z.
		{"new york autumn fixed in overlap", "CRON_TZ=America/New_York 30 1 * * *", utc(2026, 10, 31, 12, 0), utc(2026, 11, 2, 12, 0),
			[]time.Time{utc(2026, 11, 1, 5, 30), utc(2026, 11, 2, 6, 30)}},
		{"new york autumn hourly", "CRON_TZ=America/New_York 0 * * * *", utc(2026, 11, 1, 3, 30), utc(2026, 11, 1, 7, 0),
			[]time.Time{utc(2026, 11, 1, 4, 0), utc(2026, 11, 1, 5, 0), utc(2026, 11, 1, 6, 0), utc(2026, 11, 1, 7, 0)}},
		{"new york autumn fixed list in overlap", "CRON_TZ=America/New_York 0 0-3 1 11 *", utc(2026, 10, 31, 12, 0), utc(2026, 11, 2, 0, 0),
			[]time.Time{utc(2026, 11, 1, 4, 0), utc(2026, 11, 1, 5, 0), utc(2026, 11, 1, 7, 0), utc(2026, 11, 1, 8, 0)}},

		// Australia/Lord_Howe moves by half an hour: 02:00 becomes 02:30.
		{"lord howe spring", "CRON_TZ=Australia/Lord_Howe 15 2 * * *", utc(2026, 10, 2, 12, 0), utc(2026, 10, 4, 16, 0),
			[]time.Time{utc(2026, 10, 2, 15, 45), utc(2026, 10, 3, 15, 30), utc(2026, 10, 4, 15, 15)}},
		{"lord howe spring quarter hours", "CRON_TZ=Australia/Lord_Howe */15 * * * *", utc(2026, 10, 3, 15, 10), utc(2026, 10, 3, 15, 45),
			[]time.Time{utc(2026, 10, 3, 15, 15), utc(2026, 10, 3, 15, 30), utc(2026, 10, 3, 15, 45)}},
		// 02:00 becomes 01:30: 01:30-01:59 twice.
		{"lord howe autumn", "CRON_TZ=Australia/Lord_Howe 45 1 * * *", utc(2026, 4, 4, 0, 0), utc(2026, 4, 5, 16, 0),
			[]time.Time{utc(2026, 4, 4, 14, 45), utc(2026, 4, 5, 15, 15)}},
		{"lord howe autumn wildcard", "CRON_TZ=Australia/Lord_Howe 45 * * * *", utc(2026, 4, 4, 14, 0), utc(2026, 4, 4, 16, 14),
			[]time.Time{utc(2026, 4, 4, 14, 45), utc(2026, 4, 4, 15, 15)}},

		// America/Havana changes at midnight: midnight itself is missing.
		{"havana midnight gap", "CRON_TZ=America/Havana @daily", utc(2026, 3, 6, 12, 0), utc(2026, 3, 9, 12, 0),
			[]time.Time{utc(2026, 3, 7, 5, 0), utc(2026, 3, 8, 5, 0), utc(2026, 3, 9, 4, 0)}},
		{"havana midnight overlap", "CRON_TZ=America/Havana @daily", utc(2026, 10, 31, 0, 0), utc(2026, 11, 2, 12, 0),
			[]time.Time{utc(2026, 10, 31, 4, 0), utc(2026, 11, 1, 4, 0), utc(2026, 11, 2, 5, 0)}},
		{"havana weekly on the gap day", "CRON_TZ=America/Havana 0 0 * * sun", utc(2026, 3, 1, 12, 0), utc(2026, 3, 15, 12, 0),
			[]time.Time{utc(2026, 3, 8, 5, 0), utc(2026, 3, 15, 4, 0)}},

		// Samoa skipped 2011-12-30 entirely: a 24-hour gap.
		{"apia missing day", "CRON_TZ=Pacific/Apia 0 12 * * *", utc(2011, 12, 28, 12, 0), utc(2012, 1, 1, 0, 0),
			[]time.Time{utc(2011, 12, 28, 22, 0), utc(2011, 12, 29, 22, 0), utc(2011, 12, 30, 10, 0), utc(2011, 12, 30, 22, 0), utc(2011, 12, 31, 22, 0)}},
		{"apia missing day wildcard", "CRON_TZ=Pacific/Apia 0 */12 * * *", utc(2011, 12, 29, 0, 0), utc(2011, 12, 31, 0, 0),
			[]time.Time{utc(2011, 12, 29, 10, 0), utc(2011, 12, 29, 22, 0), utc(2011, 12, 30, 10, 0), utc(2011, 12, 30, 22, 0)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := mustParse(t, tc.expr)
			got := s.Between(tc.from, tc.to, 100)
			if len(got) != len(tc.want) {
				t.Fatalf("%s: got %v, want %v", tc.expr, utcs(got), tc.want)
			}
			for i := range got {
				if !got[i].Equal(tc.want[i]) {
					t.Fatalf("%s: got %v, want %v", tc.expr, utcs(got), tc.want)
				}
				if got[i].Location() != s.Location() {
					t.Fatalf("%s: firing %v is not in %v", tc.expr, got[i], s.Location())
				}
			}
		})
	}
}

func utcs(ts []time.Time) []time.Time {
	out := make([]time.Time, len(ts))
	for i, t := range ts {
		out[i] = t.UTC()
	}
	return out
}
