package als

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestTopN(t *testing.T) {
	// Items: scores with u = (1, 0) are their first factor; "b" and "d"
	// tie, "e" is untrained.
	items := &Factors{
		IDs:   []string{"a", "b", "c", "d", "e"},
		Rank:  2,
		F:     []float64{1, 9, 3, 0, 2, 5, 3, -1, 7, 7},
		Count: []int32{1, 1, 1, 1, 0},
	}
	tab, err := NewTable(nil, []*Factors{items})
	if err != nil {
		t.Fatal(err)
	}
	u := []float64{1, 0}
	got := TopN(nil, u, tab, nil, 3)
	if fmt.Sprint(got) != "[{b 3} {d 3} {c 2}]" {
		t.Errorf("TopN = %v", got)
	}
	got = TopN(got, u, tab, []string{"b", "zz"}, 10)
	if fmt.Sprint(got) != "[{d 3} {c 2} {a 1}]" {
		t.Errorf("TopN excluding b = %v", got)
	}
	if got = TopN(got, u, tab, nil, 0); len(got) != 0 {
		t.Errorf("TopN of 0 = %v", got)
	}
	pop := []Popular{{"x", 9}, {"y", 5}, {"z", 5}}
	if got := PopularTopN(nil, pop, []string{"y"}, 2); fmt.Sprint(got) != "[{x 9} {z 5}]" {
		t.Errorf("PopularTopN = %v", got)
	}
}

// TestRecommend: a trained user gets the items the model scores highest
// among those not excluded, the same as a brute-force ranking; an unknown
// or cold user gets the popular items.
func TestRecommend(t *testing.T) {
	tr := spark(t)
	u, i := tr.blocks(3)
	cfg := testConfigs()["explicit"]
	m, err := Reference(cfg, u, i)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Popular) == 0 || m.Popular[0].Count < m.Popular[len(m.Popular)-1].Count {
		t.Fatalf("popular items %v", m.Popular)
	}
	seen := []string{"2", "3", "5"}
	slices.Sort(seen)
	rec := m.Recommend(nil, "0", seen, 5)
	type sc struct {
		id string
		s  float64
	}
	var all []sc
	for k := range m.Items.Len() {
		id := m.Items.IDs[k]
		if _, ex := slices.BinarySearch(seen, id); ex || m.Items.Count[k] == 0 {
			continue
		}
		s, ok := m.Score("0", id)
		if !ok {
			t.Fatalf("no score for %s", id)
		}
		all = append(all, sc{id, s})
	}
	slices.SortFunc(all, func(a, b sc) int {
		if a.s != b.s {
			if a.s > b.s {
				return -1
			}
			return 1
		}
		return strings.Compare(a.id, b.id)
	})
	for k, r := range rec {
		if r.ID != all[k].id || r.Score != all[k].s {
			t.Fatalf("recommendation %d: %v, brute force %v", k, r, all[k])
		}
	}
	if got := m.Recommend(nil, "nobody", nil, 3); fmt.Sprint(got) != fmt.Sprint(PopularTopN(nil, m.Popular, nil, 3)) {
		t.Errorf("unknown user: %v", got)
	}
	if _, ok := m.Score("nobody", "2"); ok {
		t.Error("Score of an unknown user")
	}
}

// TestModelJSON: a model written as JSON reads back with working indexes
// and the same recommendations.
func TestModelJSON(t *testing.T) {
	u, i := spark(t).blocks(2)
	m, err := Reference(testConfigs()["implicit"], u, i)
	if err != nil {
		t.Fatal(err)
	}
	var back Model
	if err := json.Unmarshal([]byte(mustJSON(t, m)), &back); err != nil {
		t.Fatal(err)
	}
	if modelHash(&back) != modelHash(m) {
		t.Fatal("model changed through JSON")
	}
	if a, b := fmt.Sprint(m.Recommend(nil, "3", nil, 5)), fmt.Sprint(back.Recommend(nil, "3", nil, 5)); a != b {
		t.Errorf("recommendations %s, after JSON %s", a, b)
	}
	if err := json.Unmarshal([]byte(`{"rank":1,"ids":["a","a"],"f":[1,2]}`), new(Table)); !errors.Is(err, ErrFactors) {
		t.Errorf("duplicate ids: %v", err)
	}
}

func TestEmptyTableJSON(t *testing.T) {
	tab, err := NewTable(nil, []*Factors{nil, nil})
	if err != nil {
		t.Fatal(err)
	}
	var back Table
	if err := json.Unmarshal([]byte(mustJSON(t, tab)), &back); err != nil {
		t.Fatal(err)
	}
	if back.Len() != 0 || len(back.Start) != 3 {
		t.Errorf("empty table read back with %d rows and offsets %v", back.Len(), back.Start)
	}
}
