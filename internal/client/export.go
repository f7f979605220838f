package client

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"time"

	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/internal/scoreset"
	"github.com/mathcrm/mathcrm/internal/store"
	"github.com/mathcrm/mathcrm/partition"
)

// shardBytes reads one shard of a dataset version from the object store,
// verified against its checksum.
func shardBytes(ctx context.Context, st *store.Store, ref proto.ShardRef) ([]byte, error) {
	return st.Get(ctx, proto.BlobRef{Bucket: proto.BucketShards, Object: ref.Object, Size: ref.Size, SHA256: ref.SHA256})
}

// exportShards writes the shards as CSV or Parquet to w, one verified shard
// at a time, each turned into a table of key and cols by table, and returns
// the rows written, unscored ones included. Score sets are exported with
// scores (nullable Parquet columns, for the unscored rows).
func (c *Client) exportShards(ctx context.Context, format string, w io.Writer, key string, cols []scoreset.Column, scores bool,
	shards []proto.ShardRef, table func(b []byte, ref proto.ShardRef) (*scoreset.Table, error)) (int64, error) {
	newExporter := scoreset.NewExporter
	if scores {
		newExporter = scoreset.NewScoresExporter
	}
	e, err := newExporter(format, w, key, cols)
	if err != nil {
		return 0, err
	}
	st, err := store.Open(ctx, c.nc, 1)
	if err != nil {
		return 0, err
	}
	var rows int64
	for _, ref := range shards {
		b, err := shardBytes(ctx, st, ref)
		if err != nil {
			return rows, err
		}
		t, err := table(b, ref)
		if err != nil {
			return rows, err
		}
		if err := e.Write(t); err != nil {
			return rows, err
		}
		rows += int64(t.AllRows())
	}
	return rows, e.Close()
}

// exportInteractions streams an interactions version from its by-user
// layout, shard by shard: one row per interaction, the user column, the
// item column and, when the import named one, the value column, under the
// names the import read them from, so that the file imports again as the
// same dataset.
func (c *Client) exportInteractions(ctx context.Context, v *proto.DatasetVersion, format string, w io.Writer) (int64, error) {
	info := v.Interactions
	if info == nil {
		return 0, fmt.Errorf("interactions dataset version %d has no description", v.Version)
	}
	cols := []scoreset.Column{{Name: info.Item, Type: scoreset.String}}
	if info.Value != "" {
		cols = append(cols, scoreset.Column{Name: info.Value, Type: scoreset.Float})
	}
	return c.exportShards(ctx, format, w, info.User, cols, false, v.Shards, func(b []byte, ref proto.ShardRef) (*scoreset.Table, error) {
		sh, err := partition.ReadInteractions(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return nil, fmt.Errorf("shard %d: %w", ref.Index, err)
		}
		t := scoreset.NewTable(info.User, cols, len(sh.Other))
		for i, user := range sh.Keys {
			for k := sh.Ptr[i]; k < sh.Ptr[i+1]; k++ {
				t.Keys = append(t.Keys, user)
				t.Strings[0] = append(t.Strings[0], sh.Other[k])
				if info.Value != "" {
					t.Floats[1] = append(t.Floats[1], sh.Value[k])
				}
			}
		}
		return t, nil
	})
}

// exportTransactions streams a transactions version shard by shard: one row
// per transaction, the customer column, then time (RFC 3339, UTC, which the
// import detects), amount (quantity × price when the import computed it;
// returns negative), invoice when the import named one, and return (1 for
// a return, else 0).
func (c *Client) exportTransactions(ctx context.Context, v *proto.DatasetVersion, format string, w io.Writer) (int64, error) {
	info := v.Transactions
	if info == nil {
		return 0, fmt.Errorf("transactions dataset version %d has no description", v.Version)
	}
	cols := []scoreset.Column{{Name: "time", Type: scoreset.String}, {Name: "amount", Type: scoreset.Float}}
	if info.Invoice != "" {
		cols = append(cols, scoreset.Column{Name: info.Invoice, Type: scoreset.String})
	}
	item := len(cols)
	if info.Item != "" {
		cols = append(cols, scoreset.Column{Name: info.Item, Type: scoreset.String})
		if info.ItemName != "" {
			cols = append(cols, scoreset.Column{Name: info.ItemName, Type: scoreset.String})
		}
	}
	cols = append(cols, scoreset.Column{Name: "return", Type: scoreset.Int})
	ret := len(cols) - 1
	return c.exportShards(ctx, format, w, info.Key, cols, false, v.Shards, func(b []byte, ref proto.ShardRef) (*scoreset.Table, error) {
		sh, err := partition.ReadTransactions(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return nil, fmt.Errorf("shard %d: %w", ref.Index, err)
		}
		t := scoreset.NewTable(info.Key, cols, sh.Rows())
		for i, key := range sh.Keys {
			for k := sh.Ptr[i]; k < sh.Ptr[i+1]; k++ {
				t.Keys = append(t.Keys, key)
				t.Strings[0] = append(t.Strings[0], time.Unix(sh.Time[k], 0).UTC().Format(time.RFC3339))
				t.Floats[1] = append(t.Floats[1], sh.Amount[k])
				if info.Invoice != "" {
					t.Strings[2] = append(t.Strings[2], sh.Invoice[k])
				}
				if info.Item != "" && sh.Item != nil {
					t.Strings[item] = append(t.Strings[item], sh.Item[k])
					if info.ItemName != "" {
						t.Strings[item+1] = append(t.Strings[item+1], sh.ItemNames[sh.Item[k]])
					}
				}
				r := int64(0)
				if sh.Return[k] {
					r = 1
				}
				t.Ints[ret] = append(t.Ints[ret], r)
			}
		}
		return t, nil
	})
}
