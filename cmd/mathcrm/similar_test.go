package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/mathcrm/mathcrm/algo/als"
)

// similar on an ALS model ranks as a brute-force cosine over the item
// factors as exported (every item's factor row, shard after shard): the
// same items in the same order, each cosine within 1e-12; untrained and
// zero factors are left out, and an unknown item is an error, not NaN.
func TestSimilarALSIsBruteForceCosine(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	const rank = 8
	var shards []*als.Factors
	refs := make([]als.FactorRef, 3)
	for s := range refs {
		refs[s] = als.FactorRef{Object: fmt.Sprint(s)}
		f := &als.Factors{Rank: rank}
		for i := range 40 {
			f.IDs = append(f.IDs, fmt.Sprintf("item-%d-%02d", s, i))
			count := int32(1 + r.IntN(5))
			for range rank {
				f.F = append(f.F, r.NormFloat64())
			}
			switch i {
			case 7: // untrained
				count = 0
				clear(f.F[len(f.F)-rank:])
			case 9: // trained to zero
				clear(f.F[len(f.F)-rank:])
			}
			f.Count = append(f.Count, count)
		}
		shards = append(shards, f)
	}
	fetch := func(_ context.Context, ref als.FactorRef) (*als.Factors, error) {
		var s int
		fmt.Sscan(ref.Object, &s)
		return shards[s], nil
	}
	type row struct {
		id  string
		vec []float64
	}
	var rows []row // the export: ids and factors, shard after shard
	for _, f := range shards {
		for i, id := range f.IDs {
			if f.Count[i] > 0 {
				rows = append(rows, row{id, f.Row(i)})
			}
		}
	}
	unit := func(v []float64) []float64 {
		var n float64
		for _, x := range v {
			n += x * x
		}
		n = math.Sqrt(n)
		out := make([]float64, len(v))
		for i, x := range v {
			out[i] = x / n
		}
		return out
	}
	for _, q := range []string{"item-0-00", "item-1-13", "item-2-39"} {
		var qv []float64
		for _, rw := range rows {
			if rw.id == q {
				qv = unit(rw.vec)
			}
		}
		type scored struct {
			id  string
			cos float64
		}
		var want []scored
		for _, rw := range rows {
			if rw.id == q || slices.Max(rw.vec) == 0 && slices.Min(rw.vec) == 0 {
				continue
			}
			w := unit(rw.vec)
			var c float64
			for k := range w {
				c += qv[k] * w[k]
			}
			want = append(want, scored{rw.id, c})
		}
		slices.SortFunc(want, func(a, b scored) int {
			if a.cos != b.cos {
				if a.cos > b.cos {
					return -1
				}
				return 1
			}
			return strings.Compare(a.id, b.id)
		})
		got, err := similarALS(context.Background(), fetch, refs, q, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 10 {
			t.Fatalf("%s: %d neighbours", q, len(got))
		}
		for i, g := range got {
			if g.ID != want[i].id || math.Abs(g.Score-want[i].cos) > 1e-12 || math.IsNaN(g.Score) {
				t.Fatalf("%s: neighbour %d is %s (%v), brute force %s (%v)", q, i, g.ID, g.Score, want[i].id, want[i].cos)
			}
		}
		all, err := similarALS(context.Background(), fetch, refs, q, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != len(want) {
			t.Fatalf("%s: %d neighbours in all, brute force %d", q, len(all), len(want))
		}
	}
	for _, bad := range []struct{ item, msg string }{
		{"no-such-item", `item "no-such-item" is not in the model`},
		{"item-1-07", `item "item-1-07" has no trained factor`},
		{"item-2-09", `item "item-2-09" has a zero factor`},
	} {
		_, err := similarALS(context.Background(), fetch, refs, bad.item, 5)
		if !errors.Is(err, als.ErrUnknownID) || !strings.Contains(err.Error(), bad.msg) {
			t.Errorf("%s: %v", bad.item, err)
		}
	}
}
