// Package step holds what every algorithm's per-shard protocol shares: the
// error type its packages return, and the in-process run loop that drives
// an algorithm's leader-side state machine over its shards, which every
// package's Reference is and which the distributed run is held against.
//
// An algorithm is a state machine on the leader (Next gives the task of a
// pass, Absorb takes one result per shard in shard order) and a pure
// function on the workers (run one task on one shard). The cluster runs the
// tasks on workers and combines the results in shard order; Run does the
// same in one process, so both give the same bits.
package step

import "fmt"

// Error is the type of the errors the algorithm packages return: a message
// that stands alone ("kmeans: K must be at least 1") and the package's
// sentinel it unwraps to, so callers test the class with errors.Is and
// show the message as it is. Every such error is deterministic: the same
// data and config give it again, so retrying the step cannot help.
type Error struct {
	// Msg is the whole message, the package's prefix included.
	Msg string
	// Err is one of the package's sentinels.
	Err error
}

func (e *Error) Error() string { return e.Msg }
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error of package pkg (its messages start "pkg: ")
// wrapping sentinel.
func Errorf(pkg string, sentinel error, format string, args ...any) error {
	return &Error{Msg: pkg + ": " + fmt.Sprintf(format, args...), Err: sentinel}
}

// Machine is an algorithm's leader-side state machine as Run sees it.
type Machine[T, R any] interface {
	// Next returns the task every shard runs next, or done.
	Next() (task T, done bool)
	// Absorb takes one result per shard, results[i] being shard i's.
	Absorb(results []R) error
}

// Run drives m to its end over n shards in one process: each pass it runs
// m's task on every shard in shard order — run gets the shard's result of
// the previous pass to reuse, or the zero R — and gives m the results. It
// returns the first error of run or Absorb.
func Run[T, R any](m Machine[T, R], n int, run func(prev R, task T, shard int) (R, error)) error {
	results := make([]R, n)
	for {
		t, done := m.Next()
		if done {
			return nil
		}
		for i := range results {
			r, err := run(results[i], t, i)
			if err != nil {
				return err
			}
			results[i] = r
		}
		if err := m.Absorb(results); err != nil {
			return err
		}
	}
}
