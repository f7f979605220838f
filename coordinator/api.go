package coordinator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/raft"
	"github.com/mathcrm/mathcrm/algo/builtin"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/internal/secrets"
	"github.com/nats-io/nats.go"
)

// ErrInvalid reports a request that cannot be served as asked.
var ErrInvalid = proto.ErrInvalid

// ErrForbidden reports a call beyond what its role may do.
var ErrForbidden = errors.New("coordinator: forbidden")

type handler func(ctx context.Context, body json.RawMessage) (any, error)

// anyCoordinator are the reads any coordinator answers from what it has
// applied, leader or not: lookups that must not wait for a leader.
var anyCoordinator = map[string]bool{proto.APICustomerShow: true}

func (c *Coordinator) handlers() map[string]handler {
	hs := map[string]handler{
		proto.APIDatasetCommit: c.apiDatasetCommit,
		proto.APIDatasetList:   c.apiDatasetList,
		proto.APIDatasetShow:   c.apiDatasetShow,
		proto.APIDatasetCheck:  c.apiDatasetCheck,
		proto.APIJobSubmit:     c.apiJobSubmit,
		proto.APIJobList:       c.apiJobList,
		proto.APIJobStatus:     c.apiJobStatus,
		proto.APIJobCancel:     c.apiJobCancel,
		proto.APIModelShow:     c.apiModelShow,
		proto.APIClusterStatus: c.apiClusterStatus,
		proto.APIAddVoter:      c.apiAddVoter,
		proto.APIRemoveVoter:   c.apiRemoveVoter,
		proto.APIScoresList:    c.apiScoresList,
		proto.APIScoresShow:    c.apiScoresShow,
		proto.APIGC:            c.apiGC,
		proto.APICustomerShow:  c.apiCustomerShow,
	}
	for verb, h := range c.scheduleHandlers() {
		hs[verb] = h
	}
	for verb, h := range c.eraseHandlers() {
		hs[verb] = h
	}
	for verb, h := range c.lifecycleHandlers() {
		hs[verb] = h
	}
	maps.Copy(hs, c.backupHandlers())
	return hs
}

func (c *Coordinator) apiScoresList(context.Context, json.RawMessage) (any, error) {
	return c.fsm.ScoreSets(), nil
}

func (c *Coordinator) apiScoresShow(_ context.Context, body json.RawMessage) (any, error) {
	n, err := parse[proto.NamedVersion](body)
	if err != nil {
		return nil, err
	}
	return c.fsm.ScoreSet(n.Name, n.Version)
}

// handleAPI serves a client request, forwarding it to the leader when this
// coordinator follows: every read and write is then served from the leader's
// state, so a client never reads older state than a write it saw succeed.
func (c *Coordinator) handleAPI(m *nats.Msg) {
	role, verb := apiCaller(strings.TrimPrefix(m.Subject, proto.APIPrefix))
	if !c.callAllowed(m, role, verb) {
		return
	}
	if c.IsLeader() || anyCoordinator[verb] { // a follower answers lookups itself
		go c.serve(m, role, verb)
		return
	}
	go func() {
		_, id := c.raft.LeaderWithID()
		if id == "" {
			c.reply(m, nil, fmt.Errorf("%w: election in progress, try again", ErrNotLeader))
			return
		}
		resp, err := c.nc.Request(directPrefix(string(id))+role+"."+verb, m.Data, 30*time.Second)
		if err != nil {
			c.reply(m, nil, fmt.Errorf("%w: forward to %s: %v", ErrNotLeader, id, err))
			return
		}
		_ = m.Respond(resp.Data)
	}()
}

// handleDirect serves a call a follower forwarded, with the role of the
// client that sent it.
func (c *Coordinator) handleDirect(m *nats.Msg) {
	role, verb := apiCaller(strings.TrimPrefix(m.Subject, directPrefix(c.cfg.ID)))
	if !c.callAllowed(m, role, verb) {
		return
	}
	go c.serve(m, role, verb)
}

// roleAccess is the most each role's API subjects may call: the NATS
// configuration grants no more, and a coordinator checks it again.
var roleAccess = map[string]proto.Access{
	secrets.RoleViewer: proto.AccessRead, secrets.RoleAnalyst: proto.AccessAnalyze,
	secrets.RoleAdmin: proto.AccessAdmin, secrets.RoleCoordinator: proto.AccessAdmin,
}

