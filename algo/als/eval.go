package als

import "strings"

// Ranking evaluation of implicit jobs. For a user u whose factor is
// trained (Count > 0), the candidates are the items with a trained factor
// that u has no training pair with; the relevant items H_u are those of
// u's held-out pairs with a positive count whose item is trained. A user
// with an empty H_u is not eligible. Among eligible users, those with
// below(evalHash(u), Fraction) are evaluated: the K candidates with the
// highest scores u·v (dot), ties to the smaller id, are u's top K; with h
// of them in H_u, precision@K = h/K, recall@K = h/|H_u| and NDCG@K =
// Σ_{hits at rank j} d_j / Σ_{j < min(K, |H_u|)} d_j, d_j = 1/log₂(j+2).

// discount holds d_j = 1/log₂(j+2) for j < MaxEvalK, as Python's
// 1/math.log2(j+2) gives them, so that no build computes them differently.
var discount = [MaxEvalK]float64{
	1.0, 0.6309297535714575, 0.5, 0.43067655807339306,
	0.38685280723454163, 0.3562071871080222, 0.3333333333333333, 0.31546487678572877,
	0.3010299956639812, 0.2890648263178879, 0.27894294565112987, 0.27023815442731974,
	0.26264953503719357, 0.2559580248098155, 0.25, 0.24465054211822604,
	0.23981246656813146, 0.23540891336663824, 0.23137821315975915, 0.227670248696953,
	0.22424382421757544, 0.22106472945750374, 0.21810429198553155, 0.21533827903669653,
	0.21274605355336318, 0.2103099178571525, 0.20801459767650948, 0.20584683246043448,
	0.2037950470905062, 0.20184908658209985, 0.2, 0.19823986317056053,
	0.1965616322328226, 0.1949590218937863, 0.19342640361727081, 0.19195872000656014,
	0.1905514124267734, 0.18920035951687003, 0.18790182470910757, 0.18665241123894338,
	0.1854490234153689, 0.18428883314870617, 0.18316925091363362, 0.18208790046993825,
	0.1810425967800402, 0.18003132665669264, 0.17905223175104137, 0.1781035935540111,
	0.17718382013555792, 0.17629143438888212, 0.17542506358195453, 0.17458343004804494,
	0.17376534287144002, 0.1729696904450771, 0.17219543379409813, 0.17144160057391347,
	0.17070727966372012, 0.16999161628691403, 0.16929380759878143, 0.1686130986895011,
	0.16794877895704194, 0.16730017881017412, 0.16666666666666666, 0.16604764621593782,
	0.16544255391905832, 0.16485085672216038, 0.16427204996205025, 0.16370565544521565,
	0.1631512196835108, 0.16260831227163416, 0.16207652439312228, 0.16155546744299637,
	0.16104477175644444, 0.1605440854340214, 0.16005307325482135, 0.15957141566993818,
	0.15909880786929415, 0.15863495891559604, 0.15817959093978226, 0.15773243839286438,
	0.1572932473495469, 0.156861774859441, 0.15643778834207153, 0.15602106502222501,
	0.15561139140249397, 0.15520856277015513, 0.1548123827357682, 0.15442266280111014,
	0.15403922195426356, 0.15366188628986424, 0.15329048865267808, 0.15292486830283214,
	0.15256487060115928, 0.15221034671324338, 0.15186115333086322, 0.1515171524096389,
	0.15117821092177644, 0.15084420062289414, 0.1505149978319906, 0.15019048322368797,
}

type evaluator struct {
	spec     EvalSpec
	seed     uint64
	tab      *Table
	prev     *Factors
	excl     []bool // candidates excluded for the current user
	rel      []bool // relevant items of the current user
	train    []int32
	relevant []int32
	scores   []float64
	top      topk
}

func newEvaluator(t *Task, tab *Table, prev *Factors) *evaluator {
	return &evaluator{
		spec: *t.Eval, seed: t.Config.Seed, tab: tab, prev: prev,
		excl: make([]bool, tab.Len()), rel: make([]bool, tab.Len()),
	}
}

