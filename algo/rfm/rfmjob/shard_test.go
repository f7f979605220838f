package rfmjob

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mathcrm/mathcrm/algo/job"
	"github.com/mathcrm/mathcrm/algo/rfm"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/partition"
)

// store is an object store in memory, shared by the shards of a test.
type store struct {
	mu    sync.Mutex
	blobs map[string][]byte
	gets  map[string]int
}

func newStore() *store { return &store{blobs: map[string][]byte{}, gets: map[string]int{}} }

func (s *store) put(name string, b []byte) proto.BlobRef {
	s.mu.Lock()
	defer s.mu.Unlock()
	sum := sha256.Sum256(b)
	s.blobs[name] = append([]byte(nil), b...)
	return proto.BlobRef{Bucket: proto.BucketShards, Object: name, Size: int64(len(b)), SHA256: hex.EncodeToString(sum[:])}
}

// shard is a job.Shard over the store, with a cache of its own (one
// worker's).
type shard struct {
	job.Shard
	st    *store
	ref   proto.ShardRef
	cache map[string]any
}

func (s *shard) Ref() proto.ShardRef { return s.ref }

func (s *shard) Cached(key string, fn func() (any, int64, error)) (any, error) {
	if v, ok := s.cache[key]; ok {
		return v, nil
	}
	v, _, err := fn()
	if err == nil {
		s.cache[key] = v
	}
	return v, err
}

func (s *shard) Get(_ context.Context, ref proto.BlobRef) ([]byte, error) {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	b, ok := s.st.blobs[ref.Object]
	if !ok {
		return nil, fmt.Errorf("no blob %s", ref.Object)
	}
	if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != ref.SHA256 {
		return nil, fmt.Errorf("blob %s: checksum mismatch", ref.Object)
	}
	s.st.gets[ref.Object]++
	return b, nil
}

func (s *shard) Put(_ context.Context, bucket, name string, b []byte) (proto.BlobRef, error) {
	if bucket != proto.BucketShards {
		return proto.BlobRef{}, fmt.Errorf("bucket %s", bucket)
	}
	return s.st.put(name, b), nil
}

