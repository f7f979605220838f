package proto

import "testing"

func TestVersionList(t *testing.T) {
	for _, c := range []struct {
		in   []int
		want string
	}{
		{nil, "none"},
		{[]int{4}, "4"},
		{[]int{1, 2, 3}, "1..3"},
		{[]int{1, 3, 4, 5, 9}, "1, 3..5, 9"},
		{[]int{2, 3, 7, 8}, "2..3, 7..8"},
	} {
		if got := VersionList(c.in); got != c.want {
			t.Errorf("VersionList(%v) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestDatasetVersion(t *testing.T) {
	d := &Dataset{Versions: []DatasetVersion{{Version: 2}, {Version: 5}}}
	if v := d.Version(5); v == nil || v != &d.Versions[1] {
		t.Fatalf("Version(5) = %v", v)
	}
	for _, n := range []int{0, 1, 3, 6, -1} {
		if v := d.Version(n); v != nil {
			t.Fatalf("Version(%d) = %+v, want nil", n, v)
		}
	}
	if got := ShardBytes([]ShardRef{{Size: 3}, {Size: 4}}, nil, []ShardRef{{Size: 5}}); got != 12 {
		t.Fatalf("ShardBytes = %d", got)
	}
	m := &Model{Blob: BlobRef{Size: 10}, Refs: []BlobRef{{Size: 1}, {Size: 2}}}
	if m.Size() != 13 {
		t.Fatalf("Model.Size = %d", m.Size())
	}
}
