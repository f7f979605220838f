package client

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mathcrm/mathcrm/internal/proto"
)

type entry struct {
	name string
	data []byte
}

// archiveEntries are the entries of a small, well-formed archive.
func archiveEntries(t testing.TB) []entry {
	t.Helper()
	blobs := [][]byte{[]byte("shard zero bytes"), []byte("a model")}
	m := proto.Backup{Format: proto.BackupFormat, Proto: proto.Version, State: json.RawMessage(`{}`)}
	for i, b := range blobs {
		sum := sha256.Sum256(b)
		m.Blobs = append(m.Blobs, proto.BlobRef{Bucket: proto.Buckets[i], Object: fmt.Sprintf("x/%d", i), Size: int64(len(b)), SHA256: hex.EncodeToString(sum[:])})
	}
	md, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	es := []entry{{archiveManifest, md}}
	for i, b := range blobs {
		es = append(es, entry{archiveBlobPath(m.Blobs[i]), b})
	}
	var sums strings.Builder
	for _, e := range es {
		sum := sha256.Sum256(e.data)
		fmt.Fprintf(&sums, "%s  %s\n", hex.EncodeToString(sum[:]), e.name)
	}
	return append(es, entry{archiveSums, []byte(sums.String())})
}

func writeArchive(t testing.TB, es []entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range es {
		if err := tw.WriteHeader(&tar.Header{Name: e.name, Mode: 0o600, Size: int64(len(e.data)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write(e.data)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestVerifyArchive(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := archiveEntries(t)
	m, _, err := VerifyArchive(write("good.tar", writeArchive(t, good)))
	if err != nil || len(m.Blobs) != 2 {
		t.Fatalf("a good archive: %v", err)
	}
	edit := func(f func([]entry) []entry) []entry {
		es := append([]entry(nil), good...)
		for i := range es {
			es[i].data = bytes.Clone(es[i].data)
		}
		return f(es)
	}
	for _, tc := range []struct {
		name string
		es   []entry
		want string
	}{
		{"blob byte", edit(func(es []entry) []entry { es[1].data[0] ^= 1; return es }), "x/0 does not match its checksum"},
		{"manifest byte", edit(func(es []entry) []entry {
			es[0].data = bytes.Replace(es[0].data, []byte(`"proto":1`), []byte(`"proto":3`), 1)
			return es
		}), "SHA256SUMS does not match"},
		{"sums byte", edit(func(es []entry) []entry { es[3].data[3] ^= 1; return es }), "SHA256SUMS does not match"},
		{"blob missing", edit(func(es []entry) []entry { return append(es[:2], es[3:]...) }), "holds 1 of the manifest's 2 blobs"},
		{"no sums", edit(func(es []entry) []entry { return es[:3] }), "truncated"},
		{"swapped blobs", edit(func(es []entry) []entry { es[1], es[2] = es[2], es[1]; return es }), "the manifest lists"},
		{"extra entry", edit(func(es []entry) []entry { return append(es, entry{"more", nil}) }), "entries after"},
		{"not a backup", edit(func(es []entry) []entry { es[0].name = "etc/passwd"; return es }), "not a mathcrm backup"},
		{"other format", edit(func(es []entry) []entry {
			es[0].data = bytes.Replace(es[0].data, []byte(`"format":1`), []byte(`"format":7`), 1)
			return es
		}), "manifest format 7"},
	} {
		p := write(strings.ReplaceAll(tc.name, " ", "-")+".tar", writeArchive(t, tc.es))
		_, _, err := VerifyArchive(p)
		if !errors.Is(err, ErrArchive) || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v; want ErrArchive naming the file and %q", tc.name, err, tc.want)
		}
	}
	raw := writeArchive(t, good)
	// Cuts in a header, in the manifest, in a blob and in SHA256SUMS.
	for _, n := range []int{0, 100, 600, len(raw) / 2, len(raw) - 1500} {
		p := write(fmt.Sprintf("cut-%d.tar", n), raw[:n])
		if _, _, err := VerifyArchive(p); !errors.Is(err, ErrArchive) {
			t.Errorf("cut at %d of %d bytes: %v", n, len(raw), err)
		}
	}
	if _, _, err := VerifyArchive(filepath.Join(dir, "absent.tar")); err == nil || !strings.Contains(err.Error(), "absent.tar") {
		t.Errorf("a missing file: %v", err)
	}
}

// FuzzVerifyArchive feeds arbitrary bytes to the archive reader: it accepts
// them or refuses with ErrArchive, never panics.
func FuzzVerifyArchive(f *testing.F) {
	f.Add(writeArchive(f, archiveEntries(f)))
	f.Add([]byte("not a tar file at all"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(dir, "fuzz.tar")
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, _, err := VerifyArchive(p); err != nil && !errors.Is(err, ErrArchive) {
			t.Fatalf("not ErrArchive: %v", err)
		}
	})
}
