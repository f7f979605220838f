// Package store keeps shard files, model blobs and algorithm state in the
// NATS JetStream object store, and verifies every blob where it is read.
package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
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
			os, err = js.CreateObjectStore(ctx, jetstream.ObjectStoreConfig{
				Bucket: b, Storage: jetstream.FileStorage, Replicas: replicas,
			})
			if errors.Is(err, jetstream.ErrBucketExists) {
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
	b, err := s.bucket(bucket)
	if err != nil {
		return proto.BlobRef{}, err
	}
	ctx, cancel := transferCtx(ctx, int64(len(data)))
	defer cancel()
	info, err := b.PutBytes(ctx, name, data)
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

// PutNew is Put for a name the bucket has never held (an import's shards,
// named by its import id): it skips the object store's look-up of an
// object to replace, which costs a round trip per blob and makes the
// server read back a block of its stream, and sends the chunks straight
// from data. The blob is the object store's own: chunks of 128 KiB under a
// fresh id, then the meta message (name, size, chunk count, SHA-256 digest)
// once every chunk is stored, so no reader sees it before it is whole.
// Past a failure its chunks are purged; a name in use is not detected.
func (s *Store) PutNew(ctx context.Context, bucket, name string, data []byte) (proto.BlobRef, error) {
	if _, err := s.bucket(bucket); err != nil {
		return proto.BlobRef{}, err
	}
	ctx, cancel := transferCtx(ctx, int64(len(data)))
	defer cancel()
	id := newObjectID()
	chunkSubj := chunkSubject(bucket, id)
	fail := func(err error) (proto.BlobRef, error) {
		// Also after ctx ended (an interrupted import), but briefly: a
		// chunk left behind is collected with the other partial uploads.
		pctx, pcancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer pcancel()
		if st, serr := s.js.Stream(pctx, "OBJ_"+bucket); serr == nil {
			_ = st.Purge(pctx, jetstream.WithPurgeSubject(chunkSubj))
		}
		return proto.BlobRef{}, fmt.Errorf("store: put %s/%s: %w", bucket, name, err)
	}
	h := sha256.New()
	var acks []jetstream.PubAckFuture
	chunks := 0
	for off := 0; off < len(data); off += objectChunk {
		m := nats.NewMsg(chunkSubj)
		m.Data = data[off:min(off+objectChunk, len(data))]
		h.Write(m.Data)
		f, err := s.js.PublishMsgAsync(m)
		if err != nil {
			return fail(err)
		}
		acks = append(acks, f)
		chunks++
	}
	if err := waitAcks(ctx, acks); err != nil {
		return fail(err)
	}
	sum := h.Sum(nil)
	info := jetstream.ObjectInfo{
		ObjectMeta: jetstream.ObjectMeta{Name: name, Opts: &jetstream.ObjectMetaOptions{ChunkSize: objectChunk}},
		Bucket:     bucket, NUID: id, Size: uint64(len(data)), Chunks: uint32(chunks),
		Digest: "SHA-256=" + base64.URLEncoding.EncodeToString(sum),
	}
	mm := nats.NewMsg("$O." + bucket + ".M." + base64.URLEncoding.EncodeToString([]byte(name)))
	mm.Header.Set(jetstream.MsgRollup, jetstream.MsgRollupSubject)
	var err error
	if mm.Data, err = json.Marshal(info); err != nil {
		return fail(err)
	}
	f, err := s.js.PublishMsgAsync(mm)
	if err == nil {
		err = waitAcks(ctx, []jetstream.PubAckFuture{f})
	}
	if err != nil {
		return fail(err)
	}
	return proto.BlobRef{Bucket: bucket, Object: name, Size: int64(len(data)), SHA256: hex.EncodeToString(sum)}, nil
}

// objectChunk is the object store's chunk size (its default).
const objectChunk = 128 << 10

// newObjectID returns a fresh id for an object's chunk subject.
func newObjectID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// waitAcks waits for every publish to be acknowledged and returns the
// first failure.
func waitAcks(ctx context.Context, acks []jetstream.PubAckFuture) error {
	for _, f := range acks {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			return err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
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
	b, err := s.bucket(bucket)
	if err != nil {
		return proto.BlobRef{}, err
	}
	f, err := os.Open(path)
	if err != nil {
		return proto.BlobRef{}, fmt.Errorf("store: %w", err)
	}
	defer f.Close()
	info, err := b.Put(ctx, jetstream.ObjectMeta{Name: name}, f)
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

// Get reads a blob and verifies its size and checksum.
func (s *Store) Get(ctx context.Context, ref proto.BlobRef) ([]byte, error) {
	b, err := s.bucket(ref.Bucket)
	if err != nil {
		return nil, err
	}
	ctx, cancel := transferCtx(ctx, ref.Size)
	defer cancel()
	data, err := getBytes(ctx, b, ref.Object)
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return nil, fmt.Errorf("%w: %s/%s", ErrNotFound, ref.Bucket, ref.Object)
	}
	if err != nil {
		return nil, fmt.Errorf("store: get %s/%s: %w", ref.Bucket, ref.Object, err)
	}
	if err := Verify(ref, data); err != nil {
		return nil, err
	}
	return data, nil
}

// getBytes reads a whole object into a buffer of the size its info gives,
// where jetstream's GetBytes grows one from nothing: at tens of megabytes
// a blob, the growing copied and cleared each blob's bytes several times
// over. It reads on to the end, where jetstream checks the object's digest.
func getBytes(ctx context.Context, b jetstream.ObjectStore, name string) ([]byte, error) {
	r, err := b.Get(ctx, name)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	info, err := r.Info()
	if err != nil {
		return nil, err
	}
	if info.Size > 1<<40 {
		return nil, fmt.Errorf("object of %d bytes", info.Size)
	}
	data := make([]byte, info.Size)
	if _, err := io.ReadFull(r, data); err != nil {
		return nil, err
	}
	var one [1]byte
	for {
		n, err := r.Read(one[:])
		if n > 0 {
			return nil, fmt.Errorf("object longer than its %d bytes", info.Size)
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

// Delete removes a blob; a missing blob is not an error.
func (s *Store) Delete(ctx context.Context, bucket, name string) error {
	b, err := s.bucket(bucket)
	if err != nil {
		return err
	}
	if err := b.Delete(ctx, name); err != nil && !errors.Is(err, jetstream.ErrObjectNotFound) {
		return fmt.Errorf("store: delete %s/%s: %w", bucket, name, err)
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
// was written).
func (s *Store) Stat(ctx context.Context, ref proto.BlobRef) error {
	b, err := s.bucket(ref.Bucket)
	if err != nil {
		return err
	}
	info, err := b.GetInfo(ctx, ref.Object)
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return fmt.Errorf("%w: %s/%s", ErrNotFound, ref.Bucket, ref.Object)
	}
	if err != nil {
		return fmt.Errorf("store: stat %s/%s: %w", ref.Bucket, ref.Object, err)
	}
	sum, err := hex.DecodeString(ref.SHA256)
	if err != nil || int64(info.Size) != ref.Size || info.Digest != "SHA-256="+base64.URLEncoding.EncodeToString(sum) {
		return fmt.Errorf("%w: %s/%s", ErrChecksum, ref.Bucket, ref.Object)
	}
	return s.checkChunks(ctx, ref.Bucket, ref.Object, info.NUID, info.Chunks)
}
