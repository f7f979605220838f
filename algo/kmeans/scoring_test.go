package kmeans

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/mathcrm/mathcrm/algo/score"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/internal/scoreset"
	"github.com/mathcrm/mathcrm/partition"
)

// TestScoreKMeansRowByRow holds the blocked scorer to Nearest on
// each standardised row, exactly, over several blocks with missing values
// in some of them (none in the first blocks, so the scorer switches from
// the shard's own keys to the kept ones midway).
// It runs on every kernel path, with 5 columns (the AVX2 gather's four and
// one left to the Go code) and 16.
func TestScoreKMeansRowByRow(t *testing.T) {
	for _, p := range kernelPaths {
		for _, d := range []int{5, 16} {
			t.Run(fmt.Sprintf("%v/d=%d", p, d), func(t *testing.T) {
				withPath(t, p, func() { scoreRowByRow(t, d) })
			})
		}
	}
}

func scoreRowByRow(t *testing.T, d int) {
	const n, k = 3*assignBlock + 77, 4
	r := rand.New(rand.NewPCG(7, 8))
	sh := &partition.Shard{Key: "id"}
	for j := range d {
		sh.Columns = append(sh.Columns, "c"+strconv.Itoa(j))
	}
	sh.Columns = append(sh.Columns, "unused")
	for range n {
		sh.Keys = append(sh.Keys, strconv.Itoa(r.IntN(1e9)))
	}
	for range sh.Columns {
		col := make([]float64, n)
		for i := range col {
			col[i] = r.NormFloat64()*3 + 1
		}
		sh.Values = append(sh.Values, col)
	}
	missing := map[int]bool{2*assignBlock + 5: true, 2*assignBlock + 6: true, n - 1: true}
	for i := range missing {
		sh.Values[i%d][i] = math.NaN()
	}
	sh.Values[d][0] = math.NaN() // not a model column
	km := &Segmentation{Columns: sh.Columns[:d], Mean: make([]float64, d), Scale: make([]float64, d)}
	for j := range d {
		km.Mean[j], km.Scale[j] = 0.5*float64(j), 1+float64(j)/3
	}
	for range k {
		c := make([]float64, d)
		for j := range c {
			c[j] = r.NormFloat64()
		}
		km.TrainingCentroids = append(km.TrainingCentroids, c)
	}
	cols, err := scoreset.Schema(proto.ScoresSegments)
	if err != nil {
		t.Fatal(err)
	}
	sp := &score.Partial{Values: proto.Moments{Min: math.Inf(1), Max: math.Inf(-1)}}
	tab, err := scoreShard(sh, nil, km, "id", cols, sp)
	if err != nil {
		t.Fatal(err)
	}
	var flat []float64
	for _, c := range km.TrainingCentroids {
		flat = append(flat, c...)
	}
	if tab.Rows() != n-len(missing) || sp.Scored != int64(tab.Rows()) || sp.Unscored != int64(len(missing)) {
		t.Fatalf("%d rows, scored %d, unscored %d; want %d and %d", tab.Rows(), sp.Scored, sp.Unscored, n-len(missing), len(missing))
	}
	var wantUnscored []string
	for i := range n {
		if missing[i] {
			wantUnscored = append(wantUnscored, sh.Keys[i])
		}
	}
	if !slices.Equal(tab.Unscored, wantUnscored) {
		t.Fatalf("unscored keys %v, want %v", tab.Unscored, wantUnscored)
	}
	sizes := make([]int64, k)
	var sum float64
	row := 0
	for i := range n {
		if missing[i] {
			continue
		}
		x := make([]float64, d)
		for j := range d {
			x[j] = (sh.Values[j][i] - km.Mean[j]) / km.Scale[j]
		}
		seg, sq := Nearest(flat, k, d, x)
		if tab.Keys[row] != sh.Keys[i] || tab.Ints[0][row] != int64(seg) || tab.Floats[1][row] != math.Sqrt(sq) {
			t.Fatalf("row %d: %s %d %v, want %s %d %v", i, tab.Keys[row], tab.Ints[0][row], tab.Floats[1][row],
				sh.Keys[i], seg, math.Sqrt(sq))
		}
		sizes[seg]++
		sum += math.Sqrt(sq)
		row++
	}
	for s := range sizes {
		if sp.Segments[s] != sizes[s] {
			t.Fatalf("segment sizes %v, want %v", sp.Segments, sizes)
		}
	}
	if m := sum / float64(row); sp.Values.Count != int64(row) || math.Abs(sp.Values.Mean-m) > 1e-12*m {
		t.Fatalf("moments %+v, want count %d mean %v", sp.Values, row, m)
	}
}
