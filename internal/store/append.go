package store

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
)

// The buckets' streams take no rollup: a message carrying the
// Nats-Rollup header is refused. NATS permissions grant subjects, not
// headers, and a rollup is a purge: one message on any subject of a bucket
// with the header "all" would empty the bucket, with "sub" it would drop an
// object's meta data. Every role that writes blobs (workers, analysts) can
// publish on the bucket's subjects, so the buckets refuse rollups and the
// store writes without them: an object is appended, chunks on a fresh
// subject, then one meta message, and nothing a writer sends removes
// anything. Only a role granted the purge API (the coordinators, admin)
// deletes.
//
// Meta data is not authenticated: a writer can append a meta message over
// any object, naming any chunk subject, size and digest. A meta message
// appended over an existing object's shadows it for the object store's
// readers, and the shadowed version stays in the stream: Get and Stat read
// or check only a version whose size and SHA-256 match the reference
// recorded in raft and whose chunks are all stored, newest first, so a
// forged meta message neither corrupts a read nor hides the object from a
// reader that knows its reference. Delete purges a chunk subject only when
// no meta message left in the bucket names it, so meta data naming another
// object's chunks does not make deleting it purge them.

// chunkSize is the size of one chunk message, the object store's default.
const chunkSize = 128 << 10

// consumerIdle is how soon the server drops a consumer that reads meta
// data or a shadowed version, once it is done.
const consumerIdle = 10 * time.Second

// pubWindow bounds the chunk messages in flight, not yet acknowledged.
const pubWindow = 64

// metaSubject is the subject of name's meta messages in bucket.
func metaSubject(bucket, name string) string {
	return "$O." + bucket + ".M." + base64.URLEncoding.EncodeToString([]byte(name))
}

// streamConfig is a bucket's stream: the object store's own, without rollups.
func streamConfig(bucket string, replicas int) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:        "OBJ_" + bucket,
		Subjects:    []string{"$O." + bucket + ".C.>", "$O." + bucket + ".M.>"},
		MaxBytes:    -1,
		Storage:     jetstream.FileStorage,
		Replicas:    replicas,
		Discard:     jetstream.DiscardNew,
		AllowRollup: false,
		AllowDirect: true,
	}
}