// user evaluates the user of block row row, adding to sums.
func (e *evaluator) user(sums *RankSums, blk *Block, prep *Prep, row int) error {
	if e.prev.Count[row] == 0 {
		return nil
	}
	tab := e.tab
	e.train, e.relevant = e.train[:0], e.relevant[:0]
	lo, hi := int(blk.Ptr[row]), int(blk.Ptr[row+1])
	for j := lo; j < hi; {
		pos := prep.pos[j]
		v := blk.Value[j]
		k := j + 1
		for ; k < hi && prep.pos[k] == pos; k++ {
			v += blk.Value[k]
		}
		held := prep.held(j)
		j = k
		switch {
		case !(v > 0):
		case !held:
			e.train = append(e.train, pos)
		case tab.Count[pos] > 0:
			e.relevant = append(e.relevant, pos)
		}
	}
	if len(e.relevant) == 0 {
		return nil
	}
	sums.Eligible++
	if !below(evalHash(blk.IDs[row], e.seed), e.spec.Fraction) {
		return nil
	}
	for _, p := range e.train {
		e.excl[p] = true
	}
	for _, p := range e.relevant {
		e.rel[p] = true
	}
	u := e.prev.Row(row)
	e.top.reset(e.spec.K)
	e.scores = grow(e.scores, tab.Len())
	scoreAll(e.scores, u, tab.F, tab.Len())
	e.top.offerAll(e.scores, tab.Count, e.excl, tab.IDs)
	hits, dcg, idcg := 0, 0.0, 0.0
	for j, p := range e.top.pos {
		if e.rel[p] {
			hits++
			dcg += discount[j]
		}
	}
	for j := range min(e.spec.K, len(e.relevant)) {
		idcg += discount[j]
	}
	sums.Users++
	sums.Precision += float64(hits) / float64(e.spec.K)
	sums.Recall += float64(hits) / float64(len(e.relevant))
	sums.NDCG += dcg / idcg
	for _, p := range e.train {
		e.excl[p] = false
	}
	for _, p := range e.relevant {
		e.rel[p] = false
	}
	return nil
}

// topk keeps the n best (score, id) pairs offered, best first: higher
// score, then smaller id.
type topk struct {
	n     int
	pos   []int32
	score []float64
}

func (t *topk) reset(n int) {
	t.n, t.pos, t.score = n, t.pos[:0], t.score[:0]
}

// offerAll offers every row i with count[i] > 0 and !excl[i] (excl may be
// nil) with score scores[i].
func (t *topk) offerAll(scores []float64, count []int32, excl []bool, ids []string) {
	count = count[:len(scores)]
	for i, s := range scores {
		// Most rows lose to the current worst: reject them inline.
		if m := len(t.pos); m == t.n && m > 0 && s < t.score[m-1] {
			continue
		}
		if count[i] > 0 && (excl == nil || !excl[i]) {
			t.offer(int32(i), s, ids)
		}
	}
}

// offer considers row pos of ids with score s.
func (t *topk) offer(pos int32, s float64, ids []string) {
	m := len(t.pos)
	if m == t.n {
		if w := m - 1; m == 0 || !(s > t.score[w] || (s == t.score[w] && strings.Compare(ids[pos], ids[t.pos[w]]) < 0)) {
			return
		}
		m--
	} else {
		t.pos = append(t.pos, 0)
		t.score = append(t.score, 0)
	}
	// Insert at m's sorted place, shifting worse entries down.
	i := m
	for ; i > 0; i-- {
		ps, pp := t.score[i-1], t.pos[i-1]
		if ps > s || (ps == s && strings.Compare(ids[pp], ids[pos]) < 0) {
			break
		}
		t.score[i], t.pos[i] = ps, pp
	}
	t.score[i], t.pos[i] = s, pos
}