// callAllowed reports whether a call is served. Its reply subject must be an
// inbox: the server checks what a client may publish, never where it asks
// the answer to go, and a coordinator answers with its own rights — a reply
// subject naming an API verb (mathcrm.api.admin.dataset.delete) would have
// the coordinator call that verb as admin with the answer as its body. A
// call whose verb is beyond its role's class is refused too. Neither is
// answered to the reply subject it named; both are logged.
func (c *Coordinator) callAllowed(m *nats.Msg, role, verb string) bool {
	if !strings.HasPrefix(m.Reply, "_INBOX.") {
		c.log.Warn("refusing an API call whose reply subject is not an inbox", "subject", m.Subject, "reply", m.Reply)
		return false
	}
	if a, ok := proto.APIAccess[verb]; ok && a > roleAccess[role] {
		c.reply(m, nil, fmt.Errorf("%w: role %s may not call %s (it needs %s)", ErrForbidden, role, verb, a))
		return false
	}
	return true
}

// serve answers verb called by role.
func (c *Coordinator) serve(m *nats.Msg, role, verb string) {
	var req proto.Request
	if err := json.Unmarshal(m.Data, &req); err != nil {
		c.reply(m, nil, fmt.Errorf("%w: %v", ErrInvalid, err))
		return
	}
	if err := proto.Check(req.V); err != nil {
		c.reply(m, nil, err)
		return
	}
	h, ok := c.handlers()[verb]
	if !ok {
		c.reply(m, nil, fmt.Errorf("%w: unknown API %q", ErrInvalid, verb))
		return
	}
	base := withRole(context.Background(), role)
	if anyCoordinator[verb] {
		ctx, cancel := context.WithTimeout(base, 30*time.Second)
		defer cancel()
		out, err := h(ctx, req.Body)
		c.reply(m, out, err)
		return
	}
	// A new leader answers once it has applied what earlier leaders committed.
	for wait := time.Now().Add(10 * time.Second); c.IsLeader() && !c.caughtUp.Load() && time.Now().Before(wait); {
		time.Sleep(5 * time.Millisecond)
	}
	if !c.IsLeader() || !c.caughtUp.Load() {
		c.reply(m, nil, ErrNotLeader)
		return
	}
	ctx, cancel := context.WithTimeout(base, 2*time.Minute)
	defer cancel()
	out, err := h(ctx, req.Body)
	c.reply(m, out, err)
}

func (c *Coordinator) reply(m *nats.Msg, out any, err error) {
	resp := proto.Response{V: proto.Version}
	if err != nil {
		resp.Error, resp.Code = err.Error(), errorCode(err)
	} else if out != nil {
		b, merr := json.Marshal(out)
		if merr != nil {
			resp.Error, resp.Code = merr.Error(), "internal"
		}
		resp.Body = b
	}
	b, _ := json.Marshal(resp)
	_ = m.Respond(b)
}

func errorCode(err error) string {
	switch {
	case errors.Is(err, ErrNotFound):
		return "not_found"
	case errors.Is(err, ErrConflict):
		return "conflict"
	case errors.Is(err, ErrInUse):
		return "in_use"
	case errors.Is(err, ErrInvalid):
		return "invalid"
	case errors.Is(err, ErrNotLeader):
		return "not_leader"
	case errors.Is(err, proto.ErrVersion):
		return "version"
	case errors.Is(err, ErrLimit):
		return "limit"
	case errors.Is(err, ErrForbidden):
		return "forbidden"
	}
	return "internal"
}

