package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestScreenSettlesAndDefers holds the float32 screen to its two promises
// on rows built for it: rows near one centre are settled (labelled by the
// screen, not left to the scan), and rows within float32's reach of the
// bisector of two centres, whose float64 labels turn on a difference
// float32 cannot see, are left to the scan; every label is the portable
// path's.
func TestScreenSettlesAndDefers(t *testing.T) {
	if best < AVX2 || !hasPOPCNT {
		t.Skip("no AVX2 path on this CPU or build")
	}
	old := SetPath(AVX2)
	defer SetPath(old)
	r := rand.New(rand.NewPCG(7, 8))
	for _, shape := range []struct{ k, d int }{{9, 1}, {12, 16}, {16, 7}, {16, 40}} {
		k, d := shape.k, shape.d
		c := make([]float64, k*d)
		for i := range c {
			c[i] = 10 * r.NormFloat64()
		}
		var km KMeans
		km.Reset(c, k, d)
		if !km.screen {
			t.Fatalf("k=%d d=%d: the screen is not used", k, d)
		}
		const n = 512
		clearRows := make([]float64, n*d)
		tieRows := make([]float64, n*d)
		for i := range n {
			// a and its nearest centre b: no third centre is nearer to
			// their midpoint.
			a, b := r.IntN(k), -1
			for o := range k {
				if o != a && (b < 0 || SqDist(c[a*d:(a+1)*d], c[o*d:(o+1)*d]) < SqDist(c[a*d:(a+1)*d], c[b*d:(b+1)*d])) {
					b = o
				}
			}
			for j := range d {
				clearRows[i*d+j] = c[a*d+j] + 0.01*r.NormFloat64()
				// The midpoint of a and b, nudged along b − a by a relative
				// 1e-12: the exact scores differ by far less than float32
				// resolves.
				mid := (c[a*d+j] + c[b*d+j]) / 2
				tieRows[i*d+j] = mid + 1e-12*(c[b*d+j]-c[a*d+j])*float64(1-2*(i%2))
			}
		}
		for _, tc := range []struct {
			name   string
			x      []float64
			settle bool
		}{{"near a centre", clearRows, true}, {"on a bisector", tieRows, false}} {
			lab := make([]int, n)
			left := km.labels32(lab, tc.x)
			if tc.settle && left != 0 {
				t.Errorf("k=%d d=%d %s: %d of %d rows left to the scan, want 0", k, d, tc.name, left, n)
			}
			if !tc.settle && left != n {
				t.Errorf("k=%d d=%d %s: %d of %d rows left to the scan, want all", k, d, tc.name, left, n)
			}
			for i, l := range lab {
				if want := km.One(tc.x[i*d : (i+1)*d]); l != -1 && l != want {
					t.Fatalf("k=%d d=%d %s: row %d settled as %d, the scan gives %d", k, d, tc.name, i, l, want)
				}
				if l == -1 {
					lab[i] = km.One(tc.x[i*d : (i+1)*d])
				}
			}
			// And through Assign, against the portable path.
			got := make([]int, n)
			km.Assign(got, nil, nil, tc.x)
			var kp KMeans
			onPath(Portable, func() []float64 { kp.Reset(c, k, d); return nil })
			want := make([]int, n)
			kp.Assign(want, nil, nil, tc.x)
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("k=%d d=%d %s: row %d: AVX2 %d, portable %d", k, d, tc.name, i, got[i], want[i])
				}
			}
		}
	}
}

// TestScreenTileBound: a tile with a value of 2⁶⁰ or more or an infinity is
// not settled by the screen, a row with a NaN is not either, every settled
// row has the scan's label, and the other tiles are settled.
func TestScreenTileBound(t *testing.T) {
	if best < AVX2 || !hasPOPCNT {
		t.Skip("no AVX2 path on this CPU or build")
	}
	old := SetPath(AVX2)
	defer SetPath(old)
	r := rand.New(rand.NewPCG(9, 10))
	k, d := 12, 5
	c := make([]float64, k*d)
	for i := range c {
		c[i] = r.NormFloat64()
	}
	var km KMeans
	km.Reset(c, k, d)
	for _, v := range []float64{0x1p60, -1e300, math.Inf(1), math.NaN()} {
		x := make([]float64, 12*d)
		for i := range 12 {
			a := r.IntN(k)
			for j := range d {
				x[i*d+j] = c[a*d+j]
			}
		}
		x[4*d+2] = v // row 4, the second tile
		lab := make([]int, 12)
		km.labels32(lab, x)
		for i, l := range lab {
			inTile := i >= 4 && i < 8
			switch {
			case inTile && !math.IsNaN(v) && l != -1:
				t.Errorf("value %v: row %d of its tile settled as %d", v, i, l)
			case math.IsNaN(v) && i == 4 && l != -1:
				t.Errorf("NaN: its row settled as %d", l)
			case !inTile && l == -1:
				t.Errorf("value %v: row %d outside its tile not settled", v, i)
			case l != -1 && l != km.One(x[i*d:(i+1)*d]):
				t.Errorf("value %v: row %d settled as %d, the scan gives %d", v, i, l, km.One(x[i*d:(i+1)*d]))
			}
		}
	}
}
