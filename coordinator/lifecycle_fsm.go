package coordinator

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/mathcrm/mathcrm/internal/proto"
)

// The raft entries that delete datasets, score sets, models and jobs and
// keep datasets and score sets to a retention count. Apply decides from the
// state alone who uses a thing, so a delete the leader accepted can still be
// refused when a job was submitted in between; the entry says whether the
// user forced it and when, and Apply cancels and pauses what --force asks.

// ErrInUse reports a delete refused because a schedule or a queued or
// running job uses what it would delete.
var ErrInUse = errors.New("coordinator: in use")

// Kinds of things with versions and a retention count.
const (
	lifeDataset = "dataset"
	lifeScores  = "scores"
)

// maxRecentDeletes is how many answers of deletes with a request id the
// state remembers, so that a retried delete answers as the first did.
const maxRecentDeletes = 64

// lifeState is the part of the state deletion and retention need.
type lifeState struct {
	// KeepDatasets and KeepScores are the retention counts, by name.
	KeepDatasets map[string]int `json:"keep_datasets,omitempty"`
	KeepScores   map[string]int `json:"keep_scores,omitempty"`
	// DatasetSeq and ScoresSeq hold the highest version number a dataset
	// or score set had when one of its versions was deleted: numbers are
	// never given twice, so "telco@3" always means the same data.
	DatasetSeq map[string]int `json:"dataset_seq,omitempty"`
	ScoresSeq  map[string]int `json:"scores_seq,omitempty"`
	// Recent are the answers of the latest deletes with a request id.
	Recent []recentDelete `json:"recent,omitempty"`
}

type recentDelete struct {
	RequestID string        `json:"request_id"`
	Out       proto.Deleted `json:"out"`
}

type entryDelete struct {
	proto.Delete
	Time time.Time `json:"time"`
}

type entryRetain struct {
	Kind string `json:"kind"`
	proto.Retain
	Time time.Time `json:"time"`
}

// entryRetentionDrop drops versions beyond a retention count; the leader
// lists them, Apply drops those still beyond it and not in use.
type entryRetentionDrop struct {
	Kind     string    `json:"kind"`
	Name     string    `json:"name"`
	Versions []int     `json:"versions"`
	Time     time.Time `json:"time"`
}

func (f *FSM) dispatchLifecycle(t msgType, buf []byte) applyResult {
	if t == msgRetain {
		return f.applyRetain(buf)
	}
	if t == msgRetentionDrop {
		return f.applyRetentionDrop(buf)
	}
	e, err := decode[entryDelete](buf)
	if err != nil {
		return applyResult{Err: err}
	}
	if out, ok := f.recentDelete(e.RequestID); ok {
		return applyResult{ID: out.Name, Out: out}
	}
	var out proto.Deleted
	switch t {
	case msgDatasetDelete:
		out, err = f.deleteDataset(e)
	case msgScoresDelete:
		out, err = f.deleteScores(e)
	case msgModelDelete:
		out, err = f.deleteModel(e)
	case msgJobDelete:
		out, err = f.deleteJob(e)
	default:
		panic(fmt.Sprintf("coordinator: %d is not a lifecycle entry", t))
	}
	if err != nil {
		return applyResult{Err: err}
	}
	if e.RequestID != "" {
		l := f.lifeW()
		l.Recent = append(l.Recent, recentDelete{RequestID: e.RequestID, Out: out})
		if n := len(l.Recent) - maxRecentDeletes; n > 0 {
			l.Recent = slices.Delete(l.Recent, 0, n)
		}
	}
	return applyResult{ID: out.Name, Out: out}
}

// life returns the lifecycle state for reading; it may be empty.
func (f *FSM) life() *lifeState {
	if f.st.Life == nil {
		return &lifeState{}
	}
	return f.st.Life
}

// lifeW returns the lifecycle state for writing.
func (f *FSM) lifeW() *lifeState {
	if f.st.Life == nil {
		f.st.Life = &lifeState{}
	}
	l := f.st.Life
	for _, m := range []*map[string]int{&l.KeepDatasets, &l.KeepScores, &l.DatasetSeq, &l.ScoresSeq} {
		if *m == nil {
			*m = map[string]int{}
		}
	}
	return l
}

func (f *FSM) recentDelete(id string) (proto.Deleted, bool) {
	if id == "" {
		return proto.Deleted{}, false
	}
	for _, r := range f.life().Recent {
		if r.RequestID == id {
			return r.Out, true
		}
	}
	return proto.Deleted{}, false
}

