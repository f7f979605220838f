package kmeans

import (
	"encoding/binary"
	"errors"
	"math"
)

// A step's Result in binary form (job.Wirer): the leader decodes 64 of
// them a pass, and MessagePack took about 20 µs for each, against well
// under one this way. The form: the kind (a length and its bytes), Step,
// Shard, N and the bits of Cost, then each slice as its length and its
// values, every number 8 bytes little-endian (an int as an int64, a float
// as its IEEE bits). An empty slice reads back as nil, as an omitted one
// does from MessagePack.

var errWire = errors.New("kmeans: malformed result")

// AppendWire appends r's binary form to b.
func (r *Result) AppendWire(b []byte) []byte {
	size := 8 + len(r.Kind) + 4*8
	for _, n := range []int{len(r.Rows), len(r.Keys), len(r.Labels), len(r.X), len(r.Counts), len(r.Sums), len(r.ProfSums), len(r.ProfCounts)} {
		size += 8 + 8*n
	}
	if cap(b)-len(b) < size {
		b = append(make([]byte, 0, len(b)+size), b...)
	}
	le := binary.LittleEndian
	b = le.AppendUint64(b, uint64(len(r.Kind)))
	b = append(b, r.Kind...)
	b = le.AppendUint64(b, uint64(r.Step))
	b = le.AppendUint64(b, uint64(int64(r.Shard)))
	b = le.AppendUint64(b, uint64(r.N))
	b = le.AppendUint64(b, math.Float64bits(r.Cost))
	b = appendInts(b, r.Rows)
	b = appendFloats(b, r.Keys)
	b = le.AppendUint64(b, uint64(len(r.Labels)))
	for _, v := range r.Labels {
		b = le.AppendUint64(b, uint64(int64(v)))
	}
	b = appendFloats(b, r.X)
	b = appendInts(b, r.Counts)
	b = appendFloats(b, r.Sums)
	b = appendFloats(b, r.ProfSums)
	b = appendInts(b, r.ProfCounts)
	return b
}

func appendFloats(b []byte, v []float64) []byte {
	b = binary.LittleEndian.AppendUint64(b, uint64(len(v)))
	for _, x := range v {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(x))
	}
	return b
}

func appendInts(b []byte, v []int64) []byte {
	b = binary.LittleEndian.AppendUint64(b, uint64(len(v)))
	for _, x := range v {
		b = binary.LittleEndian.AppendUint64(b, uint64(x))
	}
	return b
}

// wireReader reads the binary form; after the first error every read
// returns zero values and err stays set.
type wireReader struct {
	b   []byte
	err error
}

func (w *wireReader) u64() uint64 {
	if w.err != nil || len(w.b) < 8 {
		w.err = errWire
		return 0
	}
	v := binary.LittleEndian.Uint64(w.b)
	w.b = w.b[8:]
	return v
}

// count reads a slice length, which must fit in what is left: a forged
// length allocates nothing.
func (w *wireReader) count() int {
	n := w.u64()
	if w.err != nil || n > uint64(len(w.b)/8) {
		w.err = errWire
		return 0
	}
	return int(n)
}

// values reads a slice of 8-byte values, each through conv; empty is nil.
func values[T any](w *wireReader, conv func(uint64) T) []T {
	n := w.count()
	if n == 0 {
		return nil
	}
	out := make([]T, n)
	for i := range out {
		out[i] = conv(w.u64())
	}
	return out
}

func (w *wireReader) floats() []float64 { return values(w, math.Float64frombits) }
func (w *wireReader) ints() []int64     { return values(w, func(v uint64) int64 { return int64(v) }) }

// UnmarshalWire sets r from its binary form.
func (r *Result) UnmarshalWire(b []byte) error {
	w := &wireReader{b: b}
	kn := w.u64()
	if w.err != nil || kn > uint64(len(w.b)) {
		return errWire
	}
	kind := TaskKind(w.b[:kn])
	w.b = w.b[kn:]
	out := Result{Kind: kind}
	out.Step = int64(w.u64())
	out.Shard = int(int64(w.u64()))
	out.N = int64(w.u64())
	out.Cost = math.Float64frombits(w.u64())
	out.Rows = w.ints()
	out.Keys = w.floats()
	out.Labels = values(w, func(v uint64) int { return int(int64(v)) })
	out.X = w.floats()
	out.Counts = w.ints()
	out.Sums = w.floats()
	out.ProfSums = w.floats()
	out.ProfCounts = w.ints()
	if w.err != nil || len(w.b) != 0 {
		return errWire
	}
	*r = out
	return nil
}
