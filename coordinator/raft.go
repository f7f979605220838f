package coordinator

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	"github.com/mathcrm/mathcrm/internal/inuse"
	"go.etcd.io/bbolt"
)

// openRaft starts the raft node: a write-ahead log for entries and stable
// state, file snapshots and a TCP transport (mutual TLS when configured),
// all under cfg.DataDir. The raft
// directory is locked first, so that a second coordinator on it fails at
// once naming the first instead of waiting on the log's own lock; the
// returned closer closes the log and then releases the directory.
func openRaft(cfg Config, fsm raft.FSM) (*raft.Raft, *raft.NetworkTransport, io.Closer, error) {
	dir := filepath.Join(cfg.DataDir, "raft")
	lock, err := inuse.LockDir("coordinator: raft directory", dir)
	if err != nil {
		return nil, nil, nil, err
	}
	r, trans, logs, err := openLockedRaft(cfg, dir, fsm)
	if err != nil {
		lock.Close()
		return nil, nil, nil, err
	}
	return r, trans, lockedLog{logs, lock}, nil
}

// lockedLog closes the log, then releases the directory it is in.
type lockedLog struct {
	log  io.Closer
	lock *inuse.Lock
}

func (l lockedLog) Close() error { return errors.Join(l.log.Close(), l.lock.Close()) }

func openLockedRaft(cfg Config, dir string, fsm raft.FSM) (*raft.Raft, *raft.NetworkTransport, io.Closer, error) {
	// The log and stable store is a bbolt database: every append is one
	// fsynced transaction, so a process killed at any moment leaves a log
	// that opens again. (raft-wal v0.4.0 can leave a sealed segment without
	// its index after a tail truncation and then panics on open: its bug #31.)
	bolt, err := raftboltdb.New(raftboltdb.Options{Path: filepath.Join(dir, "raft.db"), BoltOptions: &bbolt.Options{Timeout: 2 * time.Second}})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("coordinator: open raft log: %w", err)
	}
	logs := bolt
	hl := hclog.New(&hclog.LoggerOptions{Name: "raft", Level: hclog.Warn, Output: slogWriter{cfg.Logger}})
	snaps, err := raft.NewFileSnapshotStoreWithLogger(dir, 2, hl)
	if err != nil {
		logs.Close()
		return nil, nil, nil, fmt.Errorf("coordinator: snapshot store: %w", err)
	}
	addr, err := net.ResolveTCPAddr("tcp", cfg.RaftAddr)
	if err != nil {
		logs.Close()
		return nil, nil, nil, fmt.Errorf("coordinator: raft address %q: %w", cfg.RaftAddr, err)
	}
	// With port 0 the transport advertises the port it was given, not 0:
	// the address goes into raft's configuration and the raft-addr file.
	var advertise net.Addr = addr
	if addr.Port == 0 {
		advertise = nil
	}
	var trans *raft.NetworkTransport
	if cfg.RaftServerTLS != nil || cfg.RaftAdvertise != "" || cfg.raftResolve != nil {
		trans, err = newStreamTransport(cfg.RaftAddr, cfg.RaftAdvertise, cfg.RaftServerTLS, cfg.RaftClientTLS, cfg.raftResolve, hl)
	} else {
		trans, err = raft.NewTCPTransportWithLogger(cfg.RaftAddr, advertise, 3, 10*time.Second, hl)
	}
	if err != nil {
		logs.Close()
		return nil, nil, nil, inuse.AddrError("coordinator: raft address", cfg.RaftAddr, err)
	}
	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(cfg.ID)
	rc.Logger = hl
	rc.SnapshotThreshold = 1024
	rc.SnapshotInterval = 30 * time.Second
	if cfg.SnapshotThreshold > 0 {
		rc.SnapshotThreshold = cfg.SnapshotThreshold
		rc.TrailingLogs = min(rc.TrailingLogs, cfg.SnapshotThreshold)
	}
	if cfg.SnapshotInterval > 0 {
		rc.SnapshotInterval = cfg.SnapshotInterval
	}
	if cfg.RaftHeartbeatTimeout > 0 {
		rc.HeartbeatTimeout = cfg.RaftHeartbeatTimeout
		rc.LeaderLeaseTimeout = min(rc.LeaderLeaseTimeout, cfg.RaftHeartbeatTimeout)
	}
	if cfg.RaftElectionTimeout > 0 {
		rc.ElectionTimeout = cfg.RaftElectionTimeout
	}
	if cfg.FastRaft {
		rc.HeartbeatTimeout = 300 * time.Millisecond
		rc.ElectionTimeout = 300 * time.Millisecond
		rc.LeaderLeaseTimeout = 150 * time.Millisecond
		rc.CommitTimeout = 5 * time.Millisecond
	}
	if cfg.Bootstrap {
		has, err := raft.HasExistingState(logs, logs, snaps)
		if err != nil {
			logs.Close()
			trans.Close()
			return nil, nil, nil, fmt.Errorf("coordinator: %w", err)
		}
		if !has {
			conf := raft.Configuration{Servers: []raft.Server{{ID: rc.LocalID, Address: trans.LocalAddr()}}}
			if err := raft.BootstrapCluster(rc, logs, logs, snaps, trans, conf); err != nil {
				logs.Close()
				trans.Close()
				return nil, nil, nil, fmt.Errorf("coordinator: bootstrap: %w", err)
			}
		}
	}
	cached, err := raft.NewLogCache(512, logs)
	if err != nil {
		logs.Close()
		trans.Close()
		return nil, nil, nil, fmt.Errorf("coordinator: %w", err)
	}
	r, err := raft.NewRaft(rc, fsm, cached, logs, snaps, trans)
	if err != nil {
		logs.Close()
		trans.Close()
		return nil, nil, nil, fmt.Errorf("coordinator: start raft: %w", err)
	}
	return r, trans, logs, nil
}

// slogWriter sends hclog's text lines to slog.
type slogWriter struct{ l *slog.Logger }

func (w slogWriter) Write(p []byte) (int, error) {
	if w.l != nil {
		w.l.Warn(string(trimNL(p)))
	}
	return len(p), nil
}

func trimNL(p []byte) []byte {
	for len(p) > 0 && (p[len(p)-1] == '\n' || p[len(p)-1] == '\r') {
		p = p[:len(p)-1]
	}
	return p
}

var _ io.Writer = slogWriter{}