// nextVersion numbers a new version: after the newest there is and after
// any deleted one.
func (f *FSM) nextVersion(seq map[string]int, name string, have []int) int {
	n := seq[name]
	if len(have) > 0 {
		n = max(n, have[len(have)-1])
	}
	return n + 1
}

func scoreVersions(vs []*proto.ScoreSet) []int {
	out := make([]int, len(vs))
	for i, ss := range vs {
		out[i] = ss.Version
	}
	return out
}

func scoreVersion(vs []*proto.ScoreSet, n int) *proto.ScoreSet {
	for _, ss := range vs {
		if ss.Version == n {
			return ss
		}
	}
	return nil
}

// users are the schedules and unfinished jobs that use something.
type users struct {
	schedules, jobs []string
}

func (u *users) empty() bool { return len(u.schedules) == 0 && len(u.jobs) == 0 }

// sort puts them in a stable order: schedules by name, jobs by number.
func (u *users) sort() {
	sort.Strings(u.schedules)
	sort.Slice(u.jobs, func(i, j int) bool { return jobNum(u.jobs[i]) < jobNum(u.jobs[j]) })
}

// String names them: "schedule nightly and jobs job-3 and job-4".
func (u *users) String() string {
	u.sort()
	var parts []string
	for _, g := range []struct {
		one   string
		names []string
	}{{"schedule", u.schedules}, {"job", u.jobs}} {
		switch len(g.names) {
		case 0:
		case 1:
			parts = append(parts, g.one+" "+g.names[0])
		default:
			parts = append(parts, g.one+"s "+andList(g.names))
		}
	}
	return strings.Join(parts, " and ")
}

