package basket

import (
	"math/rand/v2"
	"reflect"
	"testing"
)

// The indexed Offerer gives, for every basket, what Recommend gives for
// the basket's known items, and ignores the items the model does not know.
func TestOffererMatchesRecommend(t *testing.T) {
	lists := randomBaskets(4000, 7)
	m, err := Reference(Config{MinSupport: 0.005, MinConfidence: 0.05, MaxLen: 4}, split(lists, 3)...)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Rules) < 100 {
		t.Fatalf("only %d rules: the test needs many", len(m.Rules))
	}
	o := NewOfferer(m)
	var s Scratch
	r := rand.New(rand.NewPCG(5, 5))
	fired := 0
	for i, l := range lists {
		have := append(l, "no-such-item")
		var known []string
		for _, it := range l {
			if _, ok := m.itemCount(it); ok {
				known = append(known, it)
			}
		}
		n := 1 + r.IntN(8)
		want, err := m.Recommend(known, n)
		if err != nil {
			t.Fatal(err)
		}
		got := o.Offers(nil, have, n, &s)
		if len(got) == 0 && len(want) == 0 {
			continue
		}
		fired++
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("basket %d %v: offers %v, Recommend %v", i, l, got, want)
		}
	}
	if fired < len(lists)/4 {
		t.Fatalf("rules fired for only %d of %d baskets", fired, len(lists))
	}
}
