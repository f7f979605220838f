package alsjob_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/mathcrm/mathcrm/algo/als"
	"github.com/mathcrm/mathcrm/algo/als/alsjob"
	"github.com/mathcrm/mathcrm/algo/job"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/internal/testutil"
)

func spec(dataset string, seed uint64, p alsjob.Params) proto.JobSpec {
	s := alsjob.Spec(dataset, p)
	s.Seed = seed
	return s
}

// trained runs an ALS job through the leader's state machine and the
// workers' steps, and returns its model and the factor blobs it names.
func trained(t *testing.T, l *leader, workers []*memWorker, s proto.JobSpec, ver *proto.DatasetVersion) (*alsjob.Factorization, job.Job, *job.Result) {
	t.Helper()
	if err := (alsjob.Algorithm{}).Check(context.Background(), l, &s, nil, ver); err != nil {
		t.Fatal(err)
	}
	j, res := runJob(t, l, workers, "job-1", s, ver)
	if res.Model == nil || res.Model.Kind != alsjob.Name {
		t.Fatalf("result %+v, want an als model", res)
	}
	v, err := alsjob.Kind{}.Decode(res.Model.Blob)
	if err != nil {
		t.Fatal(err)
	}
	return v.(*alsjob.Factorization), j, res
}

// factorsOf reads every factor of a model, users then items, shard after
// shard.
func factorsOf(t *testing.T, st *memStore, m *alsjob.Factorization) []float64 {
	t.Helper()
	var all []float64
	for _, refs := range [][]als.FactorRef{m.Summary.Users, m.Summary.Items} {
		for _, ref := range refs {
			b, err := st.get(alsjob.BlobRef(ref))
			if err != nil {
				t.Fatal(err)
			}
			f, err := als.DecodeFactors(b)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, f.F...)
		}
	}
	return all
}

// The job on the cluster's protocol — passes alternating the layouts, the
// factors in the store, a new leader after every pass, two workers running
// the shards at once — makes the single-process reference's factors and
// metrics bit for bit, explicit and implicit.
func TestMatchesReference(t *testing.T) {
	for _, c := range []struct {
		name     string
		implicit bool
		p        alsjob.Params
	}{
		{"explicit", false, alsjob.Params{Rank: 4, Lambda: 0.1, Iterations: 4, Holdout: 0.2}},
		{"implicit", true, alsjob.Params{Rank: 4, Lambda: 0.5, Iterations: 3, Implicit: true, Alpha: 10, Holdout: 0.2}},
	} {
		t.Run(c.name, func(t *testing.T) {
			st := newMemStore()
			d := importRatings(t, st, 120, 50, c.implicit, 5, 3)
			s := spec("ratings", 7, c.p)
			cfg, err := c.p.Config(s.Seed)
			if err != nil {
				t.Fatal(err)
			}
			ref, err := als.Reference(cfg, d.byUser, d.byItem)
			if err != nil {
				t.Fatal(err)
			}
			l := &leader{st: st}
			m, j, res := trained(t, l, []*memWorker{newMemWorker(), newMemWorker()}, s, d.ver)
			testutil.SameBits(t, "factors", append(append([]float64(nil), ref.Users.F...), ref.Items.F...), factorsOf(t, st, m))
			if len(m.Summary.History) != len(ref.History) {
				t.Fatalf("%d iterations of history, reference has %d", len(m.Summary.History), len(ref.History))
			}
			for k, h := range m.Summary.History {
				r := ref.History[k]
				testutil.SameBits(t, fmt.Sprintf("metrics of iteration %d", k+1),
					[]float64{r.Objective, r.TrainRMSE, r.HoldoutRMSE, r.Precision, r.Recall, r.NDCG},
					[]float64{h.Objective, h.TrainRMSE, h.HoldoutRMSE, h.Precision, h.Recall, h.NDCG})
			}
			in := d.ver.Interactions
			if m.Kind != "als" || m.Dataset != "ratings" || m.User != "user" || m.Item != "item" || m.Users != in.Users || m.Items != in.Items {
				t.Fatalf("model %+v", m)
			}
			if len(res.Model.Refs) != len(d.ver.Shards)+len(d.ver.ItemShards) {
				t.Fatalf("the model keeps %d blobs, want every factor shard (%d)", len(res.Model.Refs), len(d.ver.Shards)+len(d.ver.ItemShards))
			}
			if p := j.Progress(); p.Iteration != c.p.Iterations || p.Objective != ref.History[len(ref.History)-1].Objective {
				t.Fatalf("progress %+v", p)
			}
			metrics := j.(job.Measurer).Metrics()
			if c.implicit && (len(metrics) != 4 || metrics[1].Name != "precision@10") ||
				!c.implicit && (len(metrics) != 2 || metrics[1].Name != "holdout_rmse" || metrics[1].Value != ref.History[len(ref.History)-1].HoldoutRMSE) {
				t.Fatalf("metrics %+v", metrics)
			}
		})
	}
}

// A worker keeps the factors it wrote, decoded: the next passes that read
// them find them in its cache, so a worker running every shard reads no
// factor blob back from the store.
func TestWorkerReadsItsOwnFactorsFromItsCache(t *testing.T) {
	st := newMemStore()
	d := importRatings(t, st, 60, 30, false, 4, 5)
	trained(t, &leader{st: st}, []*memWorker{newMemWorker()}, spec("ratings", 1, alsjob.Params{Rank: 3, Lambda: 0.1, Iterations: 3}), d.ver)
	if n := st.gets[proto.BucketModels]; n != 0 {
		t.Fatalf("%d factor blobs read back from the store", n)
	}
	if st.gets[proto.BucketShards] != len(d.ver.Shards)+len(d.ver.ItemShards) {
		t.Fatalf("%d shard reads, want each of the %d shards once", st.gets[proto.BucketShards], len(d.ver.Shards)+len(d.ver.ItemShards))
	}
}

