// Package client is how the CLI talks to a cluster: API calls over NATS to
// the coordinators, imports through the object store, job event streams.
package client

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/internal/scoreset"
	"github.com/mathcrm/mathcrm/internal/store"
	"github.com/mathcrm/mathcrm/partition"
	"github.com/nats-io/nats.go"
)

// APIError is an error answered by a coordinator.
type APIError struct {
	Code string
	Msg  string
}

func (e *APIError) Error() string { return e.Msg }

// Client is a connection to a cluster.
type Client struct {
	nc      *nats.Conn
	refused *refusals // nil on a connection New was given
}

// Dial connects to the cluster's NATS; opts carry the credentials
// (creds.Set.NATS). A request the server refuses this role fails at once
// with ErrRefused, naming the subject.
func Dial(url string, opts ...nats.Option) (*Client, error) {
	r := newRefusals()
	opts = append([]nats.Option{nats.Name("mathcrm-cli"), nats.Timeout(5 * time.Second), nats.ErrorHandler(r.handler)}, opts...)
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		return nil, fmt.Errorf("cannot reach NATS at %s: %w", url, err)
	}
	return &Client{nc: nc, refused: r}, nil
}

// New returns a client over an open connection, which Close then closes.
func New(nc *nats.Conn) *Client { return &Client{nc: nc} }

// Close closes the connection.
func (c *Client) Close() { c.nc.Close() }

// Conn is the underlying NATS connection.
func (c *Client) Conn() *nats.Conn { return c.nc }

// AttemptTimeout bounds one attempt of an API call. A request can be lost
// when the coordinator holding it dies; Call then tries again, which is safe
// because every write is idempotent (a submit carries a request id, a dataset
// commit its import id, cancelling twice is cancelling once).
var AttemptTimeout = 10 * time.Second

// ReadAttemptTimeout bounds one attempt of a read, which is cheap to repeat.
var ReadAttemptTimeout = 3 * time.Second

