package basket

import (
	"encoding/binary"
	"errors"
)

// resultFormat is the version of Result's binary form; resultNamed is the
// form of a result with item names, written after the counts, one per
// item. A result without names is written in the first form, which
// every version reads.
const (
	resultFormat = 1
	resultNamed  = 2
)

// errShort reports a binary Result that ends early or runs over.
var errShort = errors.New("basket: result: truncated or oversized")

// MarshalBinary writes r as varints: a count vector of a million
// candidates is a few megabytes that reflection-driven MessagePack took
// longer to encode and decode than the shard took to count.
func (r *Result) MarshalBinary() ([]byte, error) {
	b := make([]byte, 0, 32+len(r.Counts)*2+len(r.Items)*12)
	format := uint64(resultFormat)
	if r.Names != nil {
		if len(r.Names) != len(r.Items) {
			return nil, errorf(ErrBadResult, "%d names for %d items", len(r.Names), len(r.Items))
		}
		format = resultNamed
	}
	b = binary.AppendUvarint(b, format)
	b = appendString(b, string(r.Kind))
	for _, v := range []int64{int64(r.Step), int64(r.Shard), r.Baskets, int64(len(r.Items)), int64(len(r.Counts))} {
		b = binary.AppendVarint(b, v)
	}
	for i, it := range r.Items {
		b = appendString(b, it)
		b = binary.AppendVarint(b, r.ItemCounts[i])
	}
	for _, c := range r.Counts {
		b = binary.AppendVarint(b, c)
	}
	if format == resultNamed {
		for _, name := range r.Names {
			b = appendString(b, name)
		}
	}
	return b, nil
}

// UnmarshalBinary reads what MarshalBinary wrote.
func (r *Result) UnmarshalBinary(b []byte) error {
	d := decoder{b: b}
	format := d.uvarint()
	if format != resultFormat && format != resultNamed {
		return errorf(ErrBadResult, "result format %d", format)
	}
	out := Result{Kind: Kind(d.string())}
	var head [5]int64
	for i := range head {
		head[i] = d.varint()
	}
	nItems, nCounts := head[3], head[4]
	// Every item and count takes at least one byte: a length beyond the
	// bytes left is corrupt, and allocates nothing.
	if d.err != nil || nItems < 0 || nCounts < 0 || nItems+nCounts > int64(len(d.b)) {
		return errorf(ErrBadResult, "%v", errShort)
	}
	out.Step, out.Shard, out.Baskets = int(head[0]), int(head[1]), head[2]
	if nItems > 0 {
		out.Items, out.ItemCounts = make([]string, nItems), make([]int64, nItems)
		for i := range out.Items {
			out.Items[i] = d.string()
			out.ItemCounts[i] = d.varint()
		}
	}
	if nCounts > 0 {
		out.Counts = make([]int64, nCounts)
		for i := range out.Counts {
			out.Counts[i] = d.varint()
		}
	}
	if format == resultNamed {
		if nItems > int64(len(d.b)) {
			return errorf(ErrBadResult, "%v", errShort)
		}
		out.Names = make([]string, nItems)
		for i := range out.Names {
			out.Names[i] = d.string()
		}
	}
	if d.err != nil || len(d.b) != 0 {
		return errorf(ErrBadResult, "%v", errShort)
	}
	*r = out
	return nil
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err, d.b = errShort, nil
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err, d.b = errShort, nil
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) string() string {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.err, d.b = errShort, nil
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}