// Check fills in the parameters left out, so the committed spec says
// exactly what runs, and refuses what cannot run on the version.
func TestCheck(t *testing.T) {
	ctx := context.Background()
	counts := &proto.DatasetVersion{Interactions: &proto.InteractionsInfo{User: "u", Item: "i", Value: "n"},
		Shards: []proto.ShardRef{{Index: 0}}, ItemShards: []proto.ShardRef{{Index: 0}},
		Columns: []proto.ColumnStats{{Name: "n", Count: 3, Min: -2, Max: 5}}}
	var s proto.JobSpec
	if err := json.Unmarshal([]byte(`{"algo":"als","dataset":"r","als":{}}`), &s); err != nil {
		t.Fatal(err)
	}
	if err := (alsjob.Algorithm{}).Check(ctx, nil, &s, nil, counts); err != nil {
		t.Fatal(err)
	}
	if want := `{"rank":10,"lambda":0.1,"iterations":10,"implicit":false,"alpha":40,"reg_scaling":"weighted","holdout":0}`; string(s.Params) != want {
		t.Fatalf("committed parameters %s, want %s", s.Params, want)
	}

	s = alsjob.Spec("r", alsjob.Params{Rank: 2, Lambda: 1, Iterations: 1, Implicit: true, Alpha: 1})
	err := (alsjob.Algorithm{}).Check(ctx, nil, &s, nil, counts)
	if !errors.Is(err, job.ErrInvalid) ||
		err.Error() != `coordinator: invalid request: implicit feedback needs counts of at least 0, but column "n" has values down to -2` {
		t.Errorf("negative counts: %v", err)
	}
	s = alsjob.Spec("r", alsjob.Params{Rank: 2, Lambda: 1, Iterations: 1})
	if err := (alsjob.Algorithm{}).Check(ctx, nil, &s, nil, counts); err != nil {
		t.Errorf("negative ratings are explicit feedback: %v", err)
	}
	err = (alsjob.Algorithm{}).Check(ctx, nil, &s, nil, &proto.DatasetVersion{Shards: []proto.ShardRef{{Index: 0}}})
	if !errors.Is(err, job.ErrInvalid) || err.Error() != "coordinator: invalid request: als needs an interactions dataset, or a transactions dataset imported with --item" {
		t.Errorf("features version: %v", err)
	}
	tx := &proto.DatasetVersion{Shards: []proto.ShardRef{{Index: 0}}, Transactions: &proto.TransactionsInfo{Key: "c", Time: "t", Amount: "a"}}
	err = (alsjob.Algorithm{}).Check(ctx, nil, &s, nil, tx)
	if !errors.Is(err, job.ErrInvalid) || !strings.Contains(err.Error(), "dataset r has no items: import it with --item") {
		t.Errorf("transactions without items: %v", err)
	}
	tx.Transactions.Item = "sku"
	qs := alsjob.Spec("r", alsjob.Params{Rank: 2, Lambda: 1, Iterations: 1, Value: alsjob.ValueQuantity})
	if err = (alsjob.Algorithm{}).Check(ctx, nil, &qs, nil, tx); !errors.Is(err, job.ErrInvalid) || !strings.Contains(err.Error(), "keeps no quantities") {
		t.Errorf("--value quantity without quantities: %v", err)
	}
	s = alsjob.Spec("r", alsjob.Params{Rank: 2, Lambda: 1, Iterations: 1})
	if err := (alsjob.Algorithm{}).Check(ctx, nil, &s, nil, tx); err != nil || !strings.Contains(string(s.Params), `"value":"count"`) {
		t.Errorf("transactions with items: %v, committed %s", err, s.Params)
	}
	qs = alsjob.Spec("r", alsjob.Params{Rank: 2, Lambda: 1, Iterations: 1, Value: alsjob.ValueAmount})
	if err := (alsjob.Algorithm{}).Check(ctx, nil, &qs, nil, counts); !errors.Is(err, job.ErrInvalid) || !strings.Contains(err.Error(), "--value is for a transactions dataset") {
		t.Errorf("--value on interactions: %v", err)
	}
	s = proto.JobSpec{Algo: "als", Dataset: "r"}
	if err := (alsjob.Algorithm{}).Check(ctx, nil, &s, nil, counts); !errors.Is(err, job.ErrInvalid) {
		t.Errorf("no parameters: %v", err)
	}
}

// A committed state that does not decode fails the job's resumption, not
// the leader.
func TestLoadRefusesAnotherState(t *testing.T) {
	s := alsjob.Spec("r", alsjob.Params{Rank: 2, Lambda: 1, Iterations: 1})
	ver := &proto.DatasetVersion{Interactions: &proto.InteractionsInfo{}, Shards: []proto.ShardRef{{}}, ItemShards: []proto.ShardRef{{}}}
	j, err := (alsjob.Algorithm{}).NewJob(context.Background(), nil, "job-1", s, ver)
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Load([]byte("not a state")); err == nil {
		t.Fatal("a state that does not decode was loaded")
	}
	if _, err := j.Finish(); err == nil {
		t.Fatal("a job that has not run finished")
	}
}
