package basket

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// bruteForce counts every subset of up to maxLen items of every basket,
// independently of the package's levels, candidates and trie.
func bruteForce(lists [][]string, maxLen int) map[string]int64 {
	counts := map[string]int64{}
	for _, l := range lists {
		items := slices.Clone(l)
		slices.Sort(items)
		items = slices.Compact(items)
		var rec func(start int, cur []string)
		rec = func(start int, cur []string) {
			if len(cur) > 0 {
				counts[strings.Join(cur, "|")]++
			}
			if len(cur) == maxLen {
				return
			}
			for i := start; i < len(items); i++ {
				rec(i+1, append(cur, items[i]))
			}
		}
		rec(0, nil)
	}
	return counts
}

// randomBaskets draws n baskets over a skewed catalogue.
func randomBaskets(n int, seed uint64) [][]string {
	r := rand.New(rand.NewPCG(seed, 3))
	out := make([][]string, n)
	for i := range out {
		size := 1 + r.IntN(6)
		for j := 0; j < size; j++ {
			it := int(math.Floor(30 * r.Float64() * r.Float64())) // skewed: low ids are popular
			out[i] = append(out[i], fmt.Sprintf("item%02d", it))
		}
		if i%17 == 0 {
			out[i] = nil // empty baskets count in N
		}
	}
	return out
}

// split deals baskets to n shards by index.
func split(lists [][]string, n int) []*Baskets {
	parts := make([][][]string, n)
	for i, l := range lists {
		parts[i%n] = append(parts[i%n], l)
	}
	out := make([]*Baskets, n)
	for i := range parts {
		out[i] = FromLists(parts[i])
	}
	return out
}

func TestItemsetsMatchBruteForce(t *testing.T) {
	lists := randomBaskets(3000, 1)
	cfg := Config{MinSupport: 0.01, MinConfidence: 0, MaxLen: 4}
	want := bruteForce(lists, 4)
	minCount := cfg.MinCount(int64(len(lists)))
	var wantSets []string
	for k, c := range want {
		if c >= minCount {
			wantSets = append(wantSets, fmt.Sprintf("%s=%d", k, c))
		}
	}
	slices.Sort(wantSets)
	m, err := Reference(cfg, split(lists, 1)...)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, is := range m.Itemsets {
		got = append(got, fmt.Sprintf("%s=%d", strings.Join(is.Items, "|"), is.Count))
	}
	slices.Sort(got)
	if !slices.Equal(got, wantSets) {
		t.Fatalf("itemsets differ from brute force:\n got %d %v\nwant %d %v", len(got), got, len(wantSets), wantSets)
	}
	if len(got) < 50 || m.Baskets != 3000 {
		t.Fatalf("only %d itemsets over %d baskets: the test does not test much", len(got), m.Baskets)
	}
	for _, r := range m.Rules {
		both := want[strings.Join(sortedUnion(r.Antecedent, r.Consequent), "|")]
		ca := want[strings.Join(r.Antecedent, "|")]
		if r.Count != both || r.Confidence != float64(both)/float64(ca) {
			t.Fatalf("rule %v → %v: count %d conf %v, brute force %d/%d", r.Antecedent, r.Consequent, r.Count, r.Confidence, both, ca)
		}
	}
}

func sortedUnion(a, b []string) []string {
	out := append(slices.Clone(a), b...)
	slices.Sort(out)
	return out
}

func TestSameModelWhateverTheSharding(t *testing.T) {
	lists := randomBaskets(2000, 2)
	cfg := Config{MinSupport: 0.02, MinConfidence: 0.1, MaxLen: 3}
	one, err := Reference(cfg, split(lists, 1)...)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{2, 4, 7, 64} {
		m, err := Reference(cfg, split(lists, n)...)
		if err != nil {
			t.Fatal(err)
		}
		if a, b := fmt.Sprintf("%#v", one), fmt.Sprintf("%#v", m); a != b {
			t.Fatalf("%d shards give another model", n)
		}
	}
}

