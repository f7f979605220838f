package coordinator

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/mathcrm/mathcrm/algo/rfm"
	"github.com/mathcrm/mathcrm/internal/proto"
)

// The leader checks a segment map again before the job exists, and the
// output's segment column is categorical with the map's names.
func TestRFMSegmentMapAtTheLeader(t *testing.T) {
	c := &Coordinator{fsm: NewFSM()}
	ver := &proto.DatasetVersion{Key: "customer", Transactions: &proto.TransactionsInfo{Key: "customer",
		First: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), Last: time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)}}
	all := rfm.SegmentRule{Name: "All", RMin: 1, RMax: 5, FMin: 1, FMax: 5, MMin: 1, MMax: 5}
	for _, c2 := range []struct {
		segs rfm.SegmentMap
		want string
	}{
		{nil, ""},
		{rfm.SegmentMap{{Name: "Top", RMin: 5, RMax: 5, FMin: 1, FMax: 5, MMin: 1, MMax: 5}, all}, ""},
		{rfm.SegmentMap{{Name: "Top", RMin: 5, RMax: 5, FMin: 1, FMax: 5, MMin: 1, MMax: 9}, all},
			"coordinator: invalid request: rfm: rule 1, m_max: 9 is not a score (1..5)"},
		{rfm.SegmentMap{{Name: "Top", RMin: 2, RMax: 5, FMin: 1, FMax: 5, MMin: 1, MMax: 5}},
			"coordinator: invalid request: rfm: no rule covers r=1, f=1, m=1 (nor 24 other combinations); every combination of scores 1..5 needs a segment"},
		{rfm.SegmentMap{{Name: "", RMin: 1, RMax: 5, FMin: 1, FMax: 5, MMin: 1, MMax: 5}},
			"coordinator: invalid request: rfm: rule 1, segment: the name is empty"},
	} {
		spec := proto.JobSpec{Algo: "rfm", Dataset: "tx", RFM: &proto.RFMSpec{As: "f", Segments: c2.segs}}
		err := c.checkRFM(&spec, ver)
		if c2.want == "" && err != nil || c2.want != "" && (err == nil || err.Error() != c2.want || !errors.Is(err, ErrInvalid)) {
			t.Errorf("%+v: got %v\nwant %s", c2.segs, err, c2.want)
		}
	}
	spec := proto.JobSpec{Algo: "rfm", RFM: &proto.RFMSpec{As: "f"}}
	cols := rfmOutput(&spec, ver).Columns
	if seg := cols[rfm.ColSegment]; seg.Name != "segment" || !seg.Categorical() || !slices.Equal(seg.Levels, rfm.StandardSegments().Names()) {
		t.Errorf("segment column %+v", seg)
	}
	if cols[rfm.ColMScore].Categorical() {
		t.Errorf("m_score is categorical")
	}
}

// The segment column's counts are the shards' sums, and survive a new
// leader loading the job between the write pass and the commit.
func TestRFMJobSegmentCountsSurviveLoad(t *testing.T) {
	day := int64(86400)
	ver := &proto.DatasetVersion{Key: "customer", Transactions: &proto.TransactionsInfo{Key: "customer", Last: time.Unix(30*day, 0).UTC()}}
	spec := proto.JobSpec{Algo: "rfm", Dataset: "tx", RFM: &proto.RFMSpec{As: "f"}}
	tx := &rfm.Tx{Keys: []string{"a", "b", "c"}, Ptr: []int32{0, 1, 3, 4},
		Time: []int64{day, 10 * day, 20 * day, 30 * day}, Amount: []float64{5, 7, 8, 100}}
	j, err := newRFMJob(spec, ver, "job-1")
	if err != nil {
		t.Fatal(err)
	}
	var write *proto.RFMWrite
	for write == nil {
		task, done := j.Next()
		if done {
			t.Fatal("done before the write pass")
		}
		if write = task.(*proto.RFMTask).Write; write != nil {
			break
		}
		res, err := rfm.RunTask(task.(*proto.RFMTask).Search, tx)
		if err != nil {
			t.Fatal(err)
		}
		if err := j.Absorb([]*proto.Partial{{RFM: res}}); err != nil {
			t.Fatal(err)
		}
	}
	tab, err := rfm.Features(write.Config, write.Cuts, tx)
	if err != nil {
		t.Fatal(err)
	}
	part := func(levels [][]int64) []*proto.Partial {
		return []*proto.Partial{{Output: &proto.ShardRef{Index: 0, Object: "o", Rows: 3}, OutputStats: make([]proto.Moments, rfm.NumColumns), OutputLevels: levels}}
	}
	if err := j.Absorb(part(nil)); err == nil || err.Error() != "coordinator: shard 0 sent no segment counts for its 3 rows" {
		t.Fatalf("no counts: %v", err)
	}
	levels := make([][]int64, rfm.NumColumns)
	levels[rfm.ColSegment] = tab.SegmentCounts()
	if err := j.Absorb(part(levels)); err != nil {
		t.Fatal(err)
	}
	b, err := j.Save()
	if err != nil {
		t.Fatal(err)
	}
	again, _ := newRFMJob(spec, ver, "job-1")
	if err := again.Load(b); err != nil {
		t.Fatal(err)
	}
	dc, err := again.Output()
	if err != nil {
		t.Fatal(err)
	}
	seg := dc.Columns[rfm.ColSegment]
	if seg.Name != "segment" || !slices.Equal(seg.Levels, tab.Segments) || !slices.Equal(seg.LevelCounts, tab.SegmentCounts()) ||
		seg.Mean != 0 || seg.Max != 0 {
		t.Fatalf("segment column %+v, want counts %v", seg, tab.SegmentCounts())
	}
	var sum int64
	for _, n := range seg.LevelCounts {
		sum += n
	}
	if sum != 3 {
		t.Fatalf("counts %v", seg.LevelCounts)
	}
}
