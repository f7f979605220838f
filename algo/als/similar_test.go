package als

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"reflect"
	"sort"
	"testing"
)

func TestSimilarIsTheCosineRanking(t *testing.T) {
	items, err := NewTable(nil, []*Factors{{Rank: 2,
		IDs:   []string{"a", "b", "c", "d", "e", "f"},
		F:     []float64{1, 0, 2, 0.1, 0, 3, -1, 0, 1, 1, 5, 5},
		Count: []int32{3, 1, 1, 2, 0, 4}}})
	if err != nil {
		t.Fatal(err)
	}
	m := &Model{Items: items}
	got, err := m.Similar(nil, "a", 10)
	if err != nil {
		t.Fatal(err)
	}
	// b at cos 2/√4.01, then e and f tied at 1/√2 (e has no trained factor,
	// so only f), c at 0, d at −1.
	want := []Scored{{"b", 2 / math.Sqrt(4.01)}, {"f", 5 / math.Sqrt(50)}, {"c", 0}, {"d", -1}}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i].ID != want[i].ID || math.Abs(got[i].Score-want[i].Score) > 1e-15 {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
	if top, _ := m.Similar(nil, "a", 2); len(top) != 2 || top[1].ID != "f" {
		t.Fatalf("top 2: %v", top)
	}
	for item, msg := range map[string]string{
		"zz": `als: item "zz" is not in the model`,
		"e":  `als: item "e" has no trained factor (no training interaction)`,
	} {
		if _, err := m.Similar(nil, item, 3); !errors.Is(err, ErrUnknownID) || err.Error() != msg {
			t.Errorf("%s: %v, want %s", item, err, msg)
		}
	}
}

// On a trained model, the ranking is that of the normalised factors' dot
// products, computed here without the model's kernel.
func TestSimilarOnATrainedModel(t *testing.T) {
	m := trainedModelForSimilar(t)
	for _, item := range m.Items.IDs[:5] {
		got, err := m.Similar(nil, item, 10)
		if err != nil {
			t.Fatal(err)
		}
		i, _ := m.Items.Index(item)
		norm := func(r []float64) float64 {
			var s float64
			for _, x := range r {
				s += x * x
			}
			return math.Sqrt(s)
		}
		type sc struct {
			id string
			s  float64
		}
		var all []sc
		for j := range m.Items.IDs {
			if j == i || m.Items.Count[j] == 0 {
				continue
			}
			var d float64
			for k := range m.Items.Rank {
				d += m.Items.Row(i)[k] / norm(m.Items.Row(i)) * m.Items.Row(j)[k] / norm(m.Items.Row(j))
			}
			all = append(all, sc{m.Items.IDs[j], d})
		}
		sort.Slice(all, func(a, b int) bool { return all[a].s > all[b].s })
		for k := range got {
			if math.Abs(got[k].Score-all[k].s) > 1e-12 {
				t.Fatalf("%s: neighbour %d %v, plain cosine %v", item, k, got[k], all[k])
			}
		}
	}
}

