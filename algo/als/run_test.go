package als

import (
	"errors"
	"math"
	"slices"
	"strconv"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// one builds single-shard blocks from interactions.
func one(users, items []string, values []float64) (byUser, byItem []*Block) {
	return BuildBlocks(1, func(string) int { return 0 }, users, items, values)
}

// TestRowSolveMatchesDense checks one users pass against the normal
// equations solved densely by gonum, for explicit and implicit feedback,
// both regularisations, duplicates included.
func TestRowSolveMatchesDense(t *testing.T) {
	users := []string{"a", "a", "a", "a", "b", "b", "c"}
	items := []string{"x", "y", "y", "z", "x", "z", "y"}
	vals := []float64{4, 2, 3, 5, 1, 2, 0}
	bu, bi := one(users, items, vals)
	for _, implicit := range []bool{false, true} {
		for _, reg := range []string{RegWeighted, RegNone} {
			cfg := DefaultConfig()
			cfg.Rank, cfg.Implicit, cfg.RegScaling, cfg.Lambda, cfg.Alpha, cfg.Seed = 3, implicit, reg, 0.3, 2, 9
			cfg = cfg.withDefaults()
			_, init, err := RunTask(&Task{Kind: TaskInit, Side: Items, Config: cfg}, bi[0], nil, nil, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			tab, err := NewTable(nil, []*Factors{init})
			if err != nil {
				t.Fatal(err)
			}
			task := &Task{Kind: TaskUsers, Side: Users, Iteration: 1, Config: cfg}
			res, f, err := RunTask(task, bu[0], tab, nil, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			G := mat.NewDense(3, 3, tab.Gram(nil))
			for r, id := range bu[0].IDs {
				A := mat.NewDense(3, 3, nil)
				b := mat.NewVecDense(3, nil)
				n := 0
				lo, hi := bu[0].Ptr[r], bu[0].Ptr[r+1]
				// Implicit: sum duplicates first.
				type pair struct {
					item string
					v    float64
				}
				var ps []pair
				for j := lo; j < hi; j++ {
					it, v := bu[0].Other[j], bu[0].Value[j]
					if implicit && len(ps) > 0 && ps[len(ps)-1].item == it {
						ps[len(ps)-1].v += v
						continue
					}
					ps = append(ps, pair{it, v})
				}
				if implicit {
					A.Copy(G)
				}
				for _, p := range ps {
					if implicit && p.v == 0 {
						continue
					}
					k, _ := tab.Index(p.item)
					y := mat.NewVecDense(3, slices.Clone(tab.Row(k)))
					w, z := 1.0, p.v
					if implicit {
						w, z = cfg.Alpha*p.v, 1+cfg.Alpha*p.v
					}
					var yy mat.Dense
					yy.Outer(w, y, y)
					A.Add(A, &yy)
					b.AddScaledVec(b, z, y)
					n++
				}
				if want := int32(n); f.Count[r] != want {
					t.Errorf("implicit=%v: user %s has count %d, want %d", implicit, id, f.Count[r], want)
				}
				lam := cfg.Lambda
				if reg == RegWeighted {
					lam *= float64(n)
				}
				for k := range 3 {
					A.Set(k, k, A.At(k, k)+lam)
				}
				var x mat.VecDense
				if n > 0 {
					if err := x.SolveVec(A, b); err != nil {
						t.Fatal(err)
					}
				} else {
					x = *mat.NewVecDense(3, nil)
				}
				for k := range 3 {
					if got, want := f.Row(r)[k], x.AtVec(k); math.Abs(got-want) > 1e-12*math.Max(1, math.Abs(want)) {
						t.Errorf("implicit=%v reg=%s: user %s factor[%d] = %v, dense solve %v", implicit, reg, id, k, got, want)
					}
				}
			}
			if res.Rows != 3 || res.Trained+boolInt(implicit) != 3 {
				t.Errorf("implicit=%v: %d rows, %d trained", implicit, res.Rows, res.Trained)
			}
		}
	}
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// TestImplicitDuplicatesSum: in an implicit job a pair's duplicate
// interactions are one pair with the summed count; splitting every count
// into two integer parts gives the same model, bit for bit.
func TestImplicitDuplicatesSum(t *testing.T) {
	tr := retail(t)
	n := 4000
	var split triples
	for k := range n {
		v := tr.values[k]
		if v > 1 {
			split.users = append(split.users, tr.users[k], tr.users[k])
			split.items = append(split.items, tr.items[k], tr.items[k])
			split.values = append(split.values, v-1, 1)
			continue
		}
		split.users = append(split.users, tr.users[k])
		split.items = append(split.items, tr.items[k])
		split.values = append(split.values, v)
	}
	whole := triples{tr.users[:n], tr.items[:n], tr.values[:n]}
	cfg := testConfigs()["implicit"]
	var hashes []string
	for _, d := range []triples{whole, split} {
		u, i := d.blocks(3)
		m, err := Reference(cfg, u, i)
		if err != nil {
			t.Fatal(err)
		}
		hashes = append(hashes, modelHash(m))
	}
	if hashes[0] != hashes[1] {
		t.Error("splitting counts into duplicates changed the implicit model")
	}
}

// TestExplicitDuplicatesCount: in an explicit job each duplicate is an
// observation of its own: it counts in n, in NTrain and in the loss.
func TestExplicitDuplicatesCount(t *testing.T) {
	users := []string{"a", "a", "a", "b"}
	items := []string{"x", "x", "y", "x"}
	bu, bi := one(users, items, []float64{5, 3, 1, 2})
	cfg := DefaultConfig()
	cfg.Rank, cfg.Iterations = 2, 2
	m, err := Reference(cfg, bu, bi)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := m.Users.Index("a")
	x, _ := m.Items.Index("x")
	if m.Users.Count[a] != 3 || m.Items.Count[x] != 3 {
		t.Errorf("counts: user a %d (want 3), item x %d (want 3)", m.Users.Count[a], m.Items.Count[x])
	}
	// The loss adds one squared error per observation.
	loss := 0.0
	for k := range users {
		s, _ := m.Score(users[k], items[k])
		e := []float64{5, 3, 1, 2}[k] - s
		loss += e * e
	}
	if got := m.History[1].Loss; math.Abs(got-loss) > 1e-12 {
		t.Errorf("loss %v, recomputed %v", got, loss)
	}
}

// TestColdRows: a row whose interactions are all held out gets a zero
// factor and count, and its held-out interactions count as cold.
func TestColdRows(t *testing.T) {
	tr := spark(t)
	cfg := testConfigs()["explicit"]
	// Add an item whose only interaction is held out.
	item := ""
	for k := 0; item == ""; k++ {
		if id := "cold-" + strconv.Itoa(k); IsHoldout("0", id, cfg.Holdout, cfg.Seed) {
			item = id
		}
	}
	tr.users = append(slices.Clip(tr.users), "0")
	tr.items = append(slices.Clip(tr.items), item)
	tr.values = append(slices.Clip(tr.values), 3)
	u, i := tr.blocks(2)
	m, err := Reference(cfg, u, i)
	if err != nil {
		t.Fatal(err)
	}
	cold := 0
	for k := range m.Items.Len() {
		if m.Items.Count[k] == 0 {
			cold++
			for _, v := range m.Items.Row(k) {
				if v != 0 || math.Signbit(v) {
					t.Fatalf("cold item %s has factor %v", m.Items.IDs[k], m.Items.Row(k))
				}
			}
		}
	}
	if cold == 0 {
		t.Fatal("no cold item with half the pairs held out: the test needs one")
	}
	if m.History[0].NCold == 0 {
		t.Error("no held-out interaction counted as cold")
	}
}

func TestRunTaskErrors(t *testing.T) {
	bu, bi := one([]string{"a", "b"}, []string{"x", "y"}, []float64{1, 2})
	cfg := DefaultConfig().withDefaults()
	cfg.Rank = 2
	_, init, err := RunTask(&Task{Kind: TaskInit, Side: Items, Config: cfg}, bi[0], nil, nil, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	tab, err := NewTable(nil, []*Factors{init})
	if err != nil {
		t.Fatal(err)
	}
	users := &Task{Kind: TaskUsers, Side: Users, Iteration: 1, Config: cfg}

	// An item no factor shard holds.
	unknown := &Block{IDs: []string{"a"}, Ptr: []int32{0, 1}, Other: []string{"nope"}, Value: []float64{1}}
	if _, _, err := RunTask(users, unknown, tab, nil, nil, 0); !errors.Is(err, ErrUnknownID) {
		t.Errorf("unknown item: %v", err)
	}
	// A prep made for another block.
	prep, err := Prepare(users, bu[0], tab)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := RunTask(users, unknown, tab, prep, nil, 0); !errors.Is(err, ErrPrep) {
		t.Errorf("foreign prep: %v", err)
	}
	// Malformed blocks.
	for name, b := range map[string]*Block{
		"ptr":      {IDs: []string{"a"}, Ptr: []int32{0}, Other: nil, Value: nil},
		"order":    {IDs: []string{"b", "a"}, Ptr: []int32{0, 1, 2}, Other: []string{"x", "y"}, Value: []float64{1, 1}},
		"other":    {IDs: []string{"a"}, Ptr: []int32{0, 2}, Other: []string{"y", "x"}, Value: []float64{1, 1}},
		"nan":      {IDs: []string{"a"}, Ptr: []int32{0, 1}, Other: []string{"x"}, Value: []float64{math.NaN()}},
		"lengths":  {IDs: []string{"a"}, Ptr: []int32{0, 1}, Other: []string{"x"}, Value: nil},
		"decrease": {IDs: []string{"a", "b"}, Ptr: []int32{0, 2, 1}, Other: []string{"x", "y"}, Value: []float64{1, 1}},
	} {
		if _, _, err := RunTask(users, b, tab, nil, nil, 0); !errors.Is(err, ErrBlock) {
			t.Errorf("%s: %v", name, err)
		}
	}
	// A negative count in an implicit job.
	imp := *users
	imp.Config.Implicit, imp.Config.Alpha = true, 1
	neg := &Block{IDs: []string{"a"}, Ptr: []int32{0, 1}, Other: []string{"x"}, Value: []float64{-1}}
	if _, _, err := RunTask(&imp, neg, tab, nil, nil, 0); !errors.Is(err, ErrBlock) {
		t.Errorf("negative count: %v", err)
	}
	// Tasks that do not fit.
	for name, tk := range map[string]*Task{
		"side":  {Kind: TaskUsers, Side: Items, Config: cfg},
		"kind":  {Kind: "what", Side: Users, Config: cfg},
		"rank":  {Kind: TaskUsers, Side: Users, Config: Config{Rank: 0, Lambda: 1, Iterations: 1}},
		"eval":  {Kind: TaskEval, Side: Users, Config: cfg},
		"prev":  {Kind: TaskUsers, Side: Users, Config: cfg, Eval: &EvalSpec{K: 10, Fraction: 1}},
		"items": {Kind: TaskItems, Side: Items, Config: cfg, Eval: &EvalSpec{K: 10, Fraction: 1}},
	} {
		if _, _, err := RunTask(tk, bu[0], tab, nil, nil, 0); !errors.Is(err, ErrBadTask) {
			t.Errorf("%s: %v", name, err)
		}
	}
	other := *users
	other.Config.Rank = 3
	if _, _, err := RunTask(&other, bu[0], tab, nil, nil, 0); !errors.Is(err, ErrFactors) {
		t.Errorf("rank mismatch: %v", err)
	}
	if _, _, err := RunTask(users, bu[0], nil, nil, nil, 0); !errors.Is(err, ErrBadTask) {
		t.Errorf("no table: %v", err)
	}
}

func TestNewTableErrors(t *testing.T) {
	good := &Factors{IDs: []string{"a", "b"}, Rank: 1, F: []float64{1, 2}}
	for name, shards := range map[string][]*Factors{
		"dup":    {good, {IDs: []string{"b"}, Rank: 1, F: []float64{3}}},
		"order":  {{IDs: []string{"b", "a"}, Rank: 1, F: []float64{1, 2}}},
		"length": {{IDs: []string{"a"}, Rank: 2, F: []float64{1}}},
		"rank":   {good, {IDs: []string{"c"}, Rank: 2, F: []float64{1, 2}}},
		"nan":    {{IDs: []string{"a"}, Rank: 1, F: []float64{math.Inf(1)}}},
		"count":  {{IDs: []string{"a"}, Rank: 1, F: []float64{1}, Count: []int32{1, 2}}},
	} {
		if _, err := NewTable(nil, shards); !errors.Is(err, ErrFactors) {
			t.Errorf("%s: %v", name, err)
		}
	}
	tab, err := NewTable(nil, []*Factors{good, nil, {IDs: []string{"c"}, Rank: 1, F: []float64{3}}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(tab.Start, []int{0, 2, 2, 3}) || tab.Count != nil {
		t.Errorf("Start %v, Count %v", tab.Start, tab.Count)
	}
	again, err := NewTable(tab, []*Factors{good, nil, {IDs: []string{"c"}, Rank: 1, F: []float64{4}}})
	if err != nil {
		t.Fatal(err)
	}
	if again.lay != tab.lay || again.Layout() != tab.Layout() {
		t.Error("a table of the same ids did not share the layout")
	}
	// The same ids cut into other shards are the same layout; in another
	// order they are not.
	cut, err := NewTable(tab, []*Factors{{IDs: []string{"a"}, Rank: 1, F: []float64{1}}, {IDs: []string{"b", "c"}, Rank: 1, F: []float64{1, 2}}})
	if err != nil {
		t.Fatal(err)
	}
	moved, err := NewTable(tab, []*Factors{{IDs: []string{"c"}, Rank: 1, F: []float64{1}}, {IDs: []string{"a", "b"}, Rank: 1, F: []float64{1, 2}}})
	if err != nil {
		t.Fatal(err)
	}
	if cut.lay != tab.lay || moved.lay == tab.lay || moved.Layout() == tab.Layout() {
		t.Error("layouts shared wrongly")
	}
}
