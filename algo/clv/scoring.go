package clv

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/mathcrm/mathcrm/algo/job"
	"github.com/mathcrm/mathcrm/algo/score"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/internal/scoreset"
)

// DefaultDiscountRate is the monthly discount rate of CLV when a scoring
// job gives none (lifetimes' default).
const DefaultDiscountRate = 0.01

// DefaultHorizon is a scoring job's horizon when it gives none: one year
// in the model's time unit.
func DefaultHorizon(unit string) float64 {
	switch unit {
	case Day:
		return 365
	case Month:
		return 12
	}
	return 52
}

// ScoreConfigOf is the scoring configuration of a horizon (in the model's
// time units) and a monthly discount rate: expected purchases over the
// horizon, and CLV over the horizon's whole number of months (at least
// one), a month being lifetimes' 30 days, 4.345 weeks or 1 month.
func ScoreConfigOf(unit string, horizon, rate float64) ScoreConfig {
	months := int(math.Round(horizon / monthUnits(unit)))
	return ScoreConfig{Horizon: horizon, Value: ValueConfig{Months: min(max(months, 1), 1200), Rate: rate}}
}

// Input is a transactions dataset; the model reads no named column.
func (Kind) Input(any) (string, []string) { return proto.KindTransactions, nil }

// ValueColumns are the columns of a values score set.
var ValueColumns = []scoreset.Column{
	{Name: "p_alive", Type: scoreset.Float}, {Name: "expected_purchases", Type: scoreset.Float},
	{Name: "expected_spend", Type: scoreset.Float}, {Name: "clv", Type: scoreset.Float},
	{Name: "value_tier", Type: scoreset.String},
}

// Output is a values score set.
func (Kind) Output(any) (string, []scoreset.Column) { return proto.ScoresValues, ValueColumns }

// Tune fills in the horizon and the discount rate left out, and checks
// them with the model.
func (Kind) Tune(model any, p *proto.ScoreSpec) error {
	v, ok := model.(*Value)
	if !ok {
		return fmt.Errorf("clv: not a customer-value model")
	}
	if p.Horizon == nil {
		p.Horizon = new(DefaultHorizon(v.TimeUnit))
	}
	if p.DiscountRate == nil {
		p.DiscountRate = new(float64(DefaultDiscountRate))
	}
	if err := ScoreConfigOf(v.TimeUnit, *p.Horizon, *p.DiscountRate).Validate(); err != nil {
		return job.Invalid("%v", err)
	}
	return nil
}

// shardScores are one shard's customers and their scores.
type shardScores struct {
	keys     []string
	scores   []Scores
	unscored []string // customers with an infinite expected spend
	clvs     []float64
}

// scoresOf scores a shard's customers, once per worker, model and
// configuration however many passes read them.
func scoresOf(ctx context.Context, sh job.Shard, model any, t *score.Task) (*shardScores, error) {
	v, ok := model.(*Value)
	if !ok {
		return nil, fmt.Errorf("clv: not a customer-value model")
	}
	if t.Horizon == nil || t.DiscountRate == nil {
		return nil, fmt.Errorf("clv: a scoring task without horizon or discount rate")
	}
	m, err := v.Fit()
	if err != nil {
		return nil, err
	}
	sc := ScoreConfigOf(v.TimeUnit, *t.Horizon, *t.DiscountRate)
	ref := sh.Ref()
	conf := t.Model.Object + "@" + t.Model.SHA256 + "|" +
		strconv.FormatFloat(sc.Horizon, 'g', -1, 64) + "|" + strconv.FormatFloat(sc.Value.Rate, 'g', -1, 64)
	got, err := sh.Cached("clv.scores|"+ref.Object+"@"+ref.SHA256+"|"+conf, func() (any, int64, error) {
		s, err := summaries(ctx, sh, Config{CalibrationEnd: m.Config.CalibrationEnd, TimeUnit: v.TimeUnit})
		if err != nil {
			return nil, 0, err
		}
		// One table of the (x, T) terms for the worker's shards.
		table, err := sh.Cached("clv.terms|"+conf, func() (any, int64, error) {
			return newTermsTable(), termsTableCap * 64, nil
		})
		if err != nil {
			return nil, 0, err
		}
		keys, out, unscored, err := scoreShard(m, s, sc, table.(*termsTable))
		if err != nil {
			return nil, 0, err
		}
		ss := &shardScores{keys: keys, scores: out, unscored: unscored, clvs: make([]float64, len(out))}
		for i, r := range out {
			ss.clvs[i] = r.CLV
		}
		return ss, int64(len(out)) * 48, nil
	})
	if err != nil {
		return nil, err
	}
	return got.(*shardScores), nil
}

// Search starts the search for the value tier cuts.
func (Kind) Search(any, *proto.ScoreSpec) (score.Search, error) { return &tierSearch{}, nil }

