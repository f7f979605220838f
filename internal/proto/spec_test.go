package proto

import (
	"encoding/json"
	"errors"
	"math"
	"testing"
)

func TestSpecFieldsLeftOutTakeTheAlgorithmsDefaults(t *testing.T) {
	var spec JobSpec
	if err := json.Unmarshal([]byte(`{"algo":"kmeans","dataset":"d","kmeans":{"k":3},"als":{}}`), &spec); err != nil {
		t.Fatal(err)
	}
	if km := spec.KMeans; km.Tol != 1e-4 || km.MaxIter != 20 || km.Init != "kmeans||" {
		t.Fatalf("k-means defaults: %+v", km)
	}
	if as := spec.ALS; as.Rank != 10 || as.Lambda != 0.1 || as.Iterations != 10 || as.Alpha != 40 || as.RegScaling != "weighted" {
		t.Fatalf("ALS defaults: %+v", as)
	}
	// A value given is kept, 0 included.
	if err := json.Unmarshal([]byte(`{"algo":"kmeans","kmeans":{"k":3,"tol":0,"max_iter":0},"als":{"rank":0}}`), &spec); err != nil {
		t.Fatal(err)
	}
	if spec.KMeans.Tol != 0 || spec.KMeans.MaxIter != 0 || spec.ALS.Rank != 0 {
		t.Fatalf("given zeros replaced: %+v %+v", spec.KMeans, spec.ALS)
	}
}

func TestCheckParamsNamesTheFieldAndTheRange(t *testing.T) {
	km := func(mod func(*KMeansSpec)) JobSpec {
		s := KMeansSpec{K: 3, MaxIter: 20, Tol: 1e-4, Init: "kmeans||"}
		mod(&s)
		return JobSpec{Algo: "kmeans", Dataset: "d", KMeans: &s}
	}
	al := func(mod func(*ALSSpec)) JobSpec {
		s := ALSSpec{Rank: 10, Lambda: 0.1, Iterations: 10, Alpha: 40, RegScaling: "weighted"}
		mod(&s)
		return JobSpec{Algo: "als", Dataset: "d", ALS: &s}
	}
	lg := func(mod func(*RegressionSpec)) JobSpec {
		s := RegressionSpec{Target: "y"}
		mod(&s)
		return JobSpec{Algo: "logistic", Dataset: "d", Logistic: &s}
	}
	lin := func(mod func(*RegressionSpec)) JobSpec {
		s := RegressionSpec{Target: "y"}
		mod(&s)
		return JobSpec{Algo: "linear", Dataset: "d", Linear: &s}
	}
	for _, c := range []struct {
		spec  JobSpec
		field string
		flag  string
	}{
		{km(func(s *KMeansSpec) { s.K = 0 }), "kmeans.k 0 is out of range: must be an integer from 1 to 10000",
			"--k 0 is out of range: must be an integer from 1 to 10000"},
		{km(func(s *KMeansSpec) { s.MaxIter = 0 }), "kmeans.max_iter 0 is out of range: must be an integer from 1 to 100000",
			"--max-iter 0 is out of range: must be an integer from 1 to 100000"},
		{km(func(s *KMeansSpec) { s.Tol = -1 }), "kmeans.tol -1 is out of range: must be a finite number of at least 0 (0: run max-iter iterations)",
			"--tol -1 is out of range: must be a finite number of at least 0 (0: run max-iter iterations)"},
		{km(func(s *KMeansSpec) { s.Tol = math.NaN() }), "kmeans.tol NaN is out of range: must be a finite number of at least 0 (0: run max-iter iterations)",
			"--tol NaN is out of range: must be a finite number of at least 0 (0: run max-iter iterations)"},
		{km(func(s *KMeansSpec) { s.Init = "best" }), `kmeans.init "best" is out of range: must be "kmeans||", "random" or "given"`,
			`--init "best" is out of range: must be "kmeans||", "random" or "given"`},
		{al(func(s *ALSSpec) { s.Rank = 0 }), "als.rank 0 is out of range: must be an integer from 1 to 512",
			"--rank 0 is out of range: must be an integer from 1 to 512"},
		{al(func(s *ALSSpec) { s.Rank = -1 }), "als.rank -1 is out of range: must be an integer from 1 to 512",
			"--rank -1 is out of range: must be an integer from 1 to 512"},
		{al(func(s *ALSSpec) { s.Lambda = -1 }), "als.lambda -1 is out of range: must be a finite number greater than 0",
			"--lambda -1 is out of range: must be a finite number greater than 0"},
		{al(func(s *ALSSpec) { s.Iterations = 0 }), "als.iterations 0 is out of range: must be an integer from 1 to 10000",
			"--iterations 0 is out of range: must be an integer from 1 to 10000"},
		{al(func(s *ALSSpec) { s.Implicit, s.Alpha = true, 0 }), "als.alpha 0 is out of range: must be a finite number greater than 0",
			"--alpha 0 is out of range: must be a finite number greater than 0"},
		{al(func(s *ALSSpec) { s.RegScaling = "lots" }), `als.reg_scaling "lots" is out of range: must be "weighted" or "none"`,
			`--reg-scaling "lots" is out of range: must be "weighted" or "none"`},
		{al(func(s *ALSSpec) { s.Holdout = 1 }), "als.holdout 1 is out of range: must be at least 0 and less than 1",
			"--holdout 1 is out of range: must be at least 0 and less than 1"},
		{lin(func(s *RegressionSpec) { s.L2 = -0.5 }), "linear.l2 -0.5 is out of range: must be a finite number of at least 0",
			"--l2 -0.5 is out of range: must be a finite number of at least 0"},
		{lg(func(s *RegressionSpec) { s.C = new(-1.0) }), "logistic.c -1 is out of range: must be a finite number greater than 0",
			"--c -1 is out of range: must be a finite number greater than 0"},
		{lg(func(s *RegressionSpec) { s.C = new(0.0) }), "logistic.c 0 is out of range: must be a finite number greater than 0",
			"--c 0 is out of range: must be a finite number greater than 0"},
		{lg(func(s *RegressionSpec) { s.MaxIter = new(0) }), "logistic.max_iter 0 is out of range: must be an integer from 1 to 100000",
			"--max-iter 0 is out of range: must be an integer from 1 to 100000"},
		{lg(func(s *RegressionSpec) { s.Solver = "sgd" }), `logistic.solver "sgd" is out of range: must be "auto", "newton" or "lbfgs"`,
			`--solver "sgd" is out of range: must be "auto", "newton" or "lbfgs"`},
		{JobSpec{Algo: "score", Dataset: "d", Score: &ScoreSpec{Model: "m", Top: new(1001)}}, "score.top 1001 is out of range: must be an integer from 1 to 1000",
			"--top 1001 is out of range: must be an integer from 1 to 1000"},
		{JobSpec{Algo: "score", Dataset: "d", Score: &ScoreSpec{Model: "m", Top: new(0)}}, "score.top 0 is out of range: must be an integer from 1 to 1000",
			"--top 0 is out of range: must be an integer from 1 to 1000"},
	} {
		err := c.spec.CheckParams()
		var pe *ParamError
		if !errors.As(err, &pe) || !errors.Is(err, ErrParam) {
			t.Errorf("%s: got %v, want a ParamError", c.field, err)
			continue
		}
		if pe.Error() != c.field || pe.FlagError() != c.flag {
			t.Errorf("got\n %q\n %q\nwant\n %q\n %q", pe.Error(), pe.FlagError(), c.field, c.flag)
		}
	}
	// Fields left out (nil) take the algorithm's default: not errors.
	for _, s := range []JobSpec{lg(func(*RegressionSpec) {}), {Algo: "score", Dataset: "d", Score: &ScoreSpec{Model: "m"}},
		km(func(s *KMeansSpec) { s.Tol, s.Init = 0, "" }), al(func(s *ALSSpec) { s.Alpha = 0 })} {
		if err := s.CheckParams(); err != nil {
			t.Errorf("%s: %v", s.Algo, err)
		}
	}
	if err := (&JobSpec{Algo: "pca"}).CheckParams(); err == nil ||
		err.Error() != `proto: invalid parameter: unknown algorithm "pca" (kmeans, linear, logistic, als, rfm, score)` {
		t.Errorf("unknown algorithm: %v", err)
	}
	if err := (&JobSpec{Algo: "als"}).CheckParams(); err == nil || err.Error() != "proto: invalid parameter: als parameters missing" {
		t.Errorf("missing part: %v", err)
	}
}

