package rfm

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
)

// standardGrid is the documented grid: a row per r_score 5..1, the
// segment per f_score 1..5.
var standardGrid = map[int][5]string{
	5: {"New", "Potential loyalist", "Potential loyalist", "Champions", "Champions"},
	4: {"Promising", "Potential loyalist", "Potential loyalist", "Loyal", "Loyal"},
	3: {"About to sleep", "About to sleep", "Needs attention", "Loyal", "Loyal"},
	2: {"Hibernating", "Hibernating", "At risk", "At risk", "Can't lose them"},
	1: {"Lost", "Lost", "At risk", "At risk", "Can't lose them"},
}

// Every one of the 125 combinations is in exactly one rule of the
// standard map, whose name is the grid's.
func TestStandardSegmentsAllCombinations(t *testing.T) {
	m := StandardSegments()
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	wantNames := []string{"Champions", "Loyal", "Potential loyalist", "New", "Promising", "Needs attention",
		"About to sleep", "At risk", "Can't lose them", "Hibernating", "Lost"}
	if !slices.Equal(m.Names(), wantNames) {
		t.Fatalf("names %q", m.Names())
	}
	codes := m.codes()
	sizes := map[string]int{}
	n := 0
	for r := 1; r <= 5; r++ {
		for f := 1; f <= 5; f++ {
			for s := 1; s <= 5; s++ {
				n++
				matches := 0
				for i := range m {
					if m[i].Matches(r, f, s) {
						matches++
					}
				}
				want := standardGrid[r][f-1]
				got, ok := m.Segment(r, f, s)
				if matches != 1 || !ok || got != want || wantNames[codes[comboIndex(r, f, s)]] != want {
					t.Errorf("(%d,%d,%d): %d rules, segment %q (code %d), want %q", r, f, s, matches, got, codes[comboIndex(r, f, s)], want)
				}
				sizes[got]++
			}
		}
	}
	if n != NumCombos || len(sizes) != 11 {
		t.Fatalf("%d combinations, %d segments", n, len(sizes))
	}
	for _, bad := range [][3]int{{0, 1, 1}, {1, 6, 1}, {1, 1, 0}} {
		if name, ok := m.Segment(bad[0], bad[1], bad[2]); ok {
			t.Errorf("%v: segment %q, want none", bad, name)
		}
	}
}

func TestSegmentMapValidate(t *testing.T) {
	all := SegmentRule{Name: "All", RMin: 1, RMax: 5, FMin: 1, FMax: 5, MMin: 1, MMax: 5}
	with := func(f func(*SegmentRule)) SegmentMap {
		r := all
		f(&r)
		return SegmentMap{r}
	}
	for _, c := range []struct {
		m    SegmentMap
		want string
	}{
		{SegmentMap{}, "rfm: the map has no rules"},
		{make(SegmentMap, 126), "rfm: the map has 126 rules, at most 125"},
		{with(func(r *SegmentRule) { r.Name = "" }), "rfm: rule 1, segment: the name is empty"},
		{with(func(r *SegmentRule) { r.Name = " A" }), `rfm: rule 1, segment: name " A" starts or ends with a space`},
		{with(func(r *SegmentRule) { r.Name = strings.Repeat("x", 65) }), `rfm: rule 1, segment: name "` + strings.Repeat("x", 65) + `" is longer than 64 bytes`},
		{with(func(r *SegmentRule) { r.Name = "a\xffb" }), `rfm: rule 1, segment: name "a\xffb" is not valid UTF-8`},
		{with(func(r *SegmentRule) { r.FMin = 0 }), "rfm: rule 1, f_min: 0 is not a score (1..5)"},
		{with(func(r *SegmentRule) { r.MMax = 6 }), "rfm: rule 1, m_max: 6 is not a score (1..5)"},
		{with(func(r *SegmentRule) { r.RMin = 4; r.RMax = 2 }), "rfm: rule 1, r_max: r_max 2 is below r_min 4"},
		{with(func(r *SegmentRule) { r.MMin = 2 }), "rfm: no rule covers r=1, f=1, m=1 (nor 24 other combinations); every combination of scores 1..5 needs a segment"},
		{with(func(r *SegmentRule) { r.RMax = 4; r.FMin = 5; r.MMin = 5 }), "rfm: no rule covers r=1, f=1, m=1 (nor 120 other combinations); every combination of scores 1..5 needs a segment"},
	} {
		err := c.m.Validate()
		if err == nil || err.Error() != c.want || !errors.Is(err, ErrSegments) {
			t.Errorf("got %v\nwant %s", err, c.want)
		}
		if err := (Config{AsOf: 1, Segments: c.m}).Validate(); err == nil || err.Error() != c.want {
			t.Errorf("config: got %v, want %s", err, c.want)
		}
	}
	// One uncovered corner.
	m := append(StandardSegments()[:10:10], SegmentRule{Name: "Lost", RMin: 1, RMax: 1, FMin: 1, FMax: 2, MMin: 1, MMax: 4})
	if err := m.Validate(); err == nil || err.Error() != "rfm: no rule covers r=1, f=1, m=5 (nor 1 other combinations); every combination of scores 1..5 needs a segment" {
		t.Errorf("got %v", err)
	}
	if err := (Config{AsOf: 1}).Validate(); err != nil {
		t.Errorf("nil map: %v", err)
	}
}

