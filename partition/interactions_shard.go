package partition

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"unsafe"

	"github.com/parquet-go/parquet-go"
)

// Interactions is one shard of one interactions layout in memory, grouped by
// the layout's own side: the by-user layout has users as Keys and items as
// Other, the by-item layout the reverse.
type Interactions struct {
	// Keys are the distinct ids of this layout's side, ascending.
	Keys []string
	// Ptr has len(Keys)+1 entries: key i's interactions are rows
	// Ptr[i]:Ptr[i+1] of Other and Value.
	Ptr []int32
	// Other is the other side's id of each interaction, ascending within a
	// key; repeated interactions are kept, adjacent.
	Other []string
	Value []float64
	// KeyColumn, OtherColumn and ValueColumn are the column names.
	KeyColumn, OtherColumn, ValueColumn string
}

// interaction is one spilled row while its shard is sorted.
type interaction struct {
	key, other string
	value      float64
}

// interactionSchema is the schema of a shard keyed by cols.user.
func interactionSchema(cols interactionColumns) *parquet.Schema {
	g := parquet.Group{
		cols.user:  parquet.Required(parquet.String()),
		cols.item:  parquet.Required(parquet.String()),
		cols.value: parquet.Required(parquet.Leaf(parquet.DoubleType)),
	}
	order := []string{cols.user, cols.item, cols.value}
	return parquet.NewSchema("mathcrm_interactions", orderedGroup{Group: g, order: order})
}

// writeInteractionShard sorts shard i of l by (key, other), file order
// among equals, and writes it; cols.user is the layout's own side. It
// returns the file and its number of distinct keys.
func writeInteractionShard(ctx context.Context, l *layout, i int, cols interactionColumns, name string, rowGroupRows int) (ShardFile, int64, error) {
	data, err := l.loadSpill(i)
	if err != nil {
		return ShardFile{}, 0, err
	}
	rows := make([]interaction, 0, l.spills[i].rows)
	d := recDecoder{b: data}
	for d.more() {
		r := interaction{key: d.str(), other: d.str(), value: math.Float64frombits(d.word())}
		rows = append(rows, r)
	}
	if d.err != nil {
		return ShardFile{}, 0, d.err
	}
	if err := ctx.Err(); err != nil {
		return ShardFile{}, 0, err
	}
	slices.SortStableFunc(rows, func(a, b interaction) int {
		if c := strings.Compare(a.key, b.key); c != 0 {
			return c
		}
		return strings.Compare(a.other, b.other)
	})
	var keys int64
	sf, err := l.writeShardFile(i, func(w io.Writer) (int64, error) {
		pw := newShardWriter(w, interactionSchema(cols), rowGroupRows,
			metaKind, "interactions",
			metaLayout, name,
			metaKey, cols.user,
			metaOther, cols.item,
			metaValue, cols.value,
			metaShard, shardMeta(i, l.count),
		)
		rw := newRowWriter(pw, 3)
		for r, in := range rows {
			if r%ctxCheckRows == 0 && ctx.Err() != nil {
				return 0, ctx.Err()
			}
			if r == 0 || in.key != rows[r-1].key {
				keys++
			}
			row, err := rw.next()
			if err != nil {
				return 0, err
			}
			row[0] = parquet.ByteArrayValue(bytesOf(in.key)).Level(0, 0, 0)
			row[1] = parquet.ByteArrayValue(bytesOf(in.other)).Level(0, 0, 1)
			row[2] = parquet.DoubleValue(in.value).Level(0, 0, 2)
		}
		return int64(len(rows)), rw.close()
	})
	return sf, keys, err
}

