package partition

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
)

// pqCustomer is a features row as a Parquet writer stores it.
type pqCustomer struct {
	ID     string   `parquet:"id"`
	Age    int64    `parquet:"age"`
	Spend  *float64 `parquet:"spend,optional"`
	Visits *float64 `parquet:"visits,optional"`
	Seg    string   `parquet:"seg"`
	Score  float64  `parquet:"score"`
}

// customers returns n generated rows and the same table as CSV.
func customers(n int) ([]pqCustomer, string) {
	rng := rand.New(rand.NewPCG(3, uint64(n)))
	rows := make([]pqCustomer, n)
	var b strings.Builder
	b.WriteString("id,age,spend,visits,seg,score\n")
	num := func(p *float64) string {
		if p == nil {
			return ""
		}
		return strconv.FormatFloat(*p, 'g', -1, 64)
	}
	for i := range rows {
		r := pqCustomer{ID: fmt.Sprintf("C%07d", rng.IntN(1<<30)*10+i%10), Age: int64(18 + rng.IntN(70)),
			Seg: []string{"a", "b", "c"}[rng.IntN(3)], Score: rng.NormFloat64()}
		if rng.IntN(10) > 0 {
			v := math.Round(rng.ExpFloat64()*10000) / 100
			r.Spend = &v
		}
		if rng.IntN(5) > 0 {
			v := float64(rng.IntN(40))
			r.Visits = &v
		}
		rows[i] = r
		fmt.Fprintf(&b, "%s,%d,%s,%s,%s,%s\n", r.ID, r.Age, num(r.Spend), num(r.Visits), r.Seg, num(&r.Score))
	}
	return rows, b.String()
}

// writeParquet writes rows as a Parquet file with row groups of groupRows.
func writeParquet[T any](t *testing.T, name string, rows []T, groupRows int64) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := parquet.NewGenericWriter[T](f, parquet.MaxRowsPerRowGroup(groupRows))
	if _, err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestSplitParquetMatchesCSV imports a Parquet file and the same table as
// CSV: the shards, statistics and findings are the same, byte for byte.
func TestSplitParquetMatchesCSV(t *testing.T) {
	rows, csv := customers(10000)
	pq := writeParquet(t, "customers.parquet", rows, 3000) // several row groups, windows across them
	for _, opts := range []Options{
		{Key: "id", Shards: 8, Categorical: []string{"seg"}},
		{Key: "id", Shards: 3, Columns: []string{"spend", "age"}, RowGroupRows: 1000},
		{Key: RowKey, Shards: 5},
	} {
		o := opts
		o.TempDir = t.TempDir()
		fromCSV := mustSplit(t, "customers.csv", csv, opts)
		fromPQ, err := Split(context.Background(), pq, o)
		if err != nil {
			t.Fatalf("%+v: %v", opts, err)
		}
		if got, want := splitDigest(t, fromPQ), splitDigest(t, fromCSV); got != want {
			t.Errorf("%+v: Parquet gives digest %s, CSV %s\nParquet: %+v\nCSV: %+v", opts, got, want, fromPQ.Columns, fromCSV.Columns)
		}
	}
}

// pqRating is an interaction as a Parquet writer stores it.
type pqRating struct {
	User   int32   `parquet:"user"`
	Item   string  `parquet:"item"`
	Rating float32 `parquet:"rating"`
}

