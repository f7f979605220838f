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
	if t.Kind != TaskCount {
		return w
	}
	f := len(t.Items)
	w.N = len(t.Cands) / max(t.Len, 1)
	if t.Len == 2 && len(t.Cands) == f*(f-1) {
		w.Pairs = true
		return w
	}
	buf := make([]byte, 0, len(t.Cands)*2)
	for i, p := range t.Cands {
		d := int64(p)
		if i >= t.Len {
			d -= int64(t.Cands[i-t.Len])
		}
		buf = binary.AppendVarint(buf, d)
	}
	enc, _ := zstdCodecs()
	w.Cands = enc.EncodeAll(buf, nil)
	return w
}

func (w *wireTask) unpack() (*Task, error) {
	t := &Task{Kind: w.Kind, Step: w.Step, Len: w.Len, Items: w.Items}
	if w.Kind != TaskCount {
		return t, nil
	}
	if w.Len < 1 || w.N < 0 || int64(w.N)*int64(w.Len) > maxWireCands {
		return nil, errorf(ErrBadTask, "%d candidates of %d items", w.N, w.Len)
	}
	if w.Pairs {
		f := int32(len(w.Items))
		if w.Len != 2 || int64(f)*int64(f-1)/2 != int64(w.N) {
			return nil, errorf(ErrBadTask, "%d pairs of %d items", w.N, f)
		}
		t.Cands = make([]int32, 0, 2*w.N)
		for i := int32(0); i < f; i++ {
			for j := i + 1; j < f; j++ {
				t.Cands = append(t.Cands, i, j)
			}
		}
		return t, nil
	}
	_, dec := zstdCodecs()
	buf, err := dec.DecodeAll(w.Cands, nil)
	if err != nil {
		return nil, errorf(ErrBadTask, "candidates: %v", err)
	}
	t.Cands = make([]int32, w.N*w.Len)
	for i := range t.Cands {
		d, n := binary.Varint(buf)
		if n <= 0 {
			return nil, errorf(ErrBadTask, "candidates: %d of %d positions", i, len(t.Cands))
		}
		buf = buf[n:]
		if i >= w.Len {
			d += int64(t.Cands[i-w.Len])
		}
		if d < 0 || d > int64(len(w.Items)) {
			return nil, errorf(ErrBadTask, "candidate position %d of %d items", d, len(w.Items))
		}
		t.Cands[i] = int32(d)
	}
	if len(buf) != 0 {
		return nil, errorf(ErrBadTask, "candidates: %d bytes left over", len(buf))
	}
	return t, nil
}
