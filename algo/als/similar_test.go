package als

import (
	"errors"
	"math"
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
