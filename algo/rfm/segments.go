package rfm

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxScore is the best score; scores run from 1 to MaxScore.
const MaxScore = 5

// NumCombos is the number of (r, f, m) score combinations a SegmentMap
// must name.
const NumCombos = MaxScore * MaxScore * MaxScore

// Limits of a SegmentMap.
const (
	MaxSegmentRules   = NumCombos // rules in one map: more could never be first to match
	MaxSegmentNameLen = 64        // bytes in one segment name
)

// SegmentRule names the customers whose three scores are each within a
// range, bounds included.
type SegmentRule struct {
	Name string `json:"name"`
	RMin int    `json:"r_min"`
	RMax int    `json:"r_max"`
	FMin int    `json:"f_min"`
	FMax int    `json:"f_max"`
	MMin int    `json:"m_min"`
	MMax int    `json:"m_max"`
}

// Matches reports whether the scores are within r's ranges.
func (r *SegmentRule) Matches(rs, fs, ms int) bool {
	return r.RMin <= rs && rs <= r.RMax && r.FMin <= fs && fs <= r.FMax && r.MMin <= ms && ms <= r.MMax
}

// SegmentMap names every combination of scores: a customer's segment is
// the name of the first rule its (r_score, f_score, m_score) matches.
// Rules may overlap; every one of the NumCombos combinations must match at
// least one rule.
type SegmentMap []SegmentRule

// segmentColumns are the columns of a segment map file, in the order
// StandardSegments is written.
var segmentColumns = []string{"segment", "r_min", "r_max", "f_min", "f_max", "m_min", "m_max"}

// StandardSegments returns the standard map of the segment column: the
// widely used grid of eleven named segments on the R and F scores (the M
// score does not matter), rows r_score, columns f_score:
//
//	     f=1              f=2                 f=3                 f=4              f=5
//	r=5  New              Potential loyalist  Potential loyalist  Champions        Champions
//	r=4  Promising        Potential loyalist  Potential loyalist  Loyal            Loyal
//	r=3  About to sleep   About to sleep      Needs attention     Loyal            Loyal
//	r=2  Hibernating      Hibernating         At risk             At risk          Can't lose them
//	r=1  Lost             Lost                At risk             At risk          Can't lose them
//
// Its rules are disjoint and their order is that of the names, which is
// also the order of the column's dictionary.
func StandardSegments() SegmentMap {
	rule := func(name string, rMin, rMax, fMin, fMax int) SegmentRule {
		return SegmentRule{Name: name, RMin: rMin, RMax: rMax, FMin: fMin, FMax: fMax, MMin: 1, MMax: MaxScore}
	}
	return SegmentMap{
		rule("Champions", 5, 5, 4, 5),
		rule("Loyal", 3, 4, 4, 5),
		rule("Potential loyalist", 4, 5, 2, 3),
		rule("New", 5, 5, 1, 1),
		rule("Promising", 4, 4, 1, 1),
		rule("Needs attention", 3, 3, 3, 3),
		rule("About to sleep", 3, 3, 1, 2),
		rule("At risk", 1, 2, 3, 4),
		rule("Can't lose them", 1, 2, 5, 5),
		rule("Hibernating", 2, 2, 1, 2),
		rule("Lost", 1, 1, 1, 2),
	}
}

// Names returns the distinct segment names in the order of their first
// rule: the dictionary of the segment column, a name's code being its
// index.
func (m SegmentMap) Names() []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range m {
		if !seen[r.Name] {
			seen[r.Name] = true
			out = append(out, r.Name)
		}
	}
	return out
}

// Segment returns the name of the first rule the scores match, and false
// when none does or a score is out of 1..MaxScore.
func (m SegmentMap) Segment(r, f, s int) (string, bool) {
	for i := range m {
		if m[i].Matches(r, f, s) {
			return m[i].Name, true
		}
	}
	return "", false
}

