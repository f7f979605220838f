package inuse

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
)

func TestLockDirTwiceNamesTheHolder(t *testing.T) {
	dir := t.TempDir() + "/data"
	l, err := LockDir("test: data directory", dir)
	if err != nil {
		t.Fatal(err)
	}
	// flock locks belong to the open file, so a second open in this
	// process conflicts as another process would.
	_, err = LockDir("test: data directory", dir)
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second lock: %v, want ErrLocked", err)
	}
	want := fmt.Sprintf("test: data directory %s is in use by pid %d (inuse.test ", dir, os.Getpid())
	if !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("second lock: %q, want prefix %q", err, want)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l2, err := LockDir("test: data directory", dir)
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	l2.Close()
}

func TestLockDirUnknownHolder(t *testing.T) {
	dir := t.TempDir()
	l, err := LockDir("test: dir", dir)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := os.WriteFile(dir+"/"+LockFile, []byte("not a pid\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = LockDir("test: dir", dir)
	if want := "test: dir " + dir + " is in use by another process"; err == nil || err.Error() != want {
		t.Fatalf("got %v, want %q", err, want)
	}
}

func TestCheckAddrNamesTheListener(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	addr := ln.Addr().String()
	err = CheckAddr("test: listen address", addr)
	if !errors.Is(err, ErrAddrInUse) {
		t.Fatalf("CheckAddr on a busy port: %v, want ErrAddrInUse", err)
	}
	want := fmt.Sprintf("test: listen address %s is in use by pid %d (inuse.test ", addr, os.Getpid())
	if !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("got %q, want prefix %q", err, want)
	}
	if err := CheckAddr("test: listen address", "127.0.0.1:0"); err != nil {
		t.Fatalf("free port: %v", err)
	}
	if err := CheckAddr("test: listen address", "256.0.0.1:1"); err == nil || errors.Is(err, ErrAddrInUse) {
		t.Fatalf("bad address: %v", err)
	}
}