// The rule measures on the example of mlxtend's association_rules
// documentation (the frequent itemsets of its five transactions at
// min_support 0.6), checked by hand: {Eggs} → {Kidney Beans}: support 0.8,
// confidence 1, lift 1, leverage 0, conviction inf; {Kidney Beans} →
// {Eggs}: confidence 0.8, lift 1, leverage 0, conviction 1.
func TestRuleMeasuresMlxtendExample(t *testing.T) {
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
	if len(m.Itemsets) != 11 {
		t.Fatalf("%d itemsets, want mlxtend's 11: %v", len(m.Itemsets), m.Itemsets)
	}
	find := func(a, c string) Rule {
		for _, r := range m.Rules {
			if strings.Join(r.Antecedent, ",") == a && strings.Join(r.Consequent, ",") == c {
				return r
			}
		}
		t.Fatalf("no rule %s → %s in %v", a, c, m.Rules)
		return Rule{}
	}
	r := find("Eggs", "Kidney Beans")
	if r.Support != 0.8 || r.Confidence != 1 || r.Lift != 1 || r.Leverage != 0 || !math.IsInf(r.Conviction, 1) {
		t.Errorf("Eggs → Kidney Beans: %+v", r)
	}
	r = find("Kidney Beans", "Eggs")
	if r.Confidence != 0.8 || r.Lift != 1 || math.Abs(r.Leverage) > 1e-15 || math.Abs(r.Conviction-1) > 1e-15 {
		t.Errorf("Kidney Beans → Eggs: %+v", r)
	}
	r = find("Onion", "Eggs") // 3 of 5 baskets; every Onion basket has Eggs
	if r.Support != 0.6 || r.Confidence != 1 || r.Lift != 1.25 || math.Abs(r.Leverage-0.12) > 1e-15 {
		t.Errorf("Onion → Eggs: %+v", r)
	}
	// mlxtend's table at metric="confidence", min_threshold=0.7.
	var got []string
	for _, r := range m.Rules {
		got = append(got, strings.Join(r.Antecedent, ",")+"→"+strings.Join(r.Consequent, ","))
	}
	slices.Sort(got)
	want := []string{"Eggs,Kidney Beans→Onion", "Eggs,Onion→Kidney Beans", "Eggs→Kidney Beans", "Eggs→Kidney Beans,Onion",
		"Eggs→Onion", "Kidney Beans,Onion→Eggs", "Kidney Beans→Eggs", "Milk→Kidney Beans", "Onion→Eggs",
		"Onion→Eggs,Kidney Beans", "Onion→Kidney Beans", "Yogurt→Kidney Beans"}
	if !slices.Equal(got, want) {
		t.Errorf("rules %v\nwant %v", got, want)
	}
}

func TestMinCountIsExact(t *testing.T) {
	for _, tc := range []struct {
		s    float64
		n    int64
		want int64
	}{{0.6, 5, 3}, {0.1, 10, 1}, {0.3, 10, 3}, {0.07, 100, 7}, {1, 7, 7}, {1e-9, 10, 1}, {0.5, 3, 2}} {
		if got := (Config{MinSupport: tc.s}).MinCount(tc.n); got != tc.want {
			t.Errorf("MinCount(%v of %d) = %d, want %d", tc.s, tc.n, got, tc.want)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{MinSupport: 0}, "basket: min support 0 is not in (0, 1]"},
		{Config{MinSupport: 1.5}, "basket: min support 1.5 is not in (0, 1]"},
		{Config{MinSupport: 0.1, MinConfidence: -0.1}, "basket: min confidence -0.1 is not in [0, 1]"},
		{Config{MinSupport: 0.1, MaxLen: -1}, "basket: max length -1 is not in [2, 64]"},
		{Config{MinSupport: 0.1, MaxLen: 1}, "basket: max length 1 is not in [2, 64]"},
		{Config{MinSupport: 0.1, MaxCandidates: -5}, "basket: max candidates -5 is not positive"},
	} {
		_, err := New(tc.cfg)
		if !errors.Is(err, ErrConfig) || err.Error() != tc.want {
			t.Errorf("%+v: %v, want %q", tc.cfg, err, tc.want)
		}
	}
}

func TestTooManyCandidatesFailsClearly(t *testing.T) {
	lists := randomBaskets(500, 4)
	_, err := Reference(Config{MinSupport: 0.001, MaxLen: 3, MaxCandidates: 100}, split(lists, 3)...)
	want := "basket: 406 candidate itemsets of 2 items exceed the limit of 100 (29 frequent items in 500 baskets at min support 0.001); raise the min support, lower the max length or raise the candidate limit"
	if !errors.Is(err, ErrTooManyCandidates) || err.Error() != want {
		t.Fatalf("err = %v\nwant %s", err, want)
	}
	_, err = Reference(Config{MinSupport: 0.006, MaxLen: 4, MaxCandidates: 500}, split(lists, 3)...)
	if !errors.Is(err, ErrTooManyCandidates) || !strings.Contains(err.Error(), "more than 500 candidate itemsets of 3 items") {
		t.Fatalf("level 3: err = %v", err)
	}
}

func TestBadInput(t *testing.T) {
	if _, err := Reference(Config{MinSupport: 0.5}, FromLists(nil), FromLists(nil)); !errors.Is(err, ErrNoBaskets) {
		t.Errorf("no baskets: %v", err)
	}
	bad := &Baskets{Items: []string{"a", "b"}, Ptr: []int32{0, 2}, Idx: []int32{1, 0}}
	_, err := Reference(Config{MinSupport: 0.5}, bad)
	if !errors.Is(err, ErrBaskets) || err.Error() != "basket: basket 0: items not strictly ascending" {
		t.Errorf("unsorted basket: %v", err)
	}
	bad = &Baskets{Items: []string{"b", "a"}, Ptr: []int32{0}}
	if _, err := Reference(Config{MinSupport: 0.5}, bad); !errors.Is(err, ErrBaskets) {
		t.Errorf("unsorted dictionary: %v", err)
	}
	s, _ := New(Config{MinSupport: 0.5})
	if err := s.Absorb([]*Result{{Kind: TaskCount}}); !errors.Is(err, ErrBadResult) {
		t.Errorf("result of another pass: %v", err)
	}
	if _, err := RunTask(nil, &Task{Kind: TaskCount, Len: 2, Items: []string{"a"}, Cands: []int32{0, 1}}, FromLists(nil), 0); !errors.Is(err, ErrBadTask) {
		t.Errorf("candidate outside the items: %v", err)
	}
}
