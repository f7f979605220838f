package kmeans

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The blocked kernel must give the same label as Nearest for every row,
// whatever K (even, odd), D and n (multiple of 4 or not).
func TestKernelMatchesNearest(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var kn kernelState
	for k := 1; k <= 9; k++ {
		for d := 1; d <= 7; d++ {
			for _, n := range []int{0, 1, 3, 4, 5, 11, 300, 515} {
				c := make([]float64, k*d)
				for i := range c {
					c[i] = r.NormFloat64()
				}
				x := make([]float64, n*d)
				for i := range x {
					x[i] = r.NormFloat64()
				}
				kn.reset(c, k, d)
				lab := make([]int, n)
				kn.Assign(lab, nil, nil, x)
				labels, dist := Assign(nil, nil, c, k, d, x)
				for i := range n {
					row := x[i*d : (i+1)*d]
					want, wd := Nearest(c, k, d, row)
					if lab[i] != want || labels[i] != want || kn.One(row) != want {
						t.Fatalf("k=%d d=%d n=%d row %d: kernel %d, Assign %d, one %d, Nearest %d", k, d, n, i, lab[i], labels[i], kn.One(row), want)
					}
					if math.Float64bits(dist[i]) != math.Float64bits(wd) {
						t.Fatalf("k=%d d=%d row %d: Assign distance %v, Nearest %v", k, d, i, dist[i], wd)
					}
				}
			}
		}
	}
}

// On data without near ties the expanded-form argmin agrees with the argmin
// of exact distances.
func TestNearestIsNearest(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	const k, d = 16, 16
	c := make([]float64, k*d)
	for i := range c {
		c[i] = r.NormFloat64()
	}
	for range 2000 {
		x := make([]float64, d)
		for j := range x {
			x[j] = r.NormFloat64()
		}
		got, gd := Nearest(c, k, d, x)
		want, wd := 0, math.Inf(1)
		for i := range k {
			s := 0.0
			for j := range d {
				s += (x[j] - c[i*d+j]) * (x[j] - c[i*d+j])
			}
			if s < wd {
				want, wd = i, s
			}
		}
		if got != want || !relClose(gd, wd, 1e-12) {
			t.Fatalf("Nearest = %d, %v; exact argmin = %d, %v", got, gd, want, wd)
		}
	}
}

func TestNearestTiesGoLow(t *testing.T) {
	c := []float64{1, 1, -1, 1, 5} // d=1: centres 1, 1, -1, 1, 5
	if l, d2 := Nearest(c, 5, 1, []float64{0}); l != 0 || d2 != 1 {
		t.Fatalf("Nearest(0) = %d, %v; want 0, 1 (tie with 1, 2, 3)", l, d2)
	}
	if l, _ := Nearest(c, 5, 1, []float64{-0.5}); l != 2 {
		t.Fatalf("Nearest(-0.5) = %d, want 2", l)
	}
}

func TestTopM(t *testing.T) {
	keys := []float64{5, 1, 3, 1, 9, 0, 3, 2}
	tests := []struct {
		m    int
		want []int // rows
	}{
		{0, nil},
		{1, []int{5}},
		{3, []int{5, 1, 3}},
		{5, []int{5, 1, 3, 7, 2}},
		{20, []int{5, 1, 3, 7, 2, 6, 0, 4}},
	}
	for _, tc := range tests {
		top := topM{m: tc.m}
		for i, k := range keys {
			top.offer(k, i)
		}
		got := top.sorted()
		if len(got) != len(tc.want) {
			t.Fatalf("m=%d: got %d entries, want %d", tc.m, len(got), len(tc.want))
		}
		for i, e := range got {
			if e.row != tc.want[i] || e.key != keys[e.row] {
				t.Fatalf("m=%d: entry %d is row %d, want row %d", tc.m, i, e.row, tc.want[i])
			}
		}
	}
}

func TestUniformRange(t *testing.T) {
	key := streamKey(1, purposeSample, 0, 0)
	sum := 0.0
	const n = 100000
	for i := range n {
		u := uniform(key, i)
		if u < 0 || u >= 1 {
			t.Fatalf("uniform = %v outside [0,1)", u)
		}
		sum += u
	}
	// Mean of n uniforms has sd 1/sqrt(12n) ≈ 0.0009; allow 5 sd.
	if mean := sum / n; math.Abs(mean-0.5) > 0.0046 {
		t.Fatalf("mean of %d uniforms = %v", n, mean)
	}
	if streamKey(1, purposeSample, 0, 0) == streamKey(1, purposeSample, 0, 1) ||
		streamKey(1, purposeSample, 0, 0) == streamKey(1, purposeSample, 1, 0) ||
		streamKey(1, purposeSample, 0, 0) == streamKey(2, purposeSample, 0, 0) ||
		streamKey(1, purposePick, 0, 0) == streamKey(1, purposeSample, 0, 0) {
		t.Fatal("stream keys collide")
	}
}

// offerDist must keep exactly what offer(−dist[i], lo+i) keeps, row by row,
// with ties, signed zeros and NaN among the distances.
func TestOfferDistMatchesOffer(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	vals := []float64{0, math.Copysign(0, -1), 1, 1, 2, 3, math.NaN(), math.Inf(1)}
	for _, m := range []int{0, 1, 3, 16, 100} {
		for trial := range 50 {
			dist := make([]float64, r.IntN(300))
			for i := range dist {
				dist[i] = vals[r.IntN(len(vals))]
				if trial%2 == 0 {
					dist[i] = r.Float64()
				}
			}
			a, b := topM{m: m}, topM{m: m}
			for lo := 0; lo < len(dist); lo += 37 {
				chunk := dist[lo:min(lo+37, len(dist))]
				for i, v := range chunk {
					a.offer(-v, lo+i)
				}
				b.offerDist(chunk, lo)
			}
			ga, gb := a.sorted(), b.sorted()
			if len(ga) != len(gb) {
				t.Fatalf("m=%d: offer kept %d, offerDist %d", m, len(ga), len(gb))
			}
			for i := range ga {
				if ga[i].row != gb[i].row || !sameBits(ga[i].key, gb[i].key) {
					t.Fatalf("m=%d entry %d: offer %+v, offerDist %+v", m, i, ga[i], gb[i])
				}
			}
		}
	}
}
