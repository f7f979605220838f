package partition

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
)

// deepCSV is a header and n rows "k<i>,<i>,<i/2>", with edit applied to
// the lines (line 1 is the header).
func deepCSV(n int, edit map[int]string) string {
	var b strings.Builder
	b.WriteString("id,x,y\n")
	for i := 2; i <= n+1; i++ {
		if s, ok := edit[i]; ok {
			b.WriteString(s)
			continue
		}
		fmt.Fprintf(&b, "k%d,%d,%g\n", i, i, float64(i)/2)
	}
	return b.String()
}

// TestParallelReaderErrors checks that errors deep in a file, read in many
// blocks by several goroutines, are reported at their line, the first in
// file order winning, as the sequential reader reports them.
func TestParallelReaderErrors(t *testing.T) {
	cases := []struct {
		name   string
		edit   map[int]string
		want   error
		line   int
		column string
		msg    string
	}{
		{"bad value", map[int]string{4000: "k4000,1,abc\n"}, ErrNotNumeric, 4000, "y", `"abc"`},
		{"field count", map[int]string{3000: "k3000,1\n"}, ErrMalformed, 3000, "", "record has 2 fields, header has 3"},
		{"duplicate before a bad value", map[int]string{4500: "k100,1,2\n", 4800: "k4800,x,1\n"}, ErrDuplicateKey, 4500, "id",
			`duplicate key "k100" also on line 100`},
		{"bad value before a duplicate", map[int]string{3500: "k3500,1,x\n", 4500: "k100,1,2\n"}, ErrNotNumeric, 3500, "y", `"x"`},
		{"duplicate before a field count error", map[int]string{2500: "k7,1,2\n", 2600: "a\n"}, ErrDuplicateKey, 2500, "id", "also on line 7"},
		{"lines after a quoted line break", map[int]string{2500: "\"k\n2500\",1,2\n", 4000: "k4000,1,\n\n", 4500: "k4500,1,z\n"},
			ErrNotNumeric, 4502, "y", `"z"`},
		{"quote then duplicate", map[int]string{2500: "\"k,2500\",1,2\n", 4700: "\"k,2500\",3,4\n"}, ErrDuplicateKey, 4700, "id",
			"also on line 2500"},
		{"missing key", map[int]string{4900: " ,1,2\r\n"}, ErrMissingKey, 4900, "id", ""},
	}
	defer func(procs, chunk int) {
		runtime.GOMAXPROCS(procs)
		chunkBytes = chunk
	}(runtime.GOMAXPROCS(0), chunkBytes)
	for _, run := range []struct{ procs, chunk int }{{1, 1 << 20}, {4, 200}, {2, 7}} {
		runtime.GOMAXPROCS(run.procs)
		chunkBytes = run.chunk
		for _, tc := range cases {
			for _, columns := range [][]string{nil, {"x", "y"}} { // with and without the sniff
				dir := t.TempDir()
				_, err := split(t, "deep.csv", deepCSV(5000, tc.edit), Options{Key: "id", Columns: columns, Shards: 8, TempDir: dir})
				var ie *InputError
				if !errors.As(err, &ie) || !errors.Is(err, tc.want) || ie.Line != tc.line || ie.Column != tc.column ||
					!strings.Contains(err.Error(), tc.msg) {
					t.Errorf("GOMAXPROCS=%d, %d-byte blocks, %s, columns %q: err = %v, want %v at line %d column %q (%q)",
						run.procs, run.chunk, tc.name, columns, err, tc.want, tc.line, tc.column, tc.msg)
				}
				assertEmptyDir(t, dir)
			}
		}
	}
}

// TestQuotedFieldsImport checks that quoted fields holding the delimiter,
// quotes and line breaks, met after many unquoted blocks, keep their text.
func TestQuotedFieldsImport(t *testing.T) {
	defer func(chunk int) { chunkBytes = chunk }(chunkBytes)
	chunkBytes = 64
	csv := deepCSV(3000, map[int]string{
		2000: "\"a,b\",1,2\n",
		2001: "\"line\r\nbreak\",3,\"4\"\n",
		2002: "\"say \"\"hi\"\"\",5,6\n",
	})
	res := mustSplit(t, "quoted.csv", csv, Options{Key: "id", Shards: 1})
	if res.Rows != 3000 {
		t.Fatalf("%d rows, want 3000", res.Rows)
	}
	s := readAll(t, res)[0]
	y, _ := s.Column("y")
	want := map[string]float64{"a,b": 2, "line\nbreak": 4, `say "hi"`: 6, "k1999": 999.5, "k2003": 1001.5}
	for i, k := range s.Keys {
		if v, ok := want[k]; ok {
			if y[i] != v {
				t.Errorf("key %q: y = %v, want %v", k, y[i], v)
			}
			delete(want, k)
		}
	}
	if len(want) > 0 {
		t.Errorf("keys not found: %v", want)
	}
}

