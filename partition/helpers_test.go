package partition

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// writeFile writes data to name inside a fresh temp dir and returns its path.
func writeFile(t testing.TB, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func gzipBytes(t testing.TB, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// split runs Split on csv written to a file called name, into a fresh dir.
func split(t testing.TB, name, csv string, opts Options) (*Result, error) {
	t.Helper()
	path := writeFile(t, name, []byte(csv))
	if opts.TempDir == "" {
		opts.TempDir = t.TempDir()
	}
	return Split(context.Background(), path, opts)
}

// mustSplit is split that fails the test on error.
func mustSplit(t testing.TB, name, csv string, opts Options) *Result {
	t.Helper()
	res, err := split(t, name, csv, opts)
	if err != nil {
		t.Fatalf("Split: %v", err)
	}
	return res
}

// readShardFile decodes a shard file from disk.
func readShardFile(t testing.TB, path string) *Shard {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ReadShard(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("ReadShard(%s): %v", path, err)
	}
	return s
}

// readAll decodes every shard of res, in shard order.
func readAll(t testing.TB, res *Result) []*Shard {
	t.Helper()
	shards := make([]*Shard, len(res.Shards))
	for i, sf := range res.Shards {
		shards[i] = readShardFile(t, sf.Path)
	}
	return shards
}

// assertEmptyDir fails unless dir holds no entries.
func assertEmptyDir(t testing.TB, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		t.Errorf("left behind in TempDir: %s", e.Name())
	}
}

// sameFloat is bit equality, with every NaN equal to every NaN.
func sameFloat(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return math.Float64bits(a) == math.Float64bits(b)
}

// refStats computes ColumnStats the textbook two-pass way.
func refStats(name string, xs []float64) ColumnStats {
	s := ColumnStats{Name: name}
	var sum float64
	for _, x := range xs {
		if math.IsNaN(x) {
			s.Missing++
			continue
		}
		if s.Count == 0 || x < s.Min {
			s.Min = x
		}
		if s.Count == 0 || x > s.Max {
			s.Max = x
		}
		s.Count++
		sum += x
	}
	if s.Count == 0 {
		return s
	}
	s.Mean = sum / float64(s.Count)
	var ss float64
	for _, x := range xs {
		if !math.IsNaN(x) {
			ss += (x - s.Mean) * (x - s.Mean)
		}
	}
	s.Std = math.Sqrt(ss / float64(s.Count))
	return s
}

// approxEqual reports whether a and b agree to a relative tolerance tol.
func approxEqual(a, b, tol float64) bool {
	return math.Abs(a-b) <= tol*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}

// sha256Hex is the hex SHA-256 of data.
func sha256Hex(data []byte) string {
	h := sha256.Sum256(data)
	return hex.EncodeToString(h[:])
}
