package partition

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

// TestParseNumberBytes holds the fast path to parseNumber, bit for bit.
func TestParseNumberBytes(t *testing.T) {
	fields := []string{"", " ", "0", "-0", "+0", "-0.0", "0.232944", "-5.774249", "5.", ".5", "-.5", ".",
		"-", "+", "1e5", "1E-3", " 7 ", "7 ", "0x10", "NaN", "inf", "1_000", "1..2", "1.2.3",
		"12345678901234567890", "1234567890123456789", "9007199254740993", "9007199254740992",
		"0.0000000000000000000001", "0.00000000000000000000001", "123456789.123456789", "1,5", "٣",
		"00000000000000000001.5", "4.9406564584124654e-324", "1.7976931348623157e308", "1e400"}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		x := rng.NormFloat64() * math.Pow(10, float64(rng.IntN(30)-15))
		fields = append(fields, strconv.FormatFloat(x, 'f', rng.IntN(20)-1, 64), strconv.FormatFloat(x, 'g', -1, 64))
	}
	for _, f := range fields {
		want, wok := parseNumber(f)
		got, gok := parseNumberBytes([]byte(f))
		if wok != gok || math.Float64bits(want) != math.Float64bits(got) && !(math.IsNaN(want) && math.IsNaN(got)) {
			t.Errorf("%q: got %v %v (%x), want %v %v (%x)", f, got, gok, math.Float64bits(got), want, wok, math.Float64bits(want))
		}
	}
}

func BenchmarkParseNumberBytes(b *testing.B) {
	f := []byte("-1.508625")
	var s float64
	for b.Loop() {
		v, _ := parseNumberBytes(f)
		s += v
	}
	floatSink = s
}

var floatSink float64
