package kmeans

import (
	"crypto/sha256"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// sklearnGolden is testdata/golden/kmeans_golden.json, written by
// testdata/golden/make_kmeans_golden.py with scikit-learn 1.2.1 (see
// kmeans_README.md there).
type sklearnGolden struct {
	Versions map[string]string `json:"versions"`
	Cases    []struct {
		Name         string      `json:"name"`
		Data         string      `json:"data"`
		Columns      []string    `json:"columns"`
		N            int         `json:"n"`
		K            int         `json:"k"`
		InitRows     []int       `json:"init_rows"`
		Init         [][]float64 `json:"init"`
		MaxIter      int         `json:"max_iter"`
		NIter        int         `json:"n_iter"`
		Inertia      float64     `json:"inertia"`
		Centroids    [][]float64 `json:"centroids"`
		Sizes        []int64     `json:"sizes"`
		LabelsSHA256 string      `json:"labels_sha256"`
		Labels       string      `json:"labels"`
	} `json:"cases"`
}

const goldenDir = "../../testdata/golden"

// loadColumns reads the named columns of a CSV file with a header, skipping
// rows where any of them is blank, as the Python script does.
func loadColumns(t *testing.T, path string, columns []string) []float64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	idx := make([]int, len(columns))
	for i, c := range columns {
		idx[i] = -1
		for j, h := range rows[0] {
			if h == c {
				idx[i] = j
			}
		}
		if idx[i] < 0 {
			t.Fatalf("%s: no column %q", path, c)
		}
	}
	var x []float64
rows:
	for line, r := range rows[1:] {
		for _, j := range idx {
			if strings.TrimSpace(r[j]) == "" {
				continue rows
			}
		}
		for _, j := range idx {
			v, err := strconv.ParseFloat(r[j], 64)
			if err != nil {
				t.Fatalf("%s line %d column %q: %v", path, line+2, rows[0][j], err)
			}
			x = append(x, v)
		}
	}
	return x
}

// TestSklearnGolden holds Lloyd from given centroids against scikit-learn's
// KMeans(algorithm="lloyd", n_init=1, init=..., tol=0) on the Telco numeric
// columns and on a generated blob set: the same number of iterations,
// inertia within 1e-9 relative, centroids within 1e-9 relative (absolute
// below magnitude 1), and the same label of every row.
//
// Counting iterations: scikit-learn's n_iter_ is the number of
// assign-and-update steps it ran, including the step whose labels equal the
// previous step's (strict convergence; with tol=0 nothing else stops it
// before max_iter), and it then assigns once more to the final centres for
// labels_ and inertia_. Model.Iterations counts the same steps, and the
// final task is that last assignment. Tol = 0 disables our stopping test, so
// Tol is the smallest positive float64 here: unchanged labels give
// bit-identical centroid sums in our combine, a shift of exactly 0, so we
// stop at the step where scikit-learn does.
//
// scikit-learn subtracts the column means before iterating and adds them
// back to the centres; we work on the raw values. The two therefore differ
// by rounding only, not in any label: the differences the test logs are
// that rounding. None of these cases empties a cluster (the script checks),
// so re-seeding is not compared.
func TestSklearnGolden(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(goldenDir, "kmeans_golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var g sklearnGolden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	if g.Versions["sklearn"] != "1.2.1" || len(g.Cases) == 0 {
		t.Fatalf("golden file from scikit-learn %q with %d cases, want 1.2.1 and some cases", g.Versions["sklearn"], len(g.Cases))
	}
	const tol = 1e-9
	for _, tc := range g.Cases {
		t.Run(tc.Name, func(t *testing.T) {
			d := len(tc.Columns)
			x := loadColumns(t, filepath.Join(goldenDir, tc.Data), tc.Columns)
			if n := len(x) / d; n != tc.N {
				t.Fatalf("%s: %d rows, the golden file was made from %d", tc.Data, n, tc.N)
			}
			var given []float64
			for c, r := range tc.InitRows {
				for j := range d {
					if x[r*d+j] != tc.Init[c][j] {
						t.Fatalf("init row %d column %d: data %v, golden %v", r, j, x[r*d+j], tc.Init[c][j])
					}
				}
				given = append(given, tc.Init[c]...)
			}
			cfg := Config{K: tc.K, Init: InitGiven, Given: given, MaxIter: tc.MaxIter, Tol: math.SmallestNonzeroFloat64}
			n := tc.N
			layouts := []struct {
				name   string
				shards [][]float64
			}{
				{"one shard", [][]float64{x}},
				{"three shards", split(x, d, n/7, n/2)},
			}
			for _, l := range layouts {
				m, err := Reference(cfg, l.shards, d, nil, 0)
				if err != nil {
					t.Fatalf("%s: %v", l.name, err)
				}
				if m.Iterations != tc.NIter {
					t.Errorf("%s: %d iterations, scikit-learn ran %d", l.name, m.Iterations, tc.NIter)
				}
				if want := tc.NIter < tc.MaxIter; m.Converged != want {
					t.Errorf("%s: converged %v, want %v", l.name, m.Converged, want)
				}
				for i, h := range m.History {
					if h.Reseeded != 0 {
						t.Errorf("%s: iteration %d re-seeded %d clusters; scikit-learn's run had none", l.name, i+1, h.Reseeded)
					}
				}
				inertiaErr := math.Abs(m.Inertia-tc.Inertia) / tc.Inertia
				if inertiaErr > tol {
					t.Errorf("%s: inertia %v, scikit-learn %v: relative difference %.2g > %g", l.name, m.Inertia, tc.Inertia, inertiaErr, tol)
				}
				centroidErr := 0.0
				for c := range tc.K {
					for j := range d {
						got, want := m.Centroids[c*d+j], tc.Centroids[c][j]
						centroidErr = max(centroidErr, math.Abs(got-want)/math.Max(1, math.Abs(want)))
					}
				}
				if centroidErr > tol {
					t.Errorf("%s: centroids differ from scikit-learn's by %.2g relative > %g\ngot  %v\nwant %v", l.name, centroidErr, tol, m.Centroids, tc.Centroids)
				}
				for c, s := range tc.Sizes {
					if m.Sizes[c] != s {
						t.Errorf("%s: cluster %d has %d rows, scikit-learn %d", l.name, c, m.Sizes[c], s)
					}
				}
				labels, _ := Assign(nil, nil, m.Centroids, m.K, m.D, x)
				var sb strings.Builder
				for _, l := range labels {
					sb.WriteByte(byte('0' + l))
				}
				if sum := fmt.Sprintf("%x", sha256.Sum256([]byte(sb.String()))); sum != tc.LabelsSHA256 {
					differ := 0
					for i := range tc.Labels {
						if sb.String()[i] != tc.Labels[i] {
							differ++
						}
					}
					t.Errorf("%s: labels checksum %s, scikit-learn %s: %d of %d rows differ", l.name, sum, tc.LabelsSHA256, differ, n)
				}
				t.Logf("%s: %d iterations; inertia relative difference %.2g, centroids %.2g", l.name, m.Iterations, inertiaErr, centroidErr)
			}
		})
	}
}
