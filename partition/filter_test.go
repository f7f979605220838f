package partition

import (
	"bytes"
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
)

// filterFile runs FilterRows on a shard file on disk, dropping keys.
func filterFile(t *testing.T, path, column string, keys ...string) ([]byte, FilterResult) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	res, err := FilterRows(bytes.NewReader(b), int64(len(b)), &out, column, func(k string) bool { return slices.Contains(keys, k) })
	if err != nil {
		t.Fatalf("FilterRows %s: %v", path, err)
	}
	if res.Size != int64(out.Len()) {
		t.Fatalf("FilterRows says %d bytes, wrote %d", res.Size, out.Len())
	}
	return out.Bytes(), res
}

func TestFilterRowsFeatures(t *testing.T) {
	res := mustSplit(t, "c.csv", "id,age,spend\na,1,7\nb,2,8\nc,3,9\nd,,6\n", Options{Key: "id", Shards: 1})
	b, fr := filterFile(t, res.Shards[0].Path, "id", "b", "zz")
	if fr.Rows != 3 || fr.Removed != 1 {
		t.Fatalf("kept %d, removed %d; want 3, 1", fr.Rows, fr.Removed)
	}
	sh, err := ReadShard(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(sh.Keys, []string{"a", "c", "d"}) || !slices.Equal(sh.Columns, []string{"age", "spend"}) {
		t.Fatalf("filtered shard: keys %v, columns %v", sh.Keys, sh.Columns)
	}
	age, _ := sh.Column("age")
	spend, _ := sh.Column("spend")
	if age[1] != 3 || age[2] == age[2] || spend[0] != 7 || spend[2] != 6 {
		t.Fatalf("filtered values: age %v, spend %v", age, spend)
	}
}

func TestFilterRowsInteractionsBothLayouts(t *testing.T) {
	csv := "user,item,r\nu1,i1,5\nu2,i1,3\nu1,i2,4\nu3,i2,1\n"
	res, err := SplitInteractionsReader(context.Background(), "r.csv", strings.NewReader(csv),
		InteractionOptions{User: "user", Item: "item", Value: "r", Shards: 1, TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	b, fr := filterFile(t, res.ByUser[0].Path, "user", "u1")
	if fr.Removed != 2 {
		t.Fatalf("by user: removed %d, want 2", fr.Removed)
	}
	s, err := ReadInteractions(bytes.NewReader(b), int64(len(b)))
	if err != nil || !slices.Equal(s.Keys, []string{"u2", "u3"}) {
		t.Fatalf("by user after filter: %+v, %v", s, err)
	}
	// In the by-item layout the user is the other column.
	b, fr = filterFile(t, res.ByItem[0].Path, "user", "u1")
	if fr.Removed != 2 || fr.Rows != 2 {
		t.Fatalf("by item: kept %d removed %d", fr.Rows, fr.Removed)
	}
	s, err = ReadInteractions(bytes.NewReader(b), int64(len(b)))
	if err != nil || !slices.Equal(s.Keys, []string{"i1", "i2"}) || !slices.Equal(s.Other, []string{"u2", "u3"}) {
		t.Fatalf("by item after filter: %+v, %v", s, err)
	}
}

func TestFilterRowsTransactions(t *testing.T) {
	csv := "cust,ts,amt,inv\nc1,2024-01-01,10,A\nc2,2024-01-02,-5,B\nc1,2024-01-03,7,\n"
	res, err := SplitTransactionsReader(context.Background(), "t.csv", strings.NewReader(csv),
		TransactionOptions{Key: "cust", Time: "ts", Amount: "amt", Invoice: "inv", Shards: 1, TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	b, fr := filterFile(t, res.Shards[0].Path, "cust", "c1")
	if fr.Rows != 1 || fr.Removed != 2 {
		t.Fatalf("kept %d removed %d", fr.Rows, fr.Removed)
	}
	s, err := ReadTransactions(bytes.NewReader(b), int64(len(b)))
	if err != nil || !slices.Equal(s.Keys, []string{"c2"}) || !s.Return[0] || s.Invoice[0] != "B" {
		t.Fatalf("transactions after filter: %+v, %v", s, err)
	}
}

func TestFilterRowsRejects(t *testing.T) {
	res := mustSplit(t, "c.csv", "id,age\na,1\n", Options{Key: "id", Shards: 1})
	b, _ := os.ReadFile(res.Shards[0].Path)
	drop := func(string) bool { return true }
	if _, err := FilterRows(bytes.NewReader(b), int64(len(b)), &bytes.Buffer{}, "age", drop); !errors.Is(err, ErrCorrupt) ||
		err.Error() != `partition: corrupt shard file: no required string column "age"` {
		t.Fatalf("filter on a numeric column: %v", err)
	}
	if _, err := FilterRows(bytes.NewReader(b[:len(b)/2]), int64(len(b)/2), &bytes.Buffer{}, "id", drop); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("filter of a truncated file: %v", err)
	}
}

// FuzzFilterRows feeds FilterRows arbitrary bytes: an error wrapping
// ErrCorrupt or a copy that ReadShard reads, never a panic.
func FuzzFilterRows(f *testing.F) {
	res := mustSplit(f, "c.csv", "id,v\na,1\nb,2\nc,\n", Options{Key: "id", Shards: 1})
	b, err := os.ReadFile(res.Shards[0].Path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add(b[:len(b)-9])
	f.Add([]byte("PAR1PAR1"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var out bytes.Buffer
		fr, err := FilterRows(bytes.NewReader(data), int64(len(data)), &out, "id", func(k string) bool { return k == "b" })
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("an error not wrapping ErrCorrupt: %v", err)
			}
			return
		}
		if fr.Size != int64(out.Len()) {
			t.Fatalf("FilterRows says %d bytes, wrote %d", fr.Size, out.Len())
		}
	})
}