// ReadInteractions decodes a shard file written by [SplitInteractions]. Any
// input that is not such a file yields an error wrapping ErrCorrupt, never a
// panic.
func ReadInteractions(r io.ReaderAt, size int64) (s *Interactions, err error) {
	defer recoverCorrupt(&err)
	f, err := openShardFile(r, size, "interactions")
	if err != nil {
		return nil, err
	}
	s = &Interactions{}
	names := []*string{&s.KeyColumn, &s.OtherColumn, &s.ValueColumn}
	for j, meta := range []string{metaKey, metaOther, metaValue} {
		*names[j], _ = f.Lookup(meta)
	}
	if err := checkColumns(f, []columnSpec{
		{s.KeyColumn, parquet.ByteArray, true, nil},
		{s.OtherColumn, parquet.ByteArray, true, nil},
		{s.ValueColumn, parquet.Double, true, nil},
	}); err != nil {
		return nil, err
	}
	total, err := rowCount(f)
	if err != nil {
		return nil, err
	}
	hint := int(min(total, size/8+1))
	var keys, other stringArena
	s.Ptr = make([]int32, 0, 1)
	s.Value = make([]float64, 0, hint)
	var rows int64
	buf := make([]parquet.Value, readBatch)
	for _, rg := range f.RowGroups() {
		n := rg.NumRows()
		chunks := rg.ColumnChunks()
		if n < 0 || len(chunks) != 3 {
			return nil, fmt.Errorf("%w: row group shape", ErrCorrupt)
		}
		err := readChunk(chunks[0], n, buf, func(v parquet.Value) error {
			if v.IsNull() || v.Kind() != parquet.ByteArray {
				return fmt.Errorf("%w: bad key value", ErrCorrupt)
			}
			b := v.ByteArray()
			if len(keys.ends) > 0 {
				switch c := bytes.Compare(b, keys.last()); {
				case c < 0:
					return fmt.Errorf("%w: keys not in ascending order", ErrCorrupt)
				case c == 0:
					rows++
					return nil
				}
			}
			if rows > maxShardRows {
				return fmt.Errorf("%w: more than %d rows", ErrCorrupt, int64(maxShardRows))
			}
			keys.add(b)
			s.Ptr = append(s.Ptr, int32(rows))
			rows++
			return nil
		})
		if err != nil {
			return nil, err
		}
		err = readChunk(chunks[1], n, buf, func(v parquet.Value) error {
			if v.IsNull() || v.Kind() != parquet.ByteArray {
				return fmt.Errorf("%w: bad %s value", ErrCorrupt, s.OtherColumn)
			}
			other.add(v.ByteArray())
			return nil
		})
		if err != nil {
			return nil, err
		}
		err = readChunk(chunks[2], n, buf, func(v parquet.Value) error {
			x, err := finiteDouble(v, s.ValueColumn)
			s.Value = append(s.Value, x)
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	if rows != total || int64(len(other.ends)) != total || int64(len(s.Value)) != total {
		return nil, fmt.Errorf("%w: footer says %d rows, row groups hold %d", ErrCorrupt, total, rows)
	}
	if rows > maxShardRows {
		return nil, fmt.Errorf("%w: more than %d rows", ErrCorrupt, int64(maxShardRows))
	}
	s.Ptr = append(s.Ptr, int32(rows))
	s.Keys = keys.strings()
	s.Other = other.strings()
	for k := range s.Keys {
		for r := s.Ptr[k] + 1; r < s.Ptr[k+1]; r++ {
			if s.Other[r] < s.Other[r-1] {
				return nil, fmt.Errorf("%w: %s not ascending within key %q", ErrCorrupt, s.OtherColumn, s.Keys[k])
			}
		}
	}
	return s, nil
}

// Rows is the number of interactions in the shard.
func (s *Interactions) Rows() int { return len(s.Other) }

// SizeBytes approximates the shard's in-memory footprint (headers, string
// bytes and slice capacities), for a byte-budgeted cache.
func (s *Interactions) SizeBytes() int64 {
	n := int64(unsafe.Sizeof(*s))
	n += int64(len(s.KeyColumn) + len(s.OtherColumn) + len(s.ValueColumn))
	n += stringsSize(s.Keys) + stringsSize(s.Other)
	n += int64(cap(s.Ptr))*4 + int64(cap(s.Value))*8
	return n
}

// stringsSize is the memory of a string slice: headers and bytes.
func stringsSize(ss []string) int64 {
	n := int64(cap(ss)) * int64(unsafe.Sizeof(""))
	for _, x := range ss {
		n += int64(len(x))
	}
	return n
}
