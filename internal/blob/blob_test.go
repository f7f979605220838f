package blob

import (
	"bytes"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"hash/crc32"
	"math"
	"testing"

	"github.com/klauspost/compress/zstd"
)

type sample struct {
	K    int
	Sums []float64
	Name string
}

func TestRoundTrip(t *testing.T) {
	in := sample{K: 3, Sums: []float64{1, math.SmallestNonzeroFloat64, -0.1, math.MaxFloat64}, Name: "x"}
	b, err := Encode("kmeans/lloyd", in)
	if err != nil {
		t.Fatal(err)
	}
	if k, err := Kind(b); err != nil || k != "kmeans/lloyd" {
		t.Fatalf("Kind = %q, %v", k, err)
	}
	var out sample
	if err := Decode(b, "kmeans/lloyd", &out); err != nil {
		t.Fatal(err)
	}
	for i := range in.Sums {
		if math.Float64bits(in.Sums[i]) != math.Float64bits(out.Sums[i]) {
			t.Fatalf("sum %d: %v != %v", i, out.Sums[i], in.Sums[i])
		}
	}
}

func TestDetectsCorruption(t *testing.T) {
	b, err := Encode("k", sample{K: 1, Sums: make([]float64, 100)})
	if err != nil {
		t.Fatal(err)
	}
	for i := range b {
		c := append([]byte(nil), b...)
		c[i] ^= 0x40
		var out sample
		if err := Decode(c, "k", &out); err == nil {
			t.Fatalf("flipping byte %d went unnoticed", i)
		}
	}
	var out sample
	if err := Decode(b, "other", &out); !errors.Is(err, ErrKind) {
		t.Fatalf("wrong kind: %v", err)
	}
	if err := Decode(b[:len(b)-1], "k", &out); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("truncated: %v", err)
	}
}

func FuzzDecode(f *testing.F) {
	good, _ := Encode("k", sample{K: 2, Sums: []float64{1, 2}})
	f.Add(good)
	f.Add([]byte("MCRB"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		var out sample
		_ = Decode(b, "k", &out)
		_, _ = Kind(b)
	})
}

// TestReadsGobFormat: blobs written by earlier builds (format 1, gob
// bodies) still decode.
func TestReadsGobFormat(t *testing.T) {
	in := sample{K: 7, Sums: []float64{0.5, -2}, Name: "old"}
	var raw bytes.Buffer
	if err := gob.NewEncoder(&raw).Encode(in); err != nil {
		t.Fatal(err)
	}
	e, _ := codecs()
	head := append([]byte("MCRB"), formatGob, 1, 'k')
	head = binary.LittleEndian.AppendUint32(head, uint32(raw.Len()))
	head = binary.LittleEndian.AppendUint32(head, 0)
	b := e.EncodeAll(raw.Bytes(), head)
	binary.LittleEndian.PutUint32(b[11:], crc32.Checksum(b[15:], castagnoli))
	var out sample
	if err := Decode(b, "k", &out); err != nil {
		t.Fatal(err)
	}
	if out.K != 7 || out.Name != "old" || len(out.Sums) != 2 || out.Sums[1] != -2 {
		t.Fatalf("decoded %+v", out)
	}
	b[4] = 3
	if err := Decode(b, "k", &out); !errors.Is(err, ErrFormat) {
		t.Fatalf("format 3: %v", err)
	}
}

// TestNaNAndEmpty: float bits survive exactly, NaN payloads and negative
// zero included, and an empty slice reads back empty.
func TestNaNAndEmpty(t *testing.T) {
	in := sample{Sums: []float64{math.Float64frombits(0x7ff8000000000123), math.Copysign(0, -1), math.Inf(-1)}}
	b, err := Encode("k", in)
	if err != nil {
		t.Fatal(err)
	}
	var out sample
	if err := Decode(b, "k", &out); err != nil {
		t.Fatal(err)
	}
	for i := range in.Sums {
		if math.Float64bits(in.Sums[i]) != math.Float64bits(out.Sums[i]) {
			t.Fatalf("sum %d: %x != %x", i, math.Float64bits(out.Sums[i]), math.Float64bits(in.Sums[i]))
		}
	}
	if b, err = Encode("k", sample{Sums: []float64{}}); err != nil {
		t.Fatal(err)
	}
	out = sample{}
	if err := Decode(b, "k", &out); err != nil || len(out.Sums) != 0 {
		t.Fatalf("empty: %v %v", out.Sums, err)
	}
}

