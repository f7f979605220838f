package clv

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/mathcrm/mathcrm/internal/blob"
	"github.com/mathcrm/mathcrm/internal/proto"
)

// Value is the exported form of a customer-value model: what `model show`
// prints and `model export --format json` writes, the parameters under the
// papers' names.
type Value struct {
	Kind string `json:"kind"`
	// Model is the purchase model, "bgnbd" or "paretonbd".
	Model string `json:"model"`
	// TimeUnit is the unit of every time (day, week, month).
	TimeUnit string `json:"time_unit"`
	// CalibrationEnd and HoldoutEnd are the periods' last days.
	CalibrationEnd string  `json:"calibration_end"`
	HoldoutEnd     string  `json:"holdout_end,omitempty"`
	Penalty        float64 `json:"penalty"`
	// Purchase is the BG/NBD (r, alpha, a, b) or Pareto/NBD (r, alpha, s,
	// beta) fit; Spend the Gamma-Gamma fit (p, q, v).
	Purchase Fitted `json:"purchase"`
	Spend    Fitted `json:"spend"`
	// Counts are the customers used and left out.
	Counts Counts `json:"counts"`
	// Holdout is the calibration-vs-holdout table, with a holdout end.
	Holdout  *HoldoutTable `json:"holdout,omitempty"`
	Warnings []string      `json:"warnings,omitempty"`
	Spec     proto.JobSpec `json:"spec"`
	Dataset  string        `json:"dataset"`
	Version  int           `json:"dataset_version"`
}

// Fitted is one model's estimate in the exported form.
type Fitted struct {
	Model string `json:"model"`
	// Params are the estimates, StdErrors their standard errors (absent
	// when the Hessian is not positive definite), by the papers' names.
	Params     Named   `json:"params"`
	StdErrors  Named   `json:"std_errors,omitempty"`
	LogLik     float64 `json:"log_lik"`
	Objective  float64 `json:"objective"`
	Customers  int64   `json:"customers"`
	Iterations int     `json:"iterations"`
}

// Named are named numbers, kept in the papers' order: a JSON object, a
// list of pairs in a blob.
type Named []NamedValue

// NamedValue is one named number.
type NamedValue struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
}

// MarshalJSON writes {"r":…,"alpha":…} in order.
func (n Named) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, v := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(v.Name)
		x, err := json.Marshal(v.Value)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(x)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON reads an object, keeping its order.
func (n *Named) UnmarshalJSON(b []byte) error {
	d := json.NewDecoder(bytes.NewReader(b))
	if t, err := d.Token(); err != nil || t != json.Delim('{') {
		return fmt.Errorf("clv: named values: not an object")
	}
	out := Named{}
	for d.More() {
		t, err := d.Token()
		if err != nil {
			return err
		}
		var v float64
		if err := d.Decode(&v); err != nil {
			return err
		}
		out = append(out, NamedValue{Name: t.(string), Value: v})
	}
	*n = out
	return nil
}

// Get returns the value named name.
func (n Named) Get(name string) (float64, bool) {
	for _, v := range n {
		if v.Name == name {
			return v.Value, true
		}
	}
	return 0, false
}

func (n Named) values() []float64 {
	out := make([]float64, len(n))
	for i, v := range n {
		out[i] = v.Value
	}
	return out
}

func named(names []string, values []float64) Named {
	if values == nil {
		return nil
	}
	out := make(Named, len(values))
	for i, v := range values {
		out[i] = NamedValue{Name: names[i], Value: v}
	}
	return out
}

func fitted(f FittedParams) Fitted {
	return Fitted{Model: f.Model, Params: named(f.Names, f.Values), StdErrors: named(f.Names, f.StdErrors),
		LogLik: f.LogLik, Objective: f.Objective, Customers: f.Customers, Iterations: f.Iterations}
}

func (f Fitted) params() FittedParams {
	names := make([]string, len(f.Params))
	for i, v := range f.Params {
		names[i] = v.Name
	}
	fp := FittedParams{Model: f.Model, Names: names, Values: f.Params.values(), LogLik: f.LogLik, Objective: f.Objective,
		Customers: f.Customers, Iterations: f.Iterations}
	if f.StdErrors != nil {
		fp.StdErrors = f.StdErrors.values()
	}
	return fp
}

// exportOf is the exported form of a fitted model.
func exportOf(m *Model, spec proto.JobSpec, p *Params) *Value {
	cfg := m.Config.withDefaults()
	v := &Value{Kind: Name, Model: cfg.Model, TimeUnit: cfg.TimeUnit, CalibrationEnd: date(cfg.CalibrationEnd),
		Penalty: cfg.Penalty, Purchase: fitted(m.Purchase), Spend: fitted(m.Spend), Counts: m.Counts,
		Holdout: m.Holdout, Warnings: m.Warnings, Spec: spec, Dataset: spec.Dataset, Version: spec.DatasetVersion}
	if cfg.HoldoutEnd != 0 {
		v.HoldoutEnd = date(cfg.HoldoutEnd)
	}
	return v
}

// Fit returns the model the exported form describes, to predict with.
func (v *Value) Fit() (*Model, error) {
	cal, err := time.Parse(DateLayout, v.CalibrationEnd)
	if err != nil {
		return nil, fmt.Errorf("clv: model: calibration end %q: %w", v.CalibrationEnd, err)
	}
	m := &Model{Config: Config{CalibrationEnd: cal.Unix(), TimeUnit: v.TimeUnit, Model: v.Model, Penalty: v.Penalty},
		Purchase: v.Purchase.params(), Spend: v.Spend.params(), Counts: v.Counts, Holdout: v.Holdout, Warnings: v.Warnings}
	if len(m.Purchase.Values) != 4 || len(m.Spend.Values) != 3 {
		return nil, fmt.Errorf("clv: model: %d purchase and %d spend parameters, want 4 and 3", len(m.Purchase.Values), len(m.Spend.Values))
	}
	return m, m.Config.Validate()
}

// Kind is the customer-value model kind: it scores a transactions dataset
// into values (P(alive), expected purchases and spend, CLV, value tier).
type Kind struct{}

// Decode reads a model blob.
func (Kind) Decode(b []byte) (any, error) {
	v := new(Value)
	if err := blob.Decode(b, ModelKind, v); err != nil {
		return nil, err
	}
	return v, nil
}

// New returns an empty model to decode into.
func (Kind) New() any { return new(Value) }
