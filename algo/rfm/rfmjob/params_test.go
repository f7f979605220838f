package rfmjob

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/mathcrm/mathcrm/algo/rfm"
	"github.com/mathcrm/mathcrm/internal/proto"
)

// A spec encodes as specs committed by earlier builds did, byte for byte,
// and decodes back to the same parameters.
func TestSpecKeepsItsBytes(t *testing.T) {
	for _, c := range []struct {
		ver  int
		p    Params
		want string
	}{
		{2, Params{As: "f", AsOf: time.Date(2011, 12, 10, 0, 0, 0, 0, time.UTC), Replace: true,
			Segments: rfm.SegmentMap{{Name: "All", RMin: 1, RMax: 5, FMin: 1, FMax: 5, MMin: 1, MMax: 5}}},
			`{"algo":"rfm","dataset":"tx","dataset_version":2,"seed":0,"rfm":{"as":"f","as_of":"2011-12-10T00:00:00Z","replace":true,"segments":[{"name":"All","r_min":1,"r_max":5,"f_min":1,"f_max":5,"m_min":1,"m_max":5}]}}`},
		{0, Params{As: "f"}, `{"algo":"rfm","dataset":"tx","dataset_version":0,"seed":0,"rfm":{"as":"f"}}`},
	} {
		spec := Spec("tx", c.p)
		spec.DatasetVersion = c.ver
		b, err := json.Marshal(spec)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != c.want {
			t.Errorf("encoded\n %s\nwant\n %s", b, c.want)
		}
		var back proto.JobSpec
		if err := json.Unmarshal([]byte(c.want), &back); err != nil {
			t.Fatal(err)
		}
		p, err := ParamsOf(&back)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(*p, c.p) {
			t.Errorf("decoded %+v, want %+v", *p, c.p)
		}
	}
}

// As-of must be a whole day, named by its field and its flag; left out it
// is the day after the last transaction, not an error.
func TestAsOfIsAWholeDay(t *testing.T) {
	err := (Algorithm{}).CheckParams(json.RawMessage(`{"as":"f","as_of":"2024-01-01T00:00:01Z"}`))
	var pe *proto.ParamError
	if !errors.As(err, &pe) || pe.FlagError() != "--as-of 2024-01-01T00:00:01Z is out of range: must be a whole day, UTC midnight" {
		t.Errorf("as-of a second past midnight: %v", err)
	}
	for _, s := range []string{`{"as":"f"}`, `{"as":"f","as_of":"2024-01-01T00:00:00Z"}`} {
		if err := (Algorithm{}).CheckParams(json.RawMessage(s)); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
	if err := (Algorithm{}).CheckParams(json.RawMessage(`{"as":1}`)); !errors.Is(err, proto.ErrParam) {
		t.Errorf("as a number: %v", err)
	}
}
