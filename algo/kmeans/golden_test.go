package kmeans

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"testing"
)

// modelHash digests the numbers of a model bit for bit.
func modelHash(m *Model) string {
	var b []byte
	f := func(v float64) { b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v)) }
	i := func(v int64) { b = binary.LittleEndian.AppendUint64(b, uint64(v)) }
	i(int64(m.K))
	i(int64(m.D))
	i(int64(m.P))
	i(int64(m.Iterations))
	f(m.Inertia)
	for _, v := range m.Centroids {
		f(v)
	}
	for _, v := range m.Sizes {
		i(v)
	}
	for _, v := range m.Profile {
		f(v)
	}
	for _, v := range m.ProfileCount {
		i(v)
	}
	for _, h := range m.History {
		f(h.Inertia)
		f(h.Shift)
		i(int64(h.Reseeded))
	}
	return fmt.Sprintf("%x", sha256.Sum256(b))[:16]
}

// TestGoldenModels pins the exact bits of a few models. They were recorded
// with GOAMD64=v1 and checked equal under GOAMD64=v3 and v4, which fuse a*b+c
// where the code lets them; any build on any CPU must reproduce them. A
// deliberate change to the algorithm changes them: re-record and say why.
func TestGoldenModels(t *testing.T) {
	shards, profs, d, p := detData()
	big := benchData(20000, 16, 16)
	bigShards := split(big.x, 16, 5000, 7000)
	tests := []struct {
		name string
		run  func() (*Model, error)
		want string
	}{
		{"kmeans||", func() (*Model, error) { return Reference(detConfig(InitKMeansParallel, 4), shards, d, profs, p) }, "1951b512d67d9045"},
		{"random", func() (*Model, error) { return Reference(detConfig(InitRandom, 4), shards, d, profs, p) }, "bbd57bd6fcf451a0"},
		{"given", func() (*Model, error) { return Reference(detConfig(InitGiven, 4), shards, d, profs, p) }, "bcc99dfe46e38e0c"},
		{"k16d16", func() (*Model, error) { return Reference(Config{K: 16, Seed: 3}, bigShards, 16, nil, 0) }, "ff4e790a7d72edeb"},
	}
	for _, tc := range tests {
		m, err := tc.run()
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := modelHash(m); got != tc.want {
			t.Errorf("%s: model hash %s, want %s", tc.name, got, tc.want)
		}
	}
}