func trainedModelForSimilar(t *testing.T) *Model {
	t.Helper()
	tr := readTriples(t, "../../testdata/ratings/spark_sample_movielens.csv")
	cfg := DefaultConfig()
	cfg.Rank, cfg.Iterations = 6, 3
	u, i := tr.blocks(3)
	m, err := Reference(cfg, u, i)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// Every item's neighbours from a Neighbourer, in one call, with one and
// with three goroutines, are what Similar returns for that item, bit for
// bit; an untrained item has none.
func TestNeighboursAreSimilar(t *testing.T) {
	m := trainedModelForSimilar(t)
	// An item without a trained factor, and one trained to zero.
	m.Items.Count[1] = 0
	clear(m.Items.Row(2))
	nb := NewNeighbourer(m.Items)
	rows := make([]int, m.Items.Len())
	for i := range rows {
		rows[i] = i
	}
	for _, workers := range []int{1, 3} {
		ends := make([]int, len(rows))
		got := nb.Neighbours(nil, ends, rows, 7, workers)
		from := 0
		for i, id := range m.Items.IDs {
			mine := got[from:ends[i]]
			from = ends[i]
			want, err := m.Similar(nil, id, 7)
			if i == 1 || i == 2 {
				if err == nil || len(mine) != 0 {
					t.Fatalf("item %s without a factor: Similar %v, %v; Neighbours %v", id, want, err, mine)
				}
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(mine) != len(want) {
				t.Fatalf("%d workers, item %s: %v, Similar %v", workers, id, mine, want)
			}
			for k := range want {
				if mine[k].ID != want[k].ID || math.Float64bits(mine[k].Score) != math.Float64bits(want[k].Score) {
					t.Fatalf("%d workers, item %s: neighbour %d %v, Similar %v", workers, id, k, mine[k], want[k])
				}
			}
		}
	}
}

// Over many blocks of rows, and rows asked for out of order, the
// neighbours are still Similar's.
func TestNeighboursManyBlocks(t *testing.T) {
	const items, rank = 1100, 5
	f := &Factors{Rank: rank, IDs: make([]string, items), F: make([]float64, items*rank), Count: make([]int32, items)}
	x := uint64(7)
	for i := range items {
		f.IDs[i] = fmt.Sprintf("i%05d", i)
		f.Count[i] = 1
		for k := range rank {
			x = x*6364136223846793005 + 1442695040888963407
			f.F[i*rank+k] = float64(int64(x>>11)%2001-1000) / 1000
		}
	}
	tab, err := NewTable(nil, []*Factors{f})
	if err != nil {
		t.Fatal(err)
	}
	m := &Model{Items: tab}
	rows := make([]int, 0, items)
	for i := items - 1; i >= 0; i -= 2 {
		rows = append(rows, i)
	}
	ends := make([]int, len(rows))
	got := NewNeighbourer(tab).Neighbours(nil, ends, rows, 5, 2)
	from := 0
	for k, r := range rows {
		want, err := m.Similar(nil, tab.IDs[r], 5)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got[from:ends[k]]) != fmt.Sprint(want) {
			t.Fatalf("row %d: %v, Similar %v", r, got[from:ends[k]], want)
		}
		from = ends[k]
	}
}

// The neighbours of every item of a model trained on the Spark MovieLens
// sample are numpy's cosine ranking of its factors (normalised V @ V.T,
// argpartition), testdata/similar_golden.json, made by
// testdata/make_similar_golden.py from testdata/similar_factors.json: the
// same items in the same order, each cosine within 1e-12. The factors
// must be those the golden file was made from, bit for bit;
// MATHCRM_WRITE_SIMILAR=1 writes them anew.
func TestSimilarIsNumpyCosine(t *testing.T) {
	m := trainedModelForSimilar(t)
	it := m.Items
	type factorsDoc struct {
		Rank    int       `json:"rank"`
		IDs     []string  `json:"ids"`
		Counts  []int32   `json:"counts"`
		Factors []float64 `json:"factors"`
	}
	doc := factorsDoc{Rank: it.Rank, IDs: it.IDs, Counts: it.Count, Factors: it.F}
	if os.Getenv("MATHCRM_WRITE_SIMILAR") != "" {
		b, _ := json.Marshal(doc)
		if err := os.WriteFile("testdata/similar_factors.json", append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile("testdata/similar_factors.json")
	if err != nil {
		t.Fatal(err)
	}
	var saved factorsDoc
	if err := json.Unmarshal(b, &saved); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(saved, doc) {
		t.Fatal("the trained factors differ from testdata/similar_factors.json: training changed; regenerate both files")
	}
	b, err = os.ReadFile("testdata/similar_golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var golden struct {
		Top        int                         `json:"top"`
		Neighbours map[string][][2]json.Number `json:"neighbours"`
	}
	if err := json.Unmarshal(b, &golden); err != nil {
		t.Fatal(err)
	}
	checked := 0
	for i, id := range it.IDs {
		want, ok := golden.Neighbours[id]
		got, err := m.Similar(nil, id, golden.Top)
		if !ok {
			if err == nil {
				t.Fatalf("item %s: numpy has no neighbours, Similar %v", id, got)
			}
			continue
		}
		if err != nil {
			t.Fatalf("item %d %s: %v", i, id, err)
		}
		if len(got) != len(want) {
			t.Fatalf("item %s: %d neighbours, numpy %d", id, len(got), len(want))
		}
		for k, w := range want {
			s, _ := w[1].Float64()
			if got[k].ID != string(w[0]) || math.Abs(got[k].Score-s) > 1e-12 {
				t.Fatalf("item %s: neighbour %d %v, numpy %s %v", id, k+1, got[k], w[0], s)
			}
		}
		checked++
	}
	if checked < 50 {
		t.Fatalf("only %d items checked", checked)
	}
}