// BenchmarkParseChunk measures the parallel reader's parsing of one block
// of 16 numeric columns, on one goroutine.
func BenchmarkParseChunk(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("id")
	for j := range 16 {
		fmt.Fprintf(&sb, ",f%d", j)
	}
	header := sb.String()
	sb.Reset()
	for i := range 6000 {
		fmt.Fprintf(&sb, "%d", i)
		for j := range 16 {
			fmt.Fprintf(&sb, ",%.6f", float64((i*31+j*7)%2000)/137-7)
		}
		sb.WriteByte('\n')
	}
	data := []byte(sb.String())
	in := Input{Delimiter: ",", Names: strings.Split(header, ",")}
	rr := newRecordReader("b.csv", bufio.NewReader(strings.NewReader("")), in)
	sp, err := newSplitter(rr, Options{Key: "id", Shards: 64, TempDir: b.TempDir(), Input: in}.withDefaults())
	if err != nil {
		b.Fatal(err)
	}
	sp.setColumns([]int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
	bt := sp.newBatch()
	var fields [][]byte
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		bt.reset()
		bt.data = data
		fields = sp.parseChunk(context.Background(), bt, ',', fields)
		if bt.err != nil {
			b.Fatal(bt.err)
		}
	}
	b.ReportMetric(float64(6000*b.N)/b.Elapsed().Seconds(), "rows/s")
}

// TestAddLineMatchesAdd holds the single-pass line parser to the general
// one: on every line it accepts, the same row (key, shard, value bits);
// every line it declines, the general parser handles (an error, a skip,
// another notation).
func TestAddLineMatchesAdd(t *testing.T) {
	tokens := []string{"", "0", "1", "-2", "+3", "12.5", "-0.000001", ".5", "5.", "-", "+", ".", "1e3", " 4", "4 ",
		"9007199254740993", "9007199254740992", "12345678901234567890", "1234567890123456789", "0.12345678901234567890123",
		"0.1234567890123456789012", "NaN", "x", "1.2.3", "K1", "\xff", " ", "--1", "12345678", "123456789.87654321",
		"-0.232944", "5.774249", "00000000000000000001.5", "1:2", "1/2", "1234567890123456789.1234567",
		"123456789012.1234567", "0000000000000.5", "0.000000", "-0.000000", "9.999999", "-9.999999", "5.7742491",
		"5.774249e3", "5.774249.", "5.77424", "12.345678", "5.774249 ", "a.774249", "5.77a249", "5,774249"}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, keyIdx := range []int{0, 2, -1} {
		p := &rowParser{file: "t.csv", keyIdx: keyIdx, keyName: "id", colIdx: []int{3, 1}, columns: []string{"c", "a"},
			isCat: make([]bool, 2), fields: 4, shards: 7, policy: BadValueSkip}
		p.setRoles()
		accepted := 0
		for range 20000 {
			nf := 4
			if rng.IntN(20) == 0 {
				nf = 3 + rng.IntN(3)
			}
			fields := make([]string, nf)
			for i := range fields {
				fields[i] = tokens[rng.IntN(len(tokens))]
			}
			l := []byte(strings.Join(fields, ","))
			if rng.IntN(2) == 0 { // digits past the line's end, as in a reused buffer
				l = append(l, "123456789012"[:rng.IntN(12)]...)[:len(l)]
			}
			fast, slow := &batch{invalid: make([]int64, 2)}, &batch{invalid: make([]int64, 2)}
			ok := p.addLine(fast, l, ',', 7)
			var split [][]byte
			for _, f := range bytes.Split(l, []byte(",")) {
				split = append(split, f)
			}
			err := p.add(slow, split, 7)
			if !ok {
				if fast.records != 0 || len(fast.vals) != 0 || fast.rows() != 0 {
					t.Fatalf("%q: declined but changed the batch", l)
				}
				continue
			}
			accepted++
			if err != nil || slow.rows() != 1 || slow.skipped != 0 {
				t.Fatalf("%q: the single pass took it, the general parser: %v, %d rows", l, err, slow.rows())
			}
			if !bytes.Equal(fast.bytes(fast.key[0]), slow.bytes(slow.key[0])) || fast.shard[0] != slow.shard[0] ||
				fast.records != slow.records || fast.lines[0] != slow.lines[0] || fast.recNo[0] != slow.recNo[0] {
				t.Fatalf("%q: single pass %+v, general %+v", l, fast, slow)
			}
			for j := range fast.vals {
				if math.Float64bits(fast.vals[j]) != math.Float64bits(slow.vals[j]) {
					t.Fatalf("%q: column %d: single pass %v, general %v", l, j, fast.vals[j], slow.vals[j])
				}
			}
		}
		if accepted < 1000 {
			t.Errorf("key %d: the single pass took only %d lines", keyIdx, accepted)
		}
	}
}
