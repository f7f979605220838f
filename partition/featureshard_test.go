package partition

import (
	"bytes"
	"errors"
	"math"
	"os"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/parquet-go/parquet-go"
)

// TestWriteFeatureShardMatchesSplit writes back a shard Split wrote and
// checks that ReadShard sees the same rows and that the files agree on
// schema and metadata.
func TestWriteFeatureShardMatchesSplit(t *testing.T) {
	res := mustSplit(t, "g.csv", genTable(300, 4).csv, Options{Key: "id", Shards: 1})
	orig := readShardFile(t, res.Shards[0].Path)
	var buf bytes.Buffer
	rows, size, sum, err := WriteFeatureShard(&buf, orig.Key, orig.Columns, orig.Keys, orig.Values)
	if err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	if rows != int64(orig.Rows()) || size != int64(len(data)) || sum != sha256Hex(data) {
		t.Fatalf("returned %d rows, %d bytes, %s; wrote %d rows, %d bytes, %s", rows, size, sum, orig.Rows(), len(data), sha256Hex(data))
	}
	got, err := ReadShard(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if got.Key != orig.Key || len(got.Keys) != len(orig.Keys) || len(got.Columns) != len(orig.Columns) {
		t.Fatalf("read back key %q, %d rows, columns %q", got.Key, got.Rows(), got.Columns)
	}
	for i := range orig.Keys {
		if got.Keys[i] != orig.Keys[i] {
			t.Fatalf("row %d: key %q, want %q", i, got.Keys[i], orig.Keys[i])
		}
		for j := range orig.Columns {
			if !sameFloat(got.Values[j][i], orig.Values[j][i]) {
				t.Fatalf("row %d column %q: %v, want %v", i, orig.Columns[j], got.Values[j][i], orig.Values[j][i])
			}
		}
	}
	splitFile := openParquet(t, mustRead(t, res.Shards[0].Path))
	ours := openParquet(t, data)
	if a, b := splitFile.Schema().String(), ours.Schema().String(); a != b {
		t.Errorf("schema differs from Split's:\n%s\n%s", b, a)
	}
	for _, k := range []string{metaKey, metaColumns, metaCategories} {
		a, aok := splitFile.Lookup(k)
		b, bok := ours.Lookup(k)
		if a != b || aok != bok {
			t.Errorf("metadata %s = %q (%v), Split wrote %q (%v)", k, b, bok, a, aok)
		}
	}
	if ours.Metadata().RowGroups[0].Columns[1].MetaData.Codec != splitFile.Metadata().RowGroups[0].Columns[1].MetaData.Codec {
		t.Error("compression differs from Split's")
	}
}

func TestWriteFeatureShardEmpty(t *testing.T) {
	var buf bytes.Buffer
	if _, _, _, err := WriteFeatureShard(&buf, "customer", []string{"recency", "frequency"}, nil, [][]float64{nil, nil}); err != nil {
		t.Fatal(err)
	}
	s, err := ReadShard(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if s.Rows() != 0 || len(s.Columns) != 2 || s.Key != "customer" {
		t.Errorf("read back %+v", s)
	}
}

func TestWriteFeatureShardErrors(t *testing.T) {
	cols := []string{"r", "f"}
	keys := []string{"a", "b"}
	vals := [][]float64{{1, 2}, {3, math.NaN()}}
	for name, call := range map[string]func(*bytes.Buffer) error{
		"no key name":      func(b *bytes.Buffer) error { return write(b, "", cols, keys, vals) },
		"key is a column":  func(b *bytes.Buffer) error { return write(b, "r", cols, keys, vals) },
		"column twice":     func(b *bytes.Buffer) error { return write(b, "id", []string{"r", "r"}, keys, vals) },
		"empty column":     func(b *bytes.Buffer) error { return write(b, "id", []string{"r", ""}, keys, vals) },
		"too few columns":  func(b *bytes.Buffer) error { return write(b, "id", cols, keys, vals[:1]) },
		"short column":     func(b *bytes.Buffer) error { return write(b, "id", cols, keys, [][]float64{{1, 2}, {3}}) },
		"infinite value":   func(b *bytes.Buffer) error { return write(b, "id", cols, keys, [][]float64{{1, math.Inf(1)}, {3, 4}}) },
		"duplicate key":    func(b *bytes.Buffer) error { return write(b, "id", cols, []string{"a", "a"}, vals) },
		"blank key":        func(b *bytes.Buffer) error { return write(b, "id", cols, []string{"a", " "}, vals) },
		"key not utf8":     func(b *bytes.Buffer) error { return write(b, "id", cols, []string{"a", "\xff"}, vals) },
		"column not utf8":  func(b *bytes.Buffer) error { return write(b, "id", []string{"r", "\xff"}, keys, vals) },
		"key name not utf": func(b *bytes.Buffer) error { return write(b, "\xff", cols, keys, vals) },
	} {
		var buf bytes.Buffer
		if err := call(&buf); !errors.Is(err, ErrInvalidOptions) {
			t.Errorf("%s: err = %v, want ErrInvalidOptions", name, err)
		}
		if buf.Len() != 0 {
			t.Errorf("%s: %d bytes written", name, buf.Len())
		}
	}
}

func write(b *bytes.Buffer, key string, cols, keys []string, vals [][]float64) error {
	_, _, _, err := WriteFeatureShard(b, key, cols, keys, vals)
	return err
}

func mustRead(t testing.TB, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func openParquet(t testing.TB, data []byte) *parquet.File {
	t.Helper()
	f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestStoredFrame decodes the zstd frames of stored blocks the shard writer
// writes for incompressible pages with the zstd decoder, and checks their
// header as the shard reader does.
func TestStoredFrame(t *testing.T) {
	dec, err := zstd.NewReader(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	for _, n := range []int{0, 1, 7, 4096, valuesPerPage * 8, 128 << 10} {
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(i*7 + i/251)
		}
		frame := append(appendStoredFrameHeader(nil, n), data...)
		if len(frame) != storedFrameSize(n) {
			t.Fatalf("%d bytes: frame of %d bytes, storedFrameSize says %d", n, len(frame), storedFrameSize(n))
		}
		var h zstd.Header
		if err := h.Decode(frame); err != nil || !h.HasFCS || h.FrameContentSize != uint64(n) {
			t.Fatalf("%d bytes: header %+v, %v", n, h, err)
		}
		got, err := dec.DecodeAll(frame, nil)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("%d bytes: decoded %d bytes, %v", n, len(got), err)
		}
	}
}