func TestSplitInteractionsParquetMatchesCSV(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	var rows []pqRating
	var b strings.Builder
	b.WriteString("user,item,rating\n")
	for range 3000 {
		r := pqRating{User: int32(rng.IntN(300)), Item: "i" + strconv.Itoa(rng.IntN(80)), Rating: float32(1+rng.IntN(9)) / 2}
		rows = append(rows, r)
		fmt.Fprintf(&b, "%d,%s,%g\n", r.User, r.Item, r.Rating)
	}
	pq := writeParquet(t, "ratings.parquet", rows, 1000)
	csv := writeFile(t, "ratings.csv", []byte(b.String()))
	opts := InteractionOptions{User: "user", Item: "item", Value: "rating", Shards: 4}
	digest := func(path string) string {
		o := opts
		o.TempDir = t.TempDir()
		res, err := SplitInteractions(context.Background(), path, o)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		var s strings.Builder
		for _, sf := range append(res.ByUser, res.ByItem...) {
			fmt.Fprintf(&s, "%s %d\n", sf.SHA256, sf.Rows)
		}
		fmt.Fprintf(&s, "%d %d %d %+v", res.Rows, res.Users, res.Items, res.Value)
		return s.String()
	}
	if got, want := digest(pq), digest(csv); got != want {
		t.Errorf("Parquet:\n%s\nCSV:\n%s", got, want)
	}
}

// pqNested has a repeated column, which an import cannot take.
type pqNested struct {
	ID   string    `parquet:"id"`
	Tags []float64 `parquet:"tags,list"`
}

// pqTextRow has a text column where a number is expected and a NaN.
type pqTextRow struct {
	ID    string  `parquet:"id"`
	Spend string  `parquet:"spend"`
	Score float64 `parquet:"score"`
}

// TestSplitParquetErrors checks that a Parquet file that cannot be imported
// is refused with its file, row and column named, and nothing written.
func TestSplitParquetErrors(t *testing.T) {
	rows, _ := customers(50)
	good := writeParquet(t, "good.parquet", rows, 100)
	nested := writeParquet(t, "nested.parquet", []pqNested{{ID: "a", Tags: []float64{1}}}, 100)
	text := writeParquet(t, "text.parquet", []pqTextRow{{"a", "1.5", 1}, {"b", "n/a", 2}, {"c", "3", math.NaN()}}, 100)
	dup := writeParquet(t, "dup.parquet", []pqTextRow{{"a", "1", 1}, {"b", "2", 2}, {"a", "3", 3}}, 2)
	data, _ := os.ReadFile(good)
	truncated := filepath.Join(t.TempDir(), "truncated.parquet")
	os.WriteFile(truncated, data[:len(data)/2], 0o644)
	for _, tc := range []struct {
		path string
		opts Options
		is   error
		want string
	}{
		{good, Options{Key: "customer"}, ErrNoKeyColumn, `good.parquet: column "customer": partition: key column not in header`},
		{good, Options{Key: "id", Columns: []string{"nope"}}, ErrNoColumn, `column "nope"`},
		{nested, Options{Key: "id"}, ErrParquetInput, `column "tags" is nested or repeated`},
		{text, Options{Key: "id", Columns: []string{"spend"}}, ErrNotNumeric, `text.parquet: row 2: column "spend": partition: value is not a number: "n/a"`},
		{text, Options{Key: "id", Columns: []string{"score"}}, ErrNotNumeric, `text.parquet: row 3: column "score": partition: value is not a number: "NaN"`},
		{dup, Options{Key: "id"}, ErrDuplicateKey, `dup.parquet: row 3: column "id": partition: duplicate key "a" also on row 1`},
		{truncated, Options{Key: "id"}, ErrMalformed, `truncated.parquet`},
		{good, Options{Key: "id", Input: Input{Names: []string{"a"}}}, ErrInvalidOptions, "Parquet"},
	} {
		dir := t.TempDir()
		o := tc.opts
		o.TempDir = dir
		_, err := Split(context.Background(), tc.path, o)
		if !errors.Is(err, tc.is) || !strings.Contains(fmt.Sprint(err), tc.want) {
			t.Errorf("%s %+v: err = %v, want %v containing %q", filepath.Base(tc.path), tc.opts, err, tc.is, tc.want)
		}
		assertEmptyDir(t, dir)
	}
	// A stream is not enough for Parquet, whose footer is at the end.
	_, err := SplitReader(context.Background(), "stream.parquet", bytes.NewReader(data), Options{Key: "id", TempDir: t.TempDir()})
	if !errors.Is(err, ErrParquetInput) {
		t.Errorf("Parquet from a stream: err = %v, want ErrParquetInput", err)
	}
}
