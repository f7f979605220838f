package clv

import (
	"encoding/json"
	"math"
	"math/big"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
)

// TestSumExact checks that Sum is exact: values whose float64 sums depend
// on the order give the same Sum in any order, the correctly rounded
// result, and survive a JSON round trip and AddSum splits.
func TestSumExact(t *testing.T) {
	vals := []float64{1e300, 1, -1e300, 0x1p-1074, -0.5, 1e-300, 3.25, -1e16, 1e16, math.SmallestNonzeroFloat64, math.MaxFloat64, -math.MaxFloat64}
	// Exact: 1 − 0.5 + 3.25 + 1e-300 + 2·2^-1074 rounds to 3.75.
	src := rand.New(rand.NewPCG(1, 2))
	for range 50 {
		src.Shuffle(len(vals), func(i, j int) { vals[i], vals[j] = vals[j], vals[i] })
		var a, b, c Sum
		for i, v := range vals {
			a.Add(v)
			if i%2 == 0 {
				b.Add(v)
			} else {
				c.Add(v)
			}
		}
		b.AddSum(&c)
		if a.Float64() != 3.75 || b.Float64() != 3.75 {
			t.Fatalf("sums %v, %v, want 3.75", a.Float64(), b.Float64())
		}
		js, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		var d Sum
		if err := json.Unmarshal(js, &d); err != nil {
			t.Fatal(err)
		}
		d.carry()
		a.carry()
		if d.l != a.l {
			t.Fatalf("JSON %s decodes to another sum", js)
		}
	}
	var n Sum
	n.Add(-2.5)
	n.Add(0x1p-1070) // −(5·2^1069 − 1)·2^-1070
	js, _ := json.Marshal(n)
	var back Sum
	if err := json.Unmarshal(js, &back); err != nil || back.Float64() != -2.5 || string(js) != `"-9`+strings.Repeat("f", 267)+`:-1070"` {
		t.Errorf("negative sum encodes as %s, decodes to %v (%v)", js, back.Float64(), err)
	}
	var bad Sum
	bad.Add(1)
	bad.Add(math.Inf(1))
	if js, _ := json.Marshal(bad); string(js) != `"nan"` || !math.IsNaN(bad.Float64()) || bad.Finite() {
		t.Errorf("non-finite sum encodes as %s", js)
	}
	var big Sum
	big.Add(math.MaxFloat64)
	big.Add(math.MaxFloat64)
	if !math.IsInf(big.Float64(), 1) {
		t.Errorf("2·MaxFloat64 = %v", big.Float64())
	}
	for _, in := range []string{`1`, `"x:1"`, `"1:-2000"`, `"1"`} {
		var s Sum
		if err := s.UnmarshalJSON([]byte(in)); err == nil {
			t.Errorf("%s decodes", in)
		}
	}
}

// FuzzSumJSON decodes arbitrary strings as a Sum: no panic, and whatever
// decodes encodes back to a string that decodes to the same sum.
func FuzzSumJSON(f *testing.F) {
	for _, s := range []string{`"0:0"`, `"-1f:-3"`, `"nan"`, `"ffffffffffffffffffffffffffffff:1000"`, `"1:-1074"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		var s Sum
		if s.UnmarshalJSON([]byte(in)) != nil {
			return
		}
		js, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		var back Sum
		if err := json.Unmarshal(js, &back); err != nil {
			t.Fatalf("%s: re-encoded %s does not decode: %v", in, js, err)
		}
		a, b := s.Float64(), back.Float64()
		if a != b && !(math.IsNaN(a) && math.IsNaN(b)) {
			t.Fatalf("%s: %v, after a round trip %v", in, a, b)
		}
	})
}

// TestEvalSplitInvariant evaluates one pass over 40,000 generated
// customers as one shard on 1 and 4 goroutines and as 3 shards: the exact
// sums are identical.
func TestEvalSplitInvariant(t *testing.T) {
	one := generate(3, 40_000, 1)[0]
	three := generate(3, 40_000, 3)
	ev := Eval{Model: BGNBD, LogParams: []float64{-1.4, 1.4, -0.2, 0.9}}
	var want []byte
	for _, procs := range []int{1, 4} {
		prev := runtime.GOMAXPROCS(procs)
		r := evalSums(ev, one)
		runtime.GOMAXPROCS(prev)
		js, _ := json.Marshal(r)
		if want == nil {
			want = js
		} else if string(js) != string(want) {
			t.Errorf("GOMAXPROCS %d: %s, want %s", procs, js, want)
		}
	}
	var sum EvalResult
	sum.Grad = make([]Sum, 4)
	for _, s := range three {
		r := evalSums(ev, s)
		sum.LL.AddSum(&r.LL)
		for i := range sum.Grad {
			sum.Grad[i].AddSum(&r.Grad[i])
		}
	}
	if js, _ := json.Marshal(sum); string(js) != string(want) {
		t.Errorf("3 shards: %s, want %s", js, want)
	}
}

// intByLimbs is Sum.int limb by limb, as the sum's definition reads.
func intByLimbs(s *Sum) *big.Int {
	t := *s
	t.carry()
	z := big.NewInt(t.l[sumLimbs-1])
	var limb big.Int
	for i := sumLimbs - 2; i >= 0; i-- {
		z.Lsh(z, limbBits)
		z.Add(z, limb.SetInt64(t.l[i]))
	}
	return z
}

// TestSumInt holds Sum.int, which takes in only the span of non-zero
// digits two at a time, to the limb-by-limb integer, and the JSON round
// trip to the same limbs, for sums of values of every magnitude and sign.
func TestSumInt(t *testing.T) {
	src := rand.New(rand.NewPCG(3, 4))
	check := func(s *Sum) {
		t.Helper()
		if got, want := s.int(), intByLimbs(s); got.Cmp(want) != 0 {
			t.Fatalf("int %v, limb by limb %v", got, want)
		}
		js, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		var d Sum
		if err := json.Unmarshal(js, &d); err != nil {
			t.Fatal(err)
		}
		d.carry()
		c := *s
		c.carry()
		if d.l != c.l {
			t.Fatalf("JSON %s decodes to another sum", js)
		}
	}
	var zero Sum
	check(&zero)
	for range 3000 {
		var s Sum
		for range 1 + src.IntN(20) {
			v := math.Ldexp(src.Float64(), src.IntN(2098)-1074)
			if src.IntN(2) == 0 {
				v = -v
			}
			if src.IntN(4) == 0 {
				v = float64(src.IntN(1000)) - 500
			}
			s.Add(v)
		}
		check(&s)
	}
	var top Sum
	for range 8 {
		top.Add(math.MaxFloat64)
	}
	top.Add(-0x1p-1074)
	check(&top)
}
