package partition

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCategoricalColumns(t *testing.T) {
	dir := t.TempDir()
	csv := filepath.Join(dir, "c.csv")
	body := "id,plan,spend\n" + "a,gold,1\n" + "b,basic,2\n" + "c,,3\n" + "d,gold,4\n" + "e, basic ,5\n"
	if err := os.WriteFile(csv, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := Split(context.Background(), csv, Options{Key: "id", Categorical: []string{"plan"}, Shards: 2, TempDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	var plan *ColumnStats
	for i := range res.Columns {
		if res.Columns[i].Name == "plan" {
			plan = &res.Columns[i]
		}
	}
	if plan == nil {
		t.Fatalf("plan not imported: %+v", res.Columns)
	}
	if strings.Join(plan.Levels, ",") != "gold,basic" || plan.LevelCounts[0] != 2 || plan.LevelCounts[1] != 2 || plan.Missing != 1 || plan.Count != 4 {
		t.Fatalf("plan stats: %+v", plan)
	}
	got := map[string]float64{}
	for _, sf := range res.Shards {
		f, err := os.Open(sf.Path)
		if err != nil {
			t.Fatal(err)
		}
		sh, err := ReadShard(f, sf.Size)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		codes, ok := sh.Column("plan")
		if !ok {
			t.Fatal("no plan column in shard")
		}
		for i, k := range sh.Keys {
			got[k] = codes[i]
		}
	}
	want := map[string]float64{"a": 0, "b": 1, "d": 0, "e": 1}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("code of %s = %v, want %v", k, got[k], v)
		}
	}
	if !math.IsNaN(got["c"]) {
		t.Fatalf("missing category is %v, want NaN", got["c"])
	}
}

func TestTooManyLevels(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("id,v\n")
	for i := 0; i <= MaxLevels; i++ {
		fmt.Fprintf(&b, "k%d,v%d\n", i, i)
	}
	csv := filepath.Join(dir, "many.csv")
	if err := os.WriteFile(csv, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Split(context.Background(), csv, Options{Key: "id", Categorical: []string{"v"}, Shards: 2, TempDir: dir})
	var ie *InputError
	if !errors.Is(err, ErrTooManyLevels) || !errors.As(err, &ie) || ie.Column != "v" || ie.Line != MaxLevels+2 {
		t.Fatalf("err = %v", err)
	}
}