// FuzzJobSpec decodes job specs as the leader does: never a panic, and a
// spec that passes CheckParams encodes and decodes to the same spec.
func FuzzJobSpec(f *testing.F) {
	for _, s := range []string{
		`{"algo":"kmeans","dataset":"d","kmeans":{"k":3}}`,
		`{"algo":"kmeans","dataset":"d","kmeans":{"k":3,"tol":0,"max_iter":-1,"init":"given","given":[1,2,3]}}`,
		`{"algo":"als","dataset":"r","als":{"rank":0,"implicit":true,"alpha":0}}`,
		`{"algo":"logistic","dataset":"t","logistic":{"target":"y","c":-1,"solver":"x"}}`,
		`{"algo":"score","dataset":"t","score":{"model":"m","top":2000}}`,
		`{"algo":"rfm","dataset":"tx","rfm":{"as":"f","as_of":"2024-01-01T12:00:00Z"}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var spec JobSpec
		if json.Unmarshal(b, &spec) != nil || spec.CheckParams() != nil {
			return
		}
		out, err := json.Marshal(spec)
		if err != nil {
			return // e.g. NaN in a field CheckParams does not read
		}
		var again JobSpec
		if err := json.Unmarshal(out, &again); err != nil {
			t.Fatalf("re-decoding %s: %v", out, err)
		}
		if err := again.CheckParams(); err != nil {
			t.Fatalf("%s passed, re-decoded fails: %v", out, err)
		}
	})
}
