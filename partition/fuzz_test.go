package partition

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"math"
	"os"
	"strings"
	"testing"
)

// FuzzSplit feeds arbitrary bytes to Split as the CSV file, read in one of
// several ways (mode: the delimiter ",", ";" or "::", a header row or
// Names, and the OnBadValue policy). It must return an error, leaving
// nothing behind, or a Result whose shards hold every kept data row exactly
// once with the values an independent parse gives.
func FuzzSplit(f *testing.F) {
	for _, tc := range errorCases {
		f.Add([]byte(tc.csv), uint8(0))
	}
	f.Add([]byte(plainCSV), uint8(0))
	f.Add([]byte(genTable(20, 9).csv), uint8(0))
	f.Add([]byte("\ufeffid;v\n\"a;1\";2\nb;\n"), uint8(fuzzSemicolon))
	f.Add([]byte("id,note,v\na,\"two\nlines\",1\nb,x, 2 \n"), uint8(0))
	f.Add(gzipBytes(f, []byte("id,v\na,1\nb,2\n")), uint8(0))
	f.Add([]byte("id::v::w\r\n\"a::1::2\n\nb::x::3\nc::4::\n"), uint8(fuzzDoubleColon|fuzzSkip))
	f.Add([]byte("a,1,2\nb,x,3\nc,4,5\n"), uint8(fuzzNames|fuzzMissing))
	f.Add([]byte("1::2::3\n4::5\n"), uint8(fuzzDoubleColon|fuzzNames))
	f.Add([]byte("id,a,b\nk1,5.774249,-0.232944\nk2,1.7742491,9.999999e1\nk3,-0.000000,+1.000000\n"), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, mode uint8) {
		in := fuzzInput(mode)
		dir := t.TempDir()
		opts := Options{Key: "id", Shards: 3, Input: in, RowGroupRows: 4, SniffRows: 5, TempDir: dir}
		res, err := SplitReader(context.Background(), "fuzz.csv", bytes.NewReader(data), opts)
		if err != nil {
			var ie *InputError
			if errors.As(err, &ie) && ie.Line < 1 {
				t.Errorf("error without a line: %v", err)
			}
			assertEmptyDir(t, dir)
			return
		}
		checkAgainstCSV(t, data, in, res)
	})
}

// Bits of FuzzSplit's mode.
const (
	fuzzSemicolon   = 1  // delimiter ";"
	fuzzDoubleColon = 2  // delimiter "::" (with fuzzSemicolon: ",")
	fuzzNames       = 4  // no header row: Names id, a, b
	fuzzSkip        = 8  // OnBadValue skip
	fuzzMissing     = 16 // OnBadValue missing (with fuzzSkip: stop)
)

func fuzzInput(mode uint8) Input {
	var in Input
	switch mode & (fuzzSemicolon | fuzzDoubleColon) {
	case fuzzSemicolon:
		in.Delimiter = ";"
	case fuzzDoubleColon:
		in.Delimiter = "::"
	default:
		in.Delimiter = ","
	}
	if mode&fuzzNames != 0 {
		in.Names = []string{"id", "a", "b"}
	}
	switch mode & (fuzzSkip | fuzzMissing) {
	case fuzzSkip:
		in.OnBadValue = BadValueSkip
	case fuzzMissing:
		in.OnBadValue = BadValueMissing
	}
	return in
}

// checkAgainstCSV re-reads data with encoding/csv (or, for a longer
// delimiter, by splitting lines) and checks that res's shards hold each of
// its kept rows exactly once, values as parsed, and that the rows skipped
// under OnBadValue are those with a value that is not a number.
func checkAgainstCSV(t *testing.T, data []byte, in Input, res *Result) {
	if bytes.HasPrefix(data, gzipMagic) {
		return // covered by the unit tests; not worth re-gunzipping here
	}
	data = bytes.TrimPrefix(data, utf8BOM)
	var recs [][]string
	if len(in.Delimiter) > 1 {
		for _, line := range strings.Split(string(data), "\n") {
			if line = strings.TrimSuffix(line, "\r"); line != "" {
				recs = append(recs, strings.Split(line, in.Delimiter))
			}
		}
	} else {
		cr := csv.NewReader(bytes.NewReader(data))
		cr.Comma = rune(in.Delimiter[0])
		var err error
		if recs, err = cr.ReadAll(); err != nil {
			t.Fatalf("Split accepted input encoding/csv rejects: %v", err)
		}
	}
	if in.Names != nil {
		recs = append([][]string{in.Names}, recs...)
	}
	col := make(map[string]int)
	for i, name := range recs[0] {
		col[name] = i
	}
	byKey := make(map[string][]string, len(recs))
	var skipped int64
	for _, rec := range recs[1:] {
		if len(rec) != len(recs[0]) {
			t.Fatalf("Split accepted a record of %d fields, header has %d", len(rec), len(recs[0]))
		}
		bad := false
		for _, c := range res.Columns {
			_, ok := parseNumber(rec[col[c.Name]])
			bad = bad || !ok
		}
		if bad && in.OnBadValue == BadValueSkip {
			skipped++
			continue
		}
		byKey[rec[col["id"]]] = rec
	}
	if int64(len(recs)-1) != res.Rows+skipped || skipped != res.SkippedRows {
		t.Fatalf("%d data records, %d with a bad value; Result.Rows %d, SkippedRows %d", len(recs)-1, skipped, res.Rows, res.SkippedRows)
	}
	var rows int
	for si, sf := range res.Shards {
		s := readShardFile(t, sf.Path)
		checkWellFormed(t, s)
		for r, key := range s.Keys {
			rec, ok := byKey[key]
			if !ok || ShardOf(key, len(res.Shards)) != si {
				t.Fatalf("key %q: in input %v, in shard %d", key, ok, si)
			}
			delete(byKey, key) // a second sighting fails above
			for j, name := range s.Columns {
				want, ok := parseNumber(rec[col[name]])
				if !ok && in.OnBadValue != BadValueMissing {
					t.Fatalf("key %q column %q: %q stored", key, name, rec[col[name]])
				}
				if !ok {
					want = math.NaN()
				}
				if !sameFloat(s.Values[j][r], want) {
					t.Fatalf("key %q column %q: %v, want %v", key, name, s.Values[j][r], want)
				}
			}
		}
		rows += s.Rows()
	}
	if int64(rows) != res.Rows || len(byKey) != 0 {
		t.Fatalf("shards hold %d rows, Result.Rows %d, %d keys unread", rows, res.Rows, len(byKey))
	}
}

