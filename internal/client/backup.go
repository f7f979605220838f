package client

import (
	"archive/tar"
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/internal/store"
	"github.com/nats-io/nats.go"
)

// A backup archive is a tar file:
//
//	mathcrm-backup/manifest.json           the leader's manifest (proto.Backup)
//	mathcrm-backup/blobs/<bucket>/<name>   every blob it names, in its order
//	mathcrm-backup/SHA256SUMS              "<sha256>  <path>" of every entry above
//
// Every blob is verified against the manifest's checksum when it is read
// from the cluster and again when it is read from the archive; SHA256SUMS
// covers the manifest too, so any damaged byte is found before a restore
// writes anything.
const (
	archiveRoot     = "mathcrm-backup/"
	archiveManifest = archiveRoot + "manifest.json"
	archiveBlobs    = archiveRoot + "blobs/"
	archiveSums     = archiveRoot + "SHA256SUMS"
)

// ErrArchive reports a backup archive that is damaged, truncated or not
// one at all.
var ErrArchive = errors.New("client: bad backup archive")

// BackupReport is what a backup wrote or a restore read.
type BackupReport struct {
	File   string             `json:"file"`
	Bytes  int64              `json:"bytes"`
	SHA256 string             `json:"sha256"`
	Index  uint64             `json:"index"`
	Counts proto.BackupCounts `json:"counts"`
}

func archiveBlobPath(r proto.BlobRef) string { return archiveBlobs + r.Bucket + "/" + r.Object }

// Backup writes a backup of the cluster to path: the leader's state and
// every blob it names. The file appears whole or not at all.
func (c *Client) Backup(ctx context.Context, path string, progress func(format string, args ...any)) (*BackupReport, error) {
	say := progress
	if say == nil {
		say = func(string, ...any) {}
	}
	var taken proto.BackupTaken
	if err := c.Call(ctx, proto.APIClusterBackup, nil, &taken); err != nil {
		return nil, err
	}
	st, err := store.Open(ctx, c.nc, 1)
	if err != nil {
		return nil, err
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = st.Delete(dctx, taken.Manifest.Bucket, taken.Manifest.Object)
	}()
	mdata, err := st.Get(ctx, taken.Manifest)
	if err != nil {
		return nil, fmt.Errorf("backup manifest: %w", err)
	}
	var m proto.Backup
	if err := json.Unmarshal(mdata, &m); err != nil {
		return nil, fmt.Errorf("backup manifest: %w", err)
	}
	say("state at raft index %d: %d datasets, %d models, %d score sets, %d jobs, %d schedules; %d blobs, %d bytes",
		m.Index, m.Counts.Datasets, m.Counts.Models, m.Counts.ScoreSets, m.Counts.Jobs, m.Counts.Schedules, m.Counts.Blobs, m.Counts.Bytes)

	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	tmp := f.Name()
	done := false
	defer func() {
		if !done {
			f.Close()
			os.Remove(tmp)
		}
	}()
	whole := sha256.New()
	cw := &countWriter{w: io.MultiWriter(f, whole)}
	bw := bufio.NewWriterSize(cw, 1<<20)
	tw := tar.NewWriter(bw)
	var sums strings.Builder
	put := func(name string, data []byte) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: int64(len(data)), ModTime: m.Created, Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		if _, err := tw.Write(data); err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		fmt.Fprintf(&sums, "%s  %s\n", hex.EncodeToString(sum[:]), name)
		return nil
	}
	if err := put(archiveManifest, mdata); err != nil {
		return nil, fmt.Errorf("backup: write %s: %w", path, err)
	}
	last := time.Now()
	for i, ref := range m.Blobs {
		data, err := st.Get(ctx, ref)
		if errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("backup: %w (deleted since the state was taken: a delete or a collection ran meanwhile; run the backup again)", err)
		}
		if err != nil {
			return nil, fmt.Errorf("backup: %w", err)
		}
		if err := put(archiveBlobPath(ref), data); err != nil {
			return nil, fmt.Errorf("backup: write %s: %w", path, err)
		}
		if time.Since(last) > 2*time.Second {
			say("copied %d of %d blobs", i+1, len(m.Blobs))
			last = time.Now()
		}
	}
	if err := put(archiveSums, []byte(sums.String())); err != nil {
		return nil, fmt.Errorf("backup: write %s: %w", path, err)
	}
	err = tw.Close()
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		return nil, fmt.Errorf("backup: write %s: %w", path, err)
	}
	done = true
	return &BackupReport{File: path, Bytes: cw.n, SHA256: hex.EncodeToString(whole.Sum(nil)), Index: m.Index, Counts: m.Counts}, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// VerifyArchive reads a whole backup archive and checks every entry against