// Call sends one API request and decodes the answer into out. It retries
// while the cluster is electing a leader or an attempt gets no answer.
func (c *Client) Call(ctx context.Context, verb string, in, out any) error {
	req := proto.Request{V: proto.Version}
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		req.Body = b
	}
	data, _ := json.Marshal(req)
	for {
		resp, err := c.attempt(ctx, verb, data)
		retry := errors.Is(err, nats.ErrNoResponders) || errors.Is(err, errNoAnswer) || err == nil && resp.Code == "not_leader"
		if !retry {
			if err != nil {
				return err
			}
			if resp.Error != "" {
				return &APIError{Code: resp.Code, Msg: resp.Error}
			}
			if out != nil && len(resp.Body) > 0 {
				return json.Unmarshal(resp.Body, out)
			}
			return nil
		}
		select {
		case <-ctx.Done():
			switch {
			case errors.Is(err, nats.ErrNoResponders):
				return errors.New("no coordinator is answering (is the cluster running?)")
			case err == nil:
				return &APIError{Code: resp.Code, Msg: resp.Error}
			}
			return fmt.Errorf("%s: %w", verb, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

var errNoAnswer = errors.New("no answer")

func (c *Client) attempt(ctx context.Context, verb string, data []byte) (*proto.Response, error) {
	timeout := AttemptTimeout
	if proto.APIAccess[verb] == proto.AccessRead {
		timeout = ReadAttemptTimeout
	}
	actx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	subject := c.apiSubject(verb)
	defer c.refused.watch(subject, cancel)()
	msg, err := c.nc.RequestWithContext(actx, subject, data)
	if err != nil {
		if rerr := c.refused.refused(verb, subject); rerr != nil {
			return nil, rerr
		}
		if ctx.Err() == nil && actx.Err() != nil {
			return nil, errNoAnswer
		}
		return nil, err
	}
	var resp proto.Response
	if err := json.Unmarshal(msg.Data, &resp); err != nil {
		return nil, err
	}
	return &resp, proto.Check(resp.V)
}

// devRole is the role of a connection without credentials: a dev
// cluster's clients are all its admin.
const devRole = "admin"

// Role is the role this connection calls the API as: the role whose inbox
// it takes replies in (creds.Set.NATS), or the admin without credentials.
func (c *Client) Role() string {
	if role := proto.InboxRole(c.nc.Opts.InboxPrefix); role != "" {
		return role
	}
	return devRole
}

// apiSubject is where this connection calls verb: under its role's token,
// which the NATS server lets only that role publish under.
func (c *Client) apiSubject(verb string) string { return proto.APISubject(c.Role(), verb) }

// NewRequestID returns a random id for an idempotent write.
func NewRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// ImportOptions configures an import. Kind picks which of Options (features),
// Interactions or Transactions applies; their shard count, delimiter and
// temporary directory are taken from Options.
type ImportOptions struct {
	partition.Options
	Kind         string
	Interactions partition.InteractionOptions
	Transactions partition.TransactionOptions
	// Progress, if set, is told what the import is doing.
	Progress func(format string, args ...any)
	// Replace makes the version even when the dataset holds another kind
	// or schema.
	Replace bool
	// Found, if set, is told what the split found besides rows (ignored
	// columns, values that were not numbers) once the file is read.
	Found func(partition.Findings)
}

// refused are the answers that say a write was not applied; after any other
// failure (no answer, no leader, an internal error) it may have been.
var refused = map[string]bool{"invalid": true, "conflict": true, "not_found": true, "version": true}

// ErrCommitUnconfirmed reports an import whose commit was asked for but not
// answered: the version may or may not have been committed.
var ErrCommitUnconfirmed = errors.New("client: import commit not confirmed")

// Import splits a local CSV or Parquet file into shards, stores them and
// commits the new version. Shards are stored as soon as they are written,
// a few at a time, while the split writes the others. Nothing becomes
// visible unless every shard is stored and verified. On a failure before
// the commit is asked for, the shards already stored are deleted; from then
// on only the leader decides their fate: it commits them, or collects them
// once nothing refers to them (and so it does with any the process could
// not delete).
func (c *Client) Import(ctx context.Context, name, path string, o ImportOptions) (*proto.Dataset, error) {
	say := o.Progress
	if say == nil {
		say = func(string, ...any) {}
	}
	if err := c.Call(ctx, proto.APIDatasetCheck, importCheck(name, o), nil); err != nil {
		return nil, err // before the file is read: a wrong name costs nothing
	}
	tmp, err := os.MkdirTemp(o.TempDir, "mathcrm-import-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	o.Options.TempDir = tmp
	st, err := store.Open(ctx, c.nc, 1)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	commit := proto.DatasetCommit{Name: name, Kind: o.Kind, Source: filepath.Base(path), ImportID: NewRequestID(), Replace: o.Replace}
	shards := o.Shards
	if shards == 0 {
		shards = partition.DefaultShards
	}
	shards = min(max(shards, 0), partition.MaxShards) // the split refuses a bad count
	up := newShardUploader(ctx, st, name, commit.ImportID, shards, c.Role() == devRole)
	layouts, found, err := c.split(ctx, path, o, tmp, &commit, up, say)
	if err != nil {
		up.abandon()
		return nil, err
	}
	if o.Found != nil {
		o.Found(found)
	}
	say("read %d rows into %d shards in %.1fs", commit.Rows, len(layouts[0]), time.Since(start).Seconds())
	for li, files := range layouts {
		if li > 0 || o.Kind != proto.KindFeatures && o.Kind != "" { // features shards are queued as they are written
			for _, sf := range files {
				up.add(li, sf)
			}
		}
	}
	err = up.wait()
	if err == nil {
		commit.Shards, err = up.layout(0, len(layouts[0]))
	}
	if err == nil && len(layouts) > 1 {
		commit.ItemShards, err = up.layout(1, len(layouts[1]))
	}
	if err != nil {
		up.abandon()
		return nil, err
	}
	say("stored %d shards in %.1fs", len(up.stored), time.Since(start).Seconds())
	// From here the leader may commit the shards at any moment, even after
	// this process has given up waiting: deleting them could break a
	// committed version.
	var ds proto.Dataset
	if err := c.Call(ctx, proto.APIDatasetCommit, commit, &ds); err != nil {
		var ae *APIError
		if errors.As(err, &ae) && refused[ae.Code] {
			return nil, err // nothing was committed
		}
		return nil, fmt.Errorf("%w: %w; see whether dataset %s has a new version (mathcrm dataset show %s); "+
			"shards no version names are collected by the coordinator", ErrCommitUnconfirmed, err, name, name)
	}
	return &ds, nil
}

// split splits the file by o.Kind into tmp, fills in commit's description
// of the data and returns the shard files of each layout. Features shards
// go to up as soon as each is written.
func (c *Client) split(ctx context.Context, path string, o ImportOptions, tmp string, commit *proto.DatasetCommit,
	up *shardUploader, say func(string, ...any)) ([][]partition.ShardFile, partition.Findings, error) {
	switch o.Kind {
	case proto.KindFeatures, "":
		commit.Kind = proto.KindFeatures
		opts := o.Options
		opts.ShardWritten = up.addData
		res, err := partition.Split(ctx, path, opts)
		if err != nil {
			return nil, partition.Findings{}, err
		}
		commit.Key, commit.Rows = res.Key, res.Rows
		for _, cs := range res.Columns {
			commit.Columns = append(commit.Columns, proto.ColumnStats(cs))
		}
		return [][]partition.ShardFile{res.Shards}, res.Findings, nil
	case proto.KindInteractions:
		ia := o.Interactions
		ia.Shards, ia.TempDir, ia.Input, ia.RowGroupRows = o.Shards, tmp, o.Input, o.RowGroupRows
		res, err := partition.SplitInteractions(ctx, path, ia)
		if err != nil {
			return nil, partition.Findings{}, err
		}
		commit.Key, commit.Rows = ia.User, res.Rows
		commit.Columns = []proto.ColumnStats{proto.ColumnStats(res.Value)}
		commit.Interactions = &proto.InteractionsInfo{User: ia.User, Item: ia.Item, Value: ia.Value, Users: res.Users, Items: res.Items}
		return [][]partition.ShardFile{res.ByUser, res.ByItem}, res.Findings, nil
	case proto.KindTransactions:
		to := o.Transactions
		to.Shards, to.TempDir, to.Input, to.RowGroupRows = o.Shards, tmp, o.Input, o.RowGroupRows
		res, err := partition.SplitTransactions(ctx, path, to)
		if err != nil {
			return nil, partition.Findings{}, err
		}
		amount := to.Amount
		if amount == "" {
			amount = to.Quantity + "*" + to.Price
		}
		commit.Key, commit.Rows = to.Key, res.Rows
		commit.Columns = []proto.ColumnStats{proto.ColumnStats(res.Amount)}
		commit.Transactions = &proto.TransactionsInfo{Key: to.Key, Time: to.Time, Amount: amount, Invoice: to.Invoice,
			Item: to.Item, ItemName: to.ItemName, Items: res.Items, Named: res.Named, Customers: res.Customers, Returns: res.Returns, SkippedMissingKey: res.SkippedMissingKey,
			First: res.FirstTime.UTC(), Last: res.LastTime.UTC()}
		if to.Item != "" {
			commit.Transactions.Quantity = to.Quantity
		}
		if res.SkippedMissingKey > 0 {
			say("skipped %d rows without a customer id", res.SkippedMissingKey)
		}
		return [][]partition.ShardFile{res.Shards}, res.Findings, nil
	}
	return nil, partition.Findings{}, fmt.Errorf("dataset kind %q is not supported (features, interactions, transactions)", o.Kind)
}

// Watch calls fn with every event of a job until fn returns false, the job
// ends, or ctx ends. It first reports the job's current state, so a watcher
// that starts late still sees where the job is.
func (c *Client) Watch(ctx context.Context, id string, fn func(proto.JobEvent) bool) (*proto.Job, error) {
	ch := make(chan *nats.Msg, 256)
	sub, err := c.nc.ChanSubscribe(proto.JobEventSubject(id), ch)
	if err != nil {
		return nil, err
	}
	defer sub.Unsubscribe()
	status := func() (*proto.Job, error) {
		var j proto.Job
		err := c.Call(ctx, proto.APIJobStatus, proto.Named{Name: id}, &j)
		return &j, err
	}
	j, err := status()
	if err != nil {
		return nil, err
	}
	if j.Terminal() {
		return j, nil
	}
	poll := time.NewTicker(2 * time.Second)
	defer poll.Stop()
	for {
		select {
		case <-ctx.Done():
			return j, ctx.Err()
		case m := <-ch:
			var ev proto.JobEvent
			if json.Unmarshal(m.Data, &ev) != nil || proto.Check(ev.V) != nil {
				continue
			}
			if !fn(ev) {
				return j, nil
			}
			if ev.State != proto.JobRunning && ev.State != proto.JobQueued {
				return status()
			}
		case <-poll.C:
			// Events are best effort; the committed state is the truth.
			if j, err = status(); err != nil || j.Terminal() {
				return j, err
			}
		}
	}
}

// Submit submits a job. It gives the spec a request id first, so that a
// submit retried across a leader change creates one job, not two.
func (c *Client) Submit(ctx context.Context, spec proto.JobSpec) (*proto.Job, error) {
	if spec.RequestID == "" {
		spec.RequestID = NewRequestID()
	}
	var j proto.Job
	if err := c.Call(ctx, proto.APIJobSubmit, spec, &j); err != nil {
		return nil, err
	}
	return &j, nil
}

// ExportDataset streams one version of a dataset (0: the latest) to w as
// "csv" or "parquet": shard by shard in shard order, each verified against
// its checksum, one shard in memory at a time. It returns the rows written.
func (c *Client) ExportDataset(ctx context.Context, name string, version int, format string, w io.Writer) (int64, error) {
	var ds proto.Dataset
	if err := c.Call(ctx, proto.APIDatasetShow, proto.Named{Name: name}, &ds); err != nil {
		return 0, err
	}
	v := ds.Latest()
	if version != 0 {
		if v = ds.Version(version); v == nil {
			return 0, fmt.Errorf("dataset %s has no version %d (it has %s)", name, version, proto.VersionList(ds.VersionNumbers()))
		}
	}
	switch ds.Kind {
	case proto.KindInteractions:
		return c.exportInteractions(ctx, v, format, w)
	case proto.KindTransactions:
		return c.exportTransactions(ctx, v, format, w)
	}
	cols := make([]partition.ExportColumn, len(v.Columns))
	for i, cs := range v.Columns {
		cols[i] = partition.ExportColumn{Name: cs.Name, Levels: cs.Levels}
	}
	e, err := partition.NewExporter(format, w, v.Key, cols)
	if err != nil {
		return 0, err
	}
	st, err := store.Open(ctx, c.nc, 1)
	if err != nil {
		return 0, err
	}
	var rows int64
	row := make([]float64, len(cols))
	for _, ref := range v.Shards {
		b, err := shardBytes(ctx, st, ref)
		if err != nil {
			return rows, err
		}
		sh, err := partition.ReadShard(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return rows, fmt.Errorf("shard %d: %w", ref.Index, err)
		}
		src := make([][]float64, len(cols))
		for j, cs := range v.Columns {
			if src[j], _ = sh.Column(cs.Name); src[j] == nil {
				return rows, fmt.Errorf("shard %d has no column %q", ref.Index, cs.Name)
			}
		}
		for i, key := range sh.Keys {
			for j := range row {
				row[j] = src[j][i]
			}
			if err := e.Write(key, row); err != nil {
				return rows, err
			}
			rows++
		}
	}
	return rows, e.Close()
}

// Blob reads one blob from the object store, verified against its size
// and checksum (a model's further blobs, proto.Model.Refs).
func (c *Client) Blob(ctx context.Context, ref proto.BlobRef) ([]byte, error) {
	st, err := store.Open(ctx, c.nc, 1)
	if err != nil {
		return nil, err
	}
	return st.Get(ctx, ref)
}

// Interactions reads one interactions shard of a dataset version, verified.
func (c *Client) Interactions(ctx context.Context, ref proto.ShardRef) (*partition.Interactions, error) {
	st, err := store.Open(ctx, c.nc, 1)
	if err != nil {
		return nil, err
	}
	b, err := shardBytes(ctx, st, ref)
	if err != nil {
		return nil, err
	}
	return partition.ReadInteractions(bytes.NewReader(b), int64(len(b)))
}

// ExportScores streams one version of a score set (0: the latest) to w as
// CSV or Parquet, one verified shard at a time, and returns the rows written.
func (c *Client) ExportScores(ctx context.Context, name string, version int, format string, w io.Writer) (int64, error) {
	var ss proto.ScoreSet
	if err := c.Call(ctx, proto.APIScoresShow, proto.NamedVersion{Name: name, Version: version}, &ss); err != nil {
		return 0, err
	}
	cols, err := scoreset.SchemaOf(ss.Kind, ss.Columns)
	if err != nil {
		return 0, err
	}
	return c.exportShards(ctx, format, w, ss.Key, cols, true, ss.Shards, func(b []byte, ref proto.ShardRef) (*scoreset.Table, error) {
		t, err := scoreset.Decode(b, ss.Key, cols)
		if err != nil {
			return nil, fmt.Errorf("score shard %d: %w", ref.Index, err)
		}
		if int64(t.Rows()) != ref.Rows {
			return nil, fmt.Errorf("score shard %d holds %d rows, recorded %d", ref.Index, t.Rows(), ref.Rows)
		}
		return t, nil
	})
}

// GC asks the leader to collect unreferenced blobs now; a nil grace means
// the cluster's configured grace.
func (c *Client) GC(ctx context.Context, grace *time.Duration) (*proto.GCResult, error) {
	var res proto.GCResult
	if err := c.Call(ctx, proto.APIGC, proto.GCRequest{Grace: grace}, &res); err != nil {
		return nil, err
	}
	return &res, nil
}
