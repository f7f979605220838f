package als

import (
	"math"
	"strconv"
	"testing"
)

// TestHashesPinned pins the hashes that decide the split and the initial
// factors: they must never change. The values come from
// testdata/golden/make_als_golden.py, which reimplements them in Python.
func TestHashesPinned(t *testing.T) {
	if got := KeyHash("abc", 0); got != 0x29e32c04ec3f9c30 {
		t.Errorf("KeyHash(abc, 0) = %#x", got)
	}
	if got := PairHash("u1", "i1", 7); got != 0xa4a153ee62a2aa7c {
		t.Errorf("PairHash(u1, i1, 7) = %#x", got)
	}
	f := make([]float64, 4)
	InitFactor(f, 3, "item-1")
	want := []float64{0.8649485124376186, 0.4633669796630552, 0.4887662961922497, -0.4178828529651751}
	for k := range f {
		if f[k] != want[k] {
			t.Errorf("InitFactor(3, item-1)[%d] = %v, want %v", k, f[k], want[k])
		}
	}
	// The Python script counts 19868 of these 100000 pairs held out.
	n := 0
	for k := range 100000 {
		if IsHoldout("u"+strconv.Itoa(k), "i"+strconv.Itoa(k*7%101), 0.2, 5) {
			n++
		}
	}
	if n != 19868 {
		t.Errorf("%d of 100000 pairs held out, Python counts 19868", n)
	}
}

// TestHoldoutSidesAgree: a block of either side marks the same pairs held
// out.
func TestHoldoutSidesAgree(t *testing.T) {
	tr := spark(t)
	cfg := DefaultConfig().withDefaults()
	cfg.Holdout, cfg.Seed = 0.3, 17
	bu, bi := tr.blocks(3)
	held := map[[2]string]bool{}
	for _, side := range []Side{Users, Items} {
		blocks, other := bu, bi
		if side == Items {
			blocks, other = bi, bu
		}
		var fs []*Factors
		for _, b := range other {
			fs = append(fs, &Factors{IDs: b.IDs, Rank: 1, F: make([]float64, len(b.IDs))})
		}
		tab, err := NewTable(nil, fs)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range blocks {
			p, err := Prepare(&Task{Side: side, Config: cfg}, b, tab)
			if err != nil {
				t.Fatal(err)
			}
			for r, id := range b.IDs {
				for j := b.Ptr[r]; j < b.Ptr[r+1]; j++ {
					pair := [2]string{id, b.Other[j]}
					if side == Items {
						pair = [2]string{b.Other[j], id}
					}
					h := p.held(int(j))
					if h != IsHoldout(pair[0], pair[1], cfg.Holdout, cfg.Seed) {
						t.Fatalf("%s side: pair %v marked %v", side, pair, h)
					}
					if side == Users {
						held[pair] = h
					} else if held[pair] != h {
						t.Fatalf("pair %v: users side %v, items side %v", pair, held[pair], h)
					}
				}
			}
		}
	}
}

func TestInitFactorScale(t *testing.T) {
	const rank, n = 16, 4000
	f := make([]float64, rank)
	sum := 0.0
	bound := math.Sqrt(3.0 / rank)
	for k := range n {
		InitFactor(f, 1, "id"+strconv.Itoa(k))
		for _, v := range f {
			if v < -bound || v >= bound {
				t.Fatalf("component %v outside [-%v, %v)", v, bound, bound)
			}
			sum += v * v
		}
	}
	if mean := sum / n; math.Abs(mean-1) > 0.02 {
		t.Errorf("mean squared norm %v, want about 1", mean)
	}
}