// the manifest and SHA256SUMS. It returns the manifest.
func VerifyArchive(path string) (*proto.Backup, []byte, error) {
	var m *proto.Backup
	var mdata []byte
	err := readArchive(path, func(i int, name string, data []byte) error {
		if i == 0 {
			var err error
			if m, err = decodeManifest(path, data); err != nil {
				return err
			}
			mdata = data
		}
		return nil
	})
	return m, mdata, err
}

func decodeManifest(path string, data []byte) (*proto.Backup, error) {
	var m proto.Backup
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%w: %s: %s: %v", ErrArchive, path, archiveManifest, err)
	}
	if m.Format != proto.BackupFormat {
		return nil, fmt.Errorf("%w: %s: manifest format %d, this mathcrm restores format %d", ErrArchive, path, m.Format, proto.BackupFormat)
	}
	return &m, nil
}

// readArchive reads path's entries in order, checks each against the
// manifest (entry 0) and SHA256SUMS (the last), and calls fn with every
// entry before SHA256SUMS. A caller that acts on entries as they come must
// first have verified the whole archive: the sums are checked at the end.
func readArchive(path string, fn func(i int, name string, data []byte) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrArchive, path, fmt.Sprintf(format, args...))
	}
	tr := tar.NewReader(bufio.NewReaderSize(f, 1<<20))
	var m *proto.Backup
	var sums strings.Builder
	for i := 0; ; i++ {
		h, err := tr.Next()
		if err == io.EOF {
			return bad("ends before %s (truncated)", archiveSums)
		}
		if err != nil {
			return bad("entry %d: %v (damaged or truncated)", i, err)
		}
		if h.Typeflag != tar.TypeReg || h.Size < 0 {
			return bad("entry %d (%s) is not a file this command writes", i, h.Name)
		}
		if h.Size > fi.Size() {
			return bad("entry %d (%s) says it holds %d bytes, more than the file (damaged or truncated)", i, h.Name, h.Size)
		}
		var want string
		switch {
		case i == 0 && h.Name != archiveManifest:
			return bad("starts with %s, not %s: not a mathcrm backup", h.Name, archiveManifest)
		case i == 0:
		case h.Name == archiveSums:
		case m == nil || i-1 >= len(m.Blobs):
			return bad("entry %d (%s) is not in the manifest", i, h.Name)
		default:
			ref := m.Blobs[i-1]
			if h.Name != archiveBlobPath(ref) || h.Size != ref.Size {
				return bad("entry %d is %s (%d bytes), the manifest lists %s (%d bytes)", i, h.Name, h.Size, archiveBlobPath(ref), ref.Size)
			}
			want = ref.SHA256
		}
		if h.Name == archiveSums && h.Size > 64<<20 {
			return bad("%s is %d bytes", archiveSums, h.Size)
		}
		data := make([]byte, h.Size)
		if _, err := io.ReadFull(tr, data); err != nil {
			return bad("%s: %v (truncated)", h.Name, err)
		}
		sum := sha256.Sum256(data)
		got := hex.EncodeToString(sum[:])
		if want != "" && got != want {
			return bad("%s does not match its checksum in the manifest (damaged)", h.Name)
		}
		if h.Name == archiveSums {
			if m != nil && i-1 != len(m.Blobs) {
				return bad("holds %d of the manifest's %d blobs (truncated)", i-1, len(m.Blobs))
			}
			if string(data) != sums.String() {
				return bad("%s does not match the entries (damaged)", archiveSums)
			}
			if _, err := tr.Next(); err != io.EOF {
				return bad("has entries after %s", archiveSums)
			}
			return nil
		}
		if i == 0 {
			if m, err = decodeManifest(path, data); err != nil {
				return err
			}
		}
		fmt.Fprintf(&sums, "%s  %s\n", got, h.Name)
		if err := fn(i, h.Name, data); err != nil {
			return err
		}
	}
}

