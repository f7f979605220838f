package logistic

import (
	"bytes"
	"encoding/gob"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/mathcrm/mathcrm/internal/blob"
)

// gobRoundTrip sends v through gob, as blobs of earlier builds carried it.
func gobRoundTrip[T any](t testing.TB, v *T) *T {
	t.Helper()
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(v); err != nil {
		t.Fatal(err)
	}
	out := new(T)
	if err := gob.NewDecoder(&b).Decode(out); err != nil {
		t.Fatal(err)
	}
	return out
}

// blobRoundTrip sends a Result through a cluster blob (MessagePack).
func blobRoundTrip(t *testing.T, in *Result) *Result {
	t.Helper()
	b, err := blob.Encode("test", in)
	if err != nil {
		t.Fatal(err)
	}
	out := new(Result)
	if err := blob.Decode(b, "test", out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSetSumsGobRoundTrip: eval Results of every shape (exact and
// histogram, weighted or not, empty sets) come back from gob and from a cluster blob with every
// bit and every nil slice as they went in.
func TestSetSumsGobRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(51, 52))
	for _, n := range []int{0, 1, 17, 600} {
		x, y, w, keys, beta := pathData(r, n, 3)
		for _, wt := range [][]float64{nil, w} {
			for _, exact := range []bool{false, true} {
				task := &Task{Kind: TaskEval, D: 3, Beta: beta, ClassWeights: [2]float64{1, 1}, Holdout: 0.3,
					ExactTrain: exact, ExactHoldout: !exact}
				res, err := RunTask(nil, task, x, n, 3, y, wt, keys, 0)
				if err != nil {
					t.Fatal(err)
				}
				res.Train.Scores = append(res.Train.Scores, math.Copysign(0, -1), math.NaN())
				for via, got := range map[string]*Result{"gob": gobRoundTrip(t, res), "blob": blobRoundTrip(t, res)} {
					for _, pair := range [][2]*SetSums{{res.Train, got.Train}, {res.Holdout, got.Holdout}} {
						if !sameSetSums(pair[0], pair[1]) {
							t.Fatalf("n=%d weighted=%v exact=%v: %s changed the sums\nsent %+v\ngot  %+v", n, wt != nil, exact, via, pair[0], pair[1])
						}
					}
				}
			}
		}
	}
}

// sameSetSums compares bit for bit, nil slices apart from empty ones.
func sameSetSums(a, b *SetSums) bool {
	bitsOf := func(f []float64) []uint64 {
		if f == nil {
			return nil
		}
		out := make([]uint64, len(f))
		for i, v := range f {
			out[i] = math.Float64bits(v)
		}
		return out
	}
	ab := []any{a.N, math.Float64bits(a.W), math.Float64bits(a.LogLoss), a.CalN, a.Labels,
		bitsOf(a.CalW), bitsOf(a.CalP), bitsOf(a.CalY), bitsOf(a.Scores), bitsOf(a.ScoreW), bitsOf(a.Hist), a.CurveN, bitsOf(a.CurveW)}
	bb := []any{b.N, math.Float64bits(b.W), math.Float64bits(b.LogLoss), b.CalN, b.Labels,
		bitsOf(b.CalW), bitsOf(b.CalP), bitsOf(b.CalY), bitsOf(b.Scores), bitsOf(b.ScoreW), bitsOf(b.Hist), b.CurveN, bitsOf(b.CurveW)}
	return reflect.DeepEqual(ab, bb)
}

// FuzzSetSumsGobDecode feeds arbitrary bytes to GobDecode: it must reject
// them or decode something that encodes back to the same bytes, and never
// panic or allocate beyond what the input can hold.
func FuzzSetSumsGobDecode(f *testing.F) {
	s := &SetSums{N: 2, W: 2, CalN: make([]int64, CalBins), CalW: make([]float64, CalBins), CalP: make([]float64, CalBins),
		CalY: make([]float64, CalBins), Scores: []float64{0.25, 0.5}, Labels: []bool{true, false}}
	b, _ := s.GobEncode()
	f.Add(b)
	f.Add([]byte{1})
	f.Add(append([]byte{1}, bytes.Repeat([]byte{0xff}, 80)...))
	f.Fuzz(func(t *testing.T, data []byte) {
		var got SetSums
		if got.GobDecode(data) != nil {
			return
		}
		// A version 1 buffer comes back as version 2 without curve bins.
		want := data
		if data[0] == setSumsWireV1 {
			want = append([]byte{setSumsWire}, data[1:]...)
			want = append(want, bytes.Repeat([]byte{0xff}, 16)...)
		}
		again, err := got.GobEncode()
		if err != nil || !bytes.Equal(again, want) {
			t.Fatalf("decoded %+v re-encodes to %x, not %x", got, again, want)
		}
	})
}

// TestSetSumsWireV1: sums from a worker of an earlier build, which sends
// no curve bins, decode with nil curves and pass the leader's check.
func TestSetSumsWireV1(t *testing.T) {
	r := rand.New(rand.NewPCG(53, 54))
	x, y, _, keys, beta := pathData(r, 40, 3)
	res, err := RunTask(nil, &Task{Kind: TaskEval, D: 3, Beta: beta, ClassWeights: [2]float64{1, 1}, ExactTrain: true}, x, 40, 3, y, nil, keys, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Train.CurveN) != 2*CurveBins || res.Train.CurveW != nil {
		t.Fatalf("curve bins: %d counts, weights %v", len(res.Train.CurveN), res.Train.CurveW)
	}
	b, _ := res.Train.GobEncode()
	// The version 1 form is the version 2 form without its last two
	// slices (CurveN: a length and 200 counts; CurveW: nil).
	v1 := append([]byte{setSumsWireV1}, b[1:len(b)-8*(1+2*CurveBins)-8]...)
	var got SetSums
	if err := got.GobDecode(v1); err != nil {
		t.Fatal(err)
	}
	want := *res.Train
	want.CurveN = nil
	if !sameSetSums(&got, &want) || checkCurve(&got) != nil {
		t.Fatalf("version 1 decodes to %+v", got)
	}
}
