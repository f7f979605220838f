package partition

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

var (
	updateDigests        = flag.Bool("update-digests", false, "rewrite testdata/split_digests.json from the current code")
	updateContentDigests = flag.Bool("update-content-digests", false, "rewrite testdata/split_content_digests.json from the current code")
)

// digestCase is one import whose statistics and shard contents must never
// change, nor its shard bytes unless the writer changes on purpose: the
// statistics were recorded before the parallel reader, the contents with
// the previous (parquet-go) writer, the bytes with today's.
type digestCase struct {
	name string
	path string // file under ../testdata, or "" for csv
	csv  func() string
	opts Options
}

// mixedCSV is a generated features file that exercises every feature of the
// reader: missing values, numbers in several notations, spaces around
// numbers, CRLF line ends and blank lines, a categorical column and an
// ignored text column, and (when quoted) quoted fields holding the
// delimiter, doubled quotes and line breaks.
func mixedCSV(rows int, quoted bool) string { return mixedCSVFrom(rows, quoted, 0) }

// mixedCSVFrom is mixedCSV with quoted fields only from row quoteFrom on.
func mixedCSVFrom(rows int, quoted bool, quoteFrom int) string {
	rng := rand.New(rand.NewPCG(7, uint64(rows)))
	var b strings.Builder
	b.WriteString("id,a,b,c,seg,note,d\r\n")
	segs := []string{"gold", "silver", "bronze", " tin "}
	for i := range rows {
		fmt.Fprintf(&b, "K%06d,", rng.IntN(1<<30)*1000+i)
		for j := range 3 {
			switch rng.IntN(12) {
			case 0:
			case 1:
				b.WriteString(strconv.FormatFloat(rng.NormFloat64()*1e6, 'e', -1, 64))
			case 2:
				fmt.Fprintf(&b, " %d ", rng.IntN(1000)-500)
			case 3:
				b.WriteString(strconv.FormatFloat(rng.Float64(), 'f', -1, 64))
			default:
				b.WriteString(strconv.FormatFloat(rng.NormFloat64()*10, 'f', 6, 64))
			}
			if j < 2 {
				b.WriteByte(',')
			}
		}
		fmt.Fprintf(&b, ",%s,", segs[rng.IntN(len(segs))])
		if quoted && rng.IntN(50) == 0 && i >= quoteFrom {
			b.WriteString("\"a, \"\"quoted\"\"\nnote\r\nhere\"")
		} else {
			fmt.Fprintf(&b, "n%d", rng.IntN(10))
		}
		fmt.Fprintf(&b, ",%.3f", rng.Float64())
		b.WriteString("\r\n")
		if rng.IntN(100) == 0 {
			b.WriteString("\r\n")
		}
	}
	return b.String()
}

func digestCases() []digestCase {
	return []digestCase{
		{name: "telco", path: "../testdata/telco/Telco-Customer-Churn.csv",
			opts: Options{Key: "customerID", Categorical: []string{"Contract", "Churn"}}},
		{name: "telco-7-shards-small-groups", path: "../testdata/telco/Telco-Customer-Churn.csv",
			opts: Options{Key: "customerID", Shards: 7, RowGroupRows: 300, Columns: []string{"tenure", "MonthlyCharges", "TotalCharges"},
				Input: Input{OnBadValue: BadValueMissing}}},
		{name: "kmeans-blobs-rowkey", path: "../testdata/golden/kmeans_blobs.csv", opts: Options{Key: RowKey, Shards: 5}},
		{name: "diabetes-rowkey", path: "../testdata/golden/diabetes_unscaled.csv", opts: Options{Key: RowKey}},
		{name: "mixed", csv: func() string { return mixedCSV(20000, false) },
			opts: Options{Key: "id", Shards: 16, Categorical: []string{"seg"}}},
		{name: "mixed-quoted", csv: func() string { return mixedCSV(20000, true) },
			opts: Options{Key: "id", Shards: 16, Categorical: []string{"seg"}}},
		{name: "mixed-late-quote", csv: func() string { return mixedCSVFrom(20000, true, 15000) },
			opts: Options{Key: "id", Shards: 16, Categorical: []string{"seg"}}},
		{name: "mixed-skip", csv: func() string {
			return strings.NewReplacer(",n3,", ",3x,", ",n1,", ",1,", ",n2,", ",2.5,", ",n4,", ",,").Replace(mixedCSV(5000, false))
		},
			opts: Options{Key: "id", Shards: 3, Columns: []string{"a", "note", "d"}, Input: Input{OnBadValue: BadValueSkip}}},
		{name: "mixed-no-header-semicolon", csv: func() string {
			s := mixedCSV(3000, false)
			return strings.ReplaceAll(s[strings.Index(s, "\n")+1:], ",", ";")
		}, opts: Options{Key: "id", Shards: 4, Input: Input{Delimiter: ";", Names: []string{"id", "a", "b", "c", "seg", "note", "d"}}}},
	}
}

