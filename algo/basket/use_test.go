package basket

import (
	"errors"
	"fmt"
	"testing"
)

func mlxtendModel(t *testing.T) *Model {
	t.Helper()
	lists := [][]string{
		{"Milk", "Onion", "Nutmeg", "Kidney Beans", "Eggs", "Yogurt"},
		{"Dill", "Onion", "Nutmeg", "Kidney Beans", "Eggs", "Yogurt"},
		{"Milk", "Apple", "Kidney Beans", "Eggs"},
		{"Milk", "Unicorn", "Corn", "Kidney Beans", "Yogurt"},
		{"Corn", "Onion", "Onion", "Kidney Beans", "Ice cream", "Eggs"},
	}
	m, err := Reference(Config{MinSupport: 0.6, MinConfidence: 0.7, MaxLen: 3}, FromLists(lists))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestRecommend(t *testing.T) {
	m := mlxtendModel(t)
	got, err := m.Recommend([]string{"Onion"}, 10)
	if err != nil {
		t.Fatal(err)
	}
	// Onion → Eggs (conf 1, lift 1.25), Onion → Kidney Beans (1, 1),
	// Onion → Eggs, Kidney Beans (1, 1.25): Eggs at lift 1.25, then Kidney
	// Beans at its best, 1.25 from the pair rule.
	if s := fmt.Sprint(got); s != "[{Eggs 1 1.25 1} {Kidney Beans 1 1.25 2}]" {
		t.Fatalf("offers for Onion: %s", s)
	}
	got, _ = m.Recommend([]string{"Onion", "Eggs"}, 1)
	if len(got) != 1 || got[0].Item != "Kidney Beans" {
		t.Fatalf("offers for Onion, Eggs: %v", got)
	}
	if _, err := m.Recommend([]string{"Onoin"}, 3); !errors.Is(err, ErrUnknownItem) ||
		err.Error() != `basket: item "Onoin" is not a frequent item of this model (in at least 3 of 5 baskets)` {
		t.Fatalf("typo: %v", err)
	}
}

func TestSimilar(t *testing.T) {
	m := mlxtendModel(t)
	got, err := m.Similar("Eggs", 5)
	if err != nil {
		t.Fatal(err)
	}
	// Pairs with Eggs at support ≥ 0.6: Onion (3, lift 1.25), Kidney Beans (4, lift 1).
	if s := fmt.Sprint(got); s != "[{Onion  1.25 3} {Kidney Beans  1 4}]" {
		t.Fatalf("similar to Eggs: %s", s)
	}
	if _, err := m.Similar("Dill", 5); !errors.Is(err, ErrUnknownItem) {
		t.Fatalf("infrequent item: %v", err)
	}
}

func TestNeighbours(t *testing.T) {
	m := mlxtendModel(t)
	// Rules at confidence ≥ 0.7 link Eggs with Onion (Onion → Eggs) and
	// with Kidney Beans: by lift.
	got, byLift, err := m.Neighbours("Eggs", 5)
	if err != nil || !byLift || fmt.Sprint(got) != "[{Onion  1.25 3} {Kidney Beans  1 4}]" {
		t.Fatalf("neighbours of Eggs: %v %v %v", got, byLift, err)
	}
	// At confidence 1 no rule holds for a's only frequent pair, {a, b}
	// (3 of a's 4 baskets): its neighbours by co-occurrence; lift 3·5/(4·4).
	strict, err := Reference(Config{MinSupport: 0.6, MinConfidence: 1, MaxLen: 3}, FromLists([][]string{
		{"a", "b"}, {"a", "b"}, {"a", "c"}, {"b", "c"}, {"a", "b", "c"}}))
	if err != nil {
		t.Fatal(err)
	}
	got, byLift, err = strict.Neighbours("a", 5)
	if err != nil || byLift || fmt.Sprint(got) != "[{b  0.9375 3}]" {
		t.Fatalf("neighbours of a with no rule: %v %v %v", got, byLift, err)
	}
	if _, _, err := m.Neighbours("Dill", 5); !errors.Is(err, ErrUnknownItem) {
		t.Fatalf("unknown item: %v", err)
	}
}

// AllNeighbours gives every frequent item what Neighbours gives it, on a
// model with items that have rules and items that have none.
func TestAllNeighbours(t *testing.T) {
	m, err := Reference(Config{MinSupport: 0.02, MinConfidence: 0.4, MaxLen: 3}, FromLists(randomBaskets(2000, 5)))
	if err != nil {
		t.Fatal(err)
	}
	all := m.AllNeighbours(4)
	var byLift, byCount int
	for _, is := range m.Itemsets {
		if len(is.Items) != 1 {
			continue
		}
		want, wl, err := m.Neighbours(is.Items[0], 4)
		if err != nil {
			t.Fatal(err)
		}
		got := all[is.Items[0]]
		if fmt.Sprint(got.Items) != fmt.Sprint(want) || got.ByLift != wl || len(got.Items) != len(want) {
			t.Fatalf("item %s: %v %v, Neighbours %v %v", is.Items[0], got.Items, got.ByLift, want, wl)
		}
		if wl {
			byLift++
		} else {
			byCount++
		}
	}
	if byLift == 0 || byCount == 0 || len(all) != byLift+byCount {
		t.Fatalf("%d items by lift, %d by co-occurrence, %d in all: the test does not cover both", byLift, byCount, len(all))
	}
}
