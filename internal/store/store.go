// Package store keeps shard files, model blobs and algorithm state in the
// NATS JetStream object store, and verifies every blob where it is read.
package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

var (
	// ErrChecksum reports a blob whose bytes do not match the recorded checksum.
	ErrChecksum = errors.New("store: checksum mismatch")
	// ErrNotFound reports a missing blob.
	ErrNotFound = errors.New("store: blob not found")
)

// A Get or Put that makes no progress must not hold its caller for the
// caller's whole deadline (a worker's step has ten minutes): a JetStream
// request lost while the connection to NATS drops and comes back is never
// answered. Each one has StallBase plus the time its bytes take at MinRate.
const (
	StallBase = 10 * time.Second
	MinRate   = 1 << 20 // bytes per second
)

func transferCtx(ctx context.Context, size int64) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, StallBase+time.Duration(size/MinRate)*time.Second)
}

// Store is the object store of one cluster.
type Store struct {
	js      jetstream.JetStream
	buckets map[string]jetstream.ObjectStore
}

// Open binds the cluster's buckets, creating them when absent.
func Open(ctx context.Context, nc *nats.Conn, replicas int) (*Store, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("store: jetstream: %w", err)
	}
	if replicas < 1 {
		replicas = 1
	}
	s := &Store{js: js, buckets: map[string]jetstream.ObjectStore{}}
	for _, b := range proto.Buckets {
		os, err := js.ObjectStore(ctx, b)
		if errors.Is(err, jetstream.ErrBucketNotFound) {
			// The object store's stream, refusing rollups (append.go).
			_, err = js.CreateStream(ctx, streamConfig(b, replicas))
			if err == nil || errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
				os, err = js.ObjectStore(ctx, b)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("store: bucket %s: %w", b, err)
		}
		s.buckets[b] = os
	}
	return s, nil
}

func (s *Store) bucket(name string) (jetstream.ObjectStore, error) {
	b, ok := s.buckets[name]
	if !ok {
		return nil, fmt.Errorf("store: unknown bucket %q", name)
	}
	return b, nil
}

// Put stores data under name and returns its reference.
func (s *Store) Put(ctx context.Context, bucket, name string, data []byte) (proto.BlobRef, error) {
	if _, err := s.bucket(bucket); err != nil {
		return proto.BlobRef{}, err
	}
	ctx, cancel := transferCtx(ctx, int64(len(data)))
	defer cancel()
	info, err := s.appendObject(ctx, bucket, name, bytes.NewReader(data))
	if err != nil {
		return proto.BlobRef{}, fmt.Errorf("store: put %s/%s: %w", bucket, name, err)
	}
	// The object store hashed the bytes as it sent them: take its digest
	// rather than hash them twice.
	sum, ok := digestSHA256(info.Digest)
	if !ok || info.Size != uint64(len(data)) {
		s := sha256.Sum256(data)
		sum = s[:]
	}
	return proto.BlobRef{Bucket: bucket, Object: name, Size: int64(len(data)), SHA256: hex.EncodeToString(sum)}, nil
}

// digestSHA256 returns the SHA-256 sum of an object store digest
// ("SHA-256=" and the sum in URL-safe base64), and whether it is one.
func digestSHA256(digest string) ([]byte, bool) {
	b64, ok := strings.CutPrefix(digest, "SHA-256=")
	if !ok {
		return nil, false
	}
	sum, err := base64.URLEncoding.DecodeString(b64)
	return sum, err == nil && len(sum) == sha256.Size
}