// TestStoredFrames: blobs up to maxStored are stored, not compressed, in a
// zstd frame any decoder reads; larger ones are compressed. Both read back
// bit for bit.
func TestStoredFrames(t *testing.T) {
	for _, n := range []int{0, 1, 1000, maxStored/8 - 8, maxStored / 8, 40000} {
		in := sample{K: n, Sums: make([]float64, n), Name: "s"}
		for i := range in.Sums {
			in.Sums[i] = float64(i%7) * 0.5 // compresses well: only the size decides
		}
		b, err := Encode("kmeans/lloyd", in)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		_, _, rawLen, _, body, err := header(b)
		if err != nil || rawLen != len(raw) {
			t.Fatalf("n=%d: header %v, raw length %d of %d", n, err, rawLen, len(raw))
		}
		stored := appendStoredFrame(nil, raw)
		if isStored := bytes.Equal(body, stored); isStored != (len(raw) <= maxStored) {
			t.Fatalf("n=%d (%d bytes): stored %v, want %v", n, len(raw), isStored, len(raw) <= maxStored)
		}
		d, err := zstd.NewReader(nil)
		if err != nil {
			t.Fatal(err)
		}
		got, err := d.DecodeAll(body, nil)
		d.Close()
		if err != nil || !bytes.Equal(got, raw) {
			t.Fatalf("n=%d: a fresh zstd decoder read %d bytes, %v", n, len(got), err)
		}
		var out sample
		if err := Decode(b, "kmeans/lloyd", &out); err != nil {
			t.Fatal(err)
		}
		if out.K != n || len(out.Sums) != n {
			t.Fatalf("n=%d: read back K=%d with %d sums", n, out.K, len(out.Sums))
		}
		for i := range in.Sums {
			if math.Float64bits(in.Sums[i]) != math.Float64bits(out.Sums[i]) {
				t.Fatalf("n=%d: sum %d: %v != %v", n, i, out.Sums[i], in.Sums[i])
			}
		}
	}
}

// TestTransientStored: EncodeTransient stores a blob of any size, in
// stored blocks of at most 128 KiB, which any zstd decoder reads; Encode
// compresses the same bytes once they pass maxStored.
func TestTransientStored(t *testing.T) {
	d, err := zstd.NewReader(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for _, n := range []int{0, 100, maxStored + 1, maxStoredBlock - 40, maxStoredBlock, maxStoredBlock + 1, 3*maxStoredBlock + 17, 1 << 20} {
		in := make([]byte, n)
		for i := range in {
			in[i] = byte(i % 13) // compresses well: only the call decides
		}
		raw, _ := Marshal(in)
		for _, transient := range []bool{true, false} {
			enc := Encode
			if transient {
				enc = EncodeTransient
			}
			b, err := enc("partial", in)
			if err != nil {
				t.Fatal(err)
			}
			_, _, _, _, body, err := header(b)
			if err != nil {
				t.Fatal(err)
			}
			stored := bytes.Equal(body, appendStoredFrame(nil, raw))
			if want := transient || len(raw) <= maxStored; stored != want {
				t.Fatalf("%d bytes, transient %v: stored %v, want %v", n, transient, stored, want)
			}
			if stored && len(body) != storedFrameSize(len(raw)) {
				t.Fatalf("%d bytes: frame of %d bytes, storedFrameSize says %d", n, len(body), storedFrameSize(len(raw)))
			}
			got, err := d.DecodeAll(body, nil)
			if err != nil || !bytes.Equal(got, raw) {
				t.Fatalf("%d bytes, transient %v: a fresh zstd decoder read %d bytes, %v", n, transient, len(got), err)
			}
			var out []byte
			if err := Decode(b, "partial", &out); err != nil || !bytes.Equal(out, in) {
				t.Fatalf("%d bytes, transient %v: read back %d bytes, %v", n, transient, len(out), err)
			}
		}
	}
}