// Validate reports the first thing wrong with m: an empty map, too many
// rules, a bad name or range (naming the rule, 1-based, and its field),
// or a combination of scores no rule matches.
func (m SegmentMap) Validate() error {
	if len(m) == 0 {
		return errorf(ErrSegments, "the map has no rules")
	}
	if len(m) > MaxSegmentRules {
		return errorf(ErrSegments, "the map has %d rules, at most %d", len(m), MaxSegmentRules)
	}
	for i := range m {
		if col, msg := m[i].check(); msg != "" {
			return errorf(ErrSegments, "rule %d, %s: %s", i+1, col, msg)
		}
	}
	if r, f, s, n := m.uncovered(); n > 0 {
		return errorf(ErrSegments, "%s", uncoveredMsg(r, f, s, n))
	}
	return nil
}

// check reports the first bad field of r by its column name, and why.
func (r *SegmentRule) check() (col, msg string) {
	switch {
	case r.Name == "":
		return "segment", "the name is empty"
	case !utf8.ValidString(r.Name):
		return "segment", fmt.Sprintf("name %q is not valid UTF-8", r.Name)
	case len(r.Name) > MaxSegmentNameLen:
		return "segment", fmt.Sprintf("name %q is longer than %d bytes", r.Name, MaxSegmentNameLen)
	case strings.TrimSpace(r.Name) != r.Name:
		return "segment", fmt.Sprintf("name %q starts or ends with a space", r.Name)
	case strings.ContainsAny(r.Name, "\r\n"):
		return "segment", fmt.Sprintf("name %q holds a line break", r.Name)
	}
	fields := []struct {
		name string
		v    int
	}{{"r_min", r.RMin}, {"r_max", r.RMax}, {"f_min", r.FMin}, {"f_max", r.FMax}, {"m_min", r.MMin}, {"m_max", r.MMax}}
	for _, fd := range fields {
		if fd.v < 1 || fd.v > MaxScore {
			return fd.name, fmt.Sprintf("%d is not a score (1..%d)", fd.v, MaxScore)
		}
	}
	for k := 0; k < len(fields); k += 2 {
		if lo, hi := fields[k], fields[k+1]; hi.v < lo.v {
			return hi.name, fmt.Sprintf("%s %d is below %s %d", hi.name, hi.v, lo.name, lo.v)
		}
	}
	return "", ""
}

// uncovered returns the first combination, in (r, f, m) order, that no
// rule matches, and how many there are.
func (m SegmentMap) uncovered() (r, f, s, n int) {
	for ri := 1; ri <= MaxScore; ri++ {
		for fi := 1; fi <= MaxScore; fi++ {
			for si := 1; si <= MaxScore; si++ {
				if _, ok := m.Segment(ri, fi, si); !ok {
					if n == 0 {
						r, f, s = ri, fi, si
					}
					n++
				}
			}
		}
	}
	return r, f, s, n
}

func uncoveredMsg(r, f, s, n int) string {
	msg := fmt.Sprintf("no rule covers r=%d, f=%d, m=%d", r, f, s)
	if n > 1 {
		msg += fmt.Sprintf(" (nor %d other combinations)", n-1)
	}
	return msg + "; every combination of scores 1..5 needs a segment"
}

// codes returns the segment code of every combination, indexed by
// comboIndex, for a map that validates.
func (m SegmentMap) codes() *[NumCombos]uint8 {
	names := m.Names()
	code := make(map[string]int, len(names))
	for i, n := range names {
		code[n] = i
	}
	var out [NumCombos]uint8
	for r := 1; r <= MaxScore; r++ {
		for f := 1; f <= MaxScore; f++ {
			for s := 1; s <= MaxScore; s++ {
				name, _ := m.Segment(r, f, s)
				out[comboIndex(r, f, s)] = uint8(code[name])
			}
		}
	}
	return &out
}

func comboIndex(r, f, s int) int { return ((r-1)*MaxScore+(f-1))*MaxScore + (s - 1) }

