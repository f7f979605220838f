package partition

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// TimeFormatUnix is the TransactionOptions.TimeFormat of integer unix
// seconds.
const TimeFormatUnix = "unix"

// autoTimeLayouts are the layouts TimeFormat "" chooses from, in the order
// the documentation lists them.
var autoTimeLayouts = []string{
	time.RFC3339,
	"2006-01-02 15:04:05",
	"2006-01-02T15:04:05",
	"2006-01-02 15:04",
	"2006-01-02",
	TimeFormatUnix,
}

// Unix seconds are accepted for years 0000 to 9999, as for text layouts.
const (
	minUnix = -62167219200 // 0000-01-01T00:00:00Z
	maxUnix = 253402300799 // 9999-12-31T23:59:59Z
)

// timeParser turns timestamp fields into unix seconds. With no layout it
// takes the layout of the first value it parses and holds every later
// value to it.
type timeParser struct {
	layout string
	loc    *time.Location
	picked int // line the layout was detected on; 0 when it was given
}

func newTimeParser(layout string, loc *time.Location) *timeParser {
	if loc == nil {
		loc = time.UTC
	}
	return &timeParser{layout: layout, loc: loc}
}

// parse returns the unix seconds (rounded down) of field, which is on line.
func (p *timeParser) parse(field string, line int) (int64, error) {
	s := strings.TrimSpace(field)
	if s == "" {
		return 0, ErrMissingValue
	}
	if p.layout == "" {
		if err := p.detect(s, line); err != nil {
			return 0, err
		}
	}
	t, err := parseTime(p.layout, s, p.loc)
	if err != nil {
		if p.picked > 0 {
			return 0, fmt.Errorf("%w: %s does not match layout %q (detected on line %d)", ErrBadTime, quoteField(field), p.layout, p.picked)
		}
		return 0, fmt.Errorf("%w: %s does not match layout %q", ErrBadTime, quoteField(field), p.layout)
	}
	return t, nil
}

// detect picks the one automatic layout s matches.
func (p *timeParser) detect(s string, line int) error {
	var match []string
	for _, layout := range autoTimeLayouts {
		if _, err := parseTime(layout, s, p.loc); err == nil {
			match = append(match, layout)
		}
	}
	if len(match) == 1 && match[0] == TimeFormatUnix && looksLikeDate(s) {
		match = append(match, "20060102")
	}
	switch len(match) {
	case 0:
		return fmt.Errorf("%w: %s matches none of the layouts %q; set the time format", ErrBadTime, quoteField(s), autoTimeLayouts)
	case 1:
		p.layout, p.picked = match[0], line
		return nil
	}
	return fmt.Errorf("%w: %s is ambiguous: it reads as %q; set the time format", ErrBadTime, quoteField(s), match)
}

// looksLikeDate reports eight digits that form a date YYYYMMDD between
// the years 1900 and 2199: as unix seconds they would fall in 1970.
func looksLikeDate(s string) bool {
	if len(s) != 8 {
		return false
	}
	t, err := time.Parse("20060102", s)
	return err == nil && t.Year() >= 1900 && t.Year() < 2200
}

// parseTime parses s with layout (or as unix seconds) in loc.
func parseTime(layout, s string, loc *time.Location) (int64, error) {
	if layout == TimeFormatUnix {
		sec, err := strconv.ParseInt(s, 10, 64)
		if err != nil || sec < minUnix || sec > maxUnix {
			return 0, fmt.Errorf("not unix seconds")
		}
		return sec, nil
	}
	t, err := time.ParseInLocation(layout, s, loc)
	if err != nil {
		return 0, err
	}
	return t.Unix(), nil
}
