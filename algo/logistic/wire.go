package logistic

import (
	bin "encoding/binary"
	"errors"
	"math"
)

// SetSums travel between processes inside the cluster's blobs (MessagePack,
// gob in blobs of earlier builds). An exact-AUC eval pass lists every row's
// score, a million floats over the shards, and an encoder that writes a
// []float64 one tagged value at a time cost more than the pass's
// arithmetic. MarshalBinary (and GobEncode, the same bytes) writes the sums
// as one buffer of fixed-width little-endian values, sized up front; the
// JSON form is unchanged.

// setSumsWire is the version byte of the binary form: 2 appends the curve
// bins (CurveN, CurveW) to version 1. Sums without curve bins are written
// as version 1, which a leader of an earlier build reads, and only so.
const (
	setSumsWire   = 2
	setSumsWireV1 = 1
)

var errSetSumsWire = errors.New("logistic: malformed SetSums encoding")

// GobEncode implements gob.GobEncoder.
func (s *SetSums) GobEncode() ([]byte, error) {
	if s.CurveN == nil && s.CurveW != nil {
		return nil, errors.New("logistic: SetSums has curve weights without curve counts")
	}
	floats := [][]float64{s.CalW, s.CalP, s.CalY, s.Scores, s.ScoreW, s.Hist}
	size := 1 + 3*8 + 8 + 8*len(s.CalN) + 8 + len(s.Labels) + 8 + 8*len(s.CurveN)
	for _, f := range append(floats, s.CurveW) {
		size += 8 + 8*len(f)
	}
	b := make([]byte, 0, size)
	version := byte(setSumsWire)
	if s.CurveN == nil {
		version = setSumsWireV1
	}
	b = append(b, version)
	b = bin.LittleEndian.AppendUint64(b, uint64(s.N))
	b = bin.LittleEndian.AppendUint64(b, math.Float64bits(s.W))
	b = bin.LittleEndian.AppendUint64(b, math.Float64bits(s.LogLoss))
	b = appendLen(b, s.CalN == nil, len(s.CalN))
	for _, v := range s.CalN {
		b = bin.LittleEndian.AppendUint64(b, uint64(v))
	}
	b = appendLen(b, s.Labels == nil, len(s.Labels))
	for _, v := range s.Labels {
		c := byte(0)
		if v {
			c = 1
		}
		b = append(b, c)
	}
	b = appendFloats(b, floats...)
	if s.CurveN == nil {
		return b, nil
	}
	b = appendLen(b, false, len(s.CurveN))
	for _, v := range s.CurveN {
		b = bin.LittleEndian.AppendUint64(b, uint64(v))
	}
	return appendFloats(b, s.CurveW), nil
}

// appendFloats appends each slice's length (appendLen) and values.
func appendFloats(b []byte, floats ...[]float64) []byte {
	for _, f := range floats {
		b = appendLen(b, f == nil, len(f))
		for _, v := range f {
			b = bin.LittleEndian.AppendUint64(b, math.Float64bits(v))
		}
	}
	return b
}

// appendLen appends a slice's length, or all ones for a nil slice, which
// decodes to nil again.
func appendLen(b []byte, isNil bool, n int) []byte {
	if isNil {
		return bin.LittleEndian.AppendUint64(b, math.MaxUint64)
	}
	return bin.LittleEndian.AppendUint64(b, uint64(n))
}

// MarshalBinary implements encoding.BinaryMarshaler with GobEncode's bytes.
func (s *SetSums) MarshalBinary() ([]byte, error) { return s.GobEncode() }

// UnmarshalBinary implements encoding.BinaryUnmarshaler; see GobDecode.
func (s *SetSums) UnmarshalBinary(b []byte) error { return s.GobDecode(b) }

// GobDecode implements gob.GobDecoder. It rejects a buffer that is not
// exactly a GobEncode output, and allocates no more than the buffer's
// length justifies.
func (s *SetSums) GobDecode(b []byte) error {
	if len(b) < 1 || (b[0] != setSumsWire && b[0] != setSumsWireV1) {
		return errSetSumsWire
	}
	r := wireReader{b: b[1:]}
	var out SetSums
	out.N = int64(r.u64())
	out.W = math.Float64frombits(r.u64())
	out.LogLoss = math.Float64frombits(r.u64())
	if n, isNil := r.len(8); !isNil {
		out.CalN = make([]int64, n)
		for i := range out.CalN {
			out.CalN[i] = int64(r.u64())
		}
	}
	if n, isNil := r.len(1); !isNil {
		out.Labels = make([]bool, n)
		for i := range out.Labels {
			switch r.byte() {
			case 0:
			case 1:
				out.Labels[i] = true
			default:
				r.bad = true
			}
		}
	}
	r.floats(&out.CalW, &out.CalP, &out.CalY, &out.Scores, &out.ScoreW, &out.Hist)
	if b[0] == setSumsWire {
		// Version 2 always has curve counts.
		n, isNil := r.len(8)
		r.bad = r.bad || isNil
		out.CurveN = make([]int64, n)
		for i := range out.CurveN {
			out.CurveN[i] = int64(r.u64())
		}
		r.floats(&out.CurveW)
	}
	if r.bad || len(r.b) != 0 {
		return errSetSumsWire
	}
	*s = out
	return nil
}

// floats reads slices of float64 as appendFloats wrote them.
func (r *wireReader) floats(fs ...*[]float64) {
	for _, f := range fs {
		if n, isNil := r.len(8); !isNil {
			*f = make([]float64, n)
			for i := range *f {
				(*f)[i] = math.Float64frombits(r.u64())
			}
		}
	}
}

// wireReader reads fixed-width values, noting a read past the end.
type wireReader struct {
	b   []byte
	bad bool
}

func (r *wireReader) u64() uint64 {
	if len(r.b) < 8 {
		r.bad, r.b = true, nil
		return 0
	}
	v := bin.LittleEndian.Uint64(r.b)
	r.b = r.b[8:]
	return v
}

func (r *wireReader) byte() byte {
	if len(r.b) < 1 {
		r.bad = true
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

// len reads a slice length whose elements take width bytes each; a length
// the rest of the buffer cannot hold is malformed.
func (r *wireReader) len(width int) (n int, isNil bool) {
	v := r.u64()
	if v == math.MaxUint64 {
		return 0, true
	}
	if r.bad || v > uint64(len(r.b)/width) {
		r.bad, r.b = true, nil
		return 0, true
	}
	return int(v), false
}
