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