// splitDigest is a SHA-256 over everything a Split returns that a version
// records: every shard's checksum, size and rows, the column statistics and
// the findings.
func splitDigest(t *testing.T, res *Result) string {
	t.Helper()
	h := sha256.New()
	for _, sf := range res.Shards {
		fmt.Fprintf(h, "%d %s %d %d\n", sf.Index, sf.SHA256, sf.Size, sf.Rows)
	}
	b, err := json.Marshal(struct {
		Key     string
		Rows    int64
		Columns []ColumnStats
		F       Findings
	}{res.Key, res.Rows, res.Columns, res.Findings})
	if err != nil {
		t.Fatal(err)
	}
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

// runDigestCase splits dc and returns its digest. With handOver the shards
// go to Options.ShardWritten instead of files, and must match their
// descriptions.
func runDigestCase(t *testing.T, dc digestCase, handOver bool) string {
	t.Helper()
	path := dc.path
	if path == "" {
		path = writeFile(t, dc.name+".csv", []byte(dc.csv()))
	}
	opts := dc.opts
	opts.TempDir = t.TempDir()
	var mu sync.Mutex
	handed := map[int]ShardFile{}
	files := 0
	if handOver {
		opts.ShardWritten = func(sf ShardFile, data []byte) error {
			if data == nil { // a shard too large to hand over in memory
				var err error
				if data, err = os.ReadFile(sf.Path); err != nil {
					t.Error(err)
				}
				mu.Lock()
				files++
				mu.Unlock()
			} else {
				if sf.Path != "" {
					t.Errorf("%s: shard %d handed over in memory and in %s", dc.name, sf.Index, sf.Path)
				}
				if sf.SHA256 != "" {
					t.Errorf("%s: shard %d handed over in memory, hashed by Split too", dc.name, sf.Index)
				}
				// The receiver hashes it, as the object store does.
				sum := sha256.Sum256(data)
				sf.SHA256 = hex.EncodeToString(sum[:])
			}
			sum := sha256.Sum256(data)
			if hex.EncodeToString(sum[:]) != sf.SHA256 || int64(len(data)) != sf.Size {
				t.Errorf("%s: shard %d handed over as %d bytes, SHA-256 %x, described as %+v", dc.name, sf.Index, len(data), sum, sf)
			}
			mu.Lock()
			handed[sf.Index] = sf
			mu.Unlock()
			if sf.Path == "" {
				RecycleShardBytes(data) // as an import does: later shards reuse it
			}
			return nil
		}
	}
	res, err := Split(context.Background(), path, opts)
	if err != nil {
		t.Fatalf("%s: %v", dc.name, err)
	}
	if handOver {
		for i, sf := range res.Shards {
			if sf.SHA256 == "" && sf.Path == "" {
				sf.SHA256 = handed[sf.Index].SHA256
				res.Shards[i] = sf
			}
			if handed[sf.Index] != sf {
				t.Errorf("%s: shard %d handed over as %+v, result says %+v", dc.name, sf.Index, handed[sf.Index], sf)
			}
		}
		if entries, _ := os.ReadDir(opts.TempDir); len(entries) != files {
			t.Errorf("%s: %d files in TempDir with ShardWritten, want the %d shards too large to hand over", dc.name, len(entries), files)
		}
	}
	return splitDigest(t, res)
}

// contentDigest is a SHA-256 over what the shards of res hold, as ReadShard
// decodes them: every shard's key and column names, keys and value bits, in
// order. Unlike splitDigest it does not depend on how the files encode them.
func contentDigest(t *testing.T, res *Result) string {
	t.Helper()
	h := sha256.New()
	for _, sf := range res.Shards {
		b, err := os.ReadFile(sf.Path)
		if err != nil {
			t.Fatal(err)
		}
		s, err := ReadShard(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatalf("shard %d: %v", sf.Index, err)
		}
		fmt.Fprintf(h, "%d %q %q %d\n", sf.Index, s.Key, s.Columns, s.Rows())
		for i, k := range s.Keys {
			fmt.Fprintf(h, "%q", k)
			for j := range s.Columns {
				fmt.Fprintf(h, " %x", math.Float64bits(s.Values[j][i]))
			}
			h.Write([]byte{'\n'})
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TestSplitContentDigests holds what Split's shards decode to, to the
// digests recorded with the previous writer (parquet-go's), so a change of
// how the files are encoded cannot change what they hold.
func TestSplitContentDigests(t *testing.T) {
	const golden = "testdata/split_content_digests.json"
	got := map[string]string{}
	for _, dc := range digestCases() {
		path := dc.path
		if path == "" {
			path = writeFile(t, dc.name+".csv", []byte(dc.csv()))
		}
		opts := dc.opts
		opts.TempDir = t.TempDir()
		res, err := Split(context.Background(), path, opts)
		if err != nil {
			t.Fatalf("%s: %v", dc.name, err)
		}
		got[dc.name] = contentDigest(t, res)
	}
	if *updateContentDigests {
		b, _ := json.MarshalIndent(got, "", "  ")
		if err := os.WriteFile(golden, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	b, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]string
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	if len(want) != len(got) {
		t.Errorf("golden file has %d cases, the test %d", len(want), len(got))
	}
	for name, d := range got {
		if d != want[name] {
			t.Errorf("%s: content digest %s, want %s", name, d, want[name])
		}
	}
}

// TestSplitGoldenDigests holds Split's output, shard bytes and statistics,
// to the recorded digests, whatever the number of threads, the block size,
// the spills' memory and whether shards are handed over.
func TestSplitGoldenDigests(t *testing.T) {
	const golden = "testdata/split_digests.json"
	if *updateDigests {
		got := map[string]string{}
		for _, dc := range digestCases() {
			got[dc.name] = runDigestCase(t, dc, false)
		}
		b, _ := json.MarshalIndent(got, "", "  ")
		if err := os.WriteFile(golden, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	b, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]string
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	defer func(procs, chunk int, mem, hand int64) {
		runtime.GOMAXPROCS(procs)
		chunkBytes, spillMemory, maxHandOver = chunk, mem, hand
	}(runtime.GOMAXPROCS(0), chunkBytes, spillMemory, maxHandOver)
	hand := maxHandOver
	for _, run := range []struct {
		procs, chunk  int
		mem, handOver int64 // handOver: the largest shard ShardWritten gets in memory; 0: no ShardWritten
	}{{1, 1 << 20, spillMemory, 0}, {4, 1 << 20, 0, hand}, {4, 4096, 100 << 10, 0}, {3, 1, spillMemory, 20 << 10}} {
		runtime.GOMAXPROCS(run.procs)
		chunkBytes, spillMemory, maxHandOver = run.chunk, run.mem, run.handOver
		for _, dc := range digestCases() {
			if got := runDigestCase(t, dc, run.handOver > 0); got != want[dc.name] {
				t.Errorf("GOMAXPROCS=%d, %d-byte blocks, %s: digest %s, want %s", run.procs, run.chunk, dc.name, got, want[dc.name])
			}
		}
	}
	names := slices.Sorted(func(yield func(string) bool) {
		for k := range want {
			if !yield(k) {
				return
			}
		}
	})
	if len(names) != len(digestCases()) {
		t.Errorf("golden file has %d cases, the test %d", len(names), len(digestCases()))
	}
}
