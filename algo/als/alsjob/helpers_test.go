package alsjob_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/mathcrm/mathcrm/algo/als"
	"github.com/mathcrm/mathcrm/algo/builtin"
	"github.com/mathcrm/mathcrm/algo/feature"
	"github.com/mathcrm/mathcrm/algo/job"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/partition"
)

// memStore is an object store in memory that verifies what it returns,
// as the real one does.
type memStore struct {
	mu    sync.Mutex
	blobs map[string][]byte
	gets  map[string]int // by bucket
}

func newMemStore() *memStore { return &memStore{blobs: map[string][]byte{}, gets: map[string]int{}} }

func (s *memStore) put(bucket, name string, b []byte) proto.BlobRef {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.blobs[bucket+"/"+name] = bytes.Clone(b) // the caller may use b again, as it may with the real store
	sum := sha256.Sum256(b)
	return proto.BlobRef{Bucket: bucket, Object: name, Size: int64(len(b)), SHA256: hex.EncodeToString(sum[:])}
}

func (s *memStore) get(ref proto.BlobRef) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gets[ref.Bucket]++
	b, ok := s.blobs[ref.Bucket+"/"+ref.Object]
	if !ok {
		return nil, fmt.Errorf("no blob %s/%s", ref.Bucket, ref.Object)
	}
	sum := sha256.Sum256(b)
	if int64(len(b)) != ref.Size || hex.EncodeToString(sum[:]) != ref.SHA256 {
		return nil, fmt.Errorf("blob %s/%s does not verify", ref.Bucket, ref.Object)
	}
	return b, nil
}

// memWorker is one worker's cache.
type memWorker struct {
	mu    sync.Mutex
	cache map[string]any
}

func newMemWorker() *memWorker { return &memWorker{cache: map[string]any{}} }

// env is what a worker offers one step (job.Shard).
type env struct {
	w    *memWorker
	st   *memStore
	job  string
	pass int
	ref  proto.ShardRef
}

func (e *env) Job() string         { return e.job }
func (e *env) Pass() int           { return e.pass }
func (e *env) Ref() proto.ShardRef { return e.ref }
func (e *env) Features(context.Context) (*partition.Shard, error) {
	return nil, fmt.Errorf("an interactions shard is not a features shard")
}
func (e *env) Matrix(context.Context) (*feature.Matrix, error) {
	return nil, fmt.Errorf("an interactions shard has no matrix")
}
func (e *env) Cached(key string, fn func() (any, int64, error)) (any, error) {
	e.w.mu.Lock()
	v, ok := e.w.cache[key]
	e.w.mu.Unlock()
	if ok {
		return v, nil
	}
	v, _, err := fn()
	if err != nil {
		return nil, err
	}
	e.Keep(key, v, 0)
	return v, nil
}
func (e *env) Keep(key string, v any, _ int64) {
	e.w.mu.Lock()
	defer e.w.mu.Unlock()
	e.w.cache[key] = v
}
func (e *env) Get(_ context.Context, ref proto.BlobRef) ([]byte, error) { return e.st.get(ref) }
func (e *env) Put(_ context.Context, bucket, name string, b []byte) (proto.BlobRef, error) {
	return e.st.put(bucket, name, b), nil
}
func (e *env) Kind(kind string) (job.ModelKind, bool) { return builtin.Kind(kind) }

// leader is what the leader offers a job (job.Leader).
type leader struct {
	st     *memStore
	models map[string]*proto.Model
}

func (l *leader) Model(id string) (*proto.Model, error) {
	m, ok := l.models[id]
	if !ok {
		return nil, fmt.Errorf("no model %s", id)
	}
	return m, nil
}
func (l *leader) Blob(_ context.Context, ref proto.BlobRef) ([]byte, error) { return l.st.get(ref) }
func (l *leader) Kind(kind string) (job.ModelKind, bool)                    { return builtin.Kind(kind) }
func (l *leader) Dataset(name string) (*proto.Dataset, error) {
	return nil, fmt.Errorf("no dataset %s", name)
}
func (l *leader) CheckWrite(*proto.DatasetCommit, string) error { return nil }

