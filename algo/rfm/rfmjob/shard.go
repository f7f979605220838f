package rfmjob

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math"

	"github.com/mathcrm/mathcrm/algo/job"
	"github.com/mathcrm/mathcrm/algo/rfm"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/partition"
)

// txKeyPrefix marks cache entries that are transactions shards.
const txKeyPrefix = "tx|"

// transactions loads and verifies the step's transactions shard, from the
// cache when it can.
func transactions(ctx context.Context, sh job.Shard) (*rfm.Tx, error) {
	ref := sh.Ref()
	v, err := sh.Cached(txKeyPrefix+ref.Object+"@"+ref.SHA256, func() (any, int64, error) {
		b, err := sh.Get(ctx, proto.BlobRef{Bucket: proto.BucketShards, Object: ref.Object, Size: ref.Size, SHA256: ref.SHA256})
		if err != nil {
			return nil, 0, err
		}
		ts, err := partition.ReadTransactions(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return nil, 0, fmt.Errorf("rfm: shard %s: %w", ref.Object, err)
		}
		if int64(len(ts.Time)) != ref.Rows {
			return nil, 0, fmt.Errorf("rfm: shard %s has %d rows, recorded %d", ref.Object, len(ts.Time), ref.Rows)
		}
		tx := &rfm.Tx{Keys: ts.Keys, Ptr: ts.Ptr, Time: ts.Time, Amount: ts.Amount, Invoice: ts.Invoice, Return: ts.Return}
		return tx, ts.SizeBytes(), nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*rfm.Tx), nil
}

// RunShard runs one RFM pass on one transactions shard: a search pass
// answers with its histograms, the write pass stores the shard's features
// as a features shard and answers with its statistics.
func (Algorithm) RunShard(ctx context.Context, sh job.Shard, task any, p *proto.Partial) error {
	t := task.(*Task)
	tx, err := transactions(ctx, sh)
	if err != nil {
		return err
	}
	p.Rows = int64(len(tx.Time))
	switch {
	case t.Search != nil:
		res, err := rfm.RunTask(t.Search, tx)
		if err != nil {
			return err
		}
		return job.Encode(p, Name, res)
	case t.Write != nil:
		return write(ctx, sh, t.Write, tx, p)
	}
	return fmt.Errorf("rfm: empty task")
}

// write stores one shard's features and fills in p.
func write(ctx context.Context, sh job.Shard, w *Write, tx *rfm.Tx, p *proto.Partial) error {
	tab, err := rfm.Features(w.Config, w.Cuts, tx)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	rows, size, sum, err := partition.WriteFeatureShard(&buf, w.Key, tab.Columns, tab.Keys, tab.Values)
	if err != nil {
		return err
	}
	ref := sh.Ref()
	var r [6]byte
	_, _ = rand.Read(r[:])
	name := fmt.Sprintf("%s/shard-%04d-%s.parquet", w.Prefix, ref.Index, hex.EncodeToString(r[:]))
	bref, err := sh.Put(ctx, proto.BucketShards, name, buf.Bytes())
	if err != nil {
		return err
	}
	if bref.SHA256 != sum || bref.Size != size {
		return fmt.Errorf("rfm: features shard %d changed while it was stored", ref.Index)
	}
	p.Output = &proto.ShardRef{Index: ref.Index, Object: name, Size: size, SHA256: sum, Rows: rows}
	return job.Encode(p, Name, Written{Moments: columnMoments(tab.Values), Segments: tab.SegmentCounts()})
}

// columnMoments summarises each column of a shard it wrote, for the new
// version's column statistics.
func columnMoments(cols [][]float64) []proto.Moments {
	out := make([]proto.Moments, len(cols))
	for j, col := range cols {
		m := &out[j]
		m.Min, m.Max = math.Inf(1), math.Inf(-1)
		for _, x := range col {
			if math.IsNaN(x) {
				m.Missing++
				continue
			}
			m.Add(x)
		}
	}
	return out
}
