package alsjob_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/mathcrm/mathcrm/algo/als"
	"github.com/mathcrm/mathcrm/algo/als/alsjob"
	"github.com/mathcrm/mathcrm/algo/score"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/internal/scoreset"
)

// storedModel trains a model and commits it as the leader does: its blob
// in the store, named by a model record.
func storedModel(t *testing.T, st *memStore, d *dataset) (*leader, *alsjob.Factorization) {
	t.Helper()
	l := &leader{st: st}
	m, _, res := trained(t, l, []*memWorker{newMemWorker(), newMemWorker()}, spec("ratings", 2, alsjob.Params{Rank: 3, Lambda: 0.1, Iterations: 4}), d.ver)
	ref := st.put(proto.BucketModels, "models/job-1", res.Model.Blob)
	l.models = map[string]*proto.Model{"model-2": {ID: "model-2", Job: "job-1", Kind: res.Model.Kind, Blob: ref, Refs: res.Model.Refs}}
	return l, m
}

func scoreSpec(t *testing.T, body string) proto.JobSpec {
	t.Helper()
	var s proto.JobSpec
	if err := json.Unmarshal([]byte(`{"algo":"score","dataset":"ratings","score":`+body+`}`), &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// Scoring with an ALS model whose spec leaves top out commits the default
// in its spec; a top given is kept.
func TestScoreTopLeftOutGetsTheDefault(t *testing.T) {
	st := newMemStore()
	d := importRatings(t, st, 40, 20, false, 2, 4)
	l, _ := storedModel(t, st, d)
	ds := &proto.Dataset{Name: "ratings", Kind: proto.KindInteractions}
	for _, c := range []struct {
		body string
		want int
	}{{`{"model":"model-2"}`, proto.DefaultTop}, {`{"model":"model-2","top":3}`, 3}} {
		s := scoreSpec(t, c.body)
		if err := (score.Algorithm{}).Check(context.Background(), l, &s, ds, d.ver); err != nil {
			t.Fatal(err)
		}
		p, err := score.Params(&s)
		if err != nil {
			t.Fatal(err)
		}
		if p.Top == nil || *p.Top != c.want {
			t.Errorf("%s: top %v, want %d", c.body, p.Top, c.want)
		}
	}
	s := scoreSpec(t, `{"model":"model-2"}`)
	err := (score.Algorithm{}).Check(context.Background(), l, &s, &proto.Dataset{Name: "c", Kind: proto.KindFeatures}, d.ver)
	if err == nil || err.Error() != "coordinator: invalid request: a als model scores a interactions dataset; c is features" {
		t.Errorf("features dataset: %v", err)
	}
}

// A scoring job writes, for every user, the model's top items among those
// the user has not interacted with, ranked as als.Model.Recommend ranks
// them, with the same scores bit for bit.
func TestRecommendations(t *testing.T) {
	st := newMemStore()
	d := importRatings(t, st, 80, 40, false, 3, 6)
	l, m := storedModel(t, st, d)
	const top = 5
	s := scoreSpec(t, `{"model":"model-2","as":"recs","top":5}`)
	ds := &proto.Dataset{Name: "ratings", Kind: proto.KindInteractions}
	if err := (score.Algorithm{}).Check(context.Background(), l, &s, ds, d.ver); err != nil {
		t.Fatal(err)
	}
	_, res := runJob(t, l, []*memWorker{newMemWorker(), newMemWorker()}, "job-3", s, d.ver)
	ss := res.Scores
	if ss == nil || ss.Kind != proto.ScoresRecommendations || ss.Scored != d.ver.Interactions.Users || len(ss.Shards) != len(d.ver.Shards) {
		t.Fatalf("score set %+v", ss)
	}
	var users, items []*als.Factors
	for _, side := range []struct {
		dst  *[]*als.Factors
		refs []als.FactorRef
	}{{&users, m.Summary.Users}, {&items, m.Summary.Items}} {
		for _, r := range side.refs {
			b, err := st.get(alsjob.BlobRef(r))
			if err != nil {
				t.Fatal(err)
			}
			f, err := als.DecodeFactors(b)
			if err != nil {
				t.Fatal(err)
			}
			*side.dst = append(*side.dst, f)
		}
	}
	mod, err := als.NewModel(&m.Summary, users, items)
	if err != nil {
		t.Fatal(err)
	}
	_, cols := alsjob.Kind{}.Output(m)
	var recs int64
	for i, out := range ss.Shards {
		b, err := st.get(proto.BlobRef{Bucket: proto.BucketShards, Object: out.Object, Size: out.Size, SHA256: out.SHA256})
		if err != nil {
			t.Fatal(err)
		}
		tab, err := scoreset.Decode(b, "user", cols)
		if err != nil {
			t.Fatal(err)
		}
		blk := d.byUser[i]
		row := 0
		for r, user := range blk.IDs {
			has := slices.Compact(slices.Clone(blk.Other[blk.Ptr[r]:blk.Ptr[r+1]]))
			want := mod.Recommend(nil, user, has, top)
			if len(want) != top {
				t.Fatalf("user %s: the model recommends %d items", user, len(want))
			}
			for k, w := range want {
				if tab.Keys[row] != user || tab.Ints[0][row] != int64(k+1) || tab.Strings[1][row] != w.ID || tab.Floats[2][row] != w.Score {
					t.Fatalf("user %s rank %d: %s %d %s %v, want %s %v", user, k+1, tab.Keys[row], tab.Ints[0][row],
						tab.Strings[1][row], tab.Floats[2][row], w.ID, w.Score)
				}
				if slices.Contains(has, w.ID) {
					t.Fatalf("user %s was recommended %s, which they have", user, w.ID)
				}
				row++
			}
		}
		if row != tab.Rows() {
			t.Fatalf("shard %d: %d rows, want %d", i, tab.Rows(), row)
		}
		recs += int64(row)
	}
	var counted int64
	for _, ic := range ss.Summary.Items {
		counted += ic.Count
	}
	if ss.Summary.Moments.Count != recs || len(ss.Summary.Items) == 0 || counted > recs {
		t.Fatalf("summary %+v of %d recommendations", ss.Summary, recs)
	}
	if ss.Rows != recs {
		t.Fatalf("score set rows %d, want %d", ss.Rows, recs)
	}
}
