package basket

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/mathcrm/mathcrm/internal/describe"
	"github.com/mathcrm/mathcrm/internal/proto"
)

// TopRules is how many rules a description lists.
const TopRules = 20

// Export is the document `model export --format json` writes for a basket
// model.
type Export struct {
	Kind     string       `json:"kind"`
	Baskets  int64        `json:"baskets"`
	Itemsets []Itemset    `json:"itemsets"`
	Rules    []ExportRule `json:"rules"`
	// Names are the display names of the frequent items that have one.
	Names map[string]string `json:"names,omitempty"`
}

// ExportRule is a rule in an export; Conviction is null when infinite (the
// rule always holds).
type ExportRule struct {
	Antecedent []string `json:"antecedent"`
	Consequent []string `json:"consequent"`
	Support    float64  `json:"support"`
	Confidence float64  `json:"confidence"`
	Lift       float64  `json:"lift"`
	Leverage   float64  `json:"leverage"`
	Conviction *float64 `json:"conviction"`
}

// Export returns the exported document of m.
func (m *Mined) Export() Export {
	out := Export{Kind: Name, Baskets: m.Baskets, Itemsets: m.Itemsets, Rules: make([]ExportRule, len(m.Rules)), Names: m.Names}
	if out.Itemsets == nil {
		out.Itemsets = []Itemset{}
	}
	for i, r := range m.Rules {
		j := r.export()
		out.Rules[i] = ExportRule{Antecedent: j.Antecedent, Consequent: j.Consequent, Support: j.Support,
			Confidence: j.Confidence, Lift: j.Lift, Leverage: j.Leverage, Conviction: j.Conviction}
	}
	return out
}

// ByLift returns the rules by lift, then confidence, descending, then by
// antecedent and consequent: the strongest associations first.
func (m *Mined) ByLift() []Rule {
	rules := slices.Clone(m.Rules)
	slices.SortStableFunc(rules, func(x, y Rule) int {
		return cmp.Or(cmp.Compare(y.Lift, x.Lift), cmp.Compare(y.Confidence, x.Confidence),
			slices.Compare(x.Antecedent, y.Antecedent), slices.Compare(x.Consequent, y.Consequent))
	})
	return rules
}

// RuleText writes a rule as "A, B → C".
func RuleText(r Rule) string {
	return strings.Join(r.Antecedent, ", ") + " → " + strings.Join(r.Consequent, ", ")
}

// Label is an item's id followed by its name, when the model has one.
func (m *Model) Label(item string) string {
	if name := m.Names[item]; name != "" {
		return item + " " + name
	}
	return item
}

// RuleLabel writes a rule as RuleText does, each item with its name.
func (m *Model) RuleLabel(r Rule) string {
	if m.Names == nil {
		return RuleText(r)
	}
	label := func(items []string) string {
		out := make([]string, len(items))
		for i, it := range items {
			out[i] = m.Label(it)
		}
		return strings.Join(out, ", ")
	}
	return label(r.Antecedent) + " → " + label(r.Consequent)
}

// Describe describes a basket model: the itemsets by length and the
// strongest rules by lift.
func (MinedKind) Describe(d *proto.ModelDetail, model any) (*describe.Description, error) {
	m, ok := model.(*Mined)
	if !ok {
		return nil, fmt.Errorf("%w: model %s has no basket part", describe.ErrKind, d.Model.ID)
	}
	what := "baskets"
	switch m.Source.Basket {
	case BasketUser:
		what = "baskets (one per user)"
	case BasketInvoice:
		what = "baskets (one per invoice)"
	case BasketCustomer:
		what = "baskets (one per customer and day)"
	}
	desc := &describe.Description{
		Title:    fmt.Sprintf("model %s: market baskets, min support %g, min confidence %g, up to %d items", d.Model.ID, m.Config.MinSupport, m.Config.MinConfidence, m.Config.MaxLen),
		Subtitle: describe.Source(d, m.Dataset, m.Version),
		Figures: []describe.Figure{
			{Label: what, Value: describe.Count(m.Baskets)}, {Label: "min count", Value: describe.Count(m.MinCount)},
			{Label: "frequent itemsets", Value: fmt.Sprint(len(m.Itemsets))}, {Label: "rules", Value: fmt.Sprint(len(m.Rules))},
		},
	}
	if m.Source.ExcludeReturns {
		desc.Notes = append(desc.Notes, "returns left out")
	}
	var byLen []int64
	for _, is := range m.Itemsets {
		for len(byLen) < len(is.Items) {
			byLen = append(byLen, 0)
		}
		byLen[len(is.Items)-1]++
	}
	sets := describe.Table{Title: "Frequent itemsets by length", Columns: []string{"items", "itemsets"}}
	var bars []describe.Bar
	for k, n := range byLen {
		sets.Rows = append(sets.Rows, []string{fmt.Sprint(k + 1), describe.Count(n)})
		bars = append(bars, describe.Bar{Label: fmt.Sprintf("%d items", k+1), Value: float64(n)})
	}
	desc.Tables = append(desc.Tables, sets)
	if len(bars) > 0 {
		desc.Charts = append(desc.Charts, describe.Chart{Title: "Frequent itemsets by length", Kind: describe.ChartBars, XLabel: "items", YLabel: "itemsets", Bars: bars})
	}
	top := describe.Table{Title: fmt.Sprintf("Top rules by lift (%d of %d)", min(TopRules, len(m.Rules)), len(m.Rules)),
		Columns: []string{"rule", "support", "confidence", "lift", "leverage", "conviction", "baskets"}}
	labels := m.Model()
	for _, r := range m.ByLift()[:min(TopRules, len(m.Rules))] {
		conv := "∞"
		if !math.IsInf(r.Conviction, 1) {
			conv = describe.Num(r.Conviction)
		}
		top.Rows = append(top.Rows, []string{labels.RuleLabel(r), describe.Num(r.Support), describe.Num(r.Confidence),
			describe.Num(r.Lift), describe.Num(r.Leverage), conv, describe.Count(r.Count)})
	}
	desc.Tables = append(desc.Tables, top)
	return desc, nil
}
