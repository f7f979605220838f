package basket

import "slices"

// Kind names a pass.
type Kind string

// The passes.
const (
	// TaskItems counts, per item, the baskets that hold it.
	TaskItems Kind = "items"
	// TaskCount counts, per candidate itemset, the baskets that hold it.
	TaskCount Kind = "count"
)

// Task is what every shard runs in one pass.
type Task struct {
	Kind Kind `json:"kind"`
	Step int  `json:"step"`
	// Len is the candidates' length (TaskCount).
	Len int `json:"len,omitempty"`
	// Items are the frequent items, ids ascending; candidates name them
	// by position (TaskCount).
	Items []string `json:"items,omitempty"`
	// Cands are the candidate itemsets, Len positions each, flattened, in
	// lexicographic order, each strictly ascending (TaskCount).
	Cands []int32 `json:"cands,omitempty"`
}

// Result is one shard's answer to a Task. Its size is that of the shard's
// item dictionary (TaskItems) or of the candidate list (TaskCount), never
// that of the number of baskets.
type Result struct {
	Kind    Kind  `json:"kind"`
	Step    int   `json:"step"`
	Shard   int   `json:"shard"`
	Baskets int64 `json:"baskets"`
	// Items and ItemCounts are the shard's items that are in at least one
	// basket, ids ascending, and the number of baskets holding each
	// (TaskItems).
	Items      []string `json:"items,omitempty"`
	ItemCounts []int64  `json:"item_counts,omitempty"`
	// Counts is the number of baskets holding each candidate (TaskCount).
	Counts []int64 `json:"counts,omitempty"`
	// Names are the display names of Items, "" for an item without one,
	// or nil when the shard has none (TaskItems).
	Names []string `json:"names,omitempty"`
}

// RunTask runs t on shard b and returns the result, reusing dst's storage
// when dst is not nil.
func RunTask(dst *Result, t *Task, b *Baskets, shard int) (*Result, error) {
	c, err := Prepare(t)
	if err != nil {
		return nil, err
	}
	return c.Run(dst, b, shard)
}

// Prepared is a task checked, with its candidates indexed, ready to run on
// any number of shards: a worker prepares a pass's task once and runs it
// on each of its shards. It is read-only, safe for concurrent use.
type Prepared struct {
	t *Task
	// pairs says the candidates are every pair of the frequent items,
	// counted in a triangular array rather than through the trie.
	pairs bool
	tr    *trie
}

// Prepare checks t and indexes its candidates.
func Prepare(t *Task) (*Prepared, error) {
	if t == nil {
		return nil, errorf(ErrBadTask, "nil task")
	}
	p := &Prepared{t: t}
	switch t.Kind {
	case TaskItems:
	case TaskCount:
		if err := t.checkCands(); err != nil {
			return nil, err
		}
		f := len(t.Items)
		// Strictly ascending pairs in lexicographic order, as many as
		// there are pairs: every pair, in order.
		if p.pairs = t.Len == 2 && len(t.Cands) == f*(f-1); !p.pairs {
			p.tr = newTrie(t.Cands, t.Len)
		}
	default:
		return nil, errorf(ErrBadTask, "unknown task kind %q", t.Kind)
	}
	return p, nil
}

// Run runs the task on shard b, as RunTask does.
func (p *Prepared) Run(dst *Result, b *Baskets, shard int) (*Result, error) {
	if err := b.check(); err != nil {
		return nil, err
	}
	t := p.t
	if dst == nil {
		dst = &Result{}
	}
	*dst = Result{Kind: t.Kind, Step: t.Step, Shard: shard, Baskets: int64(b.Len()),
		Items: dst.Items[:0], ItemCounts: dst.ItemCounts[:0], Counts: dst.Counts[:0]}
	switch t.Kind {
	case TaskItems:
		counts := make([]int64, len(b.Items))
		for _, i := range b.Idx {
			counts[i]++
		}
		for i, c := range counts {
			if c > 0 {
				dst.Items = append(dst.Items, b.Items[i])
				dst.ItemCounts = append(dst.ItemCounts, c)
				if b.Names != nil {
					dst.Names = append(dst.Names, b.Names[b.Items[i]])
				}
			}
		}
	case TaskCount:
		dst.Counts = slices.Grow(dst.Counts, len(t.Cands)/t.Len)[:len(t.Cands)/t.Len]
		clear(dst.Counts)
		p.count(dst.Counts, b)
	}
	return dst, nil
}

