package coordinator

import (
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/mathcrm/mathcrm/internal/proto"
)

// Customer erasure (erase.go) in the log.
const (
	msgEraseSalt    msgType = 24
	msgEraseDataset msgType = 25
	msgEraseScores  msgType = 26
	msgEraseRecord  msgType = 27
)

// erasureState is what the FSM keeps about erasures: never a key, only
// its salted hash.
type erasureState struct {
	// Salt is chosen once, at random, by the leader that first needs it.
	Salt string `json:"salt,omitempty"`
	// Log lists every erased key's salted hash, oldest first.
	Log []proto.ErasedKey `json:"log,omitempty"`
	// Versions maps "dataset@version" to when customers were last erased
	// from that version: a model whose job started before was trained on
	// them.
	Versions map[string]time.Time `json:"versions,omitempty"`
}

type entryEraseSalt struct {
	Salt string `json:"salt"`
}

type entryEraseDataset struct {
	proto.EraseDataset
	Time time.Time `json:"time"`
}

type entryEraseScores struct {
	proto.EraseScores
	Time time.Time `json:"time"`
}

type entryEraseRecord struct {
	Keys []proto.ErasedKey `json:"keys"`
}

func (f *FSM) dispatchErase(t msgType, buf []byte) applyResult {
	switch t {
	case msgEraseSalt:
		return f.applyEraseSalt(buf)
	case msgEraseDataset:
		return f.applyEraseDataset(buf)
	case msgEraseScores:
		return f.applyEraseScores(buf)
	}
	return f.applyEraseRecord(buf)
}

// applyEraseSalt sets the salt unless one is set: the first one committed
// stays, so two leaders racing to choose one agree.
func (f *FSM) applyEraseSalt(buf []byte) applyResult {
	e, err := decode[entryEraseSalt](buf)
	if err != nil {
		return applyResult{Err: err}
	}
	if e.Salt == "" {
		return applyResult{Err: fmt.Errorf("%w: empty erasure salt", ErrConflict)}
	}
	if f.st.Erasure.Salt == "" {
		f.st.Erasure.Salt = e.Salt
	}
	return applyResult{ID: f.st.Erasure.Salt}
}

// swapShards returns a copy of shards with the swaps made. Each swap must
// name the object the shard refers to now, so a swap computed from a
// version another erasure has since rewritten is refused, not lost; a swap
// already made (a retried commit) is made once.
func swapShards(shards []proto.ShardRef, swaps []proto.ShardSwap, what string) ([]proto.ShardRef, error) {
	out := append([]proto.ShardRef(nil), shards...)
	for _, s := range swaps {
		i := s.New.Index
		if i < 0 || i >= len(out) {
			return nil, fmt.Errorf("%w: %s has no shard %d", ErrConflict, what, i)
		}
		if out[i] == s.New {
			continue // a retried commit of this swap
		}
		if out[i].Object != s.Old {
			return nil, fmt.Errorf("%w: %s shard %d is %s, not %s (changed since it was read)", ErrConflict, what, i, out[i].Object, s.Old)
		}
		out[i] = s.New
	}
	return out, nil
}

func sumRows(shards []proto.ShardRef) int64 {
	var n int64
	for _, s := range shards {
		n += s.Rows
	}
	return n
}

func (f *FSM) applyEraseDataset(buf []byte) applyResult {
	e, err := decode[entryEraseDataset](buf)
	if err != nil {
		return applyResult{Err: err}
	}
	ds := f.st.Datasets[e.Dataset]
	if ds == nil {
		return applyResult{Err: fmt.Errorf("%w: dataset %q", ErrNotFound, e.Dataset)}
	}
	v := ds.Version(e.Version)
	if v == nil {
		return applyResult{Err: fmt.Errorf("%w: dataset %s has no version %d", ErrNotFound, e.Dataset, e.Version)}
	}
	what := e.Dataset + "@" + strconv.Itoa(e.Version)
	if job := f.jobOn(e.Dataset, e.Version); job != "" {
		return applyResult{Err: fmt.Errorf("%w: %s is read by %s, which has not ended; wait for it or cancel it, then erase again", ErrConflict, what, job)}
	}
	shards, err := swapShards(v.Shards, e.Shards, what)
	if err != nil {
		return applyResult{Err: err}
	}
	items, err := swapShards(v.ItemShards, e.ItemShards, what+" by item")
	if err != nil {
		return applyResult{Err: err}
	}
	if sumRows(shards) != e.Rows || items != nil && sumRows(items) != e.Rows {
		return applyResult{Err: fmt.Errorf("%w: %s: shards hold %d rows, erasure says %d", ErrConflict, what, sumRows(shards), e.Rows)}
	}
	if (ds.Kind == proto.KindInteractions) != (e.Interactions != nil) || (ds.Kind == proto.KindTransactions) != (e.Transactions != nil) {
		return applyResult{Err: fmt.Errorf("%w: %s is a %s dataset", ErrConflict, what, ds.Kind)}
	}
	v.Shards, v.ItemShards, v.Rows, v.Columns = shards, items, e.Rows, e.Columns
	v.Interactions, v.Transactions = e.Interactions, e.Transactions
	if f.st.Erasure.Versions == nil {
		f.st.Erasure.Versions = map[string]time.Time{}
	}
	f.st.Erasure.Versions[what] = e.Time
	return applyResult{ID: what}
}

