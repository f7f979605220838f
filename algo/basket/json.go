package basket

import (
	"encoding/json"
	"math"
)

// ruleJSON is a Rule in JSON, which has no infinity: a conviction of +Inf
// (a rule that always holds) is null, as pandas writes mlxtend's.
type ruleJSON struct {
	Antecedent []string `json:"antecedent"`
	Consequent []string `json:"consequent"`
	Count      int64    `json:"count"`
	Support    float64  `json:"support"`
	Confidence float64  `json:"confidence"`
	Lift       float64  `json:"lift"`
	Leverage   float64  `json:"leverage"`
	Conviction *float64 `json:"conviction"`
}

// MarshalJSON writes an infinite conviction as null.
func (r Rule) MarshalJSON() ([]byte, error) {
	j := r.export()
	return json.Marshal(j)
}

func (r Rule) export() ruleJSON {
	j := ruleJSON{Antecedent: r.Antecedent, Consequent: r.Consequent, Count: r.Count, Support: r.Support,
		Confidence: r.Confidence, Lift: r.Lift, Leverage: r.Leverage}
	if !math.IsInf(r.Conviction, 1) {
		c := r.Conviction
		j.Conviction = &c
	}
	return j
}

// UnmarshalJSON reads a null conviction as +Inf.
func (r *Rule) UnmarshalJSON(b []byte) error {
	var j ruleJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*r = Rule{Antecedent: j.Antecedent, Consequent: j.Consequent, Count: j.Count, Support: j.Support,
		Confidence: j.Confidence, Lift: j.Lift, Leverage: j.Leverage, Conviction: math.Inf(1)}
	if j.Conviction != nil {
		r.Conviction = *j.Conviction
	}
	return nil
}
