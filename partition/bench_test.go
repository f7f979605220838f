package partition

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Sinks keep the compiler from discarding benchmark results.
var (
	resultSink *Result
	shardSink  *Shard
)

// benchCSV writes a rows×cols numeric CSV (plus key) and returns its path:
// values with 6 significant digits, 5% blank.
func benchCSV(b *testing.B, rows, cols int) string {
	b.Helper()
	rng := rand.New(rand.NewPCG(uint64(rows), uint64(cols)))
	var sb strings.Builder
	sb.WriteString("id")
	for j := range cols {
		fmt.Fprintf(&sb, ",f%d", j)
	}
	sb.WriteByte('\n')
	buf := make([]byte, 0, 32)
	for i := range rows {
		fmt.Fprintf(&sb, "C%08d", i)
		for range cols {
			sb.WriteByte(',')
			if rng.IntN(20) != 0 {
				buf = strconv.AppendFloat(buf[:0], rng.NormFloat64()*100, 'g', 6, 64)
				sb.Write(buf)
			}
		}
		sb.WriteByte('\n')
	}
	path := filepath.Join(b.TempDir(), "bench.csv")
	if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	return path
}

// benchSplit measures Split of a rows×cols CSV into the default 64 shards.
func benchSplit(b *testing.B, rows, cols int) {
	path := benchCSV(b, rows, cols)
	if fi, err := os.Stat(path); err == nil {
		b.SetBytes(fi.Size())
	}
	base := b.TempDir()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		dir := filepath.Join(base, strconv.Itoa(i))
		i++
		if err := os.Mkdir(dir, 0o755); err != nil {
			b.Fatal(err)
		}
		res, err := Split(context.Background(), path, Options{Key: "id", TempDir: dir})
		if err != nil {
			b.Fatal(err)
		}
		resultSink = res
		b.StopTimer()
		os.RemoveAll(dir)
		b.StartTimer()
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// benchReadShard measures ReadShard of one shard holding all rows×cols.
func benchReadShard(b *testing.B, rows, cols int) {
	path := benchCSV(b, rows, cols)
	res, err := Split(context.Background(), path, Options{Key: "id", Shards: 1, TempDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	data, err := os.ReadFile(res.Shards[0].Path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		s, err := ReadShard(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			b.Fatal(err)
		}
		shardSink = s
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkSplit(b *testing.B) {
	for _, size := range []struct{ rows, cols int }{{10_000, 16}, {200_000, 16}} {
		b.Run(fmt.Sprintf("%dx%d", size.rows, size.cols), func(b *testing.B) {
			benchSplit(b, size.rows, size.cols)
		})
	}
}

func BenchmarkReadShard(b *testing.B) {
	for _, size := range []struct{ rows, cols int }{{10_000, 16}, {200_000, 16}} {
		b.Run(fmt.Sprintf("%dx%d", size.rows, size.cols), func(b *testing.B) {
			benchReadShard(b, size.rows, size.cols)
		})
	}
}

// benchImport measures one import of path per iteration, each into a fresh
// directory, and reports input rows per second.
func benchImport(b *testing.B, path string, rows int64, split func(dir string) error) {
	if fi, err := os.Stat(path); err == nil {
		b.SetBytes(fi.Size())
	}
	base := b.TempDir()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		dir := filepath.Join(base, strconv.Itoa(i))
		i++
		if err := os.Mkdir(dir, 0o755); err != nil {
			b.Fatal(err)
		}
		if err := split(dir); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		os.RemoveAll(dir)
		b.StartTimer()
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkSplitTransactions imports the Online Retail sample into 64 shards.
func BenchmarkSplitTransactions(b *testing.B) {
	for _, f := range []struct {
		name, path string
		rows       int64
	}{{"sample", onlineRetailSample, 38296}} {
		b.Run(f.name, func(b *testing.B) {
			if _, err := os.Stat(f.path); err != nil {
				b.Skipf("dataset not present: %v", err)
			}
			benchImport(b, f.path, f.rows, func(dir string) error {
				res, err := SplitTransactions(context.Background(), f.path, onlineRetailOptions(dir))
				txnResultSink = res
				return err
			})
		})
	}
}

// BenchmarkSplitInteractions imports generated interactions into both
// 64-shard layouts.
func BenchmarkSplitInteractions(b *testing.B) {
	const rows = 200_000
	path := filepath.Join(b.TempDir(), "ix.csv")
	if err := os.WriteFile(path, []byte(genInteractions(rows, 1, true).csv), 0o644); err != nil {
		b.Fatal(err)
	}
	benchImport(b, path, rows, func(dir string) error {
		res, err := SplitInteractions(context.Background(), path, InteractionOptions{User: "user", Item: "item", Value: "rating", TempDir: dir})
		ixResultSink = res
		return err
	})
}

// BenchmarkReadTransactions reads the whole Online Retail sample from one
// shard.
func BenchmarkReadTransactions(b *testing.B) {
	opts := onlineRetailOptions(b.TempDir())
	opts.Shards = 1
	res, err := SplitTransactions(context.Background(), onlineRetailSample, opts)
	if err != nil {
		b.Fatal(err)
	}
	data, err := os.ReadFile(res.Shards[0].Path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		s, err := ReadTransactions(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			b.Fatal(err)
		}
		txnSink = s
	}
	b.ReportMetric(float64(res.Rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

var (
	txnResultSink *TransactionResult
	ixResultSink  *InteractionResult
	txnSink       *Transactions
)

// BenchmarkSplitFile splits the features CSV named by MATHCRM_BENCH_CSV
// (e.g. make bench's features_1m.csv) with Key MATHCRM_BENCH_KEY (default
// customer_id) into 64 shards handed over in memory and given back, as an
// import does, and reports rows/s and the process's CPU seconds per split
// (user + system, all threads), which a loaded machine distorts less than
// wall time.
func BenchmarkSplitFile(b *testing.B) {
	path := os.Getenv("MATHCRM_BENCH_CSV")
	if path == "" {
		b.Skip("MATHCRM_BENCH_CSV is not set")
	}
	key := os.Getenv("MATHCRM_BENCH_KEY")
	if key == "" {
		key = "customer_id"
	}
	var rows int64
	cpu0 := cpuSeconds()
	benchImport(b, path, 0, func(dir string) error {
		res, err := Split(context.Background(), path, Options{Key: key, TempDir: dir,
			ShardWritten: func(_ ShardFile, data []byte) error { RecycleShardBytes(data); return nil }})
		if err == nil {
			rows = res.Rows
		}
		return err
	})
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric((cpuSeconds()-cpu0)/float64(b.N), "cpu-s/op")
}

// cpuSeconds is the process's user and system CPU time so far.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}
