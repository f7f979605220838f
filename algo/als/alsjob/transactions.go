package alsjob

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/mathcrm/mathcrm/algo/als"
	"github.com/mathcrm/mathcrm/algo/job"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/partition"
)

// What a customer × item cell of a transactions dataset holds.
const (
	// ValueCount counts a customer's lines of the item, a return line
	// counting −1.
	ValueCount = "count"
	// ValueQuantity sums the lines' quantities (returns are negative).
	ValueQuantity = "quantity"
	// ValueAmount sums the lines' amounts (returns are negative).
	ValueAmount = "amount"
)

// TxSource makes ALS blocks of a transactions dataset imported with
// --item: customers are the users, and a customer × item cell holds the
// netted Value of the customer's lines of the item; a cell whose net is
// 0 or less (everything bought was returned) is no interaction. Both sides
// read the customer-sharded transactions shards: a users block is one
// shard's customers, items block i the items with ShardOf(item, n) = i
// gathered from every shard. A cell's lines all come from one shard, in
// the shard's order, so both sides sum them in the same order: the same
// bits.
type TxSource struct {
	Value string `json:"value"`
	// Shards are the version's shards, in shard order.
	Shards []proto.ShardRef `json:"shards"`
}

// txSourceOf resolves a transactions version and the --value parameter,
// or says why the version cannot be factorised.
func txSourceOf(name string, ver *proto.DatasetVersion, value string) (*TxSource, error) {
	tx := ver.Transactions
	if tx.Item == "" {
		return nil, job.Invalid("dataset %s has no items: import it with --item to factorise customers × items", name)
	}
	switch value {
	case ValueCount, ValueAmount:
	case ValueQuantity:
		if tx.Quantity == "" {
			return nil, job.Invalid("dataset %s keeps no quantities (it was imported with --amount): use --value count or amount", name)
		}
	default:
		return nil, job.Invalid("als.value (--value) is %q: want count, quantity or amount", value)
	}
	return &TxSource{Value: value, Shards: ver.Shards}, nil
}

// key names the source's blocks in a worker's cache.
func (s *TxSource) key() string { return "tx|" + s.Value }

// lineValue is what one line adds to its cell.
func (s *TxSource) lineValue(tx *partition.Transactions, r int) float64 {
	switch s.Value {
	case ValueQuantity:
		return tx.Quantity[r]
	case ValueAmount:
		return tx.Amount[r]
	}
	if tx.Return[r] {
		return -1
	}
	return 1
}

