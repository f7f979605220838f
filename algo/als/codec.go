package als

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// factorsMagic heads a factor shard blob.
const factorsMagic = "mathcrm.als.factors.v1\n"

// ErrFactorBlob reports a factor shard blob that does not decode.
var ErrFactorBlob = errors.New("als: bad factor blob")

// EncodeFactors writes one side's factor shard as a flat binary blob: ids,
// training counts and the factors as little-endian float64, so that a
// reader decodes it at memory speed. The object store checks its SHA-256
// on every read.
func EncodeFactors(f *Factors) []byte {
	n := len(f.IDs)
	size := len(factorsMagic) + 3*binary.MaxVarintLen64 + 4*n + 8*len(f.F)
	for _, id := range f.IDs {
		size += binary.MaxVarintLen64 + len(id)
	}
	b := make([]byte, 0, size)
	b = append(b, factorsMagic...)
	b = binary.AppendUvarint(b, uint64(n))
	b = binary.AppendUvarint(b, uint64(f.Rank))
	counts := uint64(0)
	if f.Count != nil {
		counts = 1
	}
	b = binary.AppendUvarint(b, counts)
	for _, id := range f.IDs {
		b = binary.AppendUvarint(b, uint64(len(id)))
		b = append(b, id...)
	}
	if f.Count != nil {
		for _, c := range f.Count {
			b = binary.LittleEndian.AppendUint32(b, uint32(c))
		}
	}
	for _, x := range f.F {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(x))
	}
	return b
}

// DecodeFactors reads a blob EncodeFactors wrote. It checks the blob's
// shape, not the factors (Factors.Validate, NewTable).
func DecodeFactors(b []byte) (*Factors, error) {
	if len(b) < len(factorsMagic) || string(b[:len(factorsMagic)]) != factorsMagic {
		return nil, fmt.Errorf("%w: no header", ErrFactorBlob)
	}
	b = b[len(factorsMagic):]
	var hdr [3]uint64
	for i := range hdr {
		v, k := binary.Uvarint(b)
		if k <= 0 {
			return nil, fmt.Errorf("%w: truncated header", ErrFactorBlob)
		}
		hdr[i], b = v, b[k:]
	}
	n, rank, counts := hdr[0], hdr[1], hdr[2]
	if rank == 0 || rank > 4096 || n > uint64(len(b)) || counts > 1 {
		return nil, fmt.Errorf("%w: %d rows of rank %d", ErrFactorBlob, n, rank)
	}
	f := &Factors{IDs: make([]string, n), Rank: int(rank)}
	for i := range f.IDs {
		l, k := binary.Uvarint(b)
		if k <= 0 || l > uint64(len(b)-k) {
			return nil, fmt.Errorf("%w: truncated id %d", ErrFactorBlob, i)
		}
		f.IDs[i], b = string(b[k:k+int(l)]), b[k+int(l):]
	}
	need := 8 * n * rank
	if counts == 1 {
		need += 4 * n
	}
	if uint64(len(b)) != need {
		return nil, fmt.Errorf("%w: %d bytes of factors for %d rows of rank %d", ErrFactorBlob, len(b), n, rank)
	}
	if counts == 1 {
		f.Count = make([]int32, n)
		for i := range f.Count {
			f.Count[i] = int32(binary.LittleEndian.Uint32(b[4*i:]))
		}
		b = b[4*n:]
	}
	f.F = make([]float64, n*rank)
	for i := range f.F {
		f.F[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
	}
	return f, nil
}
