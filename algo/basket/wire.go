package basket

import (
	"encoding/binary"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// wireTask is a Task as the leader sends it to the workers: a step travels
// in one NATS message, so the candidates are not sent when they are every
// pair of the frequent items (level 2, most of a job's candidates), and are
// otherwise sent as zstd-compressed varints of their differences with the
// candidate before, position by position — a few bytes a candidate where
// JSON numbers take twenty.
type wireTask struct {
	Kind  Kind     `json:"kind"`
	Step  int      `json:"step"`
	Len   int      `json:"len,omitempty"`
	Items []string `json:"items,omitempty"`
	// Pairs says the candidates are every pair of Items, in order.
	Pairs bool `json:"pairs,omitempty"`
	// N is the number of candidates and Cands their packed positions.
	N      int    `json:"n,omitempty"`
	Cands  []byte `json:"cands,omitempty"`
	Source Source `json:"source"`
}

var (
	zOnce sync.Once
	zEnc  *zstd.Encoder
	zDec  *zstd.Decoder
)

func zstdCodecs() (*zstd.Encoder, *zstd.Decoder) {
	zOnce.Do(func() {
		zEnc, _ = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithEncoderConcurrency(1))
		zDec, _ = zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(1<<30))
	})
	return zEnc, zDec
}

// maxWireCands bounds the candidate positions a task may unpack to.
const maxWireCands = 64 << 20

func packTask(t *Task, src Source) *wireTask {
	w := &wireTask{Kind: t.Kind, Step: t.Step, Len: t.Len, Items: t.Items, Source: src}
	if t.Kind == TaskCount {
		w.Pairs, w.N, w.Cands = packCands(t.Cands, t.Len, len(t.Items))
	}
	return w
}

// packCands packs the candidates of k items over f frequent items: none
// when they are every pair, else zstd varints of each position's
// difference with the candidate before's.
func packCands(cands []int32, k, f int) (pairs bool, n int, packed []byte) {
	n = len(cands) / max(k, 1)
	if k == 2 && len(cands) == f*(f-1) {
		return true, n, nil
	}
	buf := make([]byte, 0, len(cands)*2)
	for i, p := range cands {
		d := int64(p)
		if i >= k {
			d -= int64(cands[i-k])
		}
		buf = binary.AppendVarint(buf, d)
	}
	enc, _ := zstdCodecs()
	return false, n, enc.EncodeAll(buf, nil)
}

func (w *wireTask) unpack() (*Task, error) {
	t := &Task{Kind: w.Kind, Step: w.Step, Len: w.Len, Items: w.Items}
	if w.Kind != TaskCount {
		return t, nil
	}
	var err error
	t.Cands, err = unpackCands(w.Pairs, w.N, w.Len, len(w.Items), w.Cands)
	return t, err
}

// unpackCands reads what packCands wrote.
func unpackCands(pairs bool, n, k, f int, packed []byte) ([]int32, error) {
	if k < 1 || n < 0 || int64(n)*int64(k) > maxWireCands {
		return nil, errorf(ErrBadTask, "%d candidates of %d items", n, k)
	}
	if pairs {
		if k != 2 || int64(f)*int64(f-1)/2 != int64(n) {
			return nil, errorf(ErrBadTask, "%d pairs of %d items", n, f)
		}
		cands := make([]int32, 0, 2*n)
		for i := int32(0); i < int32(f); i++ {
			for j := i + 1; j < int32(f); j++ {
				cands = append(cands, i, j)
			}
		}
		return cands, nil
	}
	_, dec := zstdCodecs()
	buf, err := dec.DecodeAll(packed, nil)
	if err != nil {
		return nil, errorf(ErrBadTask, "candidates: %v", err)
	}
	cands := make([]int32, n*k)
	for i := range cands {
		d, m := binary.Varint(buf)
		if m <= 0 {
			return nil, errorf(ErrBadTask, "candidates: %d of %d positions", i, len(cands))
		}
		buf = buf[m:]
		if i >= k {
			d += int64(cands[i-k])
		}
		if d < 0 || d > int64(f) {
			return nil, errorf(ErrBadTask, "candidate position %d of %d items", d, f)
		}
		cands[i] = int32(d)
	}
	if len(buf) != 0 {
		return nil, errorf(ErrBadTask, "candidates: %d bytes left over", len(buf))
	}
	return cands, nil
}
