package builtin

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/mathcrm/mathcrm/algo/als/alsjob"
	"github.com/mathcrm/mathcrm/algo/kmeans"
	"github.com/mathcrm/mathcrm/algo/supervised"
	"github.com/mathcrm/mathcrm/internal/proto"
)

func decode(t *testing.T, s string) proto.JobSpec {
	t.Helper()
	var spec proto.JobSpec
	if err := json.Unmarshal([]byte(s), &spec); err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	return spec
}

// Every algorithm's parameters are checked with the same rules on the CLI
// and on the leader, and a value out of range names the API field and the
// CLI flag.
func TestCheckParamsNamesTheFieldAndTheRange(t *testing.T) {
	for _, c := range []struct {
		spec  string
		field string
		flag  string
	}{
		{`{"algo":"clv","dataset":"d","clv":{}}`, `clv.calibration_end "" is out of range: must be a date YYYY-MM-DD`,
			`--calibration-end "" is out of range: must be a date YYYY-MM-DD`},
		{`{"algo":"clv","dataset":"d","clv":{"calibration_end":"1997-09-30","holdout_end":"1997-09-30"}}`,
			"clv.holdout_end 1997-09-30 is out of range: must be a date after the calibration end 1997-09-30",
			"--holdout-end 1997-09-30 is out of range: must be a date after the calibration end 1997-09-30"},
		{`{"algo":"clv","dataset":"d","clv":{"calibration_end":"1997-09-30","time_unit":"year"}}`, `clv.time_unit "year" is out of range: must be "day", "week" or "month"`,
			`--time-unit "year" is out of range: must be "day", "week" or "month"`},
		{`{"algo":"clv","dataset":"d","clv":{"calibration_end":"1997-09-30","model":"bgbb"}}`, `clv.model "bgbb" is out of range: must be "bgnbd" or "paretonbd"`,
			`--model "bgbb" is out of range: must be "bgnbd" or "paretonbd"`},
		{`{"algo":"clv","dataset":"d","clv":{"calibration_end":"1997-09-30","penalty":-0.1}}`, "clv.penalty -0.1 is out of range: must be a finite number of at least 0",
			"--penalty -0.1 is out of range: must be a finite number of at least 0"},
		{`{"algo":"clv","dataset":"d","clv":{"calibration_end":"1997-09-30","max_iter":0}}`, "clv.max_iter 0 is out of range: must be an integer from 1 to 100000",
			"--max-iter 0 is out of range: must be an integer from 1 to 100000"},
		{`{"algo":"score","dataset":"d","score":{"model":"m","horizon":0}}`, "score.horizon 0 is out of range: must be a number above 0, at most 100000",
			"--horizon 0 is out of range: must be a number above 0, at most 100000"},
		{`{"algo":"score","dataset":"d","score":{"model":"m","discount_rate":-1}}`, "score.discount_rate -1 is out of range: must be a number from 0 to 10",
			"--discount-rate -1 is out of range: must be a number from 0 to 10"},
		{`{"algo":"migrate","dataset":"d","migrate":{"from":""}}`, `migrate.from "" is out of range: must be a dataset name`,
			`--from "" is out of range: must be a dataset name`},
		{`{"algo":"migrate","dataset":"d","migrate":{"from":"q3","from_version":-2}}`, "migrate.from_version -2 is out of range: must be a version number, or 0 for the latest",
			"--from-version -2 is out of range: must be a version number, or 0 for the latest"},
		{`{"algo":"rfm","dataset":"tx","rfm":{"as":"f","as_of":"2024-01-01T12:00:00Z"}}`, "rfm.as_of 2024-01-01T12:00:00Z is out of range: must be a whole day, UTC midnight",
			"--as-of 2024-01-01T12:00:00Z is out of range: must be a whole day, UTC midnight"},
		{`{"algo":"kmeans","dataset":"d","kmeans":{"k":0}}`, "kmeans.k 0 is out of range: must be an integer from 1 to 10000",
			"--k 0 is out of range: must be an integer from 1 to 10000"},
		{`{"algo":"kmeans","dataset":"d","kmeans":{"k":3,"max_iter":0}}`, "kmeans.max_iter 0 is out of range: must be an integer from 1 to 100000",
			"--max-iter 0 is out of range: must be an integer from 1 to 100000"},
		{`{"algo":"kmeans","dataset":"d","kmeans":{"k":3,"tol":-1}}`, "kmeans.tol -1 is out of range: must be a finite number of at least 0 (0: run max-iter iterations)",
			"--tol -1 is out of range: must be a finite number of at least 0 (0: run max-iter iterations)"},
		{`{"algo":"kmeans","dataset":"d","kmeans":{"k":3,"init":"best"}}`, `kmeans.init "best" is out of range: must be "kmeans||", "random" or "given"`,
			`--init "best" is out of range: must be "kmeans||", "random" or "given"`},
		{`{"algo":"score","dataset":"d","score":{"model":"m","top":1001}}`, "score.top 1001 is out of range: must be an integer from 1 to 1000",
			"--top 1001 is out of range: must be an integer from 1 to 1000"},
		{`{"algo":"score","dataset":"d","score":{"model":"m","top":0}}`, "score.top 0 is out of range: must be an integer from 1 to 1000",
			"--top 0 is out of range: must be an integer from 1 to 1000"},
		{`{"algo":"linear","dataset":"d","linear":{"target":"y","l2":-0.5}}`, "linear.l2 -0.5 is out of range: must be a finite number of at least 0",
			"--l2 -0.5 is out of range: must be a finite number of at least 0"},
		{`{"algo":"linear","dataset":"d","linear":{"target":"y","holdout":1}}`, "linear.holdout 1 is out of range: must be at least 0 and less than 1",
			"--holdout 1 is out of range: must be at least 0 and less than 1"},
		{`{"algo":"logistic","dataset":"d","logistic":{"target":"y","c":-1}}`, "logistic.c -1 is out of range: must be a finite number greater than 0",
			"--c -1 is out of range: must be a finite number greater than 0"},
		{`{"algo":"logistic","dataset":"d","logistic":{"target":"y","c":0}}`, "logistic.c 0 is out of range: must be a finite number greater than 0",
			"--c 0 is out of range: must be a finite number greater than 0"},
		{`{"algo":"logistic","dataset":"d","logistic":{"target":"y","max_iter":0}}`, "logistic.max_iter 0 is out of range: must be an integer from 1 to 100000",
			"--max-iter 0 is out of range: must be an integer from 1 to 100000"},
		{`{"algo":"logistic","dataset":"d","logistic":{"target":"y","solver":"sgd"}}`, `logistic.solver "sgd" is out of range: must be "auto", "newton" or "lbfgs"`,
			`--solver "sgd" is out of range: must be "auto", "newton" or "lbfgs"`},
		{`{"algo":"basket","dataset":"d","basket":{"min_support":0}}`, "basket.min_support 0 is out of range: must be a share of the baskets in (0, 1]",
			"--min-support 0 is out of range: must be a share of the baskets in (0, 1]"},
		{`{"algo":"basket","dataset":"d","basket":{"min_support":0.1,"min_confidence":1.5}}`, "basket.min_confidence 1.5 is out of range: must be a number in [0, 1]",
			"--min-confidence 1.5 is out of range: must be a number in [0, 1]"},
		{`{"algo":"basket","dataset":"d","basket":{"min_support":0.1,"max_len":1}}`, "basket.max_len 1 is out of range: must be an integer from 2 to 64",
			"--max-len 1 is out of range: must be an integer from 2 to 64"},
		{`{"algo":"basket","dataset":"d","basket":{"min_support":0.1,"basket":"week"}}`, `basket.basket "week" is out of range: must be "invoice", "customer" or "user"`,
			`--basket "week" is out of range: must be "invoice", "customer" or "user"`},
		{`{"algo":"als","dataset":"d","als":{"rank":0}}`, "als.rank 0 is out of range: must be an integer from 1 to 512",
			"--rank 0 is out of range: must be an integer from 1 to 512"},
		{`{"algo":"als","dataset":"d","als":{"rank":-1}}`, "als.rank -1 is out of range: must be an integer from 1 to 512",
			"--rank -1 is out of range: must be an integer from 1 to 512"},
		{`{"algo":"als","dataset":"d","als":{"lambda":-1}}`, "als.lambda -1 is out of range: must be a finite number greater than 0",
			"--lambda -1 is out of range: must be a finite number greater than 0"},
		{`{"algo":"als","dataset":"d","als":{"iterations":0}}`, "als.iterations 0 is out of range: must be an integer from 1 to 10000",
			"--iterations 0 is out of range: must be an integer from 1 to 10000"},
		{`{"algo":"als","dataset":"d","als":{"implicit":true,"alpha":0}}`, "als.alpha 0 is out of range: must be a finite number greater than 0",
			"--alpha 0 is out of range: must be a finite number greater than 0"},
		{`{"algo":"als","dataset":"d","als":{"reg_scaling":"lots"}}`, `als.reg_scaling "lots" is out of range: must be "weighted" or "none"`,
			`--reg-scaling "lots" is out of range: must be "weighted" or "none"`},
		{`{"algo":"als","dataset":"d","als":{"holdout":1}}`, "als.holdout 1 is out of range: must be at least 0 and less than 1",
			"--holdout 1 is out of range: must be at least 0 and less than 1"},
		{`{"algo":"kmeans","dataset":"d","dataset_version":-1,"kmeans":{"k":3}}`, "dataset_version -1 is out of range: must be a version number, or 0 for the latest",
			"--dataset-version -1 is out of range: must be a version number, or 0 for the latest"},
	} {
		spec := decode(t, c.spec)
		err := CheckParams(&spec)
		var pe *proto.ParamError
		if !errors.As(err, &pe) || !errors.Is(err, proto.ErrParam) {
			t.Errorf("%s: got %v, want a ParamError", c.spec, err)
			continue
		}
		if pe.Error() != c.field || pe.FlagError() != c.flag {
			t.Errorf("got\n %q\n %q\nwant\n %q\n %q", pe.Error(), pe.FlagError(), c.field, c.flag)
		}
	}
	// Fields left out take the algorithm's default: not errors.
	for _, s := range []string{
		`{"algo":"clv","dataset":"d","clv":{"calibration_end":"1997-09-30"}}`,
		`{"algo":"score","dataset":"d","score":{"model":"m","horizon":39,"discount_rate":0}}`,
		`{"algo":"rfm","dataset":"tx","rfm":{"as":"f"}}`,
		`{"algo":"rfm","dataset":"tx","rfm":{"as":"f","as_of":"2024-01-01T00:00:00Z"}}`,
		`{"algo":"score","dataset":"d","score":{"model":"m"}}`,
		`{"algo":"kmeans","dataset":"d","kmeans":{"k":3,"tol":0,"init":""}}`,
		`{"algo":"logistic","dataset":"d","logistic":{"target":"y"}}`,
		`{"algo":"als","dataset":"d","als":{"alpha":0}}`,
	} {
		spec := decode(t, s)
		if err := CheckParams(&spec); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
	spec := decode(t, `{"algo":"pca","dataset":"d"}`)
	if err := CheckParams(&spec); err == nil || !errors.Is(err, proto.ErrParam) {
		t.Errorf("unknown algorithm: %v", err)
	}
	spec = decode(t, `{"algo":"kmeans","dataset":"d"}`)
	if err := CheckParams(&spec); err == nil || err.Error() != "proto: invalid parameter: kmeans parameters missing" {
		t.Errorf("missing part: %v", err)
	}
	spec = decode(t, `{"algo":"linear","dataset":"d","linear":{"features":["x"]}}`)
	if err := CheckParams(&spec); err == nil || err.Error() != "proto: invalid parameter: linear.target: a target column is required" {
		t.Errorf("missing target: %v", err)
	}
	// A 0 set in the CLI's parameters survives their encoding.
	spec = alsjob.Spec("d", alsjob.Params{Rank: 1, Lambda: 1, Iterations: 1, Implicit: true})
	if err := CheckParams(&spec); err == nil || err.Error() != "als.alpha 0 is out of range: must be a finite number greater than 0" {
		t.Errorf("implicit with alpha 0: %v", err)
	}
	spec = decode(t, `{"algo":"als","dataset":"d"}`)
	if err := CheckParams(&spec); err == nil || err.Error() != "proto: invalid parameter: als parameters missing" {
		t.Errorf("missing part: %v", err)
	}
}

// A k-means spec's fields left out take the algorithm's defaults when it is
// decoded: an API job without tol converges as a CLI job does.
func TestKMeansDefaults(t *testing.T) {
	spec := decode(t, `{"algo":"kmeans","dataset":"d","kmeans":{"k":3}}`)
	p, err := kmeans.ParamsOf(&spec)
	if err != nil {
		t.Fatal(err)
	}
	if p.Tol != kmeans.DefaultTol || p.MaxIter != kmeans.DefaultMaxIter || p.Init != kmeans.InitKMeansParallel {
		t.Fatalf("k-means defaults: %+v", p)
	}
}

// An ALS spec's fields left out take the algorithm's defaults when it is
// decoded; a value given is kept, 0 included.
func TestALSDefaults(t *testing.T) {
	spec := decode(t, `{"algo":"als","dataset":"d","als":{}}`)
	p, err := alsjob.ParamsOf(&spec)
	if err != nil {
		t.Fatal(err)
	}
	if p.Rank != 10 || p.Lambda != 0.1 || p.Iterations != 10 || p.Alpha != 40 || p.RegScaling != "weighted" || p.Implicit || p.Holdout != 0 {
		t.Fatalf("ALS defaults: %+v", p)
	}
	spec = decode(t, `{"algo":"als","dataset":"d","als":{"rank":0}}`)
	if p, err = alsjob.ParamsOf(&spec); err != nil || p.Rank != 0 {
		t.Fatalf("given zero replaced: %+v, %v", p, err)
	}
}

// A spec encodes as it was sent: the parameters under the algorithm's
// name, between the spec's own fields, byte for byte.
func TestSpecsEncodeAsSent(t *testing.T) {
	for _, s := range []string{
		`{"algo":"score","dataset":"r","dataset_version":0,"seed":0,"score":{"model":"model-2","as":"recs","top":10}}`,
		`{"algo":"logistic","dataset":"t","dataset_version":1,"seed":3,"logistic":{"target":"y","features":["a"],"l2":0,"c":1,"holdout":0.25,"class_weight":"balanced","max_iter":100,"tol":1e-8}}`,
		`{"algo":"logistic","dataset":"t","dataset_version":1,"seed":3,"logistic":{"target":"y","features":["a"],"l2":0,"holdout":0}}`,
		`{"algo":"linear","dataset":"t","dataset_version":2,"seed":1,"linear":{"target":"y","features":["a","c=x"],"l2":0.5,"holdout":0.2}}`,
		`{"algo":"als","dataset":"r","dataset_version":1,"seed":2,"als":{"rank":3,"lambda":0.1,"iterations":4,"implicit":false,"alpha":40,"reg_scaling":"weighted","holdout":0}}`,
		`{"algo":"rfm","dataset":"tx","dataset_version":1,"seed":0,"rfm":{"as":"f","as_of":"2011-12-10T00:00:00Z"}}`,
		`{"request_id":"r1","algo":"kmeans","dataset":"c","dataset_version":3,"seed":7,"kmeans":{"k":4,"columns":["a"],"standardize":true,"init":"kmeans||","max_iter":20,"tol":0.0001},"schedule":"nightly","scheduled_for":"2026-01-02T03:04:05Z"}`,
	} {
		spec := decode(t, s)
		if err := CheckParams(&spec); err != nil {
			t.Errorf("%s: %v", s, err)
		}
		out, err := json.Marshal(spec)
		if err != nil {
			t.Fatal(err)
		}
		if string(out) != s {
			t.Errorf("re-encoded\n %s\nwas\n %s", out, s)
		}
	}
}

// Regression specs committed before c, max_iter and tol became pointers
// decode to the same values: a field that was left out (0 on the wire's
// omitempty) is still left out, one filled in is kept; re-encoded, they
// keep their bytes (TestSpecsEncodeAsSent).
func TestCommittedRegressionSpecsDecodeAsBefore(t *testing.T) {
	spec := decode(t, `{"algo":"logistic","dataset":"t","dataset_version":1,"seed":3,"logistic":{"target":"y","features":["a"],"l2":0,"c":1,"holdout":0.25,"class_weight":"balanced","max_iter":100,"tol":1e-8}}`)
	r, err := supervised.ParamsOf(&spec)
	if err != nil || r.C == nil || *r.C != 1 || r.MaxIter == nil || *r.MaxIter != 100 || r.Tol == nil || *r.Tol != 1e-8 || r.ClassWeight != "balanced" {
		t.Errorf("filled in: %+v, %v", r, err)
	}
	spec = decode(t, `{"algo":"logistic","dataset":"t","dataset_version":1,"seed":3,"logistic":{"target":"y","features":["a"],"l2":0,"holdout":0}}`)
	if r, err := supervised.ParamsOf(&spec); err != nil || r.C != nil || r.MaxIter != nil || r.Tol != nil {
		t.Errorf("left out: %+v, %v", r, err)
	}
}

// FuzzJobSpec decodes job specs as the leader does: never a panic, and a
// spec that passes CheckParams encodes and decodes to a spec that does too.
func FuzzJobSpec(f *testing.F) {
	for _, s := range []string{
		`{"algo":"rfm","dataset":"tx","rfm":{"as":"f","as_of":"2024-01-01T12:00:00Z"}}`,
		`{"algo":"kmeans","dataset":"d","kmeans":{"k":3}}`,
		`{"algo":"kmeans","dataset":"d","kmeans":{"k":3,"tol":0,"max_iter":-1,"init":"given","given":[1,2,3]}}`,
		`{"algo":"score","dataset":"t","score":{"model":"m","top":2000}}`,
		`{"algo":"logistic","dataset":"t","logistic":{"target":"y","c":-1,"solver":"x"}}`,
		`{"algo":"als","dataset":"r","als":{"rank":0,"implicit":true,"alpha":0}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var spec proto.JobSpec
		if json.Unmarshal(b, &spec) != nil || CheckParams(&spec) != nil {
			return
		}
		out, err := json.Marshal(spec)
		if err != nil {
			return // e.g. NaN in a field CheckParams does not read
		}
		var again proto.JobSpec
		if err := json.Unmarshal(out, &again); err != nil {
			t.Fatalf("re-decoding %s: %v", out, err)
		}
		if err := CheckParams(&again); err != nil {
			t.Fatalf("%s passed, re-decoded fails: %v", out, err)
		}
	})
}