// genRatings writes a planted rank-3 ratings file: users × items with a
// density, ratings 1..5 (explicit) or counts 1..9 (implicit).
func genRatings(t *testing.T, path string, users, items int, density float64, implicit bool, seed uint64) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 1))
	const rank = 3
	u := make([][rank]float64, users)
	v := make([][rank]float64, items)
	for i := range u {
		for k := range rank {
			u[i][k] = r.NormFloat64()
		}
	}
	for i := range v {
		for k := range rank {
			v[i][k] = r.NormFloat64()
		}
	}
	var b strings.Builder
	b.WriteString("user,item,value\n")
	for i := range users {
		for j := range items {
			if r.Float64() >= density {
				continue
			}
			s := 0.0
			for k := range rank {
				s += u[i][k] * v[j][k]
			}
			var x float64
			if implicit {
				x = math.Max(1, math.Min(9, math.Round(2+s)))
			} else {
				x = math.Max(1, math.Min(5, math.Round(3+s+0.3*r.NormFloat64())))
			}
			fmt.Fprintf(&b, "u%d,i%d,%g\n", i, j, x)
		}
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// dataset is an imported interactions version: its shards in the store,
// and both layouts read back as ALS blocks for the reference.
type dataset struct {
	ver            *proto.DatasetVersion
	byUser, byItem []*als.Block
}

// importRatings splits a generated ratings file as an import does and
// stores its shards.
func importRatings(t *testing.T, st *memStore, users, items int, implicit bool, shards int, seed uint64) *dataset {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ratings.csv")
	genRatings(t, path, users, items, 0.15, implicit, seed)
	res, err := partition.SplitInteractions(context.Background(), path, partition.InteractionOptions{
		User: "user", Item: "item", Value: "value", Shards: shards, TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	d := &dataset{ver: &proto.DatasetVersion{Version: 1, Key: "user", Rows: res.Rows,
		Interactions: &proto.InteractionsInfo{User: "user", Item: "item", Value: "value", Users: res.Users, Items: res.Items},
		Columns:      []proto.ColumnStats{{Name: "value", Count: res.Rows, Min: res.Value.Min, Max: res.Value.Max}}}}
	read := func(layout string, files []partition.ShardFile) ([]proto.ShardRef, []*als.Block) {
		var refs []proto.ShardRef
		var blocks []*als.Block
		for _, sf := range files {
			b, err := os.ReadFile(sf.Path)
			if err != nil {
				t.Fatal(err)
			}
			ref := st.put(proto.BucketShards, fmt.Sprintf("ratings/1/%s-%d", layout, sf.Index), b)
			refs = append(refs, proto.ShardRef{Index: sf.Index, Object: ref.Object, Size: ref.Size, SHA256: ref.SHA256, Rows: sf.Rows})
			in, err := partition.ReadInteractions(strings.NewReader(string(b)), int64(len(b)))
			if err != nil {
				t.Fatal(err)
			}
			blocks = append(blocks, &als.Block{IDs: in.Keys, Ptr: in.Ptr, Other: in.Other, Value: in.Value})
		}
		return refs, blocks
	}
	d.ver.Shards, d.byUser = read("byuser", res.ByUser)
	d.ver.ItemShards, d.byItem = read("byitem", res.ByItem)
	return d
}

// runPass runs one pass's task on every shard, a shard at a time on each
// of the workers in turn, all at once, and returns the partials in shard
// order.
func runPass(t *testing.T, a job.Algorithm, workers []*memWorker, st *memStore, id string, pass int, task any, shards []proto.ShardRef) []*proto.Partial {
	t.Helper()
	raw, err := json.Marshal(task)
	if err != nil {
		t.Fatal(err)
	}
	decoded, err := a.DecodeTask(raw)
	if err != nil {
		t.Fatal(err)
	}
	parts := make([]*proto.Partial, len(shards))
	errs := make([]error, len(shards))
	var wg sync.WaitGroup
	for i, ref := range shards {
		wg.Go(func() {
			e := &env{w: workers[i%len(workers)], st: st, job: id, pass: pass, ref: ref}
			p := &proto.Partial{Job: id, Pass: pass, Shard: ref.Index}
			errs[i] = a.RunShard(context.Background(), e, decoded, p)
			parts[i] = p
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("pass %d, shard %d: %v", pass, i, err)
		}
	}
	return parts
}

// runJob drives a job as the leader does, with a new leader taking over
// from the committed state after every pass, and returns what it made.
func runJob(t *testing.T, l *leader, workers []*memWorker, id string, spec proto.JobSpec, ver *proto.DatasetVersion) (job.Job, *job.Result) {
	t.Helper()
	ctx := context.Background()
	a, ok := builtin.Lookup(spec.Algo)
	if !ok {
		t.Fatalf("no algorithm %s", spec.Algo)
	}
	j, err := a.NewJob(ctx, l, id, spec, ver)
	if err != nil {
		t.Fatal(err)
	}
	for pass := 1; ; pass++ {
		task, done := j.Next()
		if done {
			break
		}
		shards := ver.Shards
		if la, ok := j.(job.Layouter); ok {
			shards = la.Shards(ver)
		}
		if err := j.Absorb(runPass(t, a, workers, l.st, id, pass, task, shards)); err != nil {
			t.Fatalf("pass %d: %v", pass, err)
		}
		state, err := j.Save()
		if err != nil {
			t.Fatal(err)
		}
		if j, err = a.NewJob(ctx, l, id, spec, ver); err != nil {
			t.Fatal(err)
		}
		if err := j.Load(state); err != nil {
			t.Fatalf("pass %d: loading the committed state: %v", pass, err)
		}
	}
	res, err := j.Finish()
	if err != nil {
		t.Fatal(err)
	}
	return j, res
}
