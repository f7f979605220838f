package partition

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"unsafe"

	"github.com/parquet-go/parquet-go"
)

// Transactions is one transactions shard in memory, grouped by customer.
type Transactions struct {
	// Keys are the shard's distinct customer ids, ascending.
	Keys []string
	// Ptr has len(Keys)+1 entries: customer i's rows are Ptr[i]:Ptr[i+1] of
	// the row columns below, ascending by (Time, Invoice).
	Ptr []int32
	// Time is each row's time in unix seconds (UTC).
	Time   []int64
	Amount []float64
	// Invoice is nil when the import named no invoice column; "" is a
	// missing invoice id.
	Invoice []string
	// Item is each row's item id, nil when the import named no item
	// column; "" is a row without an item.
	Item []string
	// Quantity is each row's quantity, nil unless the import named both an
	// item and a quantity column.
	Quantity []float64
	// ItemNames maps the shard's items to their display names; nil when
	// the import named no item name column. An item without a name is not
	// in it.
	ItemNames map[string]string
	// Return flags returns: a negative amount or quantity.
	Return []bool
	// KeyColumn is the customer id column's name.
	KeyColumn string
}

// Rows is the number of transaction rows in the shard.
func (s *Transactions) Rows() int { return len(s.Time) }

// transaction is one spilled row while its shard is sorted.
type transaction struct {
	key      string
	time     int64
	amount   float64
	flags    byte
	invoice  string
	item     string
	quantity float64
}

// Metadata of the item columns (absent from a shard without items, which
// reads as before).
const (
	metaItem     = "mathcrm.item"      // transactions: the item column
	metaItemName = "mathcrm.item_name" // transactions: the item name column
	metaQuantity = "mathcrm.quantity"  // transactions: the quantity column
)

// timestampType is the Parquet type of the time column: milliseconds since
// the epoch, UTC, which data tools read as a timestamp (Parquet has no
// seconds unit).
var timestampType = parquet.Timestamp(parquet.Millisecond).Type()

// transactionSchema is the schema of a transactions shard: key, time,
// invoice, item, item name, quantity (each when the import has one),
// amount, return flag.
func transactionSchema(cols txnColumns) *parquet.Schema {
	g := parquet.Group{
		cols.key:    parquet.Required(parquet.String()),
		cols.time:   parquet.Required(parquet.Leaf(timestampType)),
		cols.amount: parquet.Required(parquet.Leaf(parquet.DoubleType)),
		cols.ret:    parquet.Required(parquet.Leaf(parquet.BooleanType)),
	}
	order := []string{cols.key, cols.time}
	if cols.invoice != "" {
		g[cols.invoice] = parquet.Optional(parquet.String())
		order = append(order, cols.invoice)
	}
	for _, c := range []string{cols.item, cols.itemName} {
		if c != "" {
			g[c] = parquet.Optional(parquet.String())
			order = append(order, c)
		}
	}
	if cols.quantity != "" {
		g[cols.quantity] = parquet.Required(parquet.Leaf(parquet.DoubleType))
		order = append(order, cols.quantity)
	}
	order = append(order, cols.amount, cols.ret)
	return parquet.NewSchema("mathcrm_transactions", orderedGroup{Group: g, order: order})
}