// SearchShard answers one pass of the tier search from the shard's CLVs.
func (Kind) SearchShard(ctx context.Context, sh job.Shard, model any, t *score.Task) (json.RawMessage, error) {
	ss, err := scoresOf(ctx, sh, model, t)
	if err != nil {
		return nil, err
	}
	var tt TierTask
	if err := json.Unmarshal(t.Search, &tt); err != nil {
		return nil, fmt.Errorf("clv: tier task: %w", err)
	}
	a, err := RunTierTask(&tt, ss.clvs)
	if err != nil {
		return nil, err
	}
	return json.Marshal(a)
}

// Score writes every customer's scores and value tier.
func (Kind) Score(ctx context.Context, sh job.Shard, model any, t *score.Task, sp *score.Partial) (*scoreset.Table, func(), error) {
	ss, err := scoresOf(ctx, sh, model, t)
	if err != nil {
		return nil, nil, err
	}
	tiers, err := unmarshalTiers(t.Found)
	if err != nil {
		return nil, nil, err
	}
	n := len(ss.keys)
	tab := scoreset.NewTable(t.Key, ValueColumns, n)
	tab.Keys = ss.keys // read only: the table is encoded and dropped
	tab.Unscored = ss.unscored
	sp.Tiers = []proto.ValueTier{{Tier: "A", Min: math.Inf(1), Max: math.Inf(-1)},
		{Tier: "B", Min: math.Inf(1), Max: math.Inf(-1)}, {Tier: "C", Min: math.Inf(1), Max: math.Inf(-1)}}
	for _, r := range ss.scores {
		tier := tiers.Tier(r.CLV)
		tab.Floats[0] = append(tab.Floats[0], r.PAlive)
		tab.Floats[1] = append(tab.Floats[1], r.ExpectedPurchases)
		tab.Floats[2] = append(tab.Floats[2], r.ExpectedSpend)
		tab.Floats[3] = append(tab.Floats[3], r.CLV)
		tab.Strings[4] = append(tab.Strings[4], tierNames[tier-'A'])
		vt := &sp.Tiers[tier-'A']
		vt.Rows++
		vt.Sum += r.CLV
		vt.Min, vt.Max = min(vt.Min, r.CLV), max(vt.Max, r.CLV)
		sp.Values.Add(r.CLV)
	}
	sp.Scored, sp.Unscored = int64(n), int64(len(ss.unscored))
	return tab, nil, nil
}

var tierNames = []string{"A", "B", "C"}

// tierSearch is the TierSearch as the scoring job drives it.
type tierSearch struct{ s TierSearch }

func (ts *tierSearch) Next() (json.RawMessage, bool) {
	t, done := ts.s.Next()
	if done {
		return nil, true
	}
	b, _ := json.Marshal(t) // a TierTask always encodes
	return b, false
}

func (ts *tierSearch) Absorb(parts []json.RawMessage) error {
	answers := make([]*TierAnswer, len(parts))
	for i, p := range parts {
		answers[i] = new(TierAnswer)
		if err := json.Unmarshal(p, answers[i]); err != nil {
			return fmt.Errorf("clv: shard %d's tier answer: %w", i, err)
		}
	}
	return ts.s.Absorb(answers)
}

func (ts *tierSearch) Found() (json.RawMessage, error) {
	t, err := ts.s.Tiers()
	if err != nil {
		return nil, err
	}
	return marshalTiers(t)
}

// Summarize adds the share of the total CLV the top fifth holds.
func (ts *tierSearch) Summarize(sum *proto.ScoreSummary) {
	rows, share := ts.s.TopShare()
	sum.TopShare = &proto.TopShare{Fraction: TopFraction, Rows: rows, Share: share}
}

func (ts *tierSearch) MarshalJSON() ([]byte, error) { return json.Marshal(&ts.s) }
func (ts *tierSearch) UnmarshalJSON(b []byte) error { return json.Unmarshal(b, &ts.s) }

// scoreShard scores s's customers as m.Score does, leaving out, as
// unscored, those whose expected spend is infinite (ErrNoSpend): keys and
// out are the scored customers, in s's order. table, when not nil, is
// shared with the other shards scored with the same model and config.
func scoreShard(m *Model, s *Summaries, sc ScoreConfig, table *termsTable) (keys []string, out []Scores, unscored []string, err error) {
	if err := sc.Validate(); err != nil {
		return nil, nil, nil, err
	}
	v := newValuer(m, sc, table, len(s.Keys))
	keys, out = make([]string, 0, len(s.Keys)), make([]Scores, 0, len(s.Keys))
	for c, key := range s.Keys {
		r, err := v.score(s.X[c], s.Tx[c], s.T[c], s.Spend[c])
		switch {
		case errors.Is(err, ErrNoSpend):
			unscored = append(unscored, key)
			continue
		case err != nil:
			return nil, nil, nil, errorf(ErrPredict, "customer %q: %v", key, err)
		}
		keys = append(keys, key)
		out = append(out, r)
	}
	return keys, out, unscored, nil
}
