package kernel

import (
	"fmt"
	"math"
	"testing"
)

// The harness: every primitive, on every path the build and the CPU have,
// must give the portable path's bits. A primitive is a function of a case
// number that builds its inputs from that number alone (so every path sees
// the same ones), runs on the current path and returns its outputs as
// float64s; labels and counts are converted exactly.

type primitive struct {
	name  string
	cases int
	run   func(i int) []float64
}

// primitives is the table the harness runs; each algorithm's file of cases
// adds its rows.
var primitives []primitive

func onPath(p Path, f func() []float64) []float64 {
	old := SetPath(p)
	defer SetPath(old)
	return f()
}

func sameBits(a, b float64) bool {
	return math.Float64bits(a) == math.Float64bits(b) || (math.IsNaN(a) && math.IsNaN(b))
}

func TestPathsAgree(t *testing.T) {
	paths := Paths()
	t.Logf("paths: %v", paths)
	for _, pr := range primitives {
		t.Run(pr.name, func(t *testing.T) {
			n := pr.cases
			if testing.Short() {
				n = max(1, n/5)
			}
			for i := range n {
				want := onPath(Portable, func() []float64 { return pr.run(i) })
				for _, p := range paths[1:] {
					got := onPath(p, func() []float64 { return pr.run(i) })
					if len(got) != len(want) {
						t.Fatalf("case %d: %s gives %d values, portable %d", i, p, len(got), len(want))
					}
					for j := range want {
						if !sameBits(got[j], want[j]) {
							t.Fatalf("case %d: value %d: %s %v (%#x), portable %v (%#x)",
								i, j, p, got[j], math.Float64bits(got[j]), want[j], math.Float64bits(want[j]))
						}
					}
				}
			}
		})
	}
}

func TestSetPath(t *testing.T) {
	old := SetPath(Portable)
	defer SetPath(old)
	if Current() != Portable {
		t.Fatalf("Current() = %v after SetPath(Portable)", Current())
	}
	if prev := SetPath(Path(99)); prev != Portable || Current() != Portable {
		t.Fatalf("SetPath(99): previous %v, current %v; want portable, portable", prev, Current())
	}
	for _, p := range Paths() {
		SetPath(p)
		if Current() != p {
			t.Fatalf("Current() = %v after SetPath(%v)", Current(), p)
		}
	}
	if got := fmt.Sprint(Paths()[0]); got != "portable" {
		t.Fatalf("first path %q, want portable", got)
	}
}
