package partition

import (
	"encoding/binary"
	"errors"
)

// Parquet's footer and page headers are Thrift compact-protocol structs.
// parquet-go allocates a list of whatever length a list header claims and
// then decodes that many elements, so a corrupt length makes it allocate
// gigabytes or spin for minutes. thriftStructLen walks a struct without
// decoding it and rejects any length that exceeds the bytes left, before
// parquet-go sees the bytes.

var errThrift = errors.New("malformed thrift")

// maxThriftDepth bounds struct and container nesting; Parquet's metadata
// nests a handful of levels.
const maxThriftDepth = 32

// Compact-protocol type ids.
const (
	tBoolTrue  = 1
	tBoolFalse = 2
	tByte      = 3
	tI16       = 4
	tI32       = 5
	tI64       = 6
	tDouble    = 7
	tBinary    = 8
	tList      = 9
	tSet       = 10
	tMap       = 11
	tStruct    = 12
)

// thriftStructLen returns the length of the compact-protocol struct at the
// start of b.
func thriftStructLen(b []byte) (int, error) {
	w := thriftWalker{b: b}
	w.skipStruct(0)
	return w.off, w.err
}

type thriftWalker struct {
	b   []byte
	off int
	err error
}

func (w *thriftWalker) fail() {
	if w.err == nil {
		w.err = errThrift
	}
	w.off = len(w.b)
}

func (w *thriftWalker) left() int { return len(w.b) - w.off }

func (w *thriftWalker) byte() byte {
	if w.left() < 1 {
		w.fail()
		return 0
	}
	c := w.b[w.off]
	w.off++
	return c
}

func (w *thriftWalker) uvarint() uint64 {
	v, n := binary.Uvarint(w.b[w.off:])
	if n <= 0 {
		w.fail()
		return 0
	}
	w.off += n
	return v
}

// count reads a container or binary length and checks that at least
// min*length bytes are left.
func (w *thriftWalker) count(v uint64, min int) int {
	if v > uint64(w.left()/min) {
		w.fail()
		return 0
	}
	return int(v)
}

func (w *thriftWalker) skipStruct(depth int) {
	if depth > maxThriftDepth {
		w.fail()
		return
	}
	for w.err == nil {
		h := w.byte()
		if h == 0 { // stop
			return
		}
		if h>>4 == 0 { // long form: the field id follows
			w.uvarint()
		}
		w.skipValue(h&0x0f, depth)
	}
}

func (w *thriftWalker) skipValue(typ byte, depth int) {
	switch typ {
	case tBoolTrue, tBoolFalse:
		// The value is the type.
	case tByte:
		w.byte()
	case tI16, tI32, tI64:
		w.uvarint()
	case tDouble:
		if w.left() < 8 {
			w.fail()
			return
		}
		w.off += 8
	case tBinary:
		w.off += w.count(w.uvarint(), 1)
	case tList, tSet:
		h := w.byte()
		n := uint64(h >> 4)
		if n == 15 {
			n = w.uvarint()
		}
		elem := h & 0x0f
		for range w.count(n, 1) {
			w.skipElem(elem, depth+1)
		}
	case tMap:
		n := w.count(w.uvarint(), 2)
		if n == 0 {
			return
		}
		kv := w.byte()
		for range n {
			w.skipElem(kv>>4, depth+1)
			w.skipElem(kv&0x0f, depth+1)
		}
	case tStruct:
		w.skipStruct(depth + 1)
	default:
		w.fail()
	}
}

// skipElem skips a container element; booleans in containers take a byte.
func (w *thriftWalker) skipElem(typ byte, depth int) {
	if depth > maxThriftDepth {
		w.fail()
		return
	}
	if typ == tBoolTrue || typ == tBoolFalse {
		w.byte()
		return
	}
	w.skipValue(typ, depth)
}
