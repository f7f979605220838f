package feature

import (
	"testing"

	"github.com/mathcrm/mathcrm/internal/proto"
)

// TestPrepKeyHoldsTheRecipe: every part of a recipe that changes the
// matrix changes its cache key.
func TestPrepKeyHoldsTheRecipe(t *testing.T) {
	base := proto.Prep{Columns: []string{"a", "b=x"}, Categories: map[string][]string{"b": {"x", "y"}}, Target: "t"}
	variants := []proto.Prep{
		{Columns: []string{"a", "b=x"}, Categories: map[string][]string{"b": {"x", "y"}}, Target: "u"},
		{Columns: []string{"a", "b=x"}, Categories: map[string][]string{"b": {"y", "x"}}, Target: "t"},
		{Columns: []string{"a", "b=x"}, Categories: map[string][]string{"b": {"x", "y"}}},
		{Columns: []string{"a,b=x"}, Categories: map[string][]string{"b": {"x", "y"}}, Target: "t"},
		{Columns: []string{"a", "b=x"}, Categories: map[string][]string{"b": {"x", "y"}}, Target: "t", Mean: []float64{0, 1}, Scale: []float64{1, 1}},
		{Columns: []string{"a", "b=x"}, Categories: map[string][]string{"b": {"x", "y"}}, Target: "t", Profile: []string{"a"}},
	}
	k := PrepKey("obj@sum", base)
	if k != PrepKey("obj@sum", base) {
		t.Fatal("the key of one recipe changes")
	}
	if k == PrepKey("other@sum", base) {
		t.Error("two objects share a key")
	}
	for i, v := range variants {
		if PrepKey("obj@sum", v) == k {
			t.Errorf("variant %d shares the key of the base recipe: %s", i, k)
		}
	}
}