// DenyRollups makes every bucket's stream refuse rollups; buckets made
// before the store wrote without them took them. It tries every bucket and
// reports each one it could not update. It needs the stream update API (a
// coordinator's or admin's grant). Open does not call it: the leading
// coordinator does, until it succeeds.
func (s *Store) DenyRollups(ctx context.Context) error {
	var errs []error
	for name := range s.buckets {
		st, err := s.js.Stream(ctx, "OBJ_"+name)
		if err != nil {
			errs = append(errs, fmt.Errorf("store: stream of %s: %w", name, err))
			continue
		}
		cfg := st.CachedInfo().Config
		if !cfg.AllowRollup {
			continue
		}
		cfg.AllowRollup = false
		if _, err := s.js.UpdateStream(ctx, cfg); err != nil {
			errs = append(errs, fmt.Errorf("store: refuse rollups in %s: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

// appendObject stores r's bytes as a new version of name: its chunks on a
// fresh subject, then its meta message, without a rollup. An upload that
// fails leaves chunks no object names, which the coordinator's collection
// removes (Partials); a writer never purges.
func (s *Store) appendObject(ctx context.Context, bucket, name string, r io.Reader) (*jetstream.ObjectInfo, error) {
	if name == "" {
		return nil, fmt.Errorf("store: put %s: empty name", bucket)
	}
	id := nuid.Next()
	subj := chunkSubject(bucket, id)
	h := sha256.New()
	buf := make([]byte, chunkSize)
	var pending []jetstream.PubAckFuture
	// The chunks are read back in stream order: a chunk stored out of
	// its order (a publish retried after a later one went through) would
	// make the object other bytes, so each must be stored after the last.
	var seq uint64
	wait := func(f jetstream.PubAckFuture) error {
		select {
		case ack := <-f.Ok():
			if ack.Sequence <= seq {
				return fmt.Errorf("chunk stored at sequence %d, before the one ahead of it (%d)", ack.Sequence, seq)
			}
			seq = ack.Sequence
			return nil
		case err := <-f.Err():
			return err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	var size uint64
	var chunks uint32
	for {
		n, rerr := io.ReadFull(r, buf)
		if n > 0 {
			h.Write(buf[:n])
			// The message keeps its data until acknowledged: a copy each.
			f, err := s.js.PublishMsgAsync(&nats.Msg{Subject: subj, Data: append([]byte(nil), buf[:n]...)})
			if err != nil {
				return nil, err
			}
			pending = append(pending, f)
			size += uint64(n)
			chunks++
			if len(pending) >= pubWindow {
				if err := wait(pending[0]); err != nil {
					return nil, err
				}
				pending = pending[1:]
			}
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			break
		}
		if rerr != nil {
			return nil, rerr
		}
	}
	for _, f := range pending {
		if err := wait(f); err != nil {
			return nil, err
		}
	}
	info := &jetstream.ObjectInfo{
		ObjectMeta: jetstream.ObjectMeta{Name: name, Opts: &jetstream.ObjectMetaOptions{ChunkSize: chunkSize}},
		Bucket:     bucket, NUID: id, Size: size, Chunks: chunks,
		Digest: jetstream.GetObjectDigestValue(h),
	}
	meta, err := json.Marshal(info)
	if err != nil {
		return nil, err
	}
	ack, err := s.js.PublishMsg(ctx, &nats.Msg{Subject: metaSubject(bucket, name), Data: meta})
	if err != nil {
		return nil, err
	}
	if ack != nil {
		info.ModTime = time.Now().UTC()
	}
	return info, nil
}

// Delete removes a blob; a missing blob is not an error. It purges the
// object's meta subject first, every version of its meta data, so that no
// reader finds meta data whose chunks are gone, then the chunks of each of
// those versions that no meta message left in the bucket names: meta data
// is not authenticated, and a version may name another object's chunks.
// Chunks it leaves that nothing names any more are the collection's
// (Partials). It needs the purge API, which only the coordinators and
// admin are granted.
func (s *Store) Delete(ctx context.Context, bucket, name string) error {
	_, err := s.DeleteMany(ctx, bucket, []string{name})
	return err
}

// DeleteMany deletes names as Delete does, in order, and reads the meta
// data left in the bucket once for all of them: that read is of every
// object's. It stops at the first name it cannot delete and returns how
// many it deleted before it; their chunks are purged all the same.
func (s *Store) DeleteMany(ctx context.Context, bucket string, names []string) (int, error) {
	st, err := s.stream(ctx, bucket)
	if err != nil {
		return 0, err
	}
	var chunks []string
	done := 0
	for _, name := range names {
		vs, verr := s.versions(ctx, bucket, name)
		if verr == nil {
			verr = st.Purge(ctx, jetstream.WithPurgeSubject(metaSubject(bucket, name)))
		}
		if verr != nil {
			err = fmt.Errorf("store: delete %s/%s: %w", bucket, name, verr)
			break
		}
		for _, v := range vs {
			chunks = append(chunks, chunkSubject(bucket, v.NUID))
		}
		done++
	}
	if len(chunks) == 0 {
		return done, err
	}
	named, nerr := s.named(ctx, bucket)
	if nerr != nil {
		return done, errors.Join(err, fmt.Errorf("store: delete from %s: %w", bucket, nerr))
	}
	for _, subj := range chunks {
		if named[subj] {
			continue
		}
		named[subj] = true // purged once
		if perr := st.Purge(ctx, jetstream.WithPurgeSubject(subj)); perr != nil {
			return done, errors.Join(err, fmt.Errorf("store: delete from %s: %w", bucket, perr))
		}
	}
	return done, err
}

// versions reads every meta message stored for name, oldest first.
func (s *Store) versions(ctx context.Context, bucket, name string) ([]jetstream.ObjectInfo, error) {
	return s.metas(ctx, bucket, metaSubject(bucket, name))
}

// metas reads every meta message stored on the subjects filter matches,
// oldest first; a message that is not meta data, or names no single chunk
// subject, is skipped.
func (s *Store) metas(ctx context.Context, bucket, filter string) ([]jetstream.ObjectInfo, error) {
	st, err := s.stream(ctx, bucket)
	if err != nil {
		return nil, err
	}
	counts, err := chunksStored(ctx, st, filter)
	if err != nil {
		return nil, err
	}
	var total uint64
	for _, n := range counts {
		total += n
	}
	if total == 0 {
		return nil, nil
	}
	if total == 1 && !strings.ContainsAny(filter, "*>") {
		// One version, the common case: read it directly rather than
		// leave a consumer behind for each name read.
		m, err := st.GetLastMsgForSubject(ctx, filter)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return nil, nil // purged since it was counted
		}
		if err != nil {
			return nil, err
		}
		var info jetstream.ObjectInfo
		if json.Unmarshal(m.Data, &info) != nil || !validNUID(info.NUID) {
			return nil, nil
		}
		info.ModTime = m.Time
		return []jetstream.ObjectInfo{info}, nil
	}
	c, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{FilterSubjects: []string{filter}, InactiveThreshold: consumerIdle})
	if err != nil {
		return nil, err
	}
	// The messages stored when counted: a batch is fetched whole, so
	// never ask for more than are there.
	var out []jetstream.ObjectInfo
	for got := uint64(0); got < total; {
		batch, err := c.Fetch(int(min(total-got, 256)), jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			return nil, err
		}
		n := 0
		for m := range batch.Messages() {
			n++
			var info jetstream.ObjectInfo
			if json.Unmarshal(m.Data(), &info) != nil || !validNUID(info.NUID) {
				continue
			}
			if md, err := m.Metadata(); err == nil {
				info.ModTime = md.Timestamp
			}
			out = append(out, info)
		}
		if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) {
			return nil, err
		}
		if n == 0 {
			break // purged since they were counted
		}
		got += uint64(n)
	}
	return out, nil
}

// readVersion reads the chunks of one version of an object, the first
// info.Chunks stored on its subject. The caller has checked info.Size
// against the reference; a version whose chunks are not all stored fails
// at once (ErrIncomplete) rather than wait for them.
func (s *Store) readVersion(ctx context.Context, bucket string, info *jetstream.ObjectInfo) ([]byte, error) {
	if info.Size > 1<<40 {
		return nil, fmt.Errorf("object of %d bytes", info.Size)
	}
	if err := s.checkChunks(ctx, bucket, info.Name, info.NUID, info.Chunks); err != nil {
		return nil, err
	}
	data := make([]byte, 0, info.Size)
	if info.Chunks == 0 {
		return data, nil
	}
	st, err := s.stream(ctx, bucket)
	if err != nil {
		return nil, err
	}
	c, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{FilterSubjects: []string{chunkSubject(bucket, info.NUID)}, InactiveThreshold: consumerIdle})
	if err != nil {
		return nil, err
	}
	for got := uint32(0); got < info.Chunks; {
		batch, err := c.Fetch(int(min(info.Chunks-got, 64)), jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			return nil, err
		}
		n := 0
		for m := range batch.Messages() {
			if uint64(len(data)+len(m.Data())) > info.Size {
				return nil, fmt.Errorf("%w: %s/%s (chunks longer than its %d bytes)", ErrChecksum, bucket, info.Name, info.Size)
			}
			data = append(data, m.Data()...)
			n++
		}
		if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) {
			return nil, err
		}
		if n == 0 {
			return nil, fmt.Errorf("%w: %s/%s (%d of %d chunks)", ErrIncomplete, bucket, info.Name, got, info.Chunks)
		}
		got += uint32(n)
	}
	return data, nil
}
