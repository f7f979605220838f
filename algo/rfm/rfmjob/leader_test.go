package rfmjob

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/mathcrm/mathcrm/algo/job"
	"github.com/mathcrm/mathcrm/algo/rfm"
	"github.com/mathcrm/mathcrm/internal/proto"
)

// leader is a job.Leader whose CheckWrite records what it was asked and
// answers err.
type leader struct {
	job.Leader
	asked []*proto.DatasetCommit
	flag  string
	err   error
}

func (l *leader) CheckWrite(dc *proto.DatasetCommit, flag string) error {
	l.asked, l.flag = append(l.asked, dc), flag
	return l.err
}

func txVersion(first, last time.Time) *proto.DatasetVersion {
	return &proto.DatasetVersion{Version: 1, Key: "customer", Transactions: &proto.TransactionsInfo{Key: "customer", First: first, Last: last}}
}

// The leader checks a segment map again before the job exists, and the
// output's segment column is categorical with the map's names.
func TestSegmentMapAtTheLeader(t *testing.T) {
	ver := txVersion(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC))
	all := rfm.SegmentRule{Name: "All", RMin: 1, RMax: 5, FMin: 1, FMax: 5, MMin: 1, MMax: 5}
	for _, c := range []struct {
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
		spec := Spec("tx", Params{As: "f", Segments: c.segs})
		err := (Algorithm{}).Check(context.Background(), &leader{}, &spec, nil, ver)
		if c.want == "" && err != nil || c.want != "" && (err == nil || err.Error() != c.want || !errors.Is(err, job.ErrInvalid)) {
			t.Errorf("%+v: got %v\nwant %s", c.segs, err, c.want)
		}
	}
	cols := output(&Params{As: "f"}, ver).Columns
	if seg := cols[rfm.ColSegment]; seg.Name != "segment" || !seg.Categorical() || !slices.Equal(seg.Levels, rfm.StandardSegments().Names()) {
		t.Errorf("segment column %+v", seg)
	}
	if cols[rfm.ColMScore].Categorical() {
		t.Errorf("m_score is categorical")
	}
}

// The leader asks whether the output may be written, with the schema the
// job will write and the flag that replaces it, and refuses the job when
// it may not; the names are checked first.
func TestCheckWritesANewFeaturesDataset(t *testing.T) {
	ver := txVersion(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC))
	l := &leader{}
	spec := Spec("tx", Params{As: "f", Replace: true})
	if err := (Algorithm{}).Check(context.Background(), l, &spec, nil, ver); err != nil {
		t.Fatal(err)
	}
	if len(l.asked) != 1 || l.flag != "--replace" {
		t.Fatalf("CheckWrite asked %d times, flag %q", len(l.asked), l.flag)
	}
	dc := l.asked[0]
	if dc.Name != "f" || dc.Kind != proto.KindFeatures || dc.Key != "customer" || !dc.Replace || len(dc.Columns) != rfm.NumColumns {
		t.Fatalf("CheckWrite asked for %+v", dc)
	}
	conflict := fmt.Errorf("%w: dataset %q holds something else", proto.ErrInvalid, "f")
	for _, c := range []struct {
		p    Params
		l    *leader
		want string
	}{
		{Params{As: "f"}, &leader{err: conflict}, conflict.Error()},
		{Params{As: "my features"}, &leader{}, `coordinator: invalid request: output dataset name "my features" (letters, digits, _ . -)`},
		{Params{As: "tx"}, &leader{}, `coordinator: invalid request: the output must be a new dataset, not the transactions "tx"`},
	} {
		spec := Spec("tx", c.p)
		err := (Algorithm{}).Check(context.Background(), c.l, &spec, nil, ver)
		if err == nil || err.Error() != c.want {
			t.Errorf("%+v: got %v, want %s", c.p, err, c.want)
		}
	}
	spec = Spec("cust", Params{As: "f"})
	err := (Algorithm{}).Check(context.Background(), &leader{}, &spec, nil, &proto.DatasetVersion{Version: 1, Key: "customer"})
	if err == nil || err.Error() != "coordinator: invalid request: features rfm needs a transactions dataset" {
		t.Errorf("features dataset: %v", err)
	}
}

