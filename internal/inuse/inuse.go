// Package inuse keeps two processes out of one data directory and says who
// holds a directory or a listen address, so that a process started twice
// fails at once with a message naming the other one instead of waiting on
// a lock or a port.
package inuse

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// ErrLocked reports a directory another process holds.
var ErrLocked = errors.New("inuse: directory is held by another process")

// ErrAddrInUse reports a listen address another process holds.
var ErrAddrInUse = errors.New("inuse: address is already in use")

// LockFile is the name of the lock file in a locked directory; it holds
// the pid of the process that holds the lock.
const LockFile = "lock"

// Error says what is held and by whom.
type Error struct {
	What   string // "dev: data directory", "coordinator: raft address", ...
	Name   string // the directory or address
	Holder string // "pid 42 (mathcrm dev --data-dir /x)", or "" when unknown
	err    error  // ErrLocked or ErrAddrInUse
}

func (e *Error) Error() string {
	h := e.Holder
	if h == "" {
		h = "another process"
	}
	return fmt.Sprintf("%s %s is in use by %s", e.What, e.Name, h)
}

func (e *Error) Unwrap() error { return e.err }

// Lock is a held directory; Close releases it.
type Lock struct{ f *os.File }

// LockDir creates dir if needed and takes an exclusive lock on dir/lock
// without waiting: when another process holds it, the error (an *Error
// wrapping ErrLocked) names dir and that process. The kernel releases the
// lock when the process ends, however it ends.
func LockDir(what, dir string) (*Lock, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("%s %s: %w", what, dir, err)
	}
	path := filepath.Join(dir, LockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", what, dir, err)
	}
	if err := flock(f); err != nil {
		f.Close()
		if errors.Is(err, errWouldBlock) {
			return nil, &Error{What: what, Name: dir, Holder: lockHolder(path), err: ErrLocked}
		}
		return nil, fmt.Errorf("%s %s: lock: %w", what, dir, err)
	}
	// Record the holder for the next process that finds the lock taken.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &Lock{f: f}, nil
}

// Close releases the lock.
func (l *Lock) Close() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close() // closing the descriptor drops the flock
	l.f = nil
	return err
}

func lockHolder(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return ""
	}
	return describe(pid)
}

// AddrError turns a failed listen on addr into an *Error wrapping
// ErrAddrInUse that names the process listening there when it can be
// found; other errors come back wrapped with what and addr.
func AddrError(what, addr string, err error) error {
	if !errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("%s %s: %w", what, addr, err)
	}
	h := ""
	if _, p, e := net.SplitHostPort(addr); e == nil {
		if port, e := strconv.Atoi(p); e == nil && port > 0 {
			if pid := portHolder(port); pid > 0 {
				h = describe(pid)
			}
		}
	}
	return &Error{What: what, Name: addr, Holder: h, err: ErrAddrInUse}
}

// CheckAddr fails with AddrError when addr cannot be listened on now. It is
// for servers that listen in a goroutine of their own and would report a
// busy port only in their logs.
func CheckAddr(what, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return AddrError(what, addr, err)
	}
	return ln.Close()
}

// describe is "pid N (command line)", the command named by its base name.
func describe(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || len(b) == 0 {
		return fmt.Sprintf("pid %d", pid)
	}
	args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
	args[0] = filepath.Base(args[0])
	cmd := strings.Join(args, " ")
	if len(cmd) > 200 {
		cmd = cmd[:200] + "..."
	}
	return fmt.Sprintf("pid %d (%s)", pid, cmd)
}
