package cron

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// set returns a bit set holding vs.
func set(vs ...int) uint64 {
	var s uint64
	for _, v := range vs {
		s |= 1 << uint(v)
	}
	return s
}

// span returns a bit set holding lo, lo+step, … ≤ hi.
func span(lo, hi, step int) uint64 {
	var s uint64
	for v := lo; v <= hi; v += step {
		s |= 1 << uint(v)
	}
	return s
}

func TestParseFields(t *testing.T) {
	all := struct{ min, hour, dom, mon, dow uint64 }{span(0, 59, 1), span(0, 23, 1), span(1, 31, 1), span(1, 12, 1), span(0, 6, 1)}
	tests := []struct {
		expr                     string
		min, hour, dom, mon, dow uint64
		domStar, dowStar, wild   bool
	}{
		{"* * * * *", all.min, all.hour, all.dom, all.mon, all.dow, true, true, true},
		{"0 2 * * *", set(0), set(2), all.dom, all.mon, all.dow, true, true, false},
		{"*/15 * * * *", set(0, 15, 30, 45), all.hour, all.dom, all.mon, all.dow, true, true, true},
		{"59 23 31 12 6", set(59), set(23), set(31), set(12), set(6), false, false, false},
		{"0-59 0-23 1-31 1-12 0-6", all.min, all.hour, all.dom, all.mon, all.dow, false, false, false},
		{"1-5/2 0 1 1 1", set(1, 3, 5), set(0), set(1), set(1), set(1), false, false, false},
		{"0,30 9-17/4 1,15 jan-mar,DEC mon-fri", set(0, 30), set(9, 13, 17), set(1, 15), set(1, 2, 3, 12), span(1, 5, 1), false, false, false},
		{"0 0 * * 7", set(0), set(0), all.dom, all.mon, set(0), true, false, false},
		{"0 0 * * 5-7", set(0), set(0), all.dom, all.mon, set(0, 5, 6), true, false, false},
		{"0 0 * * 0-7/7", set(0), set(0), all.dom, all.mon, set(0), true, false, false},
		{"0 0 * * SUN,sat", set(0), set(0), all.dom, all.mon, set(0, 6), true, false, false},
		{"0 0 */2 * 1", set(0), set(0), span(1, 31, 2), all.mon, set(1), true, false, false},
		{"0 0 1-31/10 * *", set(0), set(0), set(1, 11, 21, 31), all.mon, all.dow, false, true, false},
		{"0 */7 * Feb-apr/2 *", set(0), set(0, 7, 14, 21), all.dom, set(2, 4), all.dow, true, true, true},
		{"*/60 * * * *", set(0), all.hour, all.dom, all.mon, all.dow, true, true, true},
		{"00 02 01 01 00", set(0), set(2), set(1), set(1), set(0), false, false, false},
		{"5,5,5 1-3,2-4 * * *", set(5), set(1, 2, 3, 4), all.dom, all.mon, all.dow, true, true, false},
		{"@yearly", set(0), set(0), set(1), set(1), all.dow, false, true, false},
		{"@annually", set(0), set(0), set(1), set(1), all.dow, false, true, false},
		{"@monthly", set(0), set(0), set(1), all.mon, all.dow, false, true, false},
		{"@weekly", set(0), set(0), all.dom, all.mon, set(0), true, false, false},
		{"@daily", set(0), set(0), all.dom, all.mon, all.dow, true, true, false},
		{"@midnight", set(0), set(0), all.dom, all.mon, all.dow, true, true, false},
		{"@HOURLY", set(0), all.hour, all.dom, all.mon, all.dow, true, true, true},
	}
	for _, tc := range tests {
		s, err := Parse(tc.expr)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.expr, err)
			continue
		}
		got := [5]uint64{s.minute, s.hour, s.dom, s.month, s.dow}
		want := [5]uint64{tc.min, tc.hour, tc.dom, tc.mon, tc.dow}
		for i, name := range []string{"minute", "hour", "day-of-month", "month", "day-of-week"} {
			if got[i] != want[i] {
				t.Errorf("Parse(%q) %s = %b, want %b", tc.expr, name, got[i], want[i])
			}
		}
		if s.domStar != tc.domStar || s.dowStar != tc.dowStar || s.wild != tc.wild {
			t.Errorf("Parse(%q) domStar, dowStar, wild = %v %v %v, want %v %v %v",
				tc.expr, s.domStar, s.dowStar, s.wild, tc.domStar, tc.dowStar, tc.wild)
		}
		if s.Location() != time.UTC {
			t.Errorf("Parse(%q) location %v, want UTC", tc.expr, s.Location())
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		expr string
		want []string // substrings of the message
		zone bool     // ErrZone rather than ErrSyntax
	}{
		{"", []string{"empty expression"}, false},
		{"   ", []string{"empty expression"}, false},
		{"0 2 * *", []string{`"0 2 * *" has 4 fields`}, false},
		{"0 2 * * * *", []string{"6 fields"}, false},
		{"60 * * * *", []string{"minute field", `"60"`, "outside 0-59"}, false},
		{"0 24 * * *", []string{"hour field", `"24"`, "outside 0-23"}, false},
		{"0 0 0 * *", []string{"day-of-month field", `"0"`, "outside 1-31"}, false},
		{"0 0 32 * *", []string{"day-of-month field", `"32"`}, false},
		{"0 0 * 13 *", []string{"month field", `"13"`}, false},
		{"0 0 * 0 *", []string{"month field", `"0"`}, false},
		{"0 0 * * 8", []string{"day-of-week field", `"8"`, "outside 0-7"}, false},
		{"0 0 * * mon-xyz", []string{"day-of-week field", `"mon-xyz"`, `"xyz" is neither`}, false},
		{"0 0 * janu *", []string{"month field", `"janu"`}, false},
		{"0 0 * * monday", []string{"day-of-week field", `"monday"`}, false},
		{"x * * * *", []string{"minute field", `"x"`, "not a number"}, false},
		{"-1 * * * *", []string{"minute field", `"-1"`, "missing value"}, false},
		{"+1 * * * *", []string{"minute field", `"+1"`}, false},
		{"1- * * * *", []string{"minute field", `"1-"`, "missing value"}, false},
		{"1-2-3 * * * *", []string{"minute field", `"1-2-3"`}, false},
		{"5-1 * * * *", []string{"minute field", `"5-1"`, "starts at 5, after its end 1"}, false},
		{"0 0 * * sat-sun", []string{"day-of-week field", `"sat-sun"`, "starts at 6"}, false},
		{"5/15 * * * *", []string{"minute field", `"5/15"`, "write 5-59/15"}, false},
		{"*/0 * * * *", []string{"minute field", `"*/0"`, "step"}, false},
		{"*/61 * * * *", []string{"minute field", `"*/61"`, "from 1 to 60"}, false},
		{"*/x * * * *", []string{"minute field", `"*/x"`}, false},
		{"*/ * * * *", []string{"minute field", `"*/"`}, false},
		{"1-5/2/3 * * * *", []string{"minute field", `"1-5/2/3"`}, false},
		{"1,,2 * * * *", []string{"minute field", `""`, "empty list item"}, false},
		{"0 1, * * *", []string{"hour field", "empty list item"}, false},
		{"? * * * *", []string{"minute field", `"?"`}, false},
		{"0 0 L * *", []string{"day-of-month field", `"L"`}, false},
		{"0 0 * * 1#2", []string{"day-of-week field", `"1#2"`}, false},
		{"** * * * *", []string{"minute field", `"**"`}, false},
		{"99999999999999999999 * * * *", []string{"minute field", "outside 0-59"}, false},
		{"@reboot", []string{`unknown descriptor "@reboot"`}, false},
		{"@every 5m", []string{"2 fields"}, false},
		{"@daily extra", []string{"2 fields"}, false},
		{"CRON_TZ=Europe/Berlin", []string{"no fields after CRON_TZ=Europe/Berlin"}, false},
		{"CRON_TZ=Mars/Olympus 0 2 * * *", []string{`"Mars/Olympus"`}, true},
		{"CRON_TZ=Local 0 2 * * *", []string{`"Local"`}, true},
		{"CRON_TZ= 0 2 * * *", []string{`""`}, true},
		{"CRON_TZ=../../etc/passwd 0 2 * * *", []string{"passwd"}, true},
		{"0 2 * * * CRON_TZ=UTC", []string{"6 fields"}, false},
		{"TZ=UTC 0 2 * * *", []string{"6 fields"}, false},
	}
	for _, tc := range tests {
		s, err := Parse(tc.expr)
		if err == nil {
			t.Errorf("Parse(%q) = %v, want an error", tc.expr, s)
			continue
		}
		sentinel := ErrSyntax
		if tc.zone {
			sentinel = ErrZone
		}
		if !errors.Is(err, sentinel) {
			t.Errorf("Parse(%q) error %v does not wrap %v", tc.expr, err, sentinel)
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("Parse(%q) error %q does not mention %q", tc.expr, err, w)
			}
		}
	}
}