// writeTransactionShard sorts shard i of l by (key, time, invoice), file
// order among equals, and writes it. It returns the file and its number of
// distinct keys. names holds every item's name ("" for none).
func writeTransactionShard(ctx context.Context, l *layout, i int, cols txnColumns, names map[string]string, rowGroupRows int) (ShardFile, int64, error) {
	data, err := l.loadSpill(i)
	if err != nil {
		return ShardFile{}, 0, err
	}
	rows := make([]transaction, 0, l.spills[i].rows)
	d := recDecoder{b: data}
	for d.more() {
		t := transaction{key: d.str(), time: int64(d.word()), amount: math.Float64frombits(d.word()), flags: d.flags()}
		if t.flags&txnInvoice != 0 {
			t.invoice = d.str()
		}
		if t.flags&txnItem != 0 {
			t.item = d.str()
		}
		if t.flags&txnQuantity != 0 {
			t.quantity = math.Float64frombits(d.word())
		}
		rows = append(rows, t)
	}
	if d.err != nil {
		return ShardFile{}, 0, d.err
	}
	if err := ctx.Err(); err != nil {
		return ShardFile{}, 0, err
	}
	slices.SortStableFunc(rows, func(a, b transaction) int {
		if c := strings.Compare(a.key, b.key); c != 0 {
			return c
		}
		if c := cmp.Compare(a.time, b.time); c != 0 {
			return c
		}
		return strings.Compare(a.invoice, b.invoice)
	})
	hasInvoice := cols.invoice != ""
	width := 4
	for _, c := range []string{cols.invoice, cols.item, cols.itemName, cols.quantity} {
		if c != "" {
			width++
		}
	}
	meta := []string{metaKind, "transactions",
		metaKey, cols.key,
		metaTime, cols.time,
		metaInvoice, cols.invoice,
		metaAmount, cols.amount,
		metaReturn, cols.ret,
		metaShard, shardMeta(i, l.count)}
	for _, m := range [][2]string{{metaItem, cols.item}, {metaItemName, cols.itemName}, {metaQuantity, cols.quantity}} {
		if m[1] != "" {
			meta = append(meta, m[0], m[1])
		}
	}
	optional := func(row []parquet.Value, c int, v string, ok bool) {
		if ok {
			row[c] = parquet.ByteArrayValue(bytesOf(v)).Level(0, 1, c)
		} else {
			row[c] = parquet.NullValue().Level(0, 0, c)
		}
	}
	var keys int64
	sf, err := l.writeShardFile(i, func(w io.Writer) (int64, error) {
		pw := newShardWriter(w, transactionSchema(cols), rowGroupRows, meta...)
		rw := newRowWriter(pw, width)
		for r, t := range rows {
			if r%ctxCheckRows == 0 && ctx.Err() != nil {
				return 0, ctx.Err()
			}
			if r == 0 || t.key != rows[r-1].key {
				keys++
			}
			row, err := rw.next()
			if err != nil {
				return 0, err
			}
			c := 0
			row[c] = parquet.ByteArrayValue(bytesOf(t.key)).Level(0, 0, c)
			c++
			row[c] = parquet.Int64Value(t.time*1000).Level(0, 0, c)
			c++
			if hasInvoice {
				optional(row, c, t.invoice, t.flags&txnInvoice != 0)
				c++
			}
			if cols.item != "" {
				optional(row, c, t.item, t.flags&txnItem != 0)
				c++
			}
			if cols.itemName != "" {
				name := names[t.item]
				optional(row, c, name, t.flags&txnItem != 0 && name != "")
				c++
			}
			if cols.quantity != "" {
				row[c] = parquet.DoubleValue(t.quantity).Level(0, 0, c)
				c++
			}
			row[c] = parquet.DoubleValue(t.amount).Level(0, 0, c)
			c++
			row[c] = parquet.BooleanValue(t.flags&txnReturn != 0).Level(0, 0, c)
		}
		return int64(len(rows)), rw.close()
	})
	return sf, keys, err
}

