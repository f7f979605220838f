package linear

import (
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"strconv"
	"testing"
)

// mustJSON returns the JSON encoding of v. encoding/json writes the shortest
// decimal that round-trips each float64, so equal encodings mean equal bits.
func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func roundTrip[T any](t testing.TB, v *T) *T {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	out := new(T)
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatal(err)
	}
	return out
}

// relErr is |got−want|/max(|want|, floor).
func relErr(got, want, floor float64) float64 {
	return math.Abs(got-want) / math.Max(math.Abs(want), floor)
}

// readCSV reads a numeric CSV with a header: the header and the rows.
func readCSV(t testing.TB, path string) ([]string, [][]float64) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	rows := make([][]float64, 0, len(recs)-1)
	for i, rec := range recs[1:] {
		row := make([]float64, len(rec))
		for j, s := range rec {
			if row[j], err = strconv.ParseFloat(s, 64); err != nil {
				t.Fatalf("%s line %d column %d: %v", path, i+2, j+1, err)
			}
		}
		rows = append(rows, row)
	}
	return recs[0], rows
}

// diabetes returns the golden diabetes data: ten features, the target and
// keys (the row index in decimal), in file order.
func diabetes(t testing.TB) (names []string, x, y []float64, keys []string) {
	header, rows := readCSV(t, "../../testdata/golden/diabetes_unscaled.csv")
	for i, r := range rows {
		x = append(x, r[:len(r)-1]...)
		y = append(y, r[len(r)-1])
		keys = append(keys, strconv.Itoa(i))
	}
	return header[:len(header)-1], x, y, keys
}

// shardsByKey deals rows to s shards by a hash of their key (a different
// seed from any split under test), keeping file order within a shard.
func shardsByKey(x, y, w []float64, keys []string, d, s int) []Shard {
	out := make([]Shard, s)
	for i, k := range keys {
		sh := &out[KeyHash(k, 0xabcdef)%uint64(s)]
		sh.X = append(sh.X, x[i*d:(i+1)*d]...)
		sh.Y = append(sh.Y, y[i])
		sh.Keys = append(sh.Keys, k)
		if w != nil {
			sh.W = append(sh.W, w[i])
		}
	}
	return out
}