func TestStringCanonical(t *testing.T) {
	tests := []struct{ in, want string }{
		{"0 2 * * *", "0 2 * * *"},
		{"  0\t2  *  * \n *  ", "0 2 * * *"},
		{"0 9 * * MON-fri", "0 9 * * MON-fri"},
		{"@daily", "@daily"},
		{"CRON_TZ=Europe/Paris   0 2 * * *", "CRON_TZ=Europe/Paris 0 2 * * *"},
		{"CRON_TZ=UTC @hourly", "CRON_TZ=UTC @hourly"},
	}
	for _, tc := range tests {
		s, err := Parse(tc.in)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tc.in, err)
		}
		if got := s.String(); got != tc.want {
			t.Errorf("Parse(%q).String() = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestZone(t *testing.T) {
	s, err := Parse("CRON_TZ=Europe/Paris 0 2 * * *")
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Location().String(); got != "Europe/Paris" {
		t.Fatalf("location %q, want Europe/Paris", got)
	}
	// 02:00 in Paris in January is 01:00 UTC (CET, +01:00).
	got := s.Next(time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC))
	if want := time.Date(2026, 1, 11, 1, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Fatalf("Next = %v, want %v", got, want)
	}
	if got.Location() != s.Location() {
		t.Fatalf("Next returned a time in %v, want %v", got.Location(), s.Location())
	}
}

