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
// histogram, weighted or not, with curve bins or not, empty sets) come back from gob and from a cluster blob with every
// bit and every nil slice as they went in.
func TestSetSumsGobRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(51, 52))
	for _, n := range []int{0, 1, 17, 600} {
		x, y, w, keys, beta := pathData(r, n, 3)
		for _, wt := range [][]float64{nil, w} {
			for k := range 4 {
				exact := k%2 == 1
				task := &Task{Kind: TaskEval, D: 3, Beta: beta, ClassWeights: [2]float64{1, 1}, Holdout: 0.3,
					ExactTrain: exact, ExactHoldout: !exact, Curves: k >= 2}
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
		again, err := got.GobEncode()
		if err != nil || !bytes.Equal(again, data) {
			t.Fatalf("decoded %+v re-encodes to %x, not %x", got, again, data)
		}
	})
}

// TestSetSumsWireV1: an eval task that does not ask for curve bins (from
// a leader of an earlier build) gets sums without them, written as
// version 1, the form that leader reads; with them, the version 2 form is
// the version 1 form followed by the curve bins. Sums without curve bins
// (from a worker of an earlier build) pass the leader's check.
func TestSetSumsWireV1(t *testing.T) {
	r := rand.New(rand.NewPCG(53, 54))
	x, y, _, keys, beta := pathData(r, 40, 3)
	task := &Task{Kind: TaskEval, D: 3, Beta: beta, ClassWeights: [2]float64{1, 1}, ExactTrain: true}
	old, err := RunTask(nil, task, x, 40, 3, y, nil, keys, 0)
	if err != nil {
		t.Fatal(err)
	}
	task.Curves = true
	res, err := RunTask(nil, task, x, 40, 3, y, nil, keys, 0)
	if err != nil {
		t.Fatal(err)
	}
	if old.Train.CurveN != nil || len(res.Train.CurveN) != 2*CurveBins || res.Train.CurveW != nil {
		t.Fatalf("curve bins: %d counts unasked, %d asked, weights %v", len(old.Train.CurveN), len(res.Train.CurveN), res.Train.CurveW)
	}
	v1, _ := old.Train.GobEncode()
	v2, _ := res.Train.GobEncode()
	if v1[0] != setSumsWireV1 || v2[0] != setSumsWire || !bytes.Equal(v1[1:], v2[1:len(v1)]) || len(v2) != len(v1)+8*(1+2*CurveBins)+8 {
		t.Fatalf("version 1 form of %d bytes, version 2 of %d", len(v1), len(v2))
	}
	var got SetSums
	if err := got.GobDecode(v1); err != nil {
		t.Fatal(err)
	}
	want := *res.Train
	want.CurveN = nil
	if !sameSetSums(&got, &want) || checkCurve(&got) != nil {
		t.Fatalf("version 1 decodes to %+v", got)
	}
	// A version 2 buffer without curve counts is malformed.
	bad := append([]byte{setSumsWire}, v1[1:]...)
	if got.GobDecode(append(bad, bytes.Repeat([]byte{0xff}, 16)...)) == nil {
		t.Fatal("version 2 without curve counts decodes")
	}
}