// importTx splits a generated transactions file into shards, stores them
// and returns the version they make and the shards as rfm reads them.
func importTx(t *testing.T, st *store, customers, shards int) (*proto.DatasetVersion, []*rfm.Tx) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "tx.csv")
	r := rand.New(rand.NewPCG(uint64(customers), 7))
	var b strings.Builder
	b.WriteString("customer,time,invoice,amount\n")
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for c := range customers {
		for o := range 1 + r.IntN(6) {
			at := start.Add(time.Duration(r.IntN(365*24*3600)) * time.Second)
			amount := 0.5 + float64(r.IntN(20000))/100
			if r.IntN(15) == 0 {
				amount = -amount
			}
			fmt.Fprintf(&b, "c%d,%s,%d-%d,%.2f\n", c, at.Format(time.DateTime), c, o, amount)
		}
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := partition.SplitTransactions(context.Background(), path, partition.TransactionOptions{
		Key: "customer", Time: "time", Amount: "amount", Invoice: "invoice", Shards: shards, TempDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	ver := &proto.DatasetVersion{Version: 1, Key: "customer", Transactions: &proto.TransactionsInfo{Key: "customer",
		First: res.FirstTime, Last: res.LastTime}}
	var txs []*rfm.Tx
	for _, sf := range res.Shards {
		data, err := os.ReadFile(sf.Path)
		if err != nil {
			t.Fatal(err)
		}
		ref := st.put(fmt.Sprintf("datasets/tx/v1/shard-%04d", sf.Index), data)
		ver.Shards = append(ver.Shards, proto.ShardRef{Index: sf.Index, Object: ref.Object, Size: ref.Size, SHA256: ref.SHA256, Rows: sf.Rows})
		ts, err := partition.ReadTransactions(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		txs = append(txs, &rfm.Tx{Keys: ts.Keys, Ptr: ts.Ptr, Time: ts.Time, Amount: ts.Amount, Invoice: ts.Invoice, Return: ts.Return})
	}
	return ver, txs
}

// runJob drives a job as the leader and the workers do, every task through
// its JSON; each shard has a worker, and so a cache, of its own.
func runJob(t *testing.T, st *store, spec proto.JobSpec, ver *proto.DatasetVersion) (*proto.DatasetCommit, int) {
	t.Helper()
	ctx := context.Background()
	a := Algorithm{}
	j, err := a.NewJob(ctx, nil, "job-7", spec, ver)
	if err != nil {
		t.Fatal(err)
	}
	envs := make([]*shard, len(ver.Shards))
	for i, ref := range ver.Shards {
		envs[i] = &shard{st: st, ref: ref, cache: map[string]any{}}
	}
	passes := 0
	for {
		task, done := j.Next()
		if done {
			break
		}
		passes++
		raw, err := json.Marshal(task)
		if err != nil {
			t.Fatal(err)
		}
		dec, err := a.DecodeTask(raw)
		if err != nil {
			t.Fatal(err)
		}
		parts := make([]*proto.Partial, len(envs))
		for i, sh := range envs {
			parts[i] = &proto.Partial{Job: "job-7", Pass: passes, Shard: i}
			if err := a.RunShard(ctx, sh, dec, parts[i]); err != nil {
				t.Fatalf("pass %d, shard %d: %v", passes, i, err)
			}
		}
		if err := j.Absorb(parts); err != nil {
			t.Fatalf("pass %d: %v", passes, err)
		}
	}
	res, err := j.Finish()
	if err != nil {
		t.Fatal(err)
	}
	return res.Output, passes
}

// The job's features dataset is the reference's, customer for customer
// and bit for bit, in one shard per transactions shard; its statistics are
// the columns' and each transactions shard is read once.
func TestJobMatchesReference(t *testing.T) {
	st := newStore()
	ver, txs := importTx(t, st, 400, 4)
	asOf := time.Date(2024, 11, 1, 0, 0, 0, 0, time.UTC)
	want, _, err := rfm.Reference(rfm.Config{AsOf: asOf.Unix()}, txs...)
	if err != nil {
		t.Fatal(err)
	}
	out, passes := runJob(t, st, Spec("tx", Params{As: "f", AsOf: asOf}), ver)
	if passes < 2 {
		t.Fatalf("%d passes: no search pass before the write", passes)
	}
	if out.Name != "f" || out.Kind != proto.KindFeatures || out.Key != "customer" || out.Rows != int64(len(want.Keys)) ||
		len(out.Shards) != len(ver.Shards) || out.Source != "features rfm of tx version 0 as of 2024-11-01" {
		t.Fatalf("output %+v", out)
	}
	for _, ref := range ver.Shards {
		if n := st.gets[ref.Object]; n != 1 {
			t.Errorf("transactions shard %d read %d times", ref.Index, n)
		}
	}
	wantRow := map[string]int{}
	for i, k := range want.Keys {
		wantRow[k] = i
	}
	var seen int
	for i, ref := range out.Shards {
		if ref.Index != i || !strings.HasPrefix(ref.Object, fmt.Sprintf("datasets/f/job-7/shard-%04d-", i)) {
			t.Fatalf("output shard %d: %+v", i, ref)
		}
		b := st.blobs[ref.Object]
		if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != ref.SHA256 || int64(len(b)) != ref.Size {
			t.Fatalf("output shard %d is not the blob stored", i)
		}
		sh, err := partition.ReadShard(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(sh.Keys)) != ref.Rows {
			t.Fatalf("output shard %d: %d rows, recorded %d", i, len(sh.Keys), ref.Rows)
		}
		for r, key := range sh.Keys {
			w, ok := wantRow[key]
			if !ok {
				t.Fatalf("customer %s is not in the reference", key)
			}
			for c, name := range want.Columns {
				col, ok := sh.Column(name)
				if !ok {
					t.Fatalf("shard %d has no column %s", i, name)
				}
				if math.Float64bits(col[r]) != math.Float64bits(want.Values[c][w]) {
					t.Fatalf("customer %s, %s: %v, reference %v", key, name, col[r], want.Values[c][w])
				}
			}
			seen++
		}
	}
	if seen != len(want.Keys) {
		t.Fatalf("%d customers, want %d", seen, len(want.Keys))
	}
	if seg := out.Columns[rfm.ColSegment]; !slices.Equal(seg.Levels, want.Segments) || !slices.Equal(seg.LevelCounts, want.SegmentCounts()) {
		t.Fatalf("segment column %q %v, want %q %v", seg.Levels, seg.LevelCounts, want.Segments, want.SegmentCounts())
	}
	for c, name := range want.Columns[:rfm.ColSegment] {
		cs := out.Columns[c]
		lo, hi := slices.Min(want.Values[c]), slices.Max(want.Values[c])
		if cs.Name != name || cs.Count != int64(len(want.Keys)) || cs.Min != lo || cs.Max != hi {
			t.Errorf("column %s: %+v, want %d values in [%v, %v]", name, cs, len(want.Keys), lo, hi)
		}
	}
}

// A shard that is not what the version recorded fails its step with the
// shard named; a task with neither part is refused.
func TestRunShardRefusesBadShards(t *testing.T) {
	st := newStore()
	ver, _ := importTx(t, st, 20, 1)
	ctx := context.Background()
	task := &Task{Search: &rfm.Task{Step: 1, AsOf: rfm.DefaultAsOf(ver.Transactions.Last.Unix())}}
	ref := ver.Shards[0]
	ref.Rows++
	err := (Algorithm{}).RunShard(ctx, &shard{st: st, ref: ref, cache: map[string]any{}}, task, &proto.Partial{})
	if want := fmt.Sprintf("rfm: shard %s has %d rows, recorded %d", ref.Object, ref.Rows-1, ref.Rows); err == nil || err.Error() != want {
		t.Errorf("rows: %v, want %s", err, want)
	}
	bad := st.put("datasets/tx/v1/junk", []byte("not a parquet file"))
	ref = proto.ShardRef{Object: bad.Object, Size: bad.Size, SHA256: bad.SHA256, Rows: 1}
	err = (Algorithm{}).RunShard(ctx, &shard{st: st, ref: ref, cache: map[string]any{}}, task, &proto.Partial{})
	if err == nil || !errors.Is(err, partition.ErrCorrupt) || !strings.HasPrefix(err.Error(), "rfm: shard datasets/tx/v1/junk: ") {
		t.Errorf("junk: %v", err)
	}
	err = (Algorithm{}).RunShard(ctx, &shard{st: st, ref: ver.Shards[0], cache: map[string]any{}}, &Task{}, &proto.Partial{})
	if err == nil || err.Error() != "rfm: empty task" {
		t.Errorf("empty task: %v", err)
	}
}
