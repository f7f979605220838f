package clv

import (
	"errors"
	"math"
	"strings"

	"github.com/mathcrm/mathcrm/algo/rfm"
	"github.com/mathcrm/mathcrm/algo/step"
)

// Tx is one shard of a transactions dataset, grouped by customer, as RFM
// reads it: keys strictly ascending, each customer's rows ascending in
// time. Invoice ids are not used (purchases on one day are one purchase).
type Tx = rfm.Tx

// Summaries are one shard's per-customer summaries, one entry per
// customer with a purchase on or before the calibration end, in key order.
// Times are in the job's time unit.
type Summaries struct {
	Keys []string
	// X is the number of repeat purchases: purchase days − 1.
	X []float64
	// Tx is the time from the first to the last purchase.
	Tx []float64
	// T is the time from the first purchase to the calibration end.
	T []float64
	// Spend is the mean spend of the repeat purchases (0 when X is 0).
	Spend []float64
	// Holdout is the number of purchase days after the calibration end up
	// to the holdout end; nil without a holdout end.
	Holdout []int64
	// Counts totals the shard's customers and what was left out.
	Counts Counts
}

// Counts totals customers and what the summaries leave out.
type Counts struct {
	// Customers counts the customers with a summary.
	Customers int64 `json:"customers"`
	// Repeat counts those with at least one repeat purchase.
	Repeat int64 `json:"repeat"`
	// Spend counts the repeat customers with a positive mean spend: the
	// customers the spend model is fitted on.
	Spend int64 `json:"spend"`
	// PositiveT counts the customers whose first purchase is before the
	// calibration end's day (T > 0).
	PositiveT int64 `json:"positive_t"`
	// OnlyAfter counts customers whose every purchase is after the
	// calibration end: they have no summary.
	OnlyAfter int64 `json:"only_after"`
	// NoPurchase counts customers with no purchase at all (only returns).
	NoPurchase int64 `json:"no_purchase"`
	// Returns counts the rows that are returns (a negative amount or a
	// return flag): they are not purchases and not spend.
	Returns int64 `json:"returns"`
	// FirstDay is the earliest purchase day (days since 1970-01-01) of
	// any customer, with a purchase on or before the calibration end or
	// not; 0 with no purchase (see HasPurchase).
	FirstDay int64 `json:"first_day"`
	// HasPurchase reports that FirstDay is set.
	HasPurchase bool `json:"has_purchase"`
}

func (c *Counts) add(o Counts) {
	c.Customers += o.Customers
	c.Repeat += o.Repeat
	c.Spend += o.Spend
	c.PositiveT += o.PositiveT
	c.OnlyAfter += o.OnlyAfter
	c.NoPurchase += o.NoPurchase
	c.Returns += o.Returns
	if o.HasPurchase && (!c.HasPurchase || o.FirstDay < c.FirstDay) {
		c.FirstDay, c.HasPurchase = o.FirstDay, true
	}
}

// Summarize computes the summaries of one shard for cfg's calibration end,
// holdout end and time unit. Purchases on one day (UTC) are one purchase,
// whose spend is the sum of the day's amounts; rows that are returns are
// counted and otherwise ignored.
func Summarize(tx *Tx, cfg Config) (*Summaries, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if err := checkTx(tx); err != nil {
		return nil, err
	}
	calDay := dayOf(cfg.CalibrationEnd)
	hoDay := dayOf(cfg.HoldoutEnd)
	unit := unitDays(cfg.TimeUnit)
	s := &Summaries{}
	if cfg.HoldoutEnd != 0 {
		s.Holdout = []int64{}
	}
	for c, key := range tx.Keys {
		lo, hi := int(tx.Ptr[c]), int(tx.Ptr[c+1])
		var first, last, prevDay, lastHo int64
		days, holdout := 0, int64(0)
		after := false
		repeatSpend := 0.0
		for i := lo; i < hi; i++ {
			t, a := tx.Time[i], tx.Amount[i]
			if i > lo && t < tx.Time[i-1] {
				return nil, errorf(ErrBadTx, "customer %q row %d: time %d before the previous row's %d", key, i, t, tx.Time[i-1])
			}
			if math.IsNaN(a) || math.IsInf(a, 0) {
				return nil, errorf(ErrNonFinite, "customer %q row %d: amount %v", key, i, a)
			}
			if a < 0 || (tx.Return != nil && tx.Return[i]) {
				s.Counts.Returns++
				continue
			}
			d := dayOf(t)
			if !s.Counts.HasPurchase || d < s.Counts.FirstDay {
				s.Counts.FirstDay, s.Counts.HasPurchase = d, true
			}
			if d > calDay {
				after = true
				if s.Holdout != nil && d <= hoDay && (holdout == 0 || d != lastHo) {
					holdout++
					lastHo = d
				}
				continue
			}
			if days == 0 || d != prevDay {
				if days == 0 {
					first = d
				}
				days++
				prevDay = d
			}
			last = d
			if days > 1 {
				repeatSpend += a
			}
		}
		if days == 0 {
			if after {
				s.Counts.OnlyAfter++
			} else {
				s.Counts.NoPurchase++
			}
			continue
		}
		if math.IsInf(repeatSpend, 0) {
			return nil, errorf(ErrNonFinite, "customer %q: the spend of the repeat purchases overflows", key)
		}
		x := float64(days - 1)
		mean := 0.0
		s.Counts.Customers++
		if days > 1 {
			s.Counts.Repeat++
			mean = repeatSpend / x
			if mean > 0 {
				s.Counts.Spend++
			}
		}
		if calDay > first {
			s.Counts.PositiveT++
		}
		s.Keys = append(s.Keys, key)
		s.X = append(s.X, x)
		s.Tx = append(s.Tx, float64(last-first)/unit)
		s.T = append(s.T, float64(calDay-first)/unit)
		s.Spend = append(s.Spend, mean)
		if s.Holdout != nil {
			s.Holdout = append(s.Holdout, holdout)
		}
	}
	return s, nil
}

// checkTx is rfm's check of a transactions shard, restated under this
// package's sentinel and prefix.
func checkTx(tx *Tx) error {
	err := tx.Check()
	var se *step.Error
	if errors.As(err, &se) {
		return &step.Error{Msg: "clv: " + strings.TrimPrefix(se.Msg, "rfm: "), Err: ErrBadTx}
	}
	return err
}
