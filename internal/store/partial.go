package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/nats-io/nats.go/jetstream"
)

// An object is stored as chunk messages on a subject of its own, then one
// meta message naming that subject. An upload that dies in between (the
// process killed, its network cut) leaves chunks that no object names and
// that no listing shows: a partial. And a meta message can land after its
// chunks were purged as a partial. Stat checks that an object's chunks are
// all there, so that neither becomes part of a committed version.

// ErrIncomplete reports a blob whose meta data names chunks that are not
// all stored.
var ErrIncomplete = errors.New("store: blob incomplete")

// Partial is the chunks of an upload that never finished.
type Partial struct {
	Subject string
	Chunks  uint64
	// ModTime is when its last chunk was stored, from the server's clock.
	ModTime int64
}

func chunkSubject(bucket, nuid string) string { return "$O." + bucket + ".C." + nuid }

func (s *Store) stream(ctx context.Context, bucket string) (jetstream.Stream, error) {
	if _, err := s.bucket(bucket); err != nil {
		return nil, err
	}
	st, err := s.js.Stream(ctx, "OBJ_"+bucket)
	if err != nil {
		return nil, fmt.Errorf("store: stream of %s: %w", bucket, err)
	}
	return st, nil
}

// chunksStored counts the chunk messages stored on each chunk subject that
// matches filter.
func chunksStored(ctx context.Context, st jetstream.Stream, filter string) (map[string]uint64, error) {
	info, err := st.Info(ctx, jetstream.WithSubjectFilter(filter))
	if err != nil {
		return nil, err
	}
	return info.State.Subjects, nil
}

// checkChunks reports ErrIncomplete unless all chunks of an object are
// stored: at least chunks messages on its chunk subject.
func (s *Store) checkChunks(ctx context.Context, bucket, object, nuid string, chunks uint32) error {
	if chunks == 0 {
		return nil
	}
	st, err := s.stream(ctx, bucket)
	if err != nil {
		return err
	}
	subj := chunkSubject(bucket, nuid)
	n, err := chunksStored(ctx, st, subj)
	if err != nil {
		return fmt.Errorf("store: stat %s/%s: %w", bucket, object, err)
	}
	// At least: a writer can append a message to any chunk subject, and
	// readers read the first chunks only.
	if n[subj] < uint64(chunks) {
		return fmt.Errorf("%w: %s/%s (%d of %d chunks)", ErrIncomplete, bucket, object, n[subj], chunks)
	}
	return nil
}

// named is the set of chunk subjects some meta message names: every
// version of every object, live, deleted or shadowed (append.go), so that
// meta data appended over an object's never makes its chunks a partial.
func (s *Store) named(ctx context.Context, bucket string) (map[string]bool, error) {
	infos, err := s.metas(ctx, bucket, "$O."+bucket+".M.>")
	if err != nil {
		return nil, fmt.Errorf("store: list %s: %w", bucket, err)
	}
	out := make(map[string]bool, len(infos))
	for _, in := range infos {
		out[chunkSubject(bucket, in.NUID)] = true
	}
	return out, nil
}

// Partials lists the chunks in a bucket that no object names.
func (s *Store) Partials(ctx context.Context, bucket string) ([]Partial, error) {
	st, err := s.stream(ctx, bucket)
	if err != nil {
		return nil, err
	}
	named, err := s.named(ctx, bucket)
	if err != nil {
		return nil, err
	}
	subjects, err := chunksStored(ctx, st, chunkSubject(bucket, ">"))
	if err != nil {
		return nil, fmt.Errorf("store: chunks of %s: %w", bucket, err)
	}
	var out []Partial
	for subj, n := range subjects {
		if named[subj] || !strings.HasPrefix(subj, chunkSubject(bucket, "")) {
			continue
		}
		m, err := st.GetLastMsgForSubject(ctx, subj)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue // purged since
		}
		if err != nil {
			return nil, fmt.Errorf("store: chunks %s: %w", subj, err)
		}
		out = append(out, Partial{Subject: subj, Chunks: n, ModTime: m.Time.UnixNano()})
	}
	return out, nil
}

// PurgePartials deletes the chunks of the partials that no object names
// now: one may have been completed since it was listed. It returns how
// many it purged.
func (s *Store) PurgePartials(ctx context.Context, bucket string, ps []Partial) (int, error) {
	st, err := s.stream(ctx, bucket)
	if err != nil {
		return 0, err
	}
	named, err := s.named(ctx, bucket)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, p := range ps {
		if named[p.Subject] {
			continue
		}
		if err := st.Purge(ctx, jetstream.WithPurgeSubject(p.Subject)); err != nil {
			return n, fmt.Errorf("store: purge %s: %w", p.Subject, err)
		}
		n++
	}
	return n, nil
}
