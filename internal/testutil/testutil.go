// Package testutil holds helpers shared by the integration tests: generated
// customer tables and bit-for-bit model comparison.
package testutil

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/mathcrm/mathcrm/algo/builtin"
	"github.com/mathcrm/mathcrm/algo/kmeans"
	"github.com/mathcrm/mathcrm/internal/proto"
)

// GenCustomers writes n customers (customer_id,tenure,monthly,total,age)
// drawn from planted clusters, with a few missing totals and ages.
func GenCustomers(t testing.TB, path string, n int, seed uint64) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 7))
	centres := [][3]float64{{2, 20, 100}, {30, 80, 2500}, {60, 100, 6000}, {12, 50, 700}}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fmt.Fprintln(f, "customer_id,tenure,monthly,total,age")
	for i := 0; i < n; i++ {
		c := centres[r.IntN(len(centres))]
		total := fmt.Sprintf("%.2f", c[2]+r.NormFloat64()*c[2]/10)
		if i%997 == 5 {
			total = ""
		}
		age := fmt.Sprintf("%d", 18+r.IntN(60))
		if i%101 == 3 {
			age = ""
		}
		fmt.Fprintf(f, "C%07d,%.0f,%.2f,%s,%s\n", i, math.Max(0, c[0]+r.NormFloat64()*3), c[1]+r.NormFloat64()*5, total, age)
	}
}

// KMeansSpec is a k-means job on a GenCustomers table that runs maxIter
// iterations (tol 0).
func KMeansSpec(dataset, init string, maxIter int) proto.JobSpec {
	s := kmeans.Spec(dataset, kmeans.Params{
		K: 4, Columns: []string{"tenure", "monthly", "total"}, Standardize: true, Init: init, MaxIter: maxIter, Tol: 0,
	})
	s.Seed = 11
	return s
}

// SameBits fails unless a and b are equal bit for bit.
func SameBits(t testing.TB, what string, a, b []float64) {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("%s: %d values vs %d", what, len(a), len(b))
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			t.Fatalf("%s[%d]: %v vs %v (not bit-identical)", what, i, a[i], b[i])
		}
	}
}

// Flat concatenates the rows of m.
func Flat(m [][]float64) []float64 {
	var out []float64
	for _, r := range m {
		out = append(out, r...)
	}
	return out
}

// SameKMeans fails unless two k-means models are bit-identical.
func SameKMeans(t testing.TB, a, b *kmeans.Segmentation) {
	t.Helper()
	SameBits(t, "training centroids", Flat(a.TrainingCentroids), Flat(b.TrainingCentroids))
	SameBits(t, "centroids", Flat(a.Centroids), Flat(b.Centroids))
	SameBits(t, "inertia", []float64{a.Inertia}, []float64{b.Inertia})
	if fmt.Sprint(a.Sizes) != fmt.Sprint(b.Sizes) || a.Iterations != b.Iterations {
		t.Fatalf("sizes %v/%v iterations %d/%d", a.Sizes, b.Sizes, a.Iterations, b.Iterations)
	}
	if (a.Profile == nil) != (b.Profile == nil) {
		t.Fatalf("one model has a profile, the other not")
	}
	if a.Profile != nil {
		SameBits(t, "profile", Flat(a.Profile.Means), Flat(b.Profile.Means))
	}
}

// KMeansDiff says how two k-means models differ, or nil when they are
// bit-identical.
func KMeansDiff(a, b *kmeans.Segmentation) error {
	pairs := []struct {
		what string
		x, y []float64
	}{
		{"training centroids", Flat(a.TrainingCentroids), Flat(b.TrainingCentroids)},
		{"inertia", []float64{a.Inertia}, []float64{b.Inertia}},
	}
	for _, p := range pairs {
		if len(p.x) != len(p.y) {
			return fmt.Errorf("%s: %d values vs %d", p.what, len(p.x), len(p.y))
		}
		for i := range p.x {
			if math.Float64bits(p.x[i]) != math.Float64bits(p.y[i]) {
				return fmt.Errorf("%s[%d]: %v vs %v", p.what, i, p.x[i], p.y[i])
			}
		}
	}
	if fmt.Sprint(a.Sizes) != fmt.Sprint(b.Sizes) {
		return fmt.Errorf("sizes %v vs %v", a.Sizes, b.Sizes)
	}
	return nil
}

// RunWithBinary builds the mathcrm command from pkg (a package path relative
// to the calling test's directory) into a temporary directory, sets *bin to
// it, runs the tests and exits. It is for TestMain in packages that start
// real mathcrm processes.
func RunWithBinary(m *testing.M, pkg string, bin *string) {
	dir, err := os.MkdirTemp("", "mathcrm-test-bin-")
	if err != nil {
		panic(err)
	}
	*bin = filepath.Join(dir, "mathcrm")
	if out, err := exec.Command("go", "build", "-o", *bin, pkg).CombinedOutput(); err != nil {
		os.Stderr.Write(out)
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// Detail decodes a model's detail as a T (a model kind's exported form),
// failing the test when it is of another kind.
func Detail[T any](t testing.TB, d *proto.ModelDetail) *T {
	t.Helper()
	v, err := builtin.Detail(d)
	if err != nil {
		t.Fatal(err)
	}
	m, ok := v.(*T)
	if !ok {
		t.Fatalf("model %s is a %s model, not %T", d.Model.ID, d.Model.Kind, m)
	}
	return m
}