func parse[T any](body json.RawMessage) (T, error) {
	var v T
	if len(body) == 0 {
		return v, fmt.Errorf("%w: empty body", ErrInvalid)
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return v, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return v, nil
}

// ValidName reports whether s can name a dataset.
func ValidName(s string) bool { return proto.ValidName(s) }

func (c *Coordinator) apiDatasetCommit(ctx context.Context, body json.RawMessage) (any, error) {
	dc, err := parse[proto.DatasetCommit](body)
	if err != nil {
		return nil, err
	}
	if !ValidName(dc.Name) {
		return nil, fmt.Errorf("%w: dataset name %q (letters, digits, _ . -)", ErrInvalid, dc.Name)
	}
	if err := c.checkWrite(&dc, "--replace"); err != nil {
		return nil, err
	}
	c.blobMu.Lock() // no collection between the shards' check and the commit (gc.go)
	defer c.blobMu.Unlock()
	if err := c.checkDatasetCommit(ctx, &dc); err != nil {
		return nil, err
	}
	v, err := c.apply(msgDatasetCommit, entryDatasetCommit{DatasetCommit: dc, Time: time.Now().UTC()})
	if err != nil {
		return nil, err
	}
	c.log.Info("dataset version committed", "dataset", dc.Name, "version", v, "rows", dc.Rows, "shards", len(dc.Shards))
	return c.fsm.Dataset(dc.Name)
}

// checkDatasetCommit checks that a new version is whole: of a known kind
// with what that kind needs, every shard stored with its checksum, and the
// rows adding up.
func (c *Coordinator) checkDatasetCommit(ctx context.Context, dc *proto.DatasetCommit) error {
	switch dc.Kind {
	case proto.KindFeatures:
	case proto.KindInteractions:
		if dc.Interactions == nil || len(dc.ItemShards) != len(dc.Shards) {
			return fmt.Errorf("%w: an interactions dataset needs its by-item layout, with as many shards as by user", ErrInvalid)
		}
	case proto.KindTransactions:
		if dc.Transactions == nil {
			return fmt.Errorf("%w: a transactions dataset needs its description", ErrInvalid)
		}
	default:
		return fmt.Errorf("%w: dataset kind %q is not supported (features, interactions, transactions)", ErrInvalid, dc.Kind)
	}
	if len(dc.Shards) == 0 {
		return fmt.Errorf("%w: no shards", ErrInvalid)
	}
	for _, layout := range [][]proto.ShardRef{dc.Shards, dc.ItemShards} {
		if layout == nil {
			continue
		}
		var rows int64
		for i, s := range layout {
			if s.Index != i {
				return fmt.Errorf("%w: shard %d listed at position %d", ErrInvalid, s.Index, i)
			}
			rows += s.Rows
		}
		if err := c.statShards(ctx, layout); err != nil {
			return err
		}
		if rows != dc.Rows {
			return fmt.Errorf("%w: shards hold %d rows, import says %d", ErrInvalid, rows, dc.Rows)
		}
	}
	return nil
}

// statChecks is how many shards statShards checks at once: each check is
// a few round trips to the object store, and a commit waits for them all.
const statChecks = 8

// statShards checks that every shard is stored whole with its recorded
// size and checksum, statChecks at a time, and reports the first shard (in
// index order) that is not.
func (c *Coordinator) statShards(ctx context.Context, layout []proto.ShardRef) error {
	errs := make([]error, len(layout))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(statChecks, len(layout)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				s := layout[i]
				errs[i] = c.store.Stat(ctx, proto.BlobRef{Bucket: proto.BucketShards, Object: s.Object, Size: s.Size, SHA256: s.SHA256})
			}
		}()
	}
	for i := range layout {
		next <- i
	}
	close(next)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return fmt.Errorf("%w: shard %d: %v", ErrInvalid, i, err)
		}
	}
	return nil
}

func (c *Coordinator) apiDatasetList(context.Context, json.RawMessage) (any, error) {
	return c.fsm.Datasets(), nil
}

func (c *Coordinator) apiDatasetShow(_ context.Context, body json.RawMessage) (any, error) {
	n, err := parse[proto.Named](body)
	if err != nil {
		return nil, err
	}
	return c.fsm.Dataset(n.Name)
}

func (c *Coordinator) apiJobSubmit(ctx context.Context, body json.RawMessage) (any, error) {
	spec, err := parse[proto.JobSpec](body)
	if err != nil {
		return nil, err
	}
	if err := checkParams(&spec); err != nil {
		return nil, err
	}
	// A role at its bound is refused before the spec is checked, and
	// again below, where it counts.
	role := callerRole(ctx)
	if err := c.checkActiveJobs(role, spec.RequestID); err != nil {
		return nil, err
	}
	a, ok := builtin.Lookup(spec.Algo)
	if !ok {
		return nil, fmt.Errorf("%w: unknown algorithm %q", ErrInvalid, spec.Algo)
	}
	ds, err := c.fsm.Dataset(spec.Dataset)
	if err != nil {
		return nil, err
	}
	if spec.DatasetVersion == 0 {
		spec.DatasetVersion = ds.Latest().Version
	}
	vp := ds.Version(spec.DatasetVersion)
	if vp == nil {
		return nil, fmt.Errorf("%w: dataset %s has no version %d", ErrNotFound, ds.Name, spec.DatasetVersion)
	}
	ver := *vp
	if want := a.DatasetKind(); want != "" && ds.Kind != want {
		return nil, fmt.Errorf("%w: %s needs a %s dataset; %s is %s", ErrInvalid, spec.Algo, want, ds.Name, ds.Kind)
	}
	if err := a.Check(ctx, leaderEnv{c}, &spec, ds, &ver); err != nil {
		return nil, err
	}
	// The role's bound is checked and the job committed under one lock:
	// two submits cannot both take its last place.
	c.submitMu.Lock()
	defer c.submitMu.Unlock()
	if err := c.checkActiveJobs(role, spec.RequestID); err != nil {
		return nil, err
	}
	id, err := c.apply(msgJobSubmit, entryJobSubmit{Spec: spec, Role: role, Time: time.Now().UTC()})
	if err != nil {
		return nil, err
	}
	return c.fsm.Job(id)
}

func (c *Coordinator) apiJobList(context.Context, json.RawMessage) (any, error) {
	jobs := c.fsm.Jobs()
	for _, j := range jobs {
		j.History = nil
	}
	return jobs, nil
}

