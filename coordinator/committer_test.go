package coordinator

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/internal/testutil"
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

// TestCommitWaitsForTheNextPassOrItsHold: a pass's commit starts when the
// next pass releases it (its first partial arrived), or after commitHold
// when nothing does, and never before.
func TestCommitWaitsForTheNextPassOrItsHold(t *testing.T) {
	cm := &committer{}
	var released atomic.Bool
	started := make(chan time.Time, 1)
	commit := func(proto.BlobRef, float64) (proto.BlobRef, float64, error) {
		if !released.Load() {
			t.Error("the commit started before the next pass released it")
		}
		started <- time.Now()
		return proto.BlobRef{Object: "s"}, 0, nil
	}
	cm.start(commit)
	time.Sleep(20 * time.Millisecond) // the commit's chance to start too early
	released.Store(true)
	at := time.Now()
	cm.release()
	if got := testutil.WaitEvent(t, started, 5*time.Second, "commit after release"); got.Sub(at) > commitHold/2 {
		t.Fatalf("the commit started %v after its release", got.Sub(at))
	}
	if err := cm.wait(); err != nil {
		t.Fatal(err)
	}
	// Nothing releases the next one: it starts after commitHold.
	at = time.Now()
	cm.start(commit)
	if got := testutil.WaitEvent(t, started, 5*time.Second, "commit after its hold"); got.Sub(at) < commitHold*9/10 {
		t.Fatalf("the commit started %v after it was handed over, before its hold of %v", got.Sub(at), commitHold)
	}
	if err := cm.wait(); err != nil {
		t.Fatal(err)
	}
}