func TestParseSegments(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteSegments(&buf, StandardSegments()); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(buf.String(), "segment,r_min,r_max,f_min,f_max,m_min,m_max\nChampions,5,5,4,5,1,5\n") {
		t.Fatalf("written:\n%s", buf.String())
	}
	m, err := ParseSegments("std.csv", &buf)
	if err != nil || mustJSON(t, m) != mustJSON(t, StandardSegments()) {
		t.Fatalf("round trip: %v, %+v", err, m)
	}
	// Columns in another order, overlapping rules, a BOM and spaces around
	// numbers: the first match wins.
	m, err = ParseSegments("own.csv", strings.NewReader("\ufeffr_min,r_max,segment,f_min,f_max,m_min,m_max\n"+
		"4, 5,Best,1,5,5,5\n"+
		"1,5,Rest,1,5,1,5\n"+
		"1,5,Never,1,5,1,5\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(m.Names(), []string{"Best", "Rest", "Never"}) {
		t.Errorf("names %q", m.Names())
	}
	for _, c := range []struct {
		r, f, s int
		want    string
	}{{5, 1, 5, "Best"}, {4, 3, 5, "Best"}, {3, 5, 5, "Rest"}, {5, 5, 4, "Rest"}} {
		if got, _ := m.Segment(c.r, c.f, c.s); got != c.want {
			t.Errorf("(%d,%d,%d) = %q, want %q", c.r, c.f, c.s, got, c.want)
		}
	}

	const head = "segment,r_min,r_max,f_min,f_max,m_min,m_max\n"
	for _, c := range []struct{ in, want string }{
		{"", "rfm: my.csv: the file is empty (want a header: segment,r_min,r_max,f_min,f_max,m_min,m_max)"},
		{head, "rfm: my.csv: no rules after the header"},
		{"segment,r_min,r_max,f_min,f_max,m_min\n", `rfm: my.csv:1: no column "m_max" (want segment,r_min,r_max,f_min,f_max,m_min,m_max)`},
		{"segment,r_min,r_max,f_min,f_max,m_min,m_max,x\n", `rfm: my.csv:1: column 8: unknown column "x" (want segment,r_min,r_max,f_min,f_max,m_min,m_max)`},
		{"segment,r_min,r_max,f_min,f_max,m_min,m_max,r_min\n", `rfm: my.csv:1: column 8: column "r_min" appears twice`},
		{head + "A,1,5,1,5,1,5\nB,1,5\n", "rfm: my.csv:3: 3 fields, the header has 7"},
		{head + "A,0,5,1,5,1,5\n", "rfm: my.csv:2: column 2 (r_min): 0 is not a score (1..5)"},
		{head + "A,1,5,1,5,1,6\n", "rfm: my.csv:2: column 7 (m_max): 6 is not a score (1..5)"},
		{head + "A,1,5,1,x,1,5\n", `rfm: my.csv:2: column 5 (f_max): "x" is not a score (1..5)`},
		{head + "A,1,5,1,,1,5\n", `rfm: my.csv:2: column 5 (f_max): "" is not a score (1..5)`},
		{head + "A,1,5,1,5,1,5\nB,4,2,1,5,1,5\n", "rfm: my.csv:3: column 3 (r_max): r_max 2 is below r_min 4"},
		{head + "A,1,5,1,5,1,5\n,1,5,1,5,1,5\n", "rfm: my.csv:3: column 1 (segment): the name is empty"},
		{head + "A ,1,5,1,5,1,5\n", `rfm: my.csv:2: column 1 (segment): name "A " starts or ends with a space`},
		{head + "A,1,5,1,5,1,5\n\"B,1,5,1,5,1,5\n", `rfm: my.csv:3:16: extraneous or missing " in quoted-field`},
		{head + "A,1,5,1,5,2,5\nB,1,4,1,5,1,1\n", "rfm: my.csv: no rule covers r=5, f=1, m=1 (nor 4 other combinations); every combination of scores 1..5 needs a segment"},
		{head + strings.Repeat("A,1,5,1,5,1,5\n", 126), "rfm: my.csv:127: more than 125 rules"},
		{"\n\nsegment,r_min\n", `rfm: my.csv:3: no column "r_max" (want segment,r_min,r_max,f_min,f_max,m_min,m_max)`},
	} {
		m, err := ParseSegments("my.csv", strings.NewReader(c.in))
		if err == nil || err.Error() != c.want || !errors.Is(err, ErrSegments) || m != nil {
			t.Errorf("%q:\n got %v\nwant %s", c.in, err, c.want)
		}
	}
}

// A custom map is applied to the scores, its dictionary in rule order.
func TestFeaturesCustomSegments(t *testing.T) {
	rows := []row{
		{key: "a", t: at(1, 0), amount: 10},
		{key: "b", t: at(5, 0), amount: 20},
		{key: "b", t: at(6, 0), amount: 20},
		{key: "c", t: at(9, 0), amount: 100},
		{key: "c", t: at(9, 5), amount: 100},
		{key: "c", t: at(9, 9), amount: 100},
	}
	cfg := Config{AsOf: at(10, 0), Segments: SegmentMap{
		{Name: "Recent", RMin: 4, RMax: 5, FMin: 1, FMax: 5, MMin: 1, MMax: 5},
		{Name: "Zzz", RMin: 1, RMax: 5, FMin: 1, FMax: 5, MMin: 1, MMax: 5},
		{Name: "Unused", RMin: 1, RMax: 1, FMin: 1, FMax: 1, MMin: 1, MMax: 1},
	}}
	tb, _ := features(t, cfg, build(rows, false, false))
	checkColumn(t, tb, ColRScore, []float64{1, 2, 4}) // 1 + ⌊5·W/3⌋
	checkColumn(t, tb, ColSegment, []float64{1, 1, 0})
	if !slices.Equal(tb.Segments, []string{"Recent", "Zzz", "Unused"}) {
		t.Errorf("segments %q", tb.Segments)
	}
	if got := tb.SegmentCounts(); !slices.Equal(got, []int64{1, 2, 0}) {
		t.Errorf("counts %v", got)
	}
	cfg.Segments[2].MMax = 9
	if _, err := New(cfg); err == nil || err.Error() != "rfm: rule 3, m_max: 9 is not a score (1..5)" {
		t.Errorf("New with a bad map: %v", err)
	}
}

// FuzzParseSegments: a map file is refused with ErrSegments or read into a
// map that validates and survives WriteSegments and a second read.
func FuzzParseSegments(f *testing.F) {
	var std bytes.Buffer
	_ = WriteSegments(&std, StandardSegments())
	f.Add(std.Bytes())
	f.Add([]byte("m_max,segment,r_min,r_max,f_min,f_max,m_min\n5,\"A, b\",1,5,1,5,1\n"))
	f.Add([]byte("segment,r_min,r_max,f_min,f_max,m_min,m_max\nA,1,5,1,5,2,5\nB,1,5,1,5,1,1\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		m, err := ParseSegments("f.csv", bytes.NewReader(in))
		if err != nil {
			if !errors.Is(err, ErrSegments) || m != nil {
				t.Fatalf("error %v with map %v", err, m)
			}
			return
		}
		if err := m.Validate(); err != nil {
			t.Fatalf("read a map that does not validate: %v", err)
		}
		var buf bytes.Buffer
		if err := WriteSegments(&buf, m); err != nil {
			t.Fatal(err)
		}
		again, err := ParseSegments("g.csv", &buf)
		if err != nil || mustJSON(t, again) != mustJSON(t, m) {
			t.Fatalf("round trip: %v\n%+v\n%+v", err, m, again)
		}
		codes := m.codes()
		for i, c := range codes {
			if int(c) >= len(m.Names()) {
				t.Fatalf("combination %d has code %d of %d names", i, c, len(m.Names()))
			}
		}
	})
}
