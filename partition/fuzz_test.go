package partition

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"os"
	"testing"
)

// FuzzSplit feeds arbitrary bytes to Split as the CSV file. It must return
// an error, leaving nothing behind, or a Result whose shards hold every data
// row exactly once with the values an independent CSV parse gives.
func FuzzSplit(f *testing.F) {
	for _, tc := range errorCases {
		f.Add([]byte(tc.csv), false)
	}
	f.Add([]byte(plainCSV), false)
	f.Add([]byte(genTable(20, 9).csv), false)
	f.Add([]byte("\ufeffid;v\n\"a;1\";2\nb;\n"), true)
	f.Add([]byte("id,note,v\na,\"two\nlines\",1\nb,x, 2 \n"), false)
	f.Add(gzipBytes(f, []byte("id,v\na,1\nb,2\n")), false)
	f.Fuzz(func(t *testing.T, data []byte, semicolon bool) {
		delim := ','
		if semicolon {
			delim = ';'
		}
		dir := t.TempDir()
		opts := Options{Key: "id", Shards: 3, Input: Input{Delimiter: string(delim)}, RowGroupRows: 4, SniffRows: 5, TempDir: dir}
		res, err := SplitReader(context.Background(), "fuzz.csv", bytes.NewReader(data), opts)
		if err != nil {
			var ie *InputError
			if errors.As(err, &ie) && ie.Line < 1 {
				t.Errorf("error without a line: %v", err)
			}
			assertEmptyDir(t, dir)
			return
		}
		checkAgainstCSV(t, data, delim, res)
	})
}

// checkAgainstCSV re-reads data with encoding/csv and checks that res's
// shards hold each of its rows exactly once, values as parsed.
func checkAgainstCSV(t *testing.T, data []byte, delim rune, res *Result) {
	if bytes.HasPrefix(data, gzipMagic) {
		return // covered by the unit tests; not worth re-gunzipping here
	}
	cr := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, utf8BOM)))
	cr.Comma = delim
	recs, err := cr.ReadAll()
	if err != nil {
		t.Fatalf("Split accepted input encoding/csv rejects: %v", err)
	}
	if int64(len(recs)-1) != res.Rows {
		t.Fatalf("%d data records, Result.Rows %d", len(recs)-1, res.Rows)
	}
	col := make(map[string]int)
	for i, name := range recs[0] {
		col[name] = i
	}
	byKey := make(map[string][]string, len(recs))
	for _, rec := range recs[1:] {
		byKey[rec[col["id"]]] = rec
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
				want, _ := parseNumber(rec[col[name]])
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
// CSV file (columns c, t, a, inv): an error that leaves nothing behind, or
// well-formed shards holding Result.Rows rows, Result.Customers customers,
// each placed by ShardOf.
func FuzzSplitTransactions(f *testing.F) {
	for _, tc := range transactionErrorCases {
		f.Add([]byte(tc.csv), false)
	}
	f.Add([]byte("c,t,a,inv\nx,2011-01-01 10:00,1,A\n,zz,1,\ny,2011-01-01 09:00,-2,\nx,2011-01-01 09:00,3,B\n"), true)
	f.Add([]byte("c,t,a,inv\n\"x,y\",1291191960,-1.5,\"C1\"\nz,1291191961,2,C2\n"), false)
	f.Fuzz(func(t *testing.T, data []byte, skip bool) {
		dir := t.TempDir()
		opts := TransactionOptions{Key: "c", Time: "t", Amount: "a", Invoice: "inv", SkipMissingKey: skip, Shards: 3, RowGroupRows: 4, TempDir: dir}
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
		if rows != res.Rows || customers != res.Customers || returns != res.Returns {
			t.Fatalf("shards hold %d rows, %d customers, %d returns; Result says %d, %d, %d", rows, customers, returns, res.Rows, res.Customers, res.Returns)
		}
	})
}