func TestJSON(t *testing.T) {
	type entry struct {
		Name     string    `json:"name"`
		Schedule *Schedule `json:"schedule"`
	}
	s, err := Parse("CRON_TZ=America/New_York  30 1 * * mon-fri")
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(entry{"nightly", s})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"name":"nightly","schedule":"CRON_TZ=America/New_York 30 1 * * mon-fri"}`; string(b) != want {
		t.Fatalf("JSON %s, want %s", b, want)
	}
	var back entry
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Schedule.String() != s.String() || !sameSchedule(back.Schedule, s) {
		t.Fatalf("round trip gave %v, want %v", back.Schedule, s)
	}
	err = json.Unmarshal([]byte(`{"schedule":"0 25 * * *"}`), &back)
	if !errors.Is(err, ErrSyntax) || !strings.Contains(err.Error(), "hour field") {
		t.Fatalf("bad schedule in JSON: error %v, want ErrSyntax naming the hour field", err)
	}
}

// sameSchedule compares everything Parse derives from the text.
func sameSchedule(a, b *Schedule) bool {
	return a.src == b.src && a.zone == b.zone && a.Location().String() == b.Location().String() &&
		a.minute == b.minute && a.hour == b.hour && a.dom == b.dom && a.month == b.month && a.dow == b.dow &&
		a.domStar == b.domStar && a.dowStar == b.dowStar && a.wild == b.wild
}
