package cron_test

import (
	"fmt"
	"time"

	"github.com/mathcrm/mathcrm/internal/cron"
)

func ExampleParse() {
	for _, expr := range []string{"0 2 * * *", "*/15 9-17 * * mon-fri", "@weekly", "0 25 * * *", "0 0 * * mon-xyz"} {
		s, err := cron.Parse(expr)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(s, "next:", s.Next(time.Date(2026, 3, 6, 16, 50, 0, 0, time.UTC)).Format(time.RFC3339))
	}
	// Output:
	// 0 2 * * * next: 2026-03-07T02:00:00Z
	// */15 9-17 * * mon-fri next: 2026-03-06T17:00:00Z
	// @weekly next: 2026-03-08T00:00:00Z
	// cron: bad expression: hour field: "25": 25 is outside 0-23
	// cron: bad expression: day-of-week field: "mon-xyz": "xyz" is neither a number from 0 to 7 nor a name sun-sat
}

// A nightly schedule in Berlin across the spring-forward night, when 02:30
// does not exist: it runs once, at 03:00 CEST.
func ExampleSchedule_Next() {
	s, err := cron.Parse("CRON_TZ=Europe/Berlin 30 2 * * *")
	if err != nil {
		fmt.Println(err)
		return
	}
	t := time.Date(2026, 3, 27, 12, 0, 0, 0, time.UTC)
	for range 4 {
		t = s.Next(t)
		fmt.Println(t.Format("Mon 2006-01-02 15:04 MST"))
	}
	// Output:
	// Sat 2026-03-28 02:30 CET
	// Sun 2026-03-29 03:00 CEST
	// Mon 2026-03-30 02:30 CEST
	// Tue 2026-03-31 02:30 CEST
}

// The runs a schedule owed while the cluster was down, at most three.
func ExampleSchedule_Between() {
	s, err := cron.Parse("0 */6 * * *")
	if err != nil {
		fmt.Println(err)
		return
	}
	down := time.Date(2026, 5, 1, 4, 10, 0, 0, time.UTC)
	up := time.Date(2026, 5, 2, 9, 0, 0, 0, time.UTC)
	for _, t := range s.Between(down, up, 3) {
		fmt.Println(t.Format(time.RFC3339))
	}
	// Output:
	// 2026-05-01T06:00:00Z
	// 2026-05-01T12:00:00Z
	// 2026-05-01T18:00:00Z
}