// checkCands checks a TaskCount's shape, so a corrupt task cannot index
// out of range.
func (t *Task) checkCands() error {
	if t.Len < 1 || len(t.Cands)%t.Len != 0 {
		return errorf(ErrBadTask, "%d candidate entries for itemsets of %d", len(t.Cands), t.Len)
	}
	for i := 1; i < len(t.Items); i++ {
		if t.Items[i] <= t.Items[i-1] {
			return errorf(ErrBadTask, "frequent items not strictly ascending: %q after %q", t.Items[i], t.Items[i-1])
		}
	}
	for c := 0; c < len(t.Cands); c += t.Len {
		for j := c; j < c+t.Len; j++ {
			if t.Cands[j] < 0 || int(t.Cands[j]) >= len(t.Items) || j > c && t.Cands[j] <= t.Cands[j-1] {
				return errorf(ErrBadTask, "candidate %d is not an ascending itemset of the %d frequent items", c/t.Len, len(t.Items))
			}
		}
		if c > 0 && slices.Compare(t.Cands[c-t.Len:c], t.Cands[c:c+t.Len]) >= 0 {
			return errorf(ErrBadTask, "candidates not in lexicographic order at %d", c/t.Len)
		}
	}
	return nil
}

// trie holds candidate itemsets of one length: a node's children are keyed
// by item position, ascending; at the last level a child is a candidate's
// index.
type trie struct {
	item  [][]int32 // per node: child items, ascending
	child [][]int32 // per node: child node, or candidate index at the last level
}

// newTrie builds the trie of the lexicographically ordered candidates.
func newTrie(cands []int32, k int) *trie {
	tr := &trie{item: [][]int32{nil}, child: [][]int32{nil}}
	for c := 0; c < len(cands)/k; c++ {
		node := int32(0)
		for d, it := range cands[c*k : (c+1)*k] {
			items := tr.item[node]
			if n := len(items); n > 0 && items[n-1] == it {
				node = tr.child[node][n-1] // lexicographic order: a shared prefix is the last child
				continue
			}
			tr.item[node] = append(tr.item[node], it)
			if d == k-1 {
				tr.child[node] = append(tr.child[node], int32(c))
				break
			}
			next := int32(len(tr.item))
			tr.item = append(tr.item, nil)
			tr.child = append(tr.child, nil)
			tr.child[node] = append(tr.child[node], next)
			node = next
		}
	}
	return tr
}

// count adds one to every candidate that is a subset of the ascending
// positions row, walking the trie at depth d from node.
func (tr *trie) count(counts []int64, row []int32, node int32, d, k int) {
	items, child := tr.item[node], tr.child[node]
	j := 0
	for i := 0; i+k-d <= len(row) && j < len(items); i++ {
		for j < len(items) && items[j] < row[i] {
			j++
		}
		if j == len(items) {
			return
		}
		if items[j] != row[i] {
			continue
		}
		if d == k-1 {
			counts[child[j]]++
		} else {
			tr.count(counts, row[i+1:], child[j], d+1, k)
		}
		j++
	}
}

// count counts, for every candidate, the baskets of b holding it.
func (p *Prepared) count(counts []int64, b *Baskets) {
	t := p.t
	// The shard's items as positions among the frequent items (−1: not
	// frequent); both lists are ascending, so a basket's positions are too.
	pos := make([]int32, len(b.Items))
	j := 0
	for i, it := range b.Items {
		for j < len(t.Items) && t.Items[j] < it {
			j++
		}
		pos[i] = -1
		if j < len(t.Items) && t.Items[j] == it {
			pos[i] = int32(j)
		}
	}
	f := len(t.Items)
	var row []int32
	for k := 0; k < b.Len(); k++ {
		row = row[:0]
		for _, i := range b.Idx[b.Ptr[k]:b.Ptr[k+1]] {
			if q := pos[i]; q >= 0 {
				row = append(row, q)
			}
		}
		if len(row) < t.Len {
			continue
		}
		if !p.pairs {
			p.tr.count(counts, row, 0, 0, t.Len)
			continue
		}
		// Pair (a, b), a < b, is candidate a·(2f−a−1)/2 + b−a−1.
		for x, a := range row {
			base := int(a)*(2*f-int(a)-1)/2 - int(a) - 1
			for _, c := range row[x+1:] {
				counts[base+int(c)]++
			}
		}
	}
}