// Restore brings an empty cluster to the state of the backup at path. It
// reads the whole archive and checks every checksum first, and asks the
// leader whether the cluster is empty, before it stores anything; it stores
// every blob (skipping those already stored intact, so a restore that was
// interrupted can run again), and then the leader commits the state in one
// raft entry once it has checked every blob. Blobs stored by a restore
// that fails are collected as unreferenced.
func (c *Client) Restore(ctx context.Context, path string, progress func(format string, args ...any)) (*BackupReport, error) {
	say := progress
	if say == nil {
		say = func(string, ...any) {}
	}
	m, mdata, err := VerifyArchive(path)
	if err != nil {
		return nil, err
	}
	say("%s verified: %d blobs, %d bytes, taken at raft index %d on %s", path, len(m.Blobs), m.Counts.Bytes, m.Index,
		m.Created.Format(time.RFC3339))
	if err := c.Call(ctx, proto.APIClusterRestore, proto.RestoreRequest{Check: true}, nil); err != nil {
		return nil, err
	}
	st, err := store.Open(ctx, c.nc, 1)
	if err != nil {
		return nil, err
	}
	stored, skipped := 0, 0
	last := time.Now()
	err = readArchive(path, func(i int, name string, data []byte) error {
		if i == 0 {
			if string(data) != string(mdata) {
				return fmt.Errorf("%w: %s changed while it was read", ErrArchive, path)
			}
			return nil
		}
		ref := m.Blobs[i-1]
		if st.Stat(ctx, ref) == nil {
			skipped++
			return nil
		}
		got, err := st.Put(ctx, ref.Bucket, ref.Object, data)
		if err != nil {
			return err
		}
		if got.SHA256 != ref.SHA256 || got.Size != ref.Size {
			return fmt.Errorf("restore: %s/%s was stored with other bytes", ref.Bucket, ref.Object)
		}
		stored++
		if time.Since(last) > 2*time.Second {
			say("stored %d of %d blobs", stored+skipped, len(m.Blobs))
			last = time.Now()
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	say("stored %d blobs (%d were there already)", stored, skipped)
	name := fmt.Sprintf("backups/restore-%s.json", NewRequestID())
	mref, err := st.Put(ctx, proto.BucketModels, name, mdata)
	if err != nil {
		return nil, err
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = st.Delete(dctx, mref.Bucket, mref.Object)
	}()
	var out proto.Restored
	if err := c.callOnce(ctx, proto.APIClusterRestore, proto.RestoreRequest{Manifest: mref}, &out); err != nil {
		return nil, err
	}
	fi, _ := os.Stat(path)
	rep := &BackupReport{File: path, Index: m.Index, Counts: out.Counts}
	if fi != nil {
		rep.Bytes = fi.Size()
	}
	return rep, nil
}

// restoreTimeout bounds the restore's commit: the leader checks every blob
// first, which for a large backup takes longer than an ordinary call.
const restoreTimeout = 2 * time.Minute

// callOnce sends a write that is not idempotent once, waiting up to
// restoreTimeout for its answer; it tries again only when no coordinator
// took it (no responders, no leader), never after one may have applied it.
func (c *Client) callOnce(ctx context.Context, verb string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	data, _ := json.Marshal(proto.Request{V: proto.Version, Body: body})
	for {
		actx, cancel := context.WithTimeout(ctx, restoreTimeout)
		msg, err := c.nc.RequestWithContext(actx, c.apiSubject(verb), data)
		cancel()
		var resp proto.Response
		if err == nil {
			if err = json.Unmarshal(msg.Data, &resp); err == nil {
				err = proto.Check(resp.V)
			}
		}
		switch {
		case errors.Is(err, nats.ErrNoResponders), err == nil && resp.Code == "not_leader":
		case err != nil && ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded):
			return fmt.Errorf("%s: no answer in %s; see whether the restore was committed (mathcrm dataset list)", verb, restoreTimeout)
		case err != nil:
			return err
		case resp.Error != "":
			return &APIError{Code: resp.Code, Msg: resp.Error}
		default:
			if out != nil && len(resp.Body) > 0 {
				return json.Unmarshal(resp.Body, out)
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w", verb, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}
