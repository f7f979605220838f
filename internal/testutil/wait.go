package testutil

import (
	"testing"
	"time"
)

// WaitFor calls check every interval until it returns nil, and fails the
// test with check's last error once timeout has passed (nats-server's
// checkFor). Tests wait for a state this way instead of sleeping and then
// asserting it.
func WaitFor(t testing.TB, timeout, interval time.Duration, check func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %v", timeout, err)
		}
		time.Sleep(interval)
	}
}

// WaitEvent returns the next value sent on ch, and fails the test, saying
// what it waited for, if none comes within timeout (raft's WaitEventChan).
// A negative check ("no copy was sent") waits this way for an event that
// proves the code under test had its chance (a timer fired, a pass ended),
// instead of sleeping for a while that is long enough on one machine.
func WaitEvent[T any](t testing.TB, ch <-chan T, timeout time.Duration, what string) T {
	t.Helper()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case v := <-ch:
		return v
	case <-timer.C:
		t.Fatalf("no %s within %v", what, timeout)
	}
	var zero T
	return zero
}
