// Package builtin is the registry: every algorithm the cluster runs, by
// the name job specs give it. It is the one place that lists them; the
// coordinator, the workers, the client and the console look algorithms and
// model kinds up here and name none of them (docs/architecture.md).
package builtin

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/mathcrm/mathcrm/algo/als/alsjob"
	"github.com/mathcrm/mathcrm/algo/basket"
	"github.com/mathcrm/mathcrm/algo/clv"
	"github.com/mathcrm/mathcrm/algo/histogram"
	"github.com/mathcrm/mathcrm/algo/internal/kernel"
	"github.com/mathcrm/mathcrm/algo/job"
	"github.com/mathcrm/mathcrm/algo/kmeans"
	"github.com/mathcrm/mathcrm/algo/migrate"
	"github.com/mathcrm/mathcrm/algo/rfm/rfmjob"
	"github.com/mathcrm/mathcrm/algo/score"
	"github.com/mathcrm/mathcrm/algo/supervised"
	"github.com/mathcrm/mathcrm/internal/describe"
	"github.com/mathcrm/mathcrm/internal/proto"
)

// Kernels names the path the algorithms' hot loops take on this CPU
// ("AVX-512", "AVX2" or "portable"), which workers report to the leader.
func Kernels() string { return kernel.Current().String() }

// Algorithms maps an algorithm's name to its implementation.
var Algorithms = map[string]job.Algorithm{
	alsjob.Name:             alsjob.Algorithm{},
	basket.Name:             basket.Algorithm{},
	clv.Name:                clv.Algorithm{},
	histogram.Name:          histogram.Algorithm{},
	kmeans.Name:             kmeans.Algorithm{},
	migrate.Name:            migrate.Algorithm{},
	rfmjob.Name:             rfmjob.Algorithm{},
	score.Name:              score.Algorithm{},
	supervised.LinearName:   supervised.Linear{},
	supervised.LogisticName: supervised.Logistic{},
}

// kinds maps a model kind to its implementation, from the algorithms that
// make models (job.Modeler).
var kinds = func() map[string]job.ModelKind {
	out := map[string]job.ModelKind{}
	for _, a := range Algorithms {
		if m, ok := a.(job.Modeler); ok {
			maps.Copy(out, m.Kinds())
		}
	}
	return out
}()

// Lookup returns an algorithm by name.
func Lookup(name string) (job.Algorithm, bool) {
	a, ok := Algorithms[name]
	return a, ok
}

// Kind returns a model kind by name.
func Kind(name string) (job.ModelKind, bool) {
	k, ok := kinds[name]
	return k, ok
}

// Names lists the algorithms, sorted.
func Names() []string { return slices.Sorted(maps.Keys(Algorithms)) }

// CheckParams checks a spec's parameters that do not depend on the
// dataset, with the same rules on the CLI and on the leader: the
// algorithm exists, its parameters are there and each is in its range. It
// changes nothing.
func CheckParams(spec *proto.JobSpec) error {
	if spec.DatasetVersion < 0 {
		return &proto.ParamError{Field: "dataset_version", Flag: "--dataset-version", Value: fmt.Sprint(spec.DatasetVersion),
			Want: "a version number, or 0 for the latest"}
	}
	a, ok := Lookup(spec.Algo)
	if !ok {
		return fmt.Errorf("%w: unknown algorithm %q (%s)", proto.ErrParam, spec.Algo, strings.Join(Names(), ", "))
	}
	if len(spec.Params) == 0 {
		return fmt.Errorf("%w: %s parameters missing", proto.ErrParam, spec.Algo)
	}
	return a.CheckParams(spec.Params)
}

// Detail decodes a model's exported form from its detail.
func Detail(d *proto.ModelDetail) (any, error) {
	k, ok := Kind(d.Model.Kind)
	if !ok {
		return nil, fmt.Errorf("%w: model %s is of kind %q", describe.ErrKind, d.Model.ID, d.Model.Kind)
	}
	v := k.New()
	if len(d.Detail) == 0 {
		return nil, fmt.Errorf("model %s: the leader sent no %s detail", d.Model.ID, d.Model.Kind)
	}
	if err := json.Unmarshal(d.Detail, v); err != nil {
		return nil, fmt.Errorf("model %s: %s detail: %w", d.Model.ID, d.Model.Kind, err)
	}
	return v, nil
}

// Describe describes a model by its kind.
func Describe(d *proto.ModelDetail) (*describe.Description, error) {
	k, ok := Kind(d.Model.Kind)
	ds, ok2 := k.(job.Describer)
	if !ok || !ok2 {
		return nil, fmt.Errorf("%w: model %s is of kind %q", describe.ErrKind, d.Model.ID, d.Model.Kind)
	}
	v, err := Detail(d)
	if err != nil {
		return nil, err
	}
	return ds.Describe(d, v)
}
