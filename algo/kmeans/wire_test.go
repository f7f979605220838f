package kmeans

import (
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/mathcrm/mathcrm/algo/job"
	"github.com/mathcrm/mathcrm/internal/proto"
)

// filledResult sets every field of a Result, by reflection, so that a field
// added to Result and forgotten by the binary form fails the tests below.
func filledResult(t *testing.T, rng *rand.Rand) *Result {
	t.Helper()
	r := &Result{}
	v := reflect.ValueOf(r).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		switch f.Kind() {
		case reflect.String:
			f.SetString(string(TaskLloyd))
		case reflect.Int, reflect.Int64:
			f.SetInt(rng.Int64N(1<<40) - 1<<39)
		case reflect.Float64:
			f.SetFloat(rng.NormFloat64() * 1e6)
		case reflect.Slice:
			n := 1 + rng.IntN(40)
			s := reflect.MakeSlice(f.Type(), n, n)
			for j := range n {
				switch f.Type().Elem().Kind() {
				case reflect.Float64:
					s.Index(j).SetFloat(rng.NormFloat64() * math.Pow(10, float64(rng.IntN(40)-20)))
				case reflect.Int, reflect.Int64:
					s.Index(j).SetInt(rng.Int64() - math.MaxInt64/2)
				default:
					t.Fatalf("Result.%s: a slice of %s, which the test does not fill", v.Type().Field(i).Name, f.Type().Elem())
				}
			}
			f.Set(s)
		default:
			t.Fatalf("Result.%s: a %s, which the test does not fill", v.Type().Field(i).Name, f.Kind())
		}
	}
	return r
}

// TestWireRoundTrip: a partial sent in binary form and one sent in
// MessagePack read back as the same Result, equal to the one sent.
func TestWireRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 50 {
		in := filledResult(t, rng)
		in.Sums[0] = math.Copysign(0, -1)
		in.Keys[0] = math.Inf(-1)
		var got [2]*Result
		for i, wire := range []bool{false, true} {
			p := &proto.Partial{Shard: 0, WireOK: wire}
			if err := job.Encode(p, Name, in); err != nil {
				t.Fatal(err)
			}
			if wire != (p.Payload[0] == 0xc1) {
				t.Fatalf("WireOK %v: payload starts with %#x", wire, p.Payload[0])
			}
			out, err := job.Decode[Result](Name, []*proto.Partial{p})
			if err != nil {
				t.Fatal(err)
			}
			got[i] = out[0]
		}
		if !reflect.DeepEqual(got[0], got[1]) || !reflect.DeepEqual(got[1], in) {
			t.Fatalf("binary form %+v\nMessagePack %+v\nsent %+v", got[1], got[0], in)
		}
		if math.Float64bits(got[1].Sums[0]) != math.Float64bits(in.Sums[0]) {
			t.Fatal("-0 lost its sign")
		}
	}
	// Empty slices read back as nil, as MessagePack's omitted ones do.
	in := &Result{Kind: TaskFinal, Counts: []int64{}, Sums: []float64{}}
	var r Result
	if err := r.UnmarshalWire(in.AppendWire(nil)); err != nil || r.Counts != nil || r.Sums != nil || r.Kind != TaskFinal {
		t.Fatalf("empty slices: %+v, %v", r, err)
	}
}

// TestWireMalformed: every truncation, and random bytes, fail without a
// panic and without allocating what a forged length asks.
func TestWireMalformed(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	b := filledResult(t, rng).AppendWire(nil)
	for n := range len(b) {
		var r Result
		if err := r.UnmarshalWire(b[:n]); err == nil {
			t.Fatalf("a result cut at %d of %d bytes read", n, len(b))
		}
	}
	var r Result
	if err := r.UnmarshalWire(append(b, 0)); err == nil {
		t.Fatal("a result with a byte too many read")
	}
	huge := append([]byte(nil), b[:8+len(TaskLloyd)+32]...)
	huge = append(huge, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f)
	if err := r.UnmarshalWire(huge); err == nil {
		t.Fatal("a forged slice length read")
	}
	for range 2000 {
		junk := make([]byte, rng.IntN(200))
		for i := range junk {
			junk[i] = byte(rng.Uint32())
		}
		_ = r.UnmarshalWire(junk)
	}
}
