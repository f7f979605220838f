package coordinator

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mathcrm/mathcrm/internal/proto"
)

// TestCommitterOneAtATimeInOrder: each commit sees the state the commit
// before made current, and none starts before the one before has ended.
func TestCommitterOneAtATimeInOrder(t *testing.T) {
	cm := &committer{prev: proto.BlobRef{Object: "state-0"}}
	running := make(chan struct{}, 1)
	for i := 1; i <= 5; i++ {
		if err := cm.wait(); err != nil {
			t.Fatal(err)
		}
		want := "state-" + string(rune('0'+i-1))
		cm.start(func(prev proto.BlobRef, _ float64) (proto.BlobRef, float64, error) {
			select {
			case running <- struct{}{}:
			default:
				t.Error("two commits at once")
			}
			defer func() { <-running }()
			if prev.Object != want {
				t.Errorf("commit %d saw %s, want %s", i, prev.Object, want)
			}
			time.Sleep(time.Millisecond)
			return proto.BlobRef{Object: "state-" + string(rune('0'+i))}, 0.001, nil
		})
	}
	if err := cm.wait(); err != nil || cm.prev.Object != "state-5" {
		t.Fatalf("after the last commit: %v, %s", err, cm.prev.Object)
	}
}

// TestFailedCommitEndsThePassUnderWay: a commit that fails cancels the pass
// computing beside it, and the driver returns the commit's error, not the
// cancelled pass's.
func TestFailedCommitEndsThePassUnderWay(t *testing.T) {
	cm := &committer{}
	boom := errors.New("raft: not the leader")
	release := make(chan struct{})
	cm.start(func(proto.BlobRef, float64) (proto.BlobRef, float64, error) {
		<-release
		return proto.BlobRef{}, 0, boom
	})
	pass, cancel := context.WithCancel(context.Background())
	cm.passStarted(cancel)
	close(release)
	select {
	case <-pass.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the pass under way was not ended")
	}
	if err := cm.failed(pass.Err()); !errors.Is(err, boom) {
		t.Fatalf("driver returns %v, want the commit's error", err)
	}
	// A pass started after the failure is ended at once.
	next, cancelNext := context.WithCancel(context.Background())
	cm.passStarted(cancelNext)
	if next.Err() == nil {
		t.Fatal("a pass started after a failed commit runs")
	}
}
