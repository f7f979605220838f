package basket

import (
	"slices"
	"sort"
)

// Offerer ranks offers for many baskets: Recommend's offers, with the rules
// indexed by their antecedent's first item so that a basket looks only at
// the rules that can fire for it. Build it once per model; it is read-only,
// safe for concurrent use with one Scratch per goroutine.
type Offerer struct {
	m     *Model
	items []string // the frequent items, ascending
	// rules[first[i]:first[i+1]] are the rules whose antecedent starts
	// with item i, by index in m.Rules.
	first []int32
	rules []int32
	ante  [][]int32 // each rule's antecedent, as item positions
	cons  [][]int32 // each rule's consequent, as item positions
}

// NewOfferer indexes m's rules.
func NewOfferer(m *Model) *Offerer {
	o := &Offerer{m: m}
	for _, is := range m.Itemsets {
		if len(is.Items) == 1 {
			o.items = append(o.items, is.Items[0])
		}
	}
	slices.Sort(o.items)
	pos := func(ids []string) []int32 {
		out := make([]int32, len(ids))
		for i, id := range ids {
			p, _ := slices.BinarySearch(o.items, id)
			out[i] = int32(p)
		}
		return out
	}
	o.ante, o.cons = make([][]int32, len(m.Rules)), make([][]int32, len(m.Rules))
	count := make([]int32, len(o.items)+1)
	for ri, r := range m.Rules {
		o.ante[ri], o.cons[ri] = pos(r.Antecedent), pos(r.Consequent)
		count[o.ante[ri][0]+1]++
	}
	for i := 1; i < len(count); i++ {
		count[i] += count[i-1]
	}
	o.first = slices.Clone(count)
	o.rules = make([]int32, len(m.Rules))
	for ri := range m.Rules { // by rule index within each first item
		a := o.ante[ri][0]
		o.rules[count[a]] = int32(ri)
		count[a]++
	}
	return o
}

// Index returns the position of a frequent item.
func (o *Offerer) Index(item string) (int, bool) {
	return slices.BinarySearch(o.items, item)
}

// Scratch is one goroutine's working memory for Offers.
type Scratch struct {
	in, seen []bool
	best     []Offer
	touched  []int32
	have     []int32
}

// Offers returns what Recommend returns for the items of have the model
// knows (items it does not know are ignored: a customer's history holds
// items too rare to be in a rule), appending to dst[:0].
func (o *Offerer) Offers(dst []Offer, have []string, n int, s *Scratch) []Offer {
	if len(s.in) != len(o.items) {
		*s = Scratch{in: make([]bool, len(o.items)), seen: make([]bool, len(o.items)), best: make([]Offer, len(o.items))}
	}
	s.have = s.have[:0]
	for _, it := range have {
		if p, ok := o.Index(it); ok && !s.in[p] {
			s.in[p] = true
			s.have = append(s.have, int32(p))
		}
	}
	s.touched = s.touched[:0]
	for _, a := range s.have {
		for _, ri := range o.rules[o.first[a]:o.first[a+1]] {
			fires := true
			for _, x := range o.ante[ri][1:] {
				fires = fires && s.in[x]
			}
			if !fires {
				continue
			}
			r := &o.m.Rules[ri]
			for _, c := range o.cons[ri] {
				if s.in[c] {
					continue
				}
				off := Offer{Item: o.items[c], Confidence: r.Confidence, Lift: r.Lift, Rule: int(ri)}
				if !s.seen[c] {
					s.seen[c] = true
					s.touched = append(s.touched, c)
					s.best[c] = off
				} else if better(off, s.best[c]) {
					s.best[c] = off
				}
			}
		}
	}
	dst = dst[:0]
	for _, c := range s.touched {
		dst = append(dst, s.best[c])
		s.seen[c] = false
	}
	for _, p := range s.have {
		s.in[p] = false
	}
	sort.Slice(dst, func(i, j int) bool { return better(dst[i], dst[j]) })
	return dst[:min(n, len(dst))]
}
