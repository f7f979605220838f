package kmeans

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"
)

// normish returns a roughly standard normal value (mean 0, variance 1,
// bounded by ±2√3) as a scaled sum of four uniforms. Unlike
// rand.NormFloat64, whose rejection test contains an a*b+c the compiler may
// fuse under GOAMD64=v3, it gives the same bits on every build, so test data
// and models can be compared across builds. Explicit conversions keep
// callers from fusing too.
func normish(r *rand.Rand) float64 {
	return float64((r.Float64() + r.Float64() + r.Float64() + r.Float64() - 2) * math.Sqrt(3))
}

// blobs returns per rows around each centre with standard deviation sd,
// shuffled, row-major.
func blobs(seed uint64, centres [][]float64, per int, sd float64) []float64 {
	r := rand.New(rand.NewPCG(seed, 7))
	d := len(centres[0])
	x := make([]float64, 0, len(centres)*per*d)
	for _, c := range centres {
		for range per {
			for j := range d {
				x = append(x, c[j]+float64(sd*normish(r)))
			}
		}
	}
	n := len(x) / d
	r.Shuffle(n, func(i, j int) {
		for q := range d {
			x[i*d+q], x[j*d+q] = x[j*d+q], x[i*d+q]
		}
	})
	return x
}

// split cuts the rows of x into shards of the given row counts; the last
// shard takes the rest.
func split(x []float64, d int, sizes ...int) [][]float64 {
	var out [][]float64
	for _, s := range sizes {
		out = append(out, x[:s*d:s*d])
		x = x[s*d:]
	}
	return append(out, x)
}

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

func relClose(a, b, tol float64) bool {
	return math.Abs(a-b) <= tol*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}

// recompute checks a model against a direct pass over the data: sizes and
// inertia of the nearest-centroid assignment, summed per shard and then in
// shard order as the model is, so the inertia must match exactly.
func recompute(t *testing.T, m *Model, shards [][]float64) {
	t.Helper()
	sizes := make([]int64, m.K)
	inertia := 0.0
	for _, x := range shards {
		part := 0.0
		for i := 0; i < len(x)/m.D; i++ {
			l, d2 := Nearest(m.Centroids, m.K, m.D, x[i*m.D:(i+1)*m.D])
			sizes[l]++
			part += d2
		}
		inertia += part
	}
	for c := range sizes {
		if sizes[c] != m.Sizes[c] {
			t.Fatalf("size of cluster %d: model %d, recomputed %d", c, m.Sizes[c], sizes[c])
		}
	}
	if inertia != m.Inertia {
		t.Fatalf("inertia: model %v, recomputed %v", m.Inertia, inertia)
	}
}
