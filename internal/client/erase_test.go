package client

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/internal/scoreset"
)

func TestReadKeyFileAndCheckKeys(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "keys.txt")
	if err := os.WriteFile(path, []byte("a\r\n\n  b \nc\na\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	keys, err := ReadKeyFile(path)
	if err != nil || !slices.Equal(keys, []string{"a", "b", "c", "a"}) {
		t.Fatalf("ReadKeyFile: %q, %v", keys, err)
	}
	if keys, err = CheckKeys(keys); err != nil || !slices.Equal(keys, []string{"a", "b", "c"}) {
		t.Fatalf("CheckKeys: %q, %v", keys, err)
	}
	bad := filepath.Join(dir, "bad.txt")
	if err := os.WriteFile(bad, []byte("a\nb\xff\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadKeyFile(bad); !errors.Is(err, ErrBadKey) || err.Error() != "client: bad customer key: "+bad+" line 2 is not valid UTF-8" {
		t.Fatalf("a key that is not UTF-8: %v", err)
	}
	if _, err := CheckKeys(nil); !errors.Is(err, ErrNoKeys) {
		t.Fatalf("no keys: %v", err)
	}
	if _, err := CheckKeys([]string{"a", ""}); !errors.Is(err, ErrBadKey) || err.Error() != `client: bad customer key: key 2 ("") is blank or not valid UTF-8` {
		t.Fatalf("a blank key: %v", err)
	}
}

func TestScoreSummaryAfterErasure(t *testing.T) {
	e := &eraser{keys: map[string]bool{"b": true, "x": true}, found: map[string]bool{}}
	cols, _ := scoreset.Schema(proto.ScoresPredictions)
	tab := scoreset.NewTable("id", cols, 4)
	tab.Keys = []string{"a", "b", "c", "d"}
	tab.Floats[0] = []float64{1, 5, 2, 9}
	removed := map[string]bool{}
	kept, n := e.filterTable(tab, removed)
	if n != 1 || !slices.Equal(kept.Keys, []string{"a", "c", "d"}) || !slices.Equal(kept.Floats[0], []float64{1, 2, 9}) ||
		!removed["b"] || !e.found["b"] || e.found["x"] {
		t.Fatalf("filterTable: %d removed, kept %+v, found %v", n, kept, e.found)
	}
	// Two deciles: [1, 2] and [5, 9]; removing 5 leaves 9 alone in the second.
	ss := &proto.ScoreSet{Kind: proto.ScoresPredictions, Summary: proto.ScoreSummary{Deciles: []proto.Decile{
		{Decile: 1, Rows: 2, Min: 1, Max: 2, Mean: 1.5}, {Decile: 2, Rows: 2, Min: 5, Max: 9, Mean: 7}}}}
	sum := newScoreSummary(ss)
	if err := sum.add(kept); err != nil {
		t.Fatal(err)
	}
	got := sum.summary()
	want := []proto.Decile{{Decile: 1, Rows: 2, Min: 1, Max: 2, Mean: 1.5}, {Decile: 2, Rows: 1, Min: 9, Max: 9, Mean: 9}}
	if !slices.Equal(got.Deciles, want) || got.Moments.Count != 3 || got.Moments.Min != 1 || got.Moments.Max != 9 || got.Moments.Mean != 4 {
		t.Fatalf("summary: %+v", got)
	}
	// A score outside every decile's range cannot be placed.
	kept.Floats[0][0] = 3
	if err := newScoreSummary(ss).add(kept); err == nil || err.Error() != "score 3 is in no decile of the score set" {
		t.Fatalf("a score in no decile: %v", err)
	}

	rcols, _ := scoreset.Schema(proto.ScoresRecommendations)
	rec := scoreset.NewTable("user", rcols, 3)
	rec.Keys = []string{"u", "u", "v"}
	rec.Ints[0] = []int64{1, 2, 1}
	rec.Strings[1] = []string{"i2", "i1", "i1"}
	rec.Floats[2] = []float64{0.5, 0.25, 0.75}
	rs := newScoreSummary(&proto.ScoreSet{Kind: proto.ScoresRecommendations})
	if err := rs.add(rec); err != nil {
		t.Fatal(err)
	}
	if items := rs.summary().Items; !slices.Equal(items, []proto.ItemCount{{Item: "i1", Count: 2}, {Item: "i2", Count: 1}}) {
		t.Fatalf("items: %+v", items)
	}
}
