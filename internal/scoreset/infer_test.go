package scoreset

import (
	"slices"
	"testing"
)

// A shard's columns come back from its own schema, for every column type,
// with and without unscored rows.
func TestInfer(t *testing.T) {
	cols := []Column{{"rank", Int}, {"item", String}, {"score", Float}}
	tab := NewTable("user", cols, 2)
	tab.Keys = []string{"u1", "u2"}
	tab.Ints[0] = []int64{1, 1}
	tab.Strings[1] = []string{"a", "b"}
	tab.Floats[2] = []float64{0.5, 0.25}
	for _, unscored := range [][]string{nil, {"u3"}} {
		tab.Unscored = unscored
		b, err := Marshal(tab)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Infer(b, "user")
		if err != nil || !slices.Equal(got, cols) {
			t.Fatalf("unscored %v: %v %v", unscored, got, err)
		}
		back, err := DecodeAny(b, "user")
		if err != nil || !slices.Equal(back.Keys, tab.Keys) || !slices.Equal(back.Unscored, unscored) {
			t.Fatalf("decode: %+v %v", back, err)
		}
		if _, err := Infer(b, "customer"); err == nil {
			t.Fatal("a key column of another name was accepted")
		}
	}
	if _, err := Infer([]byte("not parquet"), "user"); err == nil {
		t.Fatal("garbage was accepted")
	}
}
