package basket

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/mathcrm/mathcrm/algo/job"
	"github.com/mathcrm/mathcrm/internal/proto"
)

// The leader job driven as the coordinator drives it — tasks through JSON
// and DecodeTask, partials through job.Encode, the state saved and loaded
// into a fresh job after every pass, as a new leader would — makes the
// reference's model.
func TestJobResumesFromEverySave(t *testing.T) {
	lists := randomBaskets(3000, 11)
	shards := split(lists, 5)
	ver := &proto.DatasetVersion{Version: 1, Interactions: &proto.InteractionsInfo{User: "u", Item: "i"}}
	p := Params{MinSupport: 0.01, MinConfidence: 0.2, MaxLen: 4, MaxCandidates: DefaultMaxCandidates}
	spec := Spec("d", p)
	a := Algorithm{}
	jb, err := a.NewJob(context.Background(), nil, "job-1", spec, ver)
	if err != nil {
		t.Fatal(err)
	}
	passes := 0
	for {
		task, done := jb.Next()
		if done {
			break
		}
		raw, err := json.Marshal(task)
		if err != nil {
			t.Fatal(err)
		}
		st, err := a.DecodeTask(raw)
		if err != nil {
			t.Fatal(err)
		}
		parts := make([]*proto.Partial, len(shards))
		for i, b := range shards {
			res, err := st.(*shardTask).prep.Run(nil, b, i)
			if err != nil {
				t.Fatal(err)
			}
			parts[i] = &proto.Partial{Shard: i}
			if err := job.Encode(parts[i], Name, res); err != nil {
				t.Fatal(err)
			}
		}
		if err := jb.Absorb(parts); err != nil {
			t.Fatal(err)
		}
		saved, err := jb.Save()
		if err != nil {
			t.Fatal(err)
		}
		if jb, err = a.NewJob(context.Background(), nil, "job-1", spec, ver); err != nil {
			t.Fatal(err)
		}
		if err := jb.Load(saved); err != nil {
			t.Fatal(err)
		}
		passes++
	}
	if passes != 4 {
		t.Fatalf("%d passes, want items then lengths 2, 3 and 4", passes)
	}
	res, err := jb.Finish()
	if err != nil {
		t.Fatal(err)
	}
	v, err := MinedKind{}.Decode(res.Model.Blob)
	if err != nil {
		t.Fatal(err)
	}
	want, err := Reference(p.config(), shards...)
	if err != nil {
		t.Fatal(err)
	}
	if got := v.(*Mined).Model(); !reflect.DeepEqual(got, want) {
		t.Fatal("the resumed job's model differs from the reference")
	}
	// The model's JSON (model show's detail) reads back the same, an
	// infinite conviction included.
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	back := MinedKind{}.New().(*Mined)
	if err := json.Unmarshal(b, back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.Model(), want) {
		t.Fatal("the model's JSON does not read back equal")
	}
}

func TestCheckParams(t *testing.T) {
	for _, c := range []struct{ json, want string }{
		{`{"min_support":0,"min_confidence":0.5}`, "basket.min_support 0 is out of range: must be a share of the baskets in (0, 1]"},
		{`{"min_confidence":0.5}`, "basket.min_support 0 is out of range"},
		{`{"min_support":1.0001}`, "basket.min_support 1.0001 is out of range"},
		{`{"min_support":0.1,"min_confidence":1.5}`, "basket.min_confidence 1.5 is out of range: must be a number in [0, 1]"},
		{`{"min_support":0.1,"max_len":1}`, "basket.max_len 1 is out of range: must be an integer from 2 to 64"},
		{`{"min_support":0.1,"max_candidates":0}`, "basket.max_candidates 0 is out of range"},
		{`{"min_support":0.1,"basket":"day"}`, `basket.basket "day" is out of range`},
		{`{"min_support":1,"min_confidence":0,"max_len":64}`, ""},
		{`{"min_support":0.5}`, ""},
	} {
		err := Algorithm{}.CheckParams(json.RawMessage(c.json))
		var pe *proto.ParamError
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.json, err)
		case c.want != "" && (!errors.As(err, &pe) || !strings.HasPrefix(err.Error(), c.want)):
			t.Errorf("%s: got %v, want %q", c.json, err, c.want)
		}
	}
	var p Params
	if err := json.Unmarshal([]byte(`{"min_support":0.5}`), &p); err != nil || p.MinConfidence != DefaultMinConfidence ||
		p.MaxLen != DefaultMaxLen || p.MaxCandidates != DefaultMaxCandidates {
		t.Fatalf("defaults: %+v %v", p, err)
	}
}
