package logistic

import (
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"strconv"
	"testing"

	"github.com/mathcrm/mathcrm/algo/linear"
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

var contracts = []string{"Month-to-month", "One year", "Two year"}

// telco reads the bundled Telco churn data (testdata/telco, Apache-2.0) as
// make_golden.py does: tenure, MonthlyCharges, SeniorCitizen and a one-hot
// of Contract (no level dropped), target Churn == "Yes", key customerID.
func telco(t testing.TB) (keys []string, x, y []float64) {
	t.Helper()
	f, err := os.Open("../../testdata/telco/Telco-Customer-Churn.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for j, name := range recs[0] {
		col[name] = j
	}
	num := func(rec []string, name string, line int) float64 {
		v, err := strconv.ParseFloat(rec[col[name]], 64)
		if err != nil {
			t.Fatalf("line %d column %s: %v", line, name, err)
		}
		return v
	}
	for i, rec := range recs[1:] {
		keys = append(keys, rec[col["customerID"]])
		x = append(x, num(rec, "tenure", i+2), num(rec, "MonthlyCharges", i+2), num(rec, "SeniorCitizen", i+2))
		for _, c := range contracts {
			v := 0.0
			if rec[col["Contract"]] == c {
				v = 1
			}
			x = append(x, v)
		}
		v := 0.0
		if rec[col["Churn"]] == "Yes" {
			v = 1
		}
		y = append(y, v)
	}
	return keys, x, y
}

// columns keeps the first k of the d columns of x.
func columns(x []float64, d, k int) []float64 {
	var out []float64
	for i := 0; i < len(x)/d; i++ {
		out = append(out, x[i*d:i*d+k]...)
	}
	return out
}

// standardise returns (x − mean)/scale column by column.
func standardise(x []float64, mean, scale []float64) []float64 {
	d := len(mean)
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = (v - mean[i%d]) / scale[i%d]
	}
	return out
}

// shardsByKey deals rows to s shards by a hash of their key (a different
// seed from any split under test), keeping file order within a shard.
func shardsByKey(x, y, w []float64, keys []string, d, s int) []Shard {
	out := make([]Shard, s)
	for i, k := range keys {
		sh := &out[linear.KeyHash(k, 0xabcdef)%uint64(s)]
		sh.X = append(sh.X, x[i*d:(i+1)*d]...)
		sh.Y = append(sh.Y, y[i])
		sh.Keys = append(sh.Keys, k)
		if w != nil {
			sh.W = append(sh.W, w[i])
		}
	}
	return out
}
