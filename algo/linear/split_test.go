package linear

import (
	"math"
	"testing"
)

// The values were computed by key_hash in testdata/golden/make_golden.py,
// an independent implementation of the documented hash; they must never
// change, since they decide which rows every model was trained on.
func TestKeyHashPinned(t *testing.T) {
	tests := []struct {
		key  string
		seed uint64
		want uint64
	}{
		{"", 0, 0xc3817c016ba4ff30},
		{"a", 0, 0x5f29c2aadd9b8527},
		{"7590-VHVEG", 0, 0x99c148a665e9d8eb},
		{"7590-VHVEG", 11, 0xa4c2b570ddef0129},
		{"0", 7, 0xeba89febf305430a},
		{"customer-42", 123456789, 0x9bdef7b8aa065aeb},
	}
	for _, tc := range tests {
		if got := KeyHash(tc.key, tc.seed); got != tc.want {
			t.Errorf("KeyHash(%q, %d) = %#x, want %#x", tc.key, tc.seed, got, tc.want)
		}
	}
	// 0x99c148a665e9d8eb mod 10⁶ = 726059.
	if IsHoldout("7590-VHVEG", 0.726059, 0) || !IsHoldout("7590-VHVEG", 0.72606, 0) {
		t.Error("IsHoldout does not compare (h mod 10⁶)/10⁶ < fraction")
	}
}

func TestHoldoutFraction(t *testing.T) {
	keys := make([]string, 100_000)
	for i := range keys {
		keys[i] = "cust-" + itoa(i)
	}
	for _, f := range []float64{0, 0.01, 0.2, 0.5} {
		mask := HoldoutMask(nil, keys, f, 3)
		n := 0
		for _, h := range mask {
			if h {
				n++
			}
		}
		got := float64(n) / float64(len(keys))
		if sd := math.Sqrt(f * (1 - f) / float64(len(keys))); math.Abs(got-f) > 5*sd+1e-12 {
			t.Errorf("fraction %v: held out %v", f, got)
		}
	}
	// Another seed gives another set.
	a, b := HoldoutMask(nil, keys, 0.5, 1), HoldoutMask(nil, keys, 0.5, 2)
	same := 0
	for i := range a {
		if a[i] == b[i] {
			same++
		}
	}
	if same > len(keys)*52/100 {
		t.Errorf("seeds 1 and 2 agree on %d of %d rows", same, len(keys))
	}
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}
