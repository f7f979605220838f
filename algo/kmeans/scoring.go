package kmeans

import (
	"context"
	"fmt"
	"math"
	"sync"

	"github.com/mathcrm/mathcrm/algo/feature"
	"github.com/mathcrm/mathcrm/algo/internal/kernel"
	"github.com/mathcrm/mathcrm/algo/job"
	"github.com/mathcrm/mathcrm/algo/score"
	"github.com/mathcrm/mathcrm/internal/blob"

	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/internal/scoreset"
	"github.com/mathcrm/mathcrm/partition"
)

// assignBlock is how many rows scoreKMeans gathers into one row-major block
// before assigning them: 256 KiB at 16 features, so the block stays in the
// core's cache between the gather and the kernel.
const assignBlock = 2048

// segBufs and distBufs hold the segment and distance columns of k-means
// score shards, taken by scoreShard and given back by
// releaseColumns once the shard is encoded.
var (
	segBufs  = sync.Pool{New: func() any { return new([]int64) }}
	distBufs = sync.Pool{New: func() any { return new([]float64) }}
)

// releaseColumns gives the columns of a table scoreShard made back
// to the pools; the table must not be used after.
func releaseColumns(tab *scoreset.Table) {
	seg, dist := tab.Ints[0], tab.Floats[1]
	tab.Ints[0], tab.Floats[1] = nil, nil
	segBufs.Put(&seg)
	distBufs.Put(&dist)
}

// scoreKMeans assigns every row of a shard that has all the model's inputs
// to its nearest centroid and returns the score shard (key, segment,
// distance; the keys of the rows left out as unscored), with the segment sizes and the distances' moments in sp. Rows
// are standardised as in training and assigned a block at a time; a row's
// segment and distance do not depend on its block (Assign computes
// each row as Nearest does). Nothing here is kept after the step:
// the shard is the only cached input, and the output is as large as the
// shard's row count requires.
func scoreShard(sh *partition.Shard, levels map[string][]string, km *Segmentation, key string,
	cols []scoreset.Column, sp *score.Partial) (*scoreset.Table, error) {
	d, k := len(km.Columns), len(km.TrainingCentroids)
	in := make([][]float64, d)
	for j, name := range km.Columns {
		var err error
		if in[j], err = feature.ScoreColumn(sh, levels, name); err != nil {
			return nil, err
		}
	}
	c := make([]float64, 0, k*d)
	for _, row := range km.TrainingCentroids {
		c = append(c, row...)
	}
	n := sh.Rows()
	tab := scoreset.NewTable(key, cols, 0)
	segp, distp := segBufs.Get().(*[]int64), distBufs.Get().(*[]float64)
	seg, dist := (*segp)[:0], (*distp)[:0]
	if cap(seg) < n {
		seg = make([]int64, 0, n)
	}
	if cap(dist) < n {
		dist = make([]float64, 0, n)
	}
	var kept []int // rows kept, once a row has been left out
	x := make([]float64, assignBlock*d)
	labels, sq := make([]int, assignBlock), make([]float64, assignBlock)
	asg := NewAssigner(c, k, d)
	sp.Segments = make([]int64, k)
	for lo := 0; lo < n; lo += assignBlock {
		hi := min(n, lo+assignBlock)
		var m int
		if gather(x, in, lo, hi, km.Mean, km.Scale) {
			m = hi - lo
			for i := lo; kept != nil && i < hi; i++ {
				kept = append(kept, i)
			}
		} else {
			if kept == nil {
				kept = make([]int, lo, n)
				for r := range lo {
					kept[r] = r
				}
			}
			var left int64
			m, left, kept = gatherComplete(x, in, lo, hi, km.Mean, km.Scale, kept)
			sp.Unscored += left
		}
		if m == 0 {
			continue
		}
		asg.Assign(labels[:m], sq[:m], x[:m*d])
		block := proto.Moments{Count: int64(m), Min: math.Inf(1), Max: math.Inf(-1)}
		var sum float64
		for r, l := range labels[:m] {
			dv := math.Sqrt(sq[r])
			sq[r] = dv
			seg = append(seg, int64(l))
			sp.Segments[l]++
			sum += dv
			block.Min, block.Max = min(block.Min, dv), max(block.Max, dv)
		}
		block.Mean = sum / float64(m)
		for _, dv := range sq[:m] {
			t := dv - block.Mean
			block.M2 += t * t
		}
		dist = append(dist, sq[:m]...)
		sp.Values.Merge(block)
	}
	if kept == nil {
		tab.Keys = sh.Keys // read only: the table is encoded and dropped
	} else {
		tab.Keys = make([]string, len(kept))
		tab.Unscored = make([]string, 0, n-len(kept))
		next := 0 // the rows between kept ones were left out
		for r, i := range kept {
			tab.Keys[r] = sh.Keys[i]
			tab.Unscored = append(tab.Unscored, sh.Keys[next:i]...)
			next = i + 1
		}
		tab.Unscored = append(tab.Unscored, sh.Keys[next:]...)
	}
	tab.Ints[0], tab.Floats[1] = seg, dist
	sp.Scored = int64(len(seg))
	return tab, nil
}