func (c *Coordinator) apiJobStatus(_ context.Context, body json.RawMessage) (any, error) {
	n, err := parse[proto.Named](body)
	if err != nil {
		return nil, err
	}
	return c.fsm.Job(n.Name)
}

func (c *Coordinator) apiJobCancel(_ context.Context, body json.RawMessage) (any, error) {
	n, err := parse[proto.Named](body)
	if err != nil {
		return nil, err
	}
	if _, err := c.apply(msgJobCancel, entryJobCancel{ID: n.Name, Time: time.Now().UTC()}); err != nil {
		return nil, err
	}
	return c.fsm.Job(n.Name)
}

func (c *Coordinator) apiModelShow(ctx context.Context, body json.RawMessage) (any, error) {
	n, err := parse[proto.Named](body)
	if err != nil {
		return nil, err
	}
	m, err := c.fsm.Model(n.Name)
	if err != nil {
		return nil, err
	}
	detail := proto.ModelDetail{Model: *m, Retrain: c.fsm.Retrain(m.ID)}
	kind, ok := builtin.Kind(m.Kind)
	if !ok {
		return detail, nil // a kind this build does not know: its record only
	}
	b, err := c.store.Get(ctx, m.Blob)
	if err != nil {
		return nil, err
	}
	v, err := kind.Decode(b)
	if err != nil {
		return nil, err
	}
	if detail.Detail, err = json.Marshal(v); err != nil {
		return nil, err
	}
	return detail, nil
}

func (c *Coordinator) apiClusterStatus(ctx context.Context, _ json.RawMessage) (any, error) {
	st := proto.ClusterStatus{Workers: c.members.info()}
	_, leader := c.raft.LeaderWithID()
	st.Leader = string(leader)
	f := c.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return nil, err
	}
	for _, s := range f.Configuration().Servers {
		if s.Suffrage != raft.Voter {
			continue
		}
		v := proto.Voter{ID: string(s.ID), Address: string(s.Address), Leader: s.ID == leader}
		if info, err := c.coordInfo(ctx, string(s.ID)); err == nil {
			v.Reachable, v.State, v.Term, v.CommitIndex, v.LastContact = true, info.State, info.Term, info.CommitIndex, info.LastContact
		}
		st.Voters = append(st.Voters, v)
	}
	return st, nil
}

func (c *Coordinator) coordInfo(ctx context.Context, id string) (*proto.CoordInfo, error) {
	if id == c.cfg.ID {
		info := c.info()
		return &info, nil
	}
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	m, err := c.nc.RequestWithContext(ctx, proto.CoordInfoSubject(id), nil)
	if err != nil {
		return nil, err
	}
	var info proto.CoordInfo
	return &info, json.Unmarshal(m.Data, &info)
}

// info is this coordinator's own raft view.
func (c *Coordinator) info() proto.CoordInfo {
	st := c.raft.Stats()
	info := proto.CoordInfo{ID: c.cfg.ID, State: st["state"], Term: st["term"], CommitIndex: st["commit_index"], AppliedIdx: st["applied_index"]}
	if c.IsLeader() {
		return info
	}
	if lc := c.raft.LastContact(); !lc.IsZero() {
		info.LastContact = time.Since(lc).Seconds()
	}
	return info
}

func (c *Coordinator) apiAddVoter(_ context.Context, body json.RawMessage) (any, error) {
	v, err := parse[proto.VoterChange](body)
	if err != nil {
		return nil, err
	}
	if v.ID == "" || v.Address == "" {
		return nil, fmt.Errorf("%w: a voter needs an id and a raft address", ErrInvalid)
	}
	if err := c.raft.AddVoter(raft.ServerID(v.ID), raft.ServerAddress(v.Address), 0, 30*time.Second).Error(); err != nil {
		return nil, fmt.Errorf("coordinator: add voter %s at %s: %w", v.ID, v.Address, err)
	}
	c.log.Info("voter added", "voter", v.ID, "address", v.Address)
	return c.apiClusterStatus(context.Background(), nil)
}

func (c *Coordinator) apiRemoveVoter(_ context.Context, body json.RawMessage) (any, error) {
	v, err := parse[proto.VoterChange](body)
	if err != nil {
		return nil, err
	}
	if err := c.raft.RemoveServer(raft.ServerID(v.ID), 0, 30*time.Second).Error(); err != nil {
		return nil, fmt.Errorf("coordinator: remove voter %s: %w", v.ID, err)
	}
	c.log.Info("voter removed", "voter", v.ID)
	return c.apiClusterStatus(context.Background(), nil)
}

// Verbs lists the API verbs this coordinator serves, sorted.
func (c *Coordinator) Verbs() []string {
	return slices.Sorted(maps.Keys(c.handlers()))
}
