package cron

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// spec is a random schedule built from value sets, with its cron text. The
// sets come from the generator, not from the parser, so the oracle below is
// independent of Parse and of Next.
type spec struct {
	text                     string
	min, hour, dom, mon, dow [64]bool
	domStar, dowStar, wild   bool
	loc                      *time.Location
}

var monthNames = []string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}
var dayNames = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// genField renders a random list for a field with values lo..hi into text
// and marks its values in set. Day of week is generated over 0-7 and 7
// marks Sunday. dense biases towards wide sets, so that firings are close
// together and the brute-force check stays cheap.
func genField(r *rand.Rand, lo, hi int, names []string, dense bool, set *[64]bool) string {
	mark := func(a, b, step int) {
		for v := a; v <= b; v += step {
			if v == 7 && names != nil && len(names) == 7 {
				set[0] = true
			} else {
				set[v] = true
			}
		}
	}
	name := func(v int) string {
		if names != nil && r.IntN(3) == 0 {
			i := v - lo
			if len(names) == 7 && v == 7 {
				return "7" // no name for 7
			}
			if r.IntN(2) == 0 {
				return strings.ToUpper(names[i])
			}
			return names[i]
		}
		return fmt.Sprint(v)
	}
	if dense && r.IntN(2) == 0 || r.IntN(4) == 0 {
		if r.IntN(2) == 0 {
			mark(lo, hi, 1)
			return "*"
		}
		step := 1 + r.IntN(max(1, (hi-lo+1)/2))
		mark(lo, hi, step)
		return fmt.Sprintf("*/%d", step)
	}
	var items []string
	for range 1 + r.IntN(3) {
		a := lo + r.IntN(hi-lo+1)
		switch r.IntN(3) {
		case 0:
			mark(a, a, 1)
			items = append(items, name(a))
		case 1:
			b := a + r.IntN(hi-a+1)
			mark(a, b, 1)
			items = append(items, name(a)+"-"+name(b))
		default:
			b := a + r.IntN(hi-a+1)
			step := 1 + r.IntN(hi-lo+1)
			mark(a, b, step)
			items = append(items, fmt.Sprintf("%s-%s/%d", name(a), name(b), step))
		}
	}
	return strings.Join(items, ",")
}

// genSpec returns a random schedule in loc. When focus is a wall-clock hour
// (not -1), the schedule is a fixed-time one firing in the hours around it,
// so that the gap and overlap rules are exercised at a transition.
func genSpec(r *rand.Rand, loc *time.Location, focus int) *spec {
	s := &spec{loc: loc}
	dense := r.IntN(3) > 0
	f := []string{
		genField(r, 0, 59, nil, dense, &s.min),
		genField(r, 0, 23, nil, dense, &s.hour),
		genField(r, 1, 31, nil, dense, &s.dom),
		genField(r, 1, 12, monthNames, dense, &s.mon),
		genField(r, 0, 7, dayNames, dense, &s.dow),
	}
	if focus >= 0 {
		s.min, s.hour = [64]bool{}, [64]bool{}
		for f[0] = "*"; f[0][0] == '*'; {
			clear(s.min[:])
			f[0] = genField(r, 0, 59, nil, false, &s.min)
		}
		lo, hi := max(0, focus-1-r.IntN(2)), min(23, focus+r.IntN(2))
		for h := lo; h <= hi; h++ {
			s.hour[h] = true
		}
		f[1] = fmt.Sprintf("%d-%d", lo, hi)
	}
	s.wild = f[0][0] == '*' || f[1][0] == '*'
	s.domStar, s.dowStar = f[2][0] == '*', f[4][0] == '*'
	s.text = strings.Join(f, " ")
	if loc != time.UTC {
		s.text = "CRON_TZ=" + loc.String() + " " + s.text
	}
	return s
}

// matchWall reports whether a wall-clock reading matches the fields.
func (s *spec) matchWall(w time.Time) bool {
	dom, dow := s.dom[w.Day()], s.dow[w.Weekday()]
	day := dom || dow
	if s.domStar || s.dowStar {
		day = dom && dow
	}
	return s.min[w.Minute()] && s.hour[w.Hour()] && s.mon[w.Month()] && day
}

func sameWall(a, b time.Time) bool {
	return a.Year() == b.Year() && a.YearDay() == b.YearDay() && a.Hour() == b.Hour() && a.Minute() == b.Minute()
}

