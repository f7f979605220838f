package cron

import (
	"fmt"
	"strings"
	"time"
)

// field describes one of the five fields.
type field struct {
	name     string
	min, max int
	names    []string // names[i] stands for min+i; nil when names are not allowed
}

var (
	minuteField = field{name: "minute", min: 0, max: 59}
	hourField   = field{name: "hour", min: 0, max: 23}
	domField    = field{name: "day-of-month", min: 1, max: 31}
	monthField  = field{name: "month", min: 1, max: 12, names: []string{
		"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}}
	// dowField accepts 7 for Sunday; Parse folds it onto 0.
	dowField = field{name: "day-of-week", min: 0, max: 7, names: []string{
		"sun", "mon", "tue", "wed", "thu", "fri", "sat"}}
)

// descriptors maps each @name to its five fields.
var descriptors = map[string]string{
	"@yearly":   "0 0 1 1 *",
	"@annually": "0 0 1 1 *",
	"@monthly":  "0 0 1 * *",
	"@weekly":   "0 0 * * 0",
	"@daily":    "0 0 * * *",
	"@midnight": "0 0 * * *",
	"@hourly":   "0 * * * *",
}

const tzPrefix = "CRON_TZ="

// Parse parses a cron expression (see the package documentation for the
// syntax). Errors wrap ErrSyntax or ErrZone and name the field and the token
// at fault.
func Parse(expr string) (*Schedule, error) {
	words := strings.Fields(expr)
	if len(words) == 0 {
		return nil, syntaxErr("empty expression")
	}
	s := &Schedule{loc: time.UTC}
	if zone, ok := strings.CutPrefix(words[0], tzPrefix); ok {
		loc, err := loadZone(zone)
		if err != nil {
			return nil, err
		}
		s.zone, s.loc = zone, loc
		words = words[1:]
		if len(words) == 0 {
			return nil, syntaxErr("no fields after %s%s", tzPrefix, zone)
		}
	}
	s.src = strings.Join(words, " ")
	fields := words
	if len(words) == 1 && strings.HasPrefix(words[0], "@") {
		d, ok := descriptors[strings.ToLower(words[0])]
		if !ok {
			return nil, syntaxErr("unknown descriptor %q (want @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly)", words[0])
		}
		fields = strings.Fields(d)
	} else if len(words) != 5 {
		return nil, syntaxErr("%q has %d fields, want 5 (minute hour day-of-month month day-of-week) or one @descriptor", strings.Join(words, " "), len(words))
	}
	var err error
	if s.minute, err = parseField(&minuteField, fields[0]); err != nil {
		return nil, err
	}
	if s.hour, err = parseField(&hourField, fields[1]); err != nil {
		return nil, err
	}
	if s.dom, err = parseField(&domField, fields[2]); err != nil {
		return nil, err
	}
	if s.month, err = parseField(&monthField, fields[3]); err != nil {
		return nil, err
	}
	if s.dow, err = parseField(&dowField, fields[4]); err != nil {
		return nil, err
	}
	if s.dow&(1<<7) != 0 {
		s.dow = s.dow&^(1<<7) | 1
	}
	// Vixie cron and cronie decide these from the first character of the
	// field text, not from the set it expands to: "*/2" counts as a star.
	s.wild = fields[0][0] == '*' || fields[1][0] == '*'
	s.domStar = fields[2][0] == '*'
	s.dowStar = fields[4][0] == '*'
	return s, nil
}

// parseField returns the set of values an item list stands for, one bit per
// value.
func parseField(f *field, text string) (uint64, error) {
	var set uint64
	for _, item := range strings.Split(text, ",") {
		bits, err := parseItem(f, item)
		if err != nil {
			return 0, err
		}
		set |= bits
	}
	return set, nil
}

func parseItem(f *field, item string) (uint64, error) {
	if item == "" {
		return 0, fieldErr(f, item, "empty list item")
	}
	span, stepText, hasStep := strings.Cut(item, "/")
	var lo, hi int
	if span == "*" {
		lo, hi = f.min, f.max
	} else {
		a, b, isRange := strings.Cut(span, "-")
		var err error
		if lo, err = value(f, item, a); err != nil {
			return 0, err
		}
		hi = lo
		if isRange {
			if hi, err = value(f, item, b); err != nil {
				return 0, err
			}
			if lo > hi {
				return 0, fieldErr(f, item, "range starts at %d, after its end %d", lo, hi)
			}
		} else if hasStep {
			return 0, fieldErr(f, item, "a step needs a range or *: write %d-%d/%s", lo, f.max, stepText)
		}
	}
	step := 1
	if hasStep {
		n, ok := number(stepText)
		if !ok || n < 1 || n > f.max-f.min+1 {
			return 0, fieldErr(f, item, "step %q is not a number from 1 to %d", stepText, f.max-f.min+1)
		}
		step = n
	}
	var set uint64
	for v := lo; v <= hi; v += step {
		set |= 1 << uint(v)
	}
	return set, nil
}

// value reads one value of field f: a number in range, or a name.
func value(f *field, item, text string) (int, error) {
	if n, ok := number(text); ok {
		if n < f.min || n > f.max {
			return 0, fieldErr(f, item, "%s is outside %d-%d", text, f.min, f.max)
		}
		return n, nil
	}
	for i, name := range f.names {
		if strings.EqualFold(text, name) {
			return f.min + i, nil
		}
	}
	if text == "" {
		return 0, fieldErr(f, item, "missing value")
	}
	if f.names != nil {
		return 0, fieldErr(f, item, "%q is neither a number from %d to %d nor a name %s-%s", text, f.min, f.max, f.names[0], f.names[len(f.names)-1])
	}
	return 0, fieldErr(f, item, "%q is not a number from %d to %d", text, f.min, f.max)
}

// number reads unsigned decimal digits. strconv.Atoi would also take a sign.
// Values beyond 9999 read as 10000: every field rejects them anyway.
func number(text string) (int, bool) {
	if text == "" {
		return 0, false
	}
	n := 0
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = min(n*10+int(c-'0'), 10000)
	}
	return n, true
}

// loadZone loads a CRON_TZ zone. "Local" is refused: it would mean a
// different zone on each coordinator.
func loadZone(name string) (*time.Location, error) {
	if name == "" || name == "Local" {
		return nil, fmt.Errorf("%w: %q (want an IANA name such as Europe/Paris, or UTC)", ErrZone, name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("%w: %q: %v", ErrZone, name, err)
	}
	return loc, nil
}