// FuzzReadShard feeds arbitrary bytes to ReadShard: an error wrapping
// ErrCorrupt or a well-formed shard, never a panic.
func FuzzReadShard(f *testing.F) {
	good := shardBytes(f)
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add(good[len(good)-64:])
	for _, csv := range []string{plainCSV, "id,x\nonly,1\n"} {
		res := mustSplit(f, "seed.csv", csv, Options{Key: "id", Shards: 2})
		for _, sf := range res.Shards {
			data, err := os.ReadFile(sf.Path)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	f.Add([]byte("PAR1\x00\x00\x00\x00PAR1"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ReadShard(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		checkWellFormed(t, s)
	})
}

// FuzzReadInteractions feeds arbitrary bytes to ReadInteractions: an error
// wrapping ErrCorrupt or a well-formed shard, never a panic.
func FuzzReadInteractions(f *testing.F) {
	good := interactionShardBytes(f)
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add(transactionShardBytes(f))
	f.Add(shardBytes(f))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ReadInteractions(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		checkInteractionsShape(t, s)
	})
}

// FuzzReadTransactions feeds arbitrary bytes to ReadTransactions: an error
// wrapping ErrCorrupt or a well-formed shard, never a panic.
func FuzzReadTransactions(f *testing.F) {
	good := transactionShardBytes(f)
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add(interactionShardBytes(f))
	f.Add(shardBytes(f))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ReadTransactions(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		checkTransactionsShape(t, s)
	})
}

// FuzzSplitTransactions feeds arbitrary bytes to SplitTransactions as the
// CSV file (columns c, t, a, inv), with mode's bits choosing SkipMissingKey,
// OnBadValue skip and the delimiter "::": an error that leaves nothing
// behind, or
// well-formed shards holding Result.Rows rows, Result.Customers customers,
// each placed by ShardOf.
func FuzzSplitTransactions(f *testing.F) {
	for _, tc := range transactionErrorCases {
		f.Add([]byte(tc.csv), uint8(0))
	}
	f.Add([]byte("c,t,a,inv\nx,2011-01-01 10:00,1,A\n,zz,1,\ny,2011-01-01 09:00,-2,\nx,2011-01-01 09:00,3,B\n"), uint8(1))
	f.Add([]byte("c,t,a,inv\n\"x,y\",1291191960,-1.5,\"C1\"\nz,1291191961,2,C2\n"), uint8(0))
	f.Add([]byte("c::t::a::inv\nx::1291191960::one::\nz::1291191961::2::C2\n"), uint8(2|4))
	f.Fuzz(func(t *testing.T, data []byte, mode uint8) {
		dir := t.TempDir()
		opts := TransactionOptions{Key: "c", Time: "t", Amount: "a", Invoice: "inv", SkipMissingKey: mode&1 != 0, Shards: 3, RowGroupRows: 4, TempDir: dir}
		if mode&2 != 0 {
			opts.OnBadValue = BadValueSkip
		}
		if mode&4 != 0 {
			opts.Delimiter = "::"
		}
		res, err := SplitTransactionsReader(context.Background(), "fuzz.csv", bytes.NewReader(data), opts)
		if err != nil {
			var ie *InputError
			if errors.As(err, &ie) && ie.Line < 1 {
				t.Errorf("error without a line: %v", err)
			}
			assertEmptyDir(t, dir)
			return
		}
		var rows, customers, returns int64
		for i, sf := range res.Shards {
			s := readTransactionsFile(t, sf)
			checkTransactionsShape(t, s)
			for _, k := range s.Keys {
				if ShardOf(k, len(res.Shards)) != i {
					t.Fatalf("key %q in shard %d", k, i)
				}
			}
			for r, ret := range s.Return {
				if ret != (s.Amount[r] < 0) {
					t.Fatalf("amount %v flagged return=%v", s.Amount[r], ret)
				}
				if ret {
					returns++
				}
			}
			rows += int64(s.Rows())
			customers += int64(len(s.Keys))
		}
		if rows != res.Rows || customers != res.Customers || returns != res.Returns || res.Amount.Invalid != res.SkippedRows {
			t.Fatalf("shards hold %d rows, %d customers, %d returns; Result says %d, %d, %d", rows, customers, returns, res.Rows, res.Customers, res.Returns)
		}
	})
}