// txShard reads one transactions shard, once per worker.
func txShard(ctx context.Context, sh job.Shard, ref proto.ShardRef) (*partition.Transactions, error) {
	v, err := sh.Cached("alstx|"+ref.Object+"@"+ref.SHA256, func() (any, int64, error) {
		b, err := sh.Get(ctx, proto.BlobRef{Bucket: proto.BucketShards, Object: ref.Object, Size: ref.Size, SHA256: ref.SHA256})
		if err != nil {
			return nil, 0, err
		}
		tx, err := partition.ReadTransactions(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return nil, 0, fmt.Errorf("als: shard %s: %w", ref.Object, err)
		}
		if tx.Item == nil {
			return nil, 0, fmt.Errorf("als: shard %s has no item column", ref.Object)
		}
		return tx, tx.SizeBytes(), nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*partition.Transactions), nil
}

// cell is one netted customer × item value.
type cell struct {
	id, other string
	value     float64
}

// cells nets tx's lines into its customers' cells, keeping those keep
// accepts (by item) with a net above 0, customer by customer, items
// ascending within a customer.
func (s *TxSource) cells(dst []cell, tx *partition.Transactions, keep func(item string) bool) []cell {
	var own []cell
	at := map[string]int{}
	for c, cust := range tx.Keys {
		own = own[:0]
		clear(at)
		for r := int(tx.Ptr[c]); r < int(tx.Ptr[c+1]); r++ {
			it := tx.Item[r]
			if it == "" || !keep(it) {
				continue
			}
			v := s.lineValue(tx, r)
			if k, ok := at[it]; ok {
				own[k].value += v
				continue
			}
			at[it] = len(own)
			own = append(own, cell{id: cust, other: it, value: v})
		}
		slices.SortFunc(own, func(a, b cell) int { return strings.Compare(a.other, b.other) })
		for _, x := range own {
			if x.value > 0 {
				dst = append(dst, x)
			}
		}
	}
	return dst
}

// txBlock is the block of shard ref.Index of side: the customers of that
// shard, or the items placed there, with the names of the block's items
// (items side).
type txBlock struct {
	blk   *als.Block
	names map[string]string
}

// blockOf turns cells sorted by (id, other) into a block.
func blockOf(cells []cell) *als.Block {
	b := &als.Block{Ptr: make([]int32, 1, 64), Other: make([]string, len(cells)), Value: make([]float64, len(cells))}
	for k, x := range cells {
		if k == 0 || x.id != cells[k-1].id {
			if k > 0 {
				b.Ptr = append(b.Ptr, int32(k))
			}
			b.IDs = append(b.IDs, x.id)
		}
		b.Other[k], b.Value[k] = x.other, x.value
	}
	if len(cells) > 0 {
		b.Ptr = append(b.Ptr, int32(len(cells)))
	}
	return b
}

// txBlockFor builds (once per worker) the block of a transactions job's
// pass on the shard sh runs.
func txBlockFor(ctx context.Context, sh job.Shard, src *TxSource, side als.Side) (*txBlock, error) {
	ref := sh.Ref()
	n := len(src.Shards)
	if side == als.Items && (ref.Index < 0 || ref.Index >= n || src.Shards[ref.Index].Object != ref.Object) {
		return nil, fmt.Errorf("als: shard %d is not shard %d of the task's %d", ref.Index, ref.Index, n)
	}
	h := ""
	for _, r := range src.Shards {
		h += r.SHA256[:min(len(r.SHA256), 16)]
	}
	key := fmt.Sprintf("%s%s|%s|%s|%d|%s", blockKeyPrefix, src.key(), side, ref.SHA256, ref.Index, h)
	if side != als.Items {
		key = fmt.Sprintf("%s%s|%s|%s", blockKeyPrefix, src.key(), side, ref.SHA256)
	}
	v, err := sh.Cached(key, func() (any, int64, error) {
		all := func(string) bool { return true }
		if side != als.Items {
			tx, err := txShard(ctx, sh, ref)
			if err != nil {
				return nil, 0, err
			}
			b := blockOf(src.cells(nil, tx, all))
			return &txBlock{blk: b}, blockSize(b), nil
		}
		mine := func(it string) bool { return partition.ShardOf(it, n) == ref.Index }
		var cells []cell
		names := map[string]string{}
		for _, r := range src.Shards {
			tx, err := txShard(ctx, sh, r)
			if err != nil {
				return nil, 0, err
			}
			cells = src.cells(cells, tx, mine)
			for it, name := range tx.ItemNames {
				if mine(it) {
					names[it] = name
				}
			}
		}
		// By item, then customer: each customer's cells come from one
		// shard, so (other, id) is unique.
		for k := range cells {
			cells[k].id, cells[k].other = cells[k].other, cells[k].id
		}
		slices.SortFunc(cells, func(a, b cell) int { return cmp.Or(strings.Compare(a.id, b.id), strings.Compare(a.other, b.other)) })
		b := blockOf(cells)
		return &txBlock{blk: b, names: names}, blockSize(b), nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*txBlock), nil
}

// blockSize approximates a block's bytes, for the cache budget.
func blockSize(b *als.Block) int64 {
	n := int64(len(b.Ptr))*4 + int64(len(b.Value))*8 + int64(len(b.Other)+len(b.IDs))*16
	for _, s := range b.IDs {
		n += int64(len(s))
	}
	return n + int64(len(b.Other))*8 // item ids share few distinct strings
}

// CustomerItems are the items of customer c of tx whose cell has a net
// above 0 with value v (count, quantity or amount), ascending: the items a
// model trained with v counts the customer as having.
func CustomerItems(tx *partition.Transactions, c int, v string) []string {
	src := &TxSource{Value: v}
	one := &partition.Transactions{Keys: tx.Keys[c : c+1], Ptr: []int32{0, tx.Ptr[c+1] - tx.Ptr[c]}}
	lo, hi := tx.Ptr[c], tx.Ptr[c+1]
	one.Item, one.Return, one.Amount = tx.Item[lo:hi], tx.Return[lo:hi], tx.Amount[lo:hi]
	if tx.Quantity != nil {
		one.Quantity = tx.Quantity[lo:hi]
	}
	var out []string
	for _, x := range src.cells(nil, one, func(string) bool { return true }) {
		out = append(out, x.other)
	}
	return out
}

// TxValue is the value a model trained on transactions factorised, and
// whether it was.
func (m *Factorization) TxValue() (string, bool) {
	return m.Value, m.Source == proto.KindTransactions
}
