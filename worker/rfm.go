package worker

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math"

	"github.com/mathcrm/mathcrm/algo/rfm"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/partition"
)

// txKeyPrefix marks cache entries that are transactions shards.
const txKeyPrefix = "tx|"

// transactions loads and verifies one transactions shard, from the cache
// when it can.
func (w *Worker) transactions(ctx context.Context, ref proto.ShardRef) (*rfm.Tx, error) {
	v, err := w.data.loadOnce(txKeyPrefix+ref.Object+"@"+ref.SHA256, func() (any, int64, error) {
		b, err := w.store.Get(ctx, proto.BlobRef{Bucket: proto.BucketShards, Object: ref.Object, Size: ref.Size, SHA256: ref.SHA256})
		if err != nil {
			return nil, 0, err
		}
		sh, err := partition.ReadTransactions(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return nil, 0, fmt.Errorf("worker: shard %s: %w", ref.Object, err)
		}
		if int64(len(sh.Time)) != ref.Rows {
			return nil, 0, fmt.Errorf("worker: shard %s has %d rows, recorded %d", ref.Object, len(sh.Time), ref.Rows)
		}
		tx := &rfm.Tx{Keys: sh.Keys, Ptr: sh.Ptr, Time: sh.Time, Amount: sh.Amount, Invoice: sh.Invoice, Return: sh.Return}
		return tx, sh.SizeBytes(), nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*rfm.Tx), nil
}

// stepRFM runs one RFM step on one transactions shard.
func (w *Worker) stepRFM(ctx context.Context, t *proto.RFMTask, ref proto.ShardRef, p *proto.Partial) error {
	tx, err := w.transactions(ctx, ref)
	if err != nil {
		return err
	}
	p.Rows = int64(len(tx.Time))
	switch {
	case t.Search != nil:
		p.RFM, err = rfm.RunTask(t.Search, tx)
		return err
	case t.Write != nil:
		tab, err := rfm.Features(t.Write.Config, t.Write.Cuts, tx)
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		rows, size, sum, err := partition.WriteFeatureShard(&buf, t.Write.Key, tab.Columns, tab.Keys, tab.Values)
		if err != nil {
			return err
		}
		var r [6]byte
		_, _ = rand.Read(r[:])
		name := fmt.Sprintf("%s/shard-%04d-%s.parquet", t.Write.Prefix, ref.Index, hex.EncodeToString(r[:]))
		bref, err := w.store.Put(ctx, proto.BucketShards, name, buf.Bytes())
		if err != nil {
			return err
		}
		if bref.SHA256 != sum || bref.Size != size {
			return fmt.Errorf("worker: features shard %d changed while it was stored", ref.Index)
		}
		p.Output = &proto.ShardRef{Index: ref.Index, Object: name, Size: size, SHA256: sum, Rows: rows}
		p.OutputStats = columnMoments(tab.Values)
		p.OutputLevels = make([][]int64, len(tab.Columns))
		p.OutputLevels[rfm.ColSegment] = tab.SegmentCounts()
		return nil
	}
	return fmt.Errorf("worker: empty rfm task")
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