// gather writes rows lo to hi of the columns into x row-major, standardised
// when mean and scale are given (feature.Standardize: the same single
// roundings, four rows of four columns per step on the AVX2 path), and
// reports whether every value was present; if not, x is to be written
// again by gatherComplete. The check rides along with the copy, so the
// shard's columns are read once.
func gather(x []float64, in [][]float64, lo, hi int, mean, scale []float64) bool {
	return kernel.GatherRows(x, in, lo, hi, mean, scale)
}

// gatherComplete writes the rows lo to hi that have every column into x as
// gather does, appends their indexes to kept and returns how many it wrote
// and how many it left out.
func gatherComplete(x []float64, in [][]float64, lo, hi int, mean, scale []float64, kept []int) (int, int64, []int) {
	d := len(in)
	m := 0
	var left int64
rows:
	for i := lo; i < hi; i++ {
		row := x[m*d : (m+1)*d]
		for j, col := range in {
			v := col[i]
			if math.IsNaN(v) {
				left++
				continue rows
			}
			if mean != nil {
				v = feature.Standardize(v, mean[j], scale[j])
			}
			row[j] = v
		}
		kept = append(kept, i)
		m++
	}
	return m, left, kept
}

// Kind is the k-means model kind: a segmentation that scores a features
// dataset into segments.
type Kind struct{}

// Decode reads a model blob.
func (Kind) Decode(b []byte) (any, error) {
	m := new(Segmentation)
	if err := blob.Decode(b, ModelKind, m); err != nil {
		return nil, err
	}
	return m, nil
}

// New returns an empty model to decode into.
func (Kind) New() any { return new(Segmentation) }

// Input is a features dataset with the model's columns.
func (Kind) Input(model any) (string, []string) {
	return proto.KindFeatures, model.(*Segmentation).Columns
}

// Output is a segments score set.
func (Kind) Output(any) (string, []scoreset.Column) {
	return proto.ScoresSegments, []scoreset.Column{{Name: "segment", Type: scoreset.Int}, {Name: "distance", Type: scoreset.Float}}
}

// Score assigns every row of a shard to its nearest centroid.
func (Kind) Score(ctx context.Context, sh job.Shard, model any, t *score.Task, sp *score.Partial) (*scoreset.Table, func(), error) {
	km, ok := model.(*Segmentation)
	if !ok {
		return nil, nil, fmt.Errorf("kmeans: not a k-means model")
	}
	s, err := sh.Features(ctx)
	if err != nil {
		return nil, nil, err
	}
	_, cols := Kind{}.Output(km)
	tab, err := scoreShard(s, t.Levels, km, t.Key, cols, sp)
	if err != nil {
		return nil, nil, err
	}
	return tab, func() { releaseColumns(tab) }, nil
}