// fires is the rule of doc.go read literally, for an instant on a whole
// wall-clock minute (all zones used here have whole-minute offsets).
func (s *spec) fires(t time.Time) bool {
	w := t.In(s.loc)
	if s.matchWall(w) {
		if s.wild {
			return true
		}
		repeated := false
		for _, d := range []time.Duration{15, 30, 45, 60, 90, 120, 180} {
			if sameWall(t.Add(-d*time.Minute).In(s.loc), w) {
				repeated = true
			}
		}
		if !repeated {
			return true
		}
	}
	if s.wild {
		return false
	}
	// A gap just before t: wall-clock minutes between the reading a minute
	// ago and now that never happened.
	prev := t.Add(-time.Minute).In(s.loc)
	pw := time.Date(prev.Year(), prev.Month(), prev.Day(), prev.Hour(), prev.Minute(), 0, 0, time.UTC)
	nw := time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), 0, 0, time.UTC)
	for c := pw.Add(time.Minute); c.Before(nw); c = c.Add(time.Minute) {
		if s.matchWall(c) {
			return true
		}
	}
	return false
}

// transitions returns the zone changes of loc between from and to.
func transitions(loc *time.Location, from, to time.Time) []time.Time {
	var out []time.Time
	for t := from; ; {
		_, end := t.In(loc).ZoneBounds()
		if end.IsZero() || end.After(to) {
			return out
		}
		out = append(out, end)
		t = end
	}
}

var propertyZones = []string{"UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe",
	"America/Havana", "America/Santiago", "Asia/Kolkata", "Europe/London", "Pacific/Apia"}

// randomAfter picks a start time, half the time within a day before one of
// the zone's transitions; it returns that transition's wall-clock hour
// (before the change), or -1.
func randomAfter(r *rand.Rand, loc *time.Location) (time.Time, int) {
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	if loc.String() == "Pacific/Apia" {
		base = time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	trunc := time.Duration(1+r.IntN(60)) * time.Second
	if tr := transitions(loc, base, base.AddDate(4, 0, 0)); len(tr) > 0 && r.IntN(2) == 0 {
		t := tr[r.IntN(len(tr))]
		return t.Add(-time.Duration(r.Int64N(int64(24 * time.Hour)))).Truncate(trunc), t.Add(-time.Minute).In(loc).Hour()
	}
	return base.Add(time.Duration(r.Int64N(int64(4 * 365 * 24 * time.Hour)))).Truncate(trunc), -1
}

// TestNextProperties: for random schedules in zones with and without
// daylight saving, Next strictly increases, every result fires by the
// oracle, and a minute-by-minute scan from the start finds no firing before
// the first result (up to a day).
func TestNextProperties(t *testing.T) {
	n := 400
	if testing.Short() {
		n = 60
	}
	r := rand.New(rand.NewPCG(20260329, 1))
	zones := make([]*time.Location, len(propertyZones))
	for i, z := range propertyZones {
		var err error
		if zones[i], err = time.LoadLocation(z); err != nil {
			t.Fatal(err)
		}
	}
	fired := 0
	for i := range n {
		loc := zones[i%len(zones)]
		after, focus := randomAfter(r, loc)
		if r.IntN(2) == 0 {
			focus = -1
		}
		sp := genSpec(r, loc, focus)
		s, err := Parse(sp.text)
		if err != nil {
			t.Fatalf("Parse(%q): %v", sp.text, err)
		}
		// No firing is skipped before the first result.
		first := s.Next(after)
		scanEnd := after.Add(24 * time.Hour)
		if !first.IsZero() && first.Before(scanEnd) {
			scanEnd = first
		}
		for m := after.Truncate(time.Minute).Add(time.Minute); m.Before(scanEnd); m = m.Add(time.Minute) {
			if sp.fires(m) {
				t.Fatalf("%q: Next(%v) = %v, but it fires at %v", sp.text, after, first, m)
			}
		}
		prev := after
		for t2 := first; !t2.IsZero() && fired < 1e6; t2 = s.Next(t2) {
			if !t2.After(prev) {
				t.Fatalf("%q: Next(%v) = %v, not after it", sp.text, prev, t2)
			}
			if t2.Location().String() != loc.String() {
				t.Fatalf("%q: Next returned %v in %v, want %v", sp.text, t2, t2.Location(), loc)
			}
			if !sp.fires(t2) {
				t.Fatalf("%q: Next(%v) = %v (%v), which the fields do not select", sp.text, prev, t2, t2.UTC())
			}
			if t2.Sub(prev) < 24*time.Hour { // nothing skipped in between
				for m := prev.Truncate(time.Minute).Add(time.Minute); m.Before(t2); m = m.Add(time.Minute) {
					if sp.fires(m) {
						t.Fatalf("%q: Next(%v) = %v, but it fires at %v", sp.text, prev, t2, m)
					}
				}
			}
			fired++
			prev = t2
			if t2.Sub(after) > 5*24*time.Hour {
				break
			}
		}
	}
	if fired < n {
		t.Fatalf("only %d firings over %d schedules: the generator is too sparse to test much", fired, n)
	}
	t.Logf("%d schedules, %d firings checked", n, fired)
}
