package console

import (
	"context"
	"errors"

	"github.com/mathcrm/mathcrm/internal/client"
	"github.com/mathcrm/mathcrm/internal/proto"
)

// ClientSource reads a cluster through its API over NATS, as the CLI does.
type ClientSource struct {
	c *client.Client
}

// NewClientSource returns a Source over c.
func NewClientSource(c *client.Client) *ClientSource { return &ClientSource{c: c} }

func (s *ClientSource) call(ctx context.Context, verb string, in, out any) error {
	err := s.c.Call(ctx, verb, in, out)
	var api *client.APIError
	if errors.As(err, &api) && api.Code == "not_found" {
		return notFound{api.Msg}
	}
	return err
}

// notFound is the coordinator's own message for a name it does not know.
type notFound struct{ msg string }

func (e notFound) Error() string { return e.msg }
func (e notFound) Unwrap() error { return ErrNotFound }

// ClusterStatus implements Source.
func (s *ClientSource) ClusterStatus(ctx context.Context) (*proto.ClusterStatus, error) {
	var st proto.ClusterStatus
	return &st, s.call(ctx, proto.APIClusterStatus, nil, &st)
}

// Datasets implements Source.
func (s *ClientSource) Datasets(ctx context.Context) ([]proto.Dataset, error) {
	var list []proto.Dataset
	err := s.call(ctx, proto.APIDatasetList, nil, &list)
	return list, err
}

// Dataset implements Source.
func (s *ClientSource) Dataset(ctx context.Context, name string) (*proto.Dataset, error) {
	var ds proto.Dataset
	return &ds, s.call(ctx, proto.APIDatasetShow, proto.Named{Name: name}, &ds)
}

// Jobs implements Source.
func (s *ClientSource) Jobs(ctx context.Context) ([]proto.Job, error) {
	var list []proto.Job
	err := s.call(ctx, proto.APIJobList, nil, &list)
	return list, err
}

// Job implements Source.
func (s *ClientSource) Job(ctx context.Context, id string) (*proto.Job, error) {
	var j proto.Job
	return &j, s.call(ctx, proto.APIJobStatus, proto.Named{Name: id}, &j)
}

// Models implements Source.
func (s *ClientSource) Models(ctx context.Context) ([]proto.ModelSummary, error) {
	var list []proto.ModelSummary
	err := s.call(ctx, proto.APIModelList, nil, &list)
	return list, err
}

// Model implements Source.
func (s *ClientSource) Model(ctx context.Context, id string) (*proto.ModelDetail, error) {
	var d proto.ModelDetail
	return &d, s.call(ctx, proto.APIModelShow, proto.Named{Name: id}, &d)
}

// ScoreSets implements Source.
func (s *ClientSource) ScoreSets(ctx context.Context) ([]proto.ScoreSet, error) {
	var list []proto.ScoreSet
	err := s.call(ctx, proto.APIScoresList, nil, &list)
	return list, err
}

// ScoreSet implements Source; version 0 is the latest.
func (s *ClientSource) ScoreSet(ctx context.Context, name string, version int) (*proto.ScoreSet, error) {
	var ss proto.ScoreSet
	return &ss, s.call(ctx, proto.APIScoresShow, proto.NamedVersion{Name: name, Version: version}, &ss)
}

// Schedules implements Source.
func (s *ClientSource) Schedules(ctx context.Context) ([]proto.ScheduleInfo, error) {
	var list []proto.ScheduleInfo
	err := s.call(ctx, proto.APIScheduleList, nil, &list)
	return list, err
}

// Schedule implements Source.
func (s *ClientSource) Schedule(ctx context.Context, name string) (*proto.ScheduleInfo, error) {
	var si proto.ScheduleInfo
	return &si, s.call(ctx, proto.APIScheduleShow, proto.Named{Name: name}, &si)
}

// WatchJob implements Source.
func (s *ClientSource) WatchJob(ctx context.Context, id string, fn func(proto.JobEvent) bool) (*proto.Job, error) {
	return s.c.Watch(ctx, id, fn)
}

// Customer implements Source.
func (s *ClientSource) Customer(ctx context.Context, key string) (*proto.CustomerScores, error) {
	var cs proto.CustomerScores
	return &cs, s.call(ctx, proto.APICustomerShow, proto.CustomerShow{Key: key}, &cs)
}