// ParseSegments reads a segment map file: CSV with a header naming the
// columns segment, r_min, r_max, f_min, f_max, m_min and m_max, in any
// order and nothing else, then one rule per line, every cell set (a score
// 1..5 or the name). Rules may overlap (the first match wins), but every
// combination of scores must be covered. file names the input in errors,
// which wrap ErrSegments and give the line and column.
func ParseSegments(file string, in io.Reader) (SegmentMap, error) {
	bad := func(line int, format string, args ...any) error {
		return errorf(ErrSegments, "%s:%d: %s", file, line, fmt.Sprintf(format, args...))
	}
	cr := csv.NewReader(in)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err == io.EOF {
		return nil, errorf(ErrSegments, "%s: the file is empty (want a header: %s)", file, strings.Join(segmentColumns, ","))
	}
	if err != nil {
		return nil, csvError(file, err)
	}
	hline, _ := cr.FieldPos(0) // after any blank lines
	idx := map[string]int{}
	for i, h := range header {
		if i == 0 {
			h = strings.TrimPrefix(h, "\ufeff")
		}
		h = strings.TrimSpace(h)
		switch _, dup := idx[h]; {
		case !isSegmentColumn(h):
			return nil, bad(hline, "column %d: unknown column %q (want %s)", i+1, h, strings.Join(segmentColumns, ","))
		case dup:
			return nil, bad(hline, "column %d: column %q appears twice", i+1, h)
		}
		idx[h] = i
	}
	for _, c := range segmentColumns {
		if _, ok := idx[c]; !ok {
			return nil, bad(hline, "no column %q (want %s)", c, strings.Join(segmentColumns, ","))
		}
	}
	var m SegmentMap
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, csvError(file, err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) != len(header) {
			return nil, bad(line, "%d fields, the header has %d", len(rec), len(header))
		}
		if len(m) == MaxSegmentRules {
			return nil, bad(line, "more than %d rules", MaxSegmentRules)
		}
		r := SegmentRule{Name: rec[idx["segment"]]}
		for _, p := range []struct {
			col string
			v   *int
		}{{"r_min", &r.RMin}, {"r_max", &r.RMax}, {"f_min", &r.FMin}, {"f_max", &r.FMax}, {"m_min", &r.MMin}, {"m_max", &r.MMax}} {
			s := strings.TrimSpace(rec[idx[p.col]])
			v, err := strconv.Atoi(s)
			if err != nil {
				return nil, bad(line, "column %d (%s): %q is not a score (1..%d)", idx[p.col]+1, p.col, s, MaxScore)
			}
			*p.v = v
		}
		if col, msg := r.check(); msg != "" {
			return nil, bad(line, "column %d (%s): %s", idx[col]+1, col, msg)
		}
		m = append(m, r)
	}
	if len(m) == 0 {
		return nil, errorf(ErrSegments, "%s: no rules after the header", file)
	}
	if r, f, s, n := m.uncovered(); n > 0 {
		return nil, errorf(ErrSegments, "%s: %s", file, uncoveredMsg(r, f, s, n))
	}
	return m, nil
}

func isSegmentColumn(name string) bool {
	for _, c := range segmentColumns {
		if c == name {
			return true
		}
	}
	return false
}

// csvError restates a CSV syntax error with the file, line and column (of
// bytes, 1-based) where it was found.
func csvError(file string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return errorf(ErrSegments, "%s:%d:%d: %v", file, pe.Line, pe.Column, pe.Err)
	}
	return errorf(ErrSegments, "%s: %v", file, err)
}

// WriteSegments writes m as a segment map file that ParseSegments reads.
func WriteSegments(w io.Writer, m SegmentMap) error {
	cw := csv.NewWriter(w)
	_ = cw.Write(segmentColumns)
	for _, r := range m {
		_ = cw.Write([]string{r.Name, strconv.Itoa(r.RMin), strconv.Itoa(r.RMax), strconv.Itoa(r.FMin),
			strconv.Itoa(r.FMax), strconv.Itoa(r.MMin), strconv.Itoa(r.MMax)})
	}
	cw.Flush()
	return cw.Error()
}
