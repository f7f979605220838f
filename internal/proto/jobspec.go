package proto

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// jobSpecHead and jobSpecTail are a spec's fields before and after the
// algorithm's parameters, in their order on the wire.
type jobSpecHead struct {
	RequestID      string `json:"request_id,omitempty"`
	Algo           string `json:"algo"`
	Dataset        string `json:"dataset"`
	DatasetVersion int    `json:"dataset_version"`
	Seed           uint64 `json:"seed"`
}

type jobSpecTail struct {
	Schedule     string    `json:"schedule,omitempty"`
	ScheduledFor time.Time `json:"scheduled_for,omitzero"`
}

// MarshalJSON writes the parameters under the algorithm's name.
func (s JobSpec) MarshalJSON() ([]byte, error) {
	if len(s.Params) == 0 {
		type plain JobSpec
		return json.Marshal(plain(s))
	}
	var params bytes.Buffer
	if err := json.Compact(&params, s.Params); err != nil {
		return nil, fmt.Errorf("proto: %s parameters: %w", s.Algo, err)
	}
	head, err := json.Marshal(jobSpecHead{s.RequestID, s.Algo, s.Dataset, s.DatasetVersion, s.Seed})
	if err != nil {
		return nil, err
	}
	tail, err := json.Marshal(jobSpecTail{s.Schedule, s.ScheduledFor})
	if err != nil {
		return nil, err
	}
	key, _ := json.Marshal(s.Algo)
	out := append([]byte(nil), head[:len(head)-1]...)
	out = append(out, ',')
	out = append(out, key...)
	out = append(out, ':')
	out = append(out, params.Bytes()...)
	if len(tail) > 2 {
		out = append(out, ',')
		out = append(out, tail[1:]...)
	} else {
		out = append(out, '}')
	}
	return out, nil
}

// UnmarshalJSON reads the parameters from the field named after the
// algorithm.
func (s *JobSpec) UnmarshalJSON(b []byte) error {
	type plain JobSpec
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		return err
	}
	var algo string
	_ = json.Unmarshal(fields["algo"], &algo) // a bad algo fails below
	raw, ok := fields[algo]
	if ok && algo != "" {
		// The parameters are only Params: the spec's own fields are
		// decoded without them.
		delete(fields, algo)
		b, _ = json.Marshal(fields)
	}
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*s = JobSpec(p)
	s.Params = nil
	if ok && algo != "" && !bytes.Equal(raw, []byte("null")) {
		s.Params = raw
	}
	return nil
}

// MarshalJSON writes the model's detail under its kind.
func (d ModelDetail) MarshalJSON() ([]byte, error) {
	type plain ModelDetail
	b, err := json.Marshal(plain(d))
	if err != nil || len(d.Detail) == 0 {
		return b, err
	}
	var detail bytes.Buffer
	if err := json.Compact(&detail, d.Detail); err != nil {
		return nil, fmt.Errorf("proto: %s model: %w", d.Model.Kind, err)
	}
	key, _ := json.Marshal(d.Model.Kind)
	out := append([]byte(nil), b[:len(b)-1]...)
	out = append(out, ',')
	out = append(out, key...)
	out = append(out, ':')
	out = append(out, detail.Bytes()...)
	return append(out, '}'), nil
}

// UnmarshalJSON reads the detail from the field named after the kind.
func (d *ModelDetail) UnmarshalJSON(b []byte) error {
	type plain ModelDetail
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		return err
	}
	*d = ModelDetail(p)
	if raw, ok := fields[d.Model.Kind]; ok && d.Model.Kind != "" && d.Model.Kind != "model" {
		d.Detail = raw
	}
	return nil
}

// ScoreAlgo is the name of the algorithm that scores a dataset with a model.
const ScoreAlgo = "score"

// Scoring returns a scoring job's parameters, or nil for another job.
func (s *JobSpec) Scoring() *ScoreSpec {
	if s.Algo != ScoreAlgo || len(s.Params) == 0 {
		return nil
	}
	var p ScoreSpec
	if json.Unmarshal(s.Params, &p) != nil {
		return nil
	}
	return &p
}

// MustJSON encodes a value that always encodes (a parameters struct) as
// JSON, for a spec's Params; it panics on a value that does not.
func MustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("proto: %T does not encode: %v", v, err))
	}
	return b
}