// ReadTransactions decodes a shard file written by [SplitTransactions]. Any
// input that is not such a file yields an error wrapping ErrCorrupt, never a
// panic.
func ReadTransactions(r io.ReaderAt, size int64) (s *Transactions, err error) {
	defer recoverCorrupt(&err)
	f, err := openShardFile(r, size, "transactions")
	if err != nil {
		return nil, err
	}
	var cols txnColumns
	for _, m := range []struct {
		key string
		to  *string
	}{{metaKey, &cols.key}, {metaTime, &cols.time}, {metaInvoice, &cols.invoice}, {metaAmount, &cols.amount}, {metaReturn, &cols.ret},
		{metaItem, &cols.item}, {metaItemName, &cols.itemName}, {metaQuantity, &cols.quantity}} {
		*m.to, _ = f.Lookup(m.key)
	}
	if cols.item == "" && (cols.itemName != "" || cols.quantity != "") {
		return nil, fmt.Errorf("%w: item names or quantities without an item column", ErrCorrupt)
	}
	spec := []columnSpec{{cols.key, parquet.ByteArray, true, nil}, {cols.time, parquet.Int64, true, timestampType}}
	if cols.invoice != "" {
		spec = append(spec, columnSpec{cols.invoice, parquet.ByteArray, false, nil})
	}
	for _, c := range []string{cols.item, cols.itemName} {
		if c != "" {
			spec = append(spec, columnSpec{c, parquet.ByteArray, false, nil})
		}
	}
	if cols.quantity != "" {
		spec = append(spec, columnSpec{cols.quantity, parquet.Double, true, nil})
	}
	spec = append(spec, columnSpec{cols.amount, parquet.Double, true, nil}, columnSpec{cols.ret, parquet.Boolean, true, nil})
	if err := checkColumns(f, spec); err != nil {
		return nil, err
	}
	total, err := rowCount(f)
	if err != nil {
		return nil, err
	}
	hint := int(min(total, size/8+1))
	s = &Transactions{
		KeyColumn: cols.key,
		Ptr:       make([]int32, 0, 1),
		Time:      make([]int64, 0, hint),
		Amount:    make([]float64, 0, hint),
		Return:    make([]bool, 0, hint),
	}
	var keys, invoices, items stringArena
	var hasItem []bool // per row: whether the row has an item (for its name)
	if cols.itemName != "" {
		s.ItemNames = map[string]string{}
	}
	var nameRow int64 // the row the next item name belongs to
	var rows int64
	buf := make([]parquet.Value, readBatch)
	for _, rg := range f.RowGroups() {
		n := rg.NumRows()
		chunks := rg.ColumnChunks()
		if n < 0 || len(chunks) != len(spec) {
			return nil, fmt.Errorf("%w: row group shape", ErrCorrupt)
		}
		readers := []func(parquet.Value) error{
			func(v parquet.Value) error {
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
			},
			func(v parquet.Value) error {
				if v.IsNull() || v.Kind() != parquet.Int64 || v.Int64()%1000 != 0 {
					return fmt.Errorf("%w: bad value in column %q", ErrCorrupt, cols.time)
				}
				s.Time = append(s.Time, v.Int64()/1000)
				return nil
			},
		}
		if cols.invoice != "" {
			readers = append(readers, func(v parquet.Value) error {
				switch {
				case v.IsNull():
					invoices.add(nil)
				case v.Kind() != parquet.ByteArray:
					return fmt.Errorf("%w: bad value in column %q", ErrCorrupt, cols.invoice)
				default:
					invoices.add(v.ByteArray())
				}
				return nil
			})
		}
		if cols.item != "" {
			readers = append(readers, func(v parquet.Value) error {
				switch {
				case v.IsNull():
					items.add(nil)
					hasItem = append(hasItem, false)
				case v.Kind() != parquet.ByteArray || len(v.ByteArray()) == 0:
					return fmt.Errorf("%w: bad value in column %q", ErrCorrupt, cols.item)
				default:
					items.add(v.ByteArray())
					hasItem = append(hasItem, true)
				}
				return nil
			})
		}
		if cols.itemName != "" {
			readers = append(readers, func(v parquet.Value) error {
				r := nameRow
				nameRow++
				if r >= int64(len(hasItem)) {
					return fmt.Errorf("%w: more item names than items", ErrCorrupt)
				}
				switch {
				case v.IsNull():
					return nil
				case v.Kind() != parquet.ByteArray || !hasItem[r]:
					return fmt.Errorf("%w: bad value in column %q", ErrCorrupt, cols.itemName)
				}
				item, name := itemAt(&items, int(r)), v.ByteArray()
				if old, ok := s.ItemNames[string(item)]; !ok {
					s.ItemNames[string(item)] = string(name)
				} else if old != string(name) {
					return fmt.Errorf("%w: item %q has two names", ErrCorrupt, item)
				}
				return nil
			})
		}
		if cols.quantity != "" {
			readers = append(readers, func(v parquet.Value) error {
				x, err := finiteDouble(v, cols.quantity)
				s.Quantity = append(s.Quantity, x)
				return err
			})
		}
		readers = append(readers,
			func(v parquet.Value) error {
				x, err := finiteDouble(v, cols.amount)
				s.Amount = append(s.Amount, x)
				return err
			},
			func(v parquet.Value) error {
				if v.IsNull() || v.Kind() != parquet.Boolean {
					return fmt.Errorf("%w: bad value in column %q", ErrCorrupt, cols.ret)
				}
				s.Return = append(s.Return, v.Boolean())
				return nil
			})
		for j, use := range readers {
			if err := readChunk(chunks[j], n, buf, use); err != nil {
				return nil, err
			}
		}
	}
	if rows != total || int64(len(s.Time)) != total {
		return nil, fmt.Errorf("%w: footer says %d rows, row groups hold %d", ErrCorrupt, total, rows)
	}
	s.Ptr = append(s.Ptr, int32(rows))
	s.Keys = keys.strings()
	if cols.invoice != "" {
		s.Invoice = invoices.strings()
	}
	if cols.item != "" {
		if int64(len(items.ends)) != total || cols.quantity != "" && int64(len(s.Quantity)) != total {
			return nil, fmt.Errorf("%w: item columns hold %d rows, not %d", ErrCorrupt, len(items.ends), total)
		}
		s.Item = items.strings()
	}
	for k := range s.Keys {
		for r := s.Ptr[k] + 1; r < s.Ptr[k+1]; r++ {
			if s.Time[r] < s.Time[r-1] || s.Time[r] == s.Time[r-1] && s.Invoice != nil && s.Invoice[r] < s.Invoice[r-1] {
				return nil, fmt.Errorf("%w: rows of key %q not ascending by time and invoice", ErrCorrupt, s.Keys[k])
			}
		}
	}
	return s, nil
}

// SizeBytes approximates the shard's in-memory footprint (headers, string
// bytes and slice capacities), for a byte-budgeted cache.
func (s *Transactions) SizeBytes() int64 {
	n := int64(unsafe.Sizeof(*s)) + int64(len(s.KeyColumn))
	n += stringsSize(s.Keys) + stringsSize(s.Invoice) + stringsSize(s.Item) + int64(cap(s.Quantity))*8
	for it, name := range s.ItemNames {
		n += int64(len(it)+len(name)) + 48
	}
	n += int64(cap(s.Ptr))*4 + int64(cap(s.Time))*8 + int64(cap(s.Amount))*8 + int64(cap(s.Return))
	return n
}

// itemAt is the i-th string of a, uncopied.
func itemAt(a *stringArena, i int) []byte {
	start := 0
	if i > 0 {
		start = a.ends[i-1]
	}
	return a.buf[start:a.ends[i]]
}