// An as-of at or before the first transaction is refused: no customer
// would have a row.
func TestAsOfBeforeFirstTransactionIsRefused(t *testing.T) {
	ver := txVersion(time.Date(2024, 1, 3, 10, 0, 0, 0, time.UTC), time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC))
	spec := Spec("tx", Params{As: "f", AsOf: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)})
	err := (Algorithm{}).Check(context.Background(), &leader{}, &spec, nil, ver)
	if err == nil || !errors.Is(err, job.ErrInvalid) ||
		err.Error() != `coordinator: invalid request: as-of 2024-01-01 is not after the first transaction (2024-01-03 10:00:00): no customer has a purchase before it` {
		t.Errorf("as-of before the data: %v", err)
	}
	spec = Spec("tx", Params{As: "f", AsOf: time.Date(2024, 1, 4, 0, 0, 0, 0, time.UTC)})
	if err := (Algorithm{}).Check(context.Background(), &leader{}, &spec, nil, ver); err != nil {
		t.Errorf("as-of after the first transaction: %v", err)
	}
}

// writePart is a write pass's partial for shard 0.
func writePart(t *testing.T, rows int64, w Written) []*proto.Partial {
	t.Helper()
	p := &proto.Partial{Output: &proto.ShardRef{Index: 0, Object: "o", Rows: rows}}
	if err := job.Encode(p, Name, w); err != nil {
		t.Fatal(err)
	}
	return []*proto.Partial{p}
}

// The segment column's counts are the shards' sums, and survive a new
// leader loading the job between the write pass and the commit.
func TestJobSegmentCountsSurviveLoad(t *testing.T) {
	day := int64(86400)
	ver := txVersion(time.Time{}, time.Unix(30*day, 0).UTC())
	spec := Spec("tx", Params{As: "f"})
	tx := &rfm.Tx{Keys: []string{"a", "b", "c"}, Ptr: []int32{0, 1, 3, 4},
		Time: []int64{day, 10 * day, 20 * day, 30 * day}, Amount: []float64{5, 7, 8, 100}}
	ctx := context.Background()
	j, err := (Algorithm{}).NewJob(ctx, nil, "job-1", spec, ver)
	if err != nil {
		t.Fatal(err)
	}
	var write *Write
	for write == nil {
		task, done := j.Next()
		if done {
			t.Fatal("done before the write pass")
		}
		if write = task.(*Task).Write; write != nil {
			break
		}
		res, err := rfm.RunTask(task.(*Task).Search, tx)
		if err != nil {
			t.Fatal(err)
		}
		p := &proto.Partial{}
		if err := job.Encode(p, Name, res); err != nil {
			t.Fatal(err)
		}
		if err := j.Absorb([]*proto.Partial{p}); err != nil {
			t.Fatal(err)
		}
	}
	if write.Prefix != "datasets/f/job-1" || write.Key != "customer" || write.Config.AsOf != 31*day {
		t.Fatalf("write task %+v", write)
	}
	if pr := j.Progress(); pr.Phase != "write" {
		t.Fatalf("progress before the write pass: %+v", pr)
	}
	tab, err := rfm.Features(write.Config, write.Cuts, tx)
	if err != nil {
		t.Fatal(err)
	}
	moments := columnMoments(tab.Values)
	if err := j.Absorb(writePart(t, 3, Written{Moments: moments})); err == nil || err.Error() != "rfm: shard 0 sent no segment counts for its 3 rows" {
		t.Fatalf("no counts: %v", err)
	}
	if err := j.Absorb(writePart(t, 3, Written{Segments: tab.SegmentCounts()})); err == nil || err.Error() != "rfm: shard 0 sent no features shard" {
		t.Fatalf("no moments: %v", err)
	}
	if err := j.Absorb(writePart(t, 3, Written{Moments: moments, Segments: tab.SegmentCounts()})); err != nil {
		t.Fatal(err)
	}
	if _, done := j.Next(); !done {
		t.Fatal("not done after the write pass")
	}
	b, err := j.Save()
	if err != nil {
		t.Fatal(err)
	}
	again, err := (Algorithm{}).NewJob(ctx, nil, "job-1", spec, ver)
	if err != nil {
		t.Fatal(err)
	}
	if err := again.Load(b); err != nil {
		t.Fatal(err)
	}
	if pr := again.Progress(); pr.Phase != "written" {
		t.Fatalf("progress after loading: %+v", pr)
	}
	if refs := again.(job.Referrer).Refs(); len(refs) != 1 || refs[0].Object != "o" || refs[0].Bucket != proto.BucketShards {
		t.Fatalf("refs %+v", refs)
	}
	res, err := again.Finish()
	if err != nil {
		t.Fatal(err)
	}
	dc := res.Output
	if dc == nil || res.Model != nil || dc.Name != "f" || dc.Kind != proto.KindFeatures || dc.Rows != 3 ||
		dc.Source != "features rfm of tx version 0 as of 1970-02-01" {
		t.Fatalf("output %+v", dc)
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
	if f := dc.Columns[rfm.ColFrequency]; f.Count != 3 || f.Min != 1 || f.Max != 2 {
		t.Fatalf("frequency column %+v", f)
	}
}
