package clv

import (
	"math"
	"math/big"
	"math/bits"
	"strconv"
	"strings"
)

// Sum is an exact sum of float64 values: a fixed-point accumulator
// covering every finite float64 (Kulisch's long accumulator), so the total
// does not depend on the order of the additions. A shard sums its
// customers' terms exactly and the leader adds the shards' Sums exactly;
// rounding happens once, in Float64, so any sharding of the same
// customers gives the same bits.
//
// The zero Sum is 0. It encodes to JSON as a string, "m:e" (the value
// m·2^e, m a signed hexadecimal integer) or "nan" once a non-finite value
// was added.
type Sum struct {
	l   [sumLimbs]int64
	n   int32 // additions since the last carry
	bad bool  // a NaN or ±Inf was added
}

const (
	limbBits = 32
	// sumLimbs covers bit positions 0 … 2098 above 2^-1074 (the
	// subnormal unit) with 32-bit limbs, plus one limb for carries and
	// the sign.
	sumLimbs = 67
	minExp   = -1074
	// carryEvery bounds the additions between carries: each adds less
	// than 2^32 to a limb, so limbs stay below 2^62.
	carryEvery = 1 << 30
)

// Add adds x exactly.
func (s *Sum) Add(x float64) {
	if x == 0 {
		return
	}
	if math.IsNaN(x) || math.IsInf(x, 0) {
		s.bad = true
		return
	}
	b := math.Float64bits(x)
	e := int(b >> 52 & 0x7ff)
	m := b & (1<<52 - 1)
	if e == 0 {
		e = 1 // subnormal
	} else {
		m |= 1 << 52
	}
	// x = ±m·2^(e−1075): bit position e−1 above 2^-1074.
	p := e - 1
	i, off := p/limbBits, uint(p%limbBits)
	lo, hi := m<<off, m>>(64-off) // off = 0 gives hi = 0
	v0, v1, v2 := int64(lo&0xffffffff), int64(lo>>32), int64(hi)
	if b>>63 != 0 {
		v0, v1, v2 = -v0, -v1, -v2
	}
	s.l[i] += v0
	s.l[i+1] += v1
	s.l[i+2] += v2
	if s.n++; s.n == carryEvery {
		s.carry()
	}
}

// AddSum adds o exactly.
func (s *Sum) AddSum(o *Sum) {
	s.carry()
	t := *o
	t.carry()
	for i := range s.l {
		s.l[i] += t.l[i]
	}
	s.bad = s.bad || t.bad
	s.carry()
}

// carry brings every limb but the top one into [0, 2^32).
func (s *Sum) carry() {
	for i := 0; i < sumLimbs-1; i++ {
		c := s.l[i] >> limbBits // floor
		s.l[i] -= c << limbBits
		s.l[i+1] += c
	}
	s.n = 0
}

// Finite reports whether only finite values were added.
func (s *Sum) Finite() bool { return !s.bad }

// int returns the sum as an integer multiple of 2^-1074.
func (s *Sum) int() *big.Int {
	t := *s
	t.carry()
	// After the carry every limb but the top one is a digit in [0, 2^32):
	// only the span from the lowest non-zero digit up needs big
	// arithmetic, two digits at a time.
	lo := 0
	for lo < sumLimbs-1 && t.l[lo] == 0 {
		lo++
	}
	z := big.NewInt(t.l[sumLimbs-1])
	hi := sumLimbs - 2 // the next digit to take in
	if z.Sign() == 0 {
		for hi >= lo && t.l[hi] == 0 {
			hi--
		}
		if hi < lo {
			return z
		}
		z.SetInt64(t.l[hi])
		hi--
	}
	var w big.Int
	i := hi
	for ; i > lo; i -= 2 {
		z.Lsh(z, 2*limbBits)
		z.Add(z, w.SetUint64(uint64(t.l[i])<<limbBits|uint64(t.l[i-1])))
	}
	if i == lo {
		z.Lsh(z, limbBits)
		z.Add(z, w.SetInt64(t.l[lo]))
	}
	return z.Lsh(z, uint(limbBits*lo))
}

// Float64 returns the sum rounded to the nearest float64 (±Inf beyond
// the range), or NaN if a non-finite value was added.
func (s *Sum) Float64() float64 {
	if s.bad {
		return math.NaN()
	}
	f := new(big.Float).SetInt(s.int())
	f.SetMantExp(f, minExp)
	v, _ := f.Float64()
	return v
}

// MarshalJSON encodes s as "m:e" or "nan".
func (s Sum) MarshalJSON() ([]byte, error) {
	if s.bad {
		return []byte(`"nan"`), nil
	}
	z := s.int()
	e := minExp
	if z.Sign() == 0 {
		e = 0
	} else {
		tz := z.TrailingZeroBits()
		z.Rsh(z, tz)
		e += int(tz)
	}
	return []byte(`"` + z.Text(16) + ":" + strconv.Itoa(e) + `"`), nil
}

// UnmarshalJSON decodes what MarshalJSON encodes.
func (s *Sum) UnmarshalJSON(b []byte) error {
	str, err := strconv.Unquote(string(b))
	if err != nil {
		return errorf(ErrBadResult, "sum %.40s is not a JSON string", b)
	}
	*s = Sum{}
	if str == "nan" {
		s.bad = true
		return nil
	}
	ms, es, ok := strings.Cut(str, ":")
	z, okz := new(big.Int).SetString(ms, 16)
	e, erre := strconv.Atoi(es)
	if !ok || !okz || erre != nil || e < minExp || e > 1100 {
		return errorf(ErrBadResult, "sum %.40q is not m:e", str)
	}
	// The magnitude's bits, from bit e−minExp up, into the limbs; the
	// sign after.
	shift := e - minExp
	neg := z.Sign() < 0
	if neg {
		z.Neg(z)
	}
	if z.Sign() != 0 && z.BitLen()+shift > limbBits*(sumLimbs-1)+30 {
		return errorf(ErrBadResult, "sum %.40q is out of range", str)
	}
	for j, w := range z.Bits() {
		for h := 0; h < bits.UintSize; h += limbBits {
			d := uint64(w) >> h & (1<<limbBits - 1)
			if d == 0 {
				continue
			}
			q := shift + j*bits.UintSize + h
			i, v := q/limbBits, d<<(q%limbBits)
			s.l[i] += int64(v & (1<<limbBits - 1))
			if v>>limbBits != 0 { // then i+1 < sumLimbs: the range test above
				s.l[i+1] += int64(v >> limbBits)
			}
		}
	}
	if neg {
		for i := range s.l {
			s.l[i] = -s.l[i]
		}
		s.carry()
	}
	return nil
}