func andList(s []string) string {
	if len(s) == 1 {
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

// refuse is the error of a delete that something uses.
func refuse(what string, u *users) error {
	return fmt.Errorf("%w: %s is used by %s; use --force", ErrInUse, what, u)
}

// trainDataset is the dataset a model was trained on, or "".
func (f *FSM) trainDataset(modelID string) string {
	m := f.st.Models[modelID]
	if m == nil {
		return ""
	}
	if m.Spec != nil {
		return m.Spec.Dataset
	}
	if j := f.st.Jobs[m.Job]; j != nil {
		return j.Spec.Dataset
	}
	return ""
}

// datasetUsers finds who uses a dataset (version 0) or one version of it.
// A schedule uses the dataset it scores and, when it retrains, the one its
// model was trained on: every version while it exists, the latest (what
// its next run reads), and the version its run in progress pinned.
func (f *FSM) datasetUsers(name string, version, latest int) *users {
	u := &users{}
	uses := func(ver, pinned int) bool { return ver == 0 || ver == latest || ver == pinned }
	for _, sc := range f.st.Schedules {
		var pinned, trainPinned int
		if a := sc.Active(); a != nil {
			pinned, trainPinned = a.DatasetVersion, a.TrainDatasetVersion
		}
		if sc.Dataset == name && uses(version, pinned) ||
			sc.Retrain && f.trainDataset(sc.Model) == name && uses(version, trainPinned) {
			u.schedules = append(u.schedules, sc.Name)
		}
	}
	for _, j := range f.st.Jobs {
		if !j.Terminal() && j.Spec.Dataset == name && (version == 0 || j.Spec.DatasetVersion == version) {
			u.jobs = append(u.jobs, j.ID)
		}
	}
	return u
}

// versionPinned reports whether retention must keep a dataset version: an
// unfinished job reads it, or a schedule's run in progress pinned it.
func (f *FSM) versionPinned(name string, version int) bool {
	for _, sc := range f.st.Schedules {
		a := sc.Active()
		if a == nil {
			continue
		}
		if sc.Dataset == name && a.DatasetVersion == version ||
			sc.Retrain && f.trainDataset(sc.Model) == name && a.TrainDatasetVersion == version {
			return true
		}
	}
	for _, j := range f.st.Jobs {
		if !j.Terminal() && j.Spec.Dataset == name && j.Spec.DatasetVersion == version {
			return true
		}
	}
	return false
}

// modelUsers finds the schedules that score with a model (or whose run in
// progress does) and the unfinished jobs that score with it.
func (f *FSM) modelUsers(id string) *users {
	u := &users{}
	for _, sc := range f.st.Schedules {
		if a := sc.Active(); sc.Model == id || a != nil && a.Model == id {
			u.schedules = append(u.schedules, sc.Name)
		}
	}
	for _, j := range f.st.Jobs {
		if !j.Terminal() && j.Spec.Scoring() != nil && j.Spec.Scoring().Model == id {
			u.jobs = append(u.jobs, j.ID)
		}
	}
	return u
}

// scoresUsers finds who writes a score set: the schedule of its name and
// unfinished scoring jobs. Nothing reads a score set version in a job, so
// one version alone is never in use.
func (f *FSM) scoresUsers(name string, version int) *users {
	u := &users{}
	if version != 0 {
		return u
	}
	if _, ok := f.st.Schedules[name]; ok {
		u.schedules = append(u.schedules, name)
	}
	for _, j := range f.st.Jobs {
		if !j.Terminal() && j.Spec.Scoring() != nil && j.Spec.Scoring().As == name {
			u.jobs = append(u.jobs, j.ID)
		}
	}
	return u
}

// force cancels the jobs and pauses the schedules that use what a forced
// delete deletes, and records it in out.
func (f *FSM) force(u *users, what string, at time.Time, out *proto.Deleted) {
	u.sort()
	for _, id := range u.jobs {
		j := f.st.Jobs[id]
		j.State, j.Reason, j.Finished = proto.JobCancelled, what+" was deleted", at
		j.Refs = nil
		f.notices = append(f.notices, id)
		out.Cancelled = append(out.Cancelled, id)
	}
	for _, name := range u.schedules {
		f.st.Schedules[name].Paused = true
		out.Paused = append(out.Paused, name)
	}
}

func (f *FSM) deleteDataset(e entryDelete) (proto.Deleted, error) {
	ds := f.st.Datasets[e.Name]
	if ds == nil {
		return proto.Deleted{}, fmt.Errorf("%w: dataset %q", ErrNotFound, e.Name)
	}
	what, versions := "dataset "+e.Name, ds.VersionNumbers()
	if e.Version != 0 {
		if ds.Version(e.Version) == nil {
			return proto.Deleted{}, fmt.Errorf("%w: dataset %s has no version %d (it has %s)", ErrNotFound, e.Name, e.Version, proto.VersionList(versions))
		}
		what, versions = fmt.Sprintf("dataset %s version %d", e.Name, e.Version), []int{e.Version}
	}
	u := f.datasetUsers(e.Name, e.Version, ds.Latest().Version)
	if !u.empty() && !e.Force {
		return proto.Deleted{}, refuse(what, u)
	}
	out := proto.Deleted{What: lifeDataset, Name: e.Name, Versions: versions, Bytes: f.dropDatasetVersions(ds, versions)}
	f.force(u, what, e.Time, &out)
	return out, nil
}

// dropDatasetVersions removes versions of a dataset, and the dataset with
// its last version; it returns the size of the shards they held.
func (f *FSM) dropDatasetVersions(ds *proto.Dataset, versions []int) int64 {
	seen := map[string]bool{}
	var bytes int64
	l := f.lifeW()
	l.DatasetSeq[ds.Name] = max(l.DatasetSeq[ds.Name], ds.Latest().Version)
	ds.Versions = slices.DeleteFunc(ds.Versions, func(v proto.DatasetVersion) bool {
		if !slices.Contains(versions, v.Version) {
			return false
		}
		for _, s := range slices.Concat(v.Shards, v.ItemShards) {
			if !seen[s.Object] {
				seen[s.Object] = true
				bytes += s.Size
			}
		}
		return true
	})
	if len(ds.Versions) == 0 {
		delete(f.st.Datasets, ds.Name)
		delete(l.KeepDatasets, ds.Name)
	}
	return bytes
}

func (f *FSM) deleteScores(e entryDelete) (proto.Deleted, error) {
	vs := f.st.Scores[e.Name]
	if len(vs) == 0 {
		return proto.Deleted{}, fmt.Errorf("%w: score set %s", ErrNotFound, e.Name)
	}
	what, versions := "score set "+e.Name, scoreVersions(vs)
	if e.Version != 0 {
		if scoreVersion(vs, e.Version) == nil {
			return proto.Deleted{}, fmt.Errorf("%w: score set %s has no version %d (it has %s)", ErrNotFound, e.Name, e.Version, proto.VersionList(versions))
		}
		what, versions = fmt.Sprintf("score set %s version %d", e.Name, e.Version), []int{e.Version}
	}
	u := f.scoresUsers(e.Name, e.Version)
	if !u.empty() && !e.Force {
		return proto.Deleted{}, refuse(what, u)
	}
	out := proto.Deleted{What: lifeScores, Name: e.Name, Versions: versions, Bytes: f.dropScoreVersions(e.Name, versions)}
	if e.Version == 0 {
		delete(f.lifeW().KeepScores, e.Name)
	}
	f.force(u, what, e.Time, &out)
	return out, nil
}

// dropScoreVersions removes versions of a score set, and the set with its
// last version; it returns the size of their shards.
func (f *FSM) dropScoreVersions(name string, versions []int) int64 {
	vs := f.st.Scores[name]
	l := f.lifeW()
	l.ScoresSeq[name] = max(l.ScoresSeq[name], vs[len(vs)-1].Version)
	var bytes int64
	vs = slices.DeleteFunc(vs, func(ss *proto.ScoreSet) bool {
		if slices.Contains(versions, ss.Version) {
			bytes += proto.ShardBytes(ss.Shards)
			return true
		}
		return false
	})
	if len(vs) == 0 {
		delete(f.st.Scores, name)
	} else {
		f.st.Scores[name] = vs
	}
	return bytes
}

func (f *FSM) deleteModel(e entryDelete) (proto.Deleted, error) {
	m := f.st.Models[e.Name]
	if m == nil {
		return proto.Deleted{}, fmt.Errorf("%w: model %s", ErrNotFound, e.Name)
	}
	what := "model " + e.Name
	u := f.modelUsers(e.Name)
	if !u.empty() && !e.Force {
		return proto.Deleted{}, refuse(what, u)
	}
	delete(f.st.Models, e.Name)
	out := proto.Deleted{What: "model", Name: e.Name, Bytes: m.Size()}
	f.force(u, what, e.Time, &out)
	return out, nil
}

// deleteJob removes a job's record and the state blobs it refers to. What
// it made stays: a model keeps the job's spec (a retraining schedule
// trains with it), datasets and score sets are deleted on their own.
func (f *FSM) deleteJob(e entryDelete) (proto.Deleted, error) {
	j := f.st.Jobs[e.Name]
	if j == nil {
		return proto.Deleted{}, fmt.Errorf("%w: job %s", ErrNotFound, e.Name)
	}
	out := proto.Deleted{What: "job", Name: e.Name}
	if !j.Terminal() {
		if !e.Force {
			return proto.Deleted{}, fmt.Errorf("%w: job %s is %s; cancel it or use --force", ErrInUse, e.Name, j.State)
		}
		f.notices = append(f.notices, j.ID) // its driver stops
		out.Cancelled = []string{j.ID}
	}
	if m := f.st.Models[j.Model]; m != nil && m.Spec == nil {
		spec := j.Spec
		m.Spec = &spec
	}
	for r, id := range f.st.Requests {
		if id == j.ID {
			delete(f.st.Requests, r)
		}
	}
	out.Bytes = j.StateRef.Size
	for _, r := range j.Refs {
		out.Bytes += r.Size
	}
	delete(f.st.Jobs, j.ID)
	return out, nil
}

func (f *FSM) applyRetain(buf []byte) applyResult {
	e, err := decode[entryRetain](buf)
	if err != nil {
		return applyResult{Err: err}
	}
	if e.Keep < 0 || e.Keep > proto.MaxKeep {
		return applyResult{Err: fmt.Errorf("%w: keep %d (0 to %d; 0 keeps every version)", ErrInvalid, e.Keep, proto.MaxKeep)}
	}
	l := f.lifeW()
	var keep map[string]int
	switch e.Kind {
	case lifeDataset:
		if f.st.Datasets[e.Name] == nil {
			return applyResult{Err: fmt.Errorf("%w: dataset %q", ErrNotFound, e.Name)}
		}
		keep = l.KeepDatasets
	case lifeScores:
		keep = l.KeepScores
	default:
		return applyResult{Err: fmt.Errorf("%w: retention of %q", ErrInvalid, e.Kind)}
	}
	if e.Keep == 0 {
		delete(keep, e.Name)
	} else {
		keep[e.Name] = e.Keep
	}
	drop, _ := f.retentionExcess(e.Kind, e.Name)
	return applyResult{ID: e.Name, Out: f.dropRetained(e.Kind, e.Name, drop)}
}

func (f *FSM) applyRetentionDrop(buf []byte) applyResult {
	e, err := decode[entryRetentionDrop](buf)
	if err != nil {
		return applyResult{Err: err}
	}
	drop, _ := f.retentionExcess(e.Kind, e.Name)
	drop = slices.DeleteFunc(drop, func(v int) bool { return !slices.Contains(e.Versions, v) })
	return applyResult{ID: e.Name, Out: f.dropRetained(e.Kind, e.Name, drop)}
}

// dropRetained drops versions retention gave up and says what is left.
func (f *FSM) dropRetained(kind, name string, drop []int) proto.Retained {
	if len(drop) > 0 {
		if kind == lifeDataset {
			f.dropDatasetVersions(f.st.Datasets[name], drop)
		} else {
			f.dropScoreVersions(name, drop)
		}
	}
	_, pinned := f.retentionExcess(kind, name)
	out := proto.Retained{Name: name, Keep: f.keepOf(kind, name), Versions: f.versionsOf(kind, name), Dropped: drop, Pinned: pinned}
	return out
}

func (f *FSM) keepOf(kind, name string) int {
	if kind == lifeDataset {
		return f.life().KeepDatasets[name]
	}
	return f.life().KeepScores[name]
}

func (f *FSM) versionsOf(kind, name string) []int {
	if kind == lifeDataset {
		if ds := f.st.Datasets[name]; ds != nil {
			return ds.VersionNumbers()
		}
		return []int{}
	}
	return scoreVersions(f.st.Scores[name])
}

// retentionExcess returns the versions older than the newest Keep that
// retention drops, and those it keeps because they are in use.
func (f *FSM) retentionExcess(kind, name string) (drop, pinned []int) {
	keep := f.keepOf(kind, name)
	vs := f.versionsOf(kind, name)
	if keep == 0 || len(vs) <= keep {
		return nil, nil
	}
	for _, v := range vs[:len(vs)-keep] {
		if kind == lifeDataset && f.versionPinned(name, v) {
			pinned = append(pinned, v)
		} else {
			drop = append(drop, v)
		}
	}
	return drop, pinned
}

// retentionDue lists the drops retention asks for now, for the leader to
// commit.
func (f *FSM) retentionDue() []entryRetentionDrop {
	f.mu.RLock()
	defer f.mu.RUnlock()
	var out []entryRetentionDrop
	for _, kind := range []string{lifeDataset, lifeScores} {
		keep := f.life().KeepDatasets
		if kind == lifeScores {
			keep = f.life().KeepScores
		}
		names := make([]string, 0, len(keep))
		for name := range keep {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			if drop, _ := f.retentionExcess(kind, name); len(drop) > 0 {
				out = append(out, entryRetentionDrop{Kind: kind, Name: name, Versions: drop})
			}
		}
	}
	return out
}

// sizedDataset fills in a dataset's sizes and retention count.
func (f *FSM) sizedDataset(ds *proto.Dataset) *proto.Dataset {
	seen := map[string]bool{}
	ds.Bytes = 0
	for i := range ds.Versions {
		v := &ds.Versions[i]
		v.Bytes = proto.ShardBytes(v.Shards, v.ItemShards)
		for _, s := range slices.Concat(v.Shards, v.ItemShards) {
			if !seen[s.Object] {
				seen[s.Object] = true
				ds.Bytes += s.Size
			}
		}
	}
	ds.Keep = f.life().KeepDatasets[ds.Name]
	return ds
}

// sizedScores fills in a score set version's size and retention count.
func (f *FSM) sizedScores(ss *proto.ScoreSet) *proto.ScoreSet {
	ss.Bytes = proto.ShardBytes(ss.Shards)
	ss.Keep = f.life().KeepScores[ss.Name]
	return ss
}

// Models lists the models, oldest first, with what trained them.
func (f *FSM) Models() []proto.ModelSummary {
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := make([]proto.ModelSummary, 0, len(f.st.Models))
	for _, m := range f.st.Models {
		s := proto.ModelSummary{ID: m.ID, Job: m.Job, Kind: m.Kind, Created: m.Created, Bytes: m.Size()}
		spec := m.Spec
		if j := f.st.Jobs[m.Job]; spec == nil && j != nil {
			spec = &j.Spec
		}
		if spec != nil {
			s.Algo, s.Dataset, s.DatasetVersion = spec.Algo, spec.Dataset, spec.DatasetVersion
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return modelNum(out[i].ID) < modelNum(out[j].ID) })
	return out
}

func modelNum(id string) int {
	n, _ := strconv.Atoi(strings.TrimPrefix(id, "model-"))
	return n
}
