package proto

import (
	"encoding/json"
	"testing"
)

// Specs committed before c, max_iter, tol and top became pointers decode to
// the same values and encode to the same bytes: a field that was left out
// (0 on the wire's omitempty) is still left out, one filled in is kept.
func TestCommittedSpecsDecodeAsBefore(t *testing.T) {
	for _, c := range []struct {
		in    string
		check func(*JobSpec) bool
	}{
		{`{"algo":"logistic","dataset":"t","dataset_version":1,"seed":3,"logistic":{"target":"y","features":["a"],"l2":0,"c":1,"holdout":0.25,"class_weight":"balanced","max_iter":100,"tol":1e-8}}`,
			func(s *JobSpec) bool {
				r := s.Logistic
				return r.C != nil && *r.C == 1 && r.MaxIter != nil && *r.MaxIter == 100 && r.Tol != nil && *r.Tol == 1e-8
			}},
		{`{"algo":"logistic","dataset":"t","dataset_version":1,"seed":3,"logistic":{"target":"y","features":["a"],"l2":0,"holdout":0}}`,
			func(s *JobSpec) bool { r := s.Logistic; return r.C == nil && r.MaxIter == nil && r.Tol == nil }},
		{`{"algo":"score","dataset":"r","dataset_version":0,"seed":0,"score":{"model":"model-2","as":"recs","top":10}}`,
			func(s *JobSpec) bool { return s.Score.Top != nil && *s.Score.Top == 10 }},
		{`{"algo":"score","dataset":"c","dataset_version":0,"seed":0,"score":{"model":"model-1","as":"seg"}}`,
			func(s *JobSpec) bool { return s.Score.Top == nil }},
	} {
		var spec JobSpec
		if err := json.Unmarshal([]byte(c.in), &spec); err != nil {
			t.Fatal(err)
		}
		if !c.check(&spec) {
			t.Errorf("%s decoded to %+v %+v", c.in, spec.Logistic, spec.Score)
		}
		if err := spec.CheckParams(); err != nil {
			t.Errorf("%s: %v", c.in, err)
		}
		out, err := json.Marshal(spec)
		if err != nil {
			t.Fatal(err)
		}
		if string(out) != c.in {
			t.Errorf("re-encoded\n %s\nwas\n %s", out, c.in)
		}
	}
}