// jobOn names a job that has not ended and reads the dataset version: a
// job reads the shards the version had when it started, so swapping them
// under it would let it write the erased customers into its output, or
// fail when the old shards are collected. The lowest such job id, or "".
func (f *FSM) jobOn(dataset string, version int) string {
	best := ""
	for id, j := range f.st.Jobs {
		if !j.Terminal() && j.Spec.Dataset == dataset && j.Spec.DatasetVersion == version &&
			(best == "" || jobNum(id) < jobNum(best)) {
			best = id
		}
	}
	return best
}

func (f *FSM) applyEraseScores(buf []byte) applyResult {
	e, err := decode[entryEraseScores](buf)
	if err != nil {
		return applyResult{Err: err}
	}
	ss := scoreVersion(f.st.Scores[e.Name], e.Version)
	if ss == nil {
		return applyResult{Err: fmt.Errorf("%w: score set %s has no version %d", ErrNotFound, e.Name, e.Version)}
	}
	what := "score set " + e.Name + "@" + strconv.Itoa(e.Version)
	shards, err := swapShards(ss.Shards, e.Shards, what)
	if err != nil {
		return applyResult{Err: err}
	}
	if sumRows(shards) != e.Rows {
		return applyResult{Err: fmt.Errorf("%w: %s: shards hold %d rows, erasure says %d", ErrConflict, what, sumRows(shards), e.Rows)}
	}
	ss.Shards, ss.Rows, ss.Scored, ss.Summary = shards, e.Rows, e.Scored, e.Summary
	return applyResult{ID: e.Name + "@" + strconv.Itoa(e.Version)}
}

func (f *FSM) applyEraseRecord(buf []byte) applyResult {
	e, err := decode[entryEraseRecord](buf)
	if err != nil {
		return applyResult{Err: err}
	}
	for _, k := range e.Keys {
		if len(k.Hash) != 64 {
			return applyResult{Err: fmt.Errorf("%w: an erased key's hash must be 64 hex digits, not %q", ErrConflict, k.Hash)}
		}
	}
	f.st.Erasure.Log = append(f.st.Erasure.Log, e.Keys...)
	return applyResult{ID: strconv.Itoa(len(f.st.Erasure.Log))}
}

// EraseSalt is the erasure salt, "" until a leader has chosen one.
func (f *FSM) EraseSalt() string {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.st.Erasure.Salt
}

// Erased returns the erasure log entries of the given hashes, by hash:
// the latest erasure of each.
func (f *FSM) Erased(hashes []string) map[string]proto.ErasedKey {
	f.mu.RLock()
	defer f.mu.RUnlock()
	want := make(map[string]bool, len(hashes))
	for _, h := range hashes {
		want[h] = true
	}
	out := map[string]proto.ErasedKey{}
	for _, k := range f.st.Erasure.Log {
		if want[k.Hash] {
			out[k.Hash] = k
		}
	}
	return out
}

// ErasureLog returns the erasure log, oldest first.
func (f *FSM) ErasureLog() []proto.ErasedKey {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return append([]proto.ErasedKey(nil), f.st.Erasure.Log...)
}

// retrainOf says whether model m must be retrained: its job started before
// customers were erased from the dataset version it trained on.
func (f *FSM) retrainOf(m *proto.Model) (proto.Retrain, bool) {
	j := f.st.Jobs[m.Job]
	if j == nil {
		return proto.Retrain{}, false
	}
	at, ok := f.st.Erasure.Versions[j.Spec.Dataset+"@"+strconv.Itoa(j.Spec.DatasetVersion)]
	start := j.Started
	if start.IsZero() {
		start = j.Created
	}
	if !ok || !start.Before(at) {
		return proto.Retrain{}, false
	}
	return proto.Retrain{Model: m.ID, Kind: m.Kind, Dataset: j.Spec.Dataset, Version: j.Spec.DatasetVersion, Erased: at}, true
}

// Retrain says whether a model must be retrained because customers were
// erased from the data it was trained on; nil when it need not be.
func (f *FSM) Retrain(modelID string) *proto.Retrain {
	f.mu.RLock()
	defer f.mu.RUnlock()
	m := f.st.Models[modelID]
	if m == nil {
		return nil
	}
	if r, ok := f.retrainOf(m); ok {
		return &r
	}
	return nil
}

// Retrains lists every model to retrain, by model id.
func (f *FSM) Retrains() []proto.Retrain {
	f.mu.RLock()
	defer f.mu.RUnlock()
	var out []proto.Retrain
	for _, m := range f.st.Models {
		if r, ok := f.retrainOf(m); ok {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return modelNum(out[i].Model) < modelNum(out[j].Model) })
	return out
}