// PutFile streams a local file into the store under name.
func (s *Store) PutFile(ctx context.Context, bucket, name, path string) (proto.BlobRef, error) {
	if _, err := s.bucket(bucket); err != nil {
		return proto.BlobRef{}, err
	}
	f, err := os.Open(path)
	if err != nil {
		return proto.BlobRef{}, fmt.Errorf("store: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return proto.BlobRef{}, fmt.Errorf("store: %w", err)
	}
	// Bounded like Put, so that an acknowledgement that never comes
	// fails the import rather than hang it.
	ctx, cancel := transferCtx(ctx, fi.Size())
	defer cancel()
	info, err := s.appendObject(ctx, bucket, name, f)
	if err != nil {
		return proto.BlobRef{}, fmt.Errorf("store: put %s/%s: %w", bucket, name, err)
	}
	// As in Put: the object store's digest is of the bytes it sent.
	sum, ok := digestSHA256(info.Digest)
	if !ok {
		return proto.BlobRef{}, fmt.Errorf("store: put %s/%s: the object store gave no SHA-256 digest (%q)", bucket, name, info.Digest)
	}
	return proto.BlobRef{Bucket: bucket, Object: name, Size: int64(info.Size), SHA256: hex.EncodeToString(sum)}, nil
}

// Get reads a blob and verifies its size and checksum. Meta data is not
// authenticated (any role that writes blobs can append some over an
// object, append.go): Get reads through the object store's client only a
// newest version whose size and digest are the reference's and whose
// chunks are all stored, and otherwise tries every stored version with the
// reference's size and digest, newest first. It never sizes a buffer from
// meta data that disagrees with the reference, and it fails as soon as no
// version can be read rather than wait for chunks that are not there.
func (s *Store) Get(ctx context.Context, ref proto.BlobRef) ([]byte, error) {
	b, err := s.bucket(ref.Bucket)
	if err != nil {
		return nil, err
	}
	ctx, cancel := transferCtx(ctx, ref.Size)
	defer cancel()
	info, ierr := b.GetInfo(ctx, ref.Object)
	if ierr != nil && !errors.Is(ierr, jetstream.ErrObjectNotFound) && !errors.Is(ierr, jetstream.ErrBadObjectMeta) {
		return nil, fmt.Errorf("store: get %s/%s: %w", ref.Bucket, ref.Object, ierr)
	}
	var last error
	if ierr == nil && sameDigest(info, ref) && validNUID(info.NUID) {
		if last = s.checkChunks(ctx, ref.Bucket, ref.Object, info.NUID, info.Chunks); last == nil {
			data, err := getBytes(ctx, b, ref, info.NUID)
			if err == nil {
				if err = Verify(ref, data); err == nil {
					return data, nil
				}
			}
			last = err
		}
	}
	// Meta data appended over the object shadows the version the
	// reference names, which is still stored (append.go).
	vs, err := s.versions(ctx, ref.Bucket, ref.Object)
	if err != nil {
		return nil, fmt.Errorf("store: get %s/%s: %w", ref.Bucket, ref.Object, err)
	}
	live := false
	for i := len(vs) - 1; i >= 0; i-- {
		v := &vs[i]
		live = live || !v.Deleted
		if v.Deleted || !sameDigest(v, ref) {
			continue
		}
		data, err := s.readVersion(ctx, ref.Bucket, v)
		if err == nil {
			if err = Verify(ref, data); err == nil {
				return data, nil
			}
		}
		last = err
	}
	switch {
	case last != nil:
		return nil, fmt.Errorf("store: get %s/%s: %w", ref.Bucket, ref.Object, last)
	case !live:
		return nil, fmt.Errorf("%w: %s/%s", ErrNotFound, ref.Bucket, ref.Object)
	default:
		return nil, fmt.Errorf("%w: %s/%s (no stored version has its size and SHA-256)", ErrChecksum, ref.Bucket, ref.Object)
	}
}

// sameDigest reports whether info's size and digest are ref's.
func sameDigest(info *jetstream.ObjectInfo, ref proto.BlobRef) bool {
	sum, err := hex.DecodeString(ref.SHA256)
	return err == nil && ref.Size >= 0 && info.Size == uint64(ref.Size) &&
		info.Digest == "SHA-256="+base64.URLEncoding.EncodeToString(sum)
}

// validNUID reports whether a meta message's NUID names one chunk subject:
// a single subject token, no wildcard, as the object store writes them.
// Meta data is not authenticated, and a NUID of ">" would name every
// object's chunks.
func validNUID(id string) bool {
	return id != "" && len(id) <= 64 && !strings.ContainsAny(id, ".*> \t\r\n")
}

// getBytes reads the newest version of ref's object, which must have the
// NUID the caller checked, into a buffer of ref's size, where jetstream's
// GetBytes grows one from nothing: at tens of megabytes a blob, the growing
// copied and cleared each blob's bytes several times over. It reads on to
// the end, where jetstream checks the object's digest. Meta data that
// disagrees with ref is refused before anything is allocated.
func getBytes(ctx context.Context, b jetstream.ObjectStore, ref proto.BlobRef, nuid string) ([]byte, error) {
	r, err := b.Get(ctx, ref.Object)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	info, err := r.Info()
	if err != nil {
		return nil, err
	}
	if info.NUID != nuid || !sameDigest(info, ref) {
		// Meta data appended since the caller looked.
		return nil, fmt.Errorf("%w: %s/%s (meta data of %d bytes, want %d)", ErrChecksum, ref.Bucket, ref.Object, info.Size, ref.Size)
	}
	data := make([]byte, ref.Size)
	if _, err := io.ReadFull(r, data); err != nil {
		return nil, err
	}
	var one [1]byte
	for {
		n, err := r.Read(one[:])
		if n > 0 {
			return nil, fmt.Errorf("%w: %s/%s (longer than its %d bytes)", ErrChecksum, ref.Bucket, ref.Object, ref.Size)
		}
		if err == io.EOF {
			return data, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// Verify checks data against a reference.
func Verify(ref proto.BlobRef, data []byte) error {
	sum := sha256.Sum256(data)
	if int64(len(data)) != ref.Size || hex.EncodeToString(sum[:]) != ref.SHA256 {
		return fmt.Errorf("%w: %s/%s (%d bytes, want %d)", ErrChecksum, ref.Bucket, ref.Object, len(data), ref.Size)
	}
	return nil
}

// Object is a listed blob.
type Object struct {
	Name string
	Size int64
	// Age is how long ago it was last written, from the server's clock.
	ModTime int64
}

// List names the live objects in a bucket.
func (s *Store) List(ctx context.Context, bucket string) ([]Object, error) {
	b, err := s.bucket(bucket)
	if err != nil {
		return nil, err
	}
	infos, err := b.List(ctx)
	if errors.Is(err, jetstream.ErrNoObjectsFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: list %s: %w", bucket, err)
	}
	out := make([]Object, 0, len(infos))
	for _, in := range infos {
		if in.Deleted {
			continue
		}
		out = append(out, Object{Name: in.Name, Size: int64(in.Size), ModTime: in.ModTime.UnixNano()})
	}
	return out, nil
}

// Stat checks that a stored blob has the recorded size and digest, and all
// of its chunks, without reading it (the digest is the one recorded when it
// was written). Like Get, it looks past the newest meta data for a version
// with the reference's size and digest whose chunks are all stored.
func (s *Store) Stat(ctx context.Context, ref proto.BlobRef) error {
	b, err := s.bucket(ref.Bucket)
	if err != nil {
		return err
	}
	info, ierr := b.GetInfo(ctx, ref.Object)
	if ierr != nil && !errors.Is(ierr, jetstream.ErrObjectNotFound) && !errors.Is(ierr, jetstream.ErrBadObjectMeta) {
		return fmt.Errorf("store: stat %s/%s: %w", ref.Bucket, ref.Object, ierr)
	}
	var last error
	tried := ""
	if ierr == nil && sameDigest(info, ref) && validNUID(info.NUID) {
		tried = info.NUID
		if last = s.checkChunks(ctx, ref.Bucket, ref.Object, info.NUID, info.Chunks); last == nil {
			return nil
		}
	}
	// A shadowed version counts (append.go).
	vs, err := s.versions(ctx, ref.Bucket, ref.Object)
	if err != nil {
		return fmt.Errorf("store: stat %s/%s: %w", ref.Bucket, ref.Object, err)
	}
	live := false
	for i := len(vs) - 1; i >= 0; i-- {
		v := &vs[i]
		live = live || !v.Deleted
		if v.Deleted || v.NUID == tried || !sameDigest(v, ref) {
			continue
		}
		if last = s.checkChunks(ctx, ref.Bucket, ref.Object, v.NUID, v.Chunks); last == nil {
			return nil
		}
	}
	switch {
	case last != nil:
		return last
	case !live:
		return fmt.Errorf("%w: %s/%s", ErrNotFound, ref.Bucket, ref.Object)
	default:
		return fmt.Errorf("%w: %s/%s", ErrChecksum, ref.Bucket, ref.Object)
	}
}
