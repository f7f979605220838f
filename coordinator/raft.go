package coordinator

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	wal "github.com/hashicorp/raft-wal"
	"github.com/hashicorp/raft-wal/metadb"
)

// openRaft starts the raft node: a write-ahead log for entries and stable
// state, file snapshots and a TCP transport, all under cfg.DataDir.
func openRaft(cfg Config, fsm raft.FSM) (*raft.Raft, *raft.NetworkTransport, io.Closer, error) {
	dir := filepath.Join(cfg.DataDir, "raft")
	if err := os.MkdirAll(filepath.Join(dir, "wal"), 0o755); err != nil {
		return nil, nil, nil, fmt.Errorf("coordinator: %w", err)
	}
	// raft-wal's Close leaves its meta database open (and locked), so the
	// coordinator owns that database and closes it itself.
	meta := &metadb.BoltMetaDB{}
	w, err := wal.Open(filepath.Join(dir, "wal"), wal.WithMetaStore(meta))
	if err != nil {
		_ = meta.Close()
		return nil, nil, nil, fmt.Errorf("coordinator: open raft log: %w", err)
	}
	logs := &walStore{WAL: w, meta: meta}
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
	trans, err := raft.NewTCPTransportWithLogger(cfg.RaftAddr, addr, 3, 10*time.Second, hl)
	if err != nil {
		logs.Close()
		return nil, nil, nil, fmt.Errorf("coordinator: raft transport on %s: %w", cfg.RaftAddr, err)
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
	r, err := raft.NewRaft(rc, fsm, logs, logs, snaps, trans)
	if err != nil {
		logs.Close()
		trans.Close()
		return nil, nil, nil, fmt.Errorf("coordinator: start raft: %w", err)
	}
	return r, trans, logs, nil
}

// walStore is the write-ahead log together with the meta database it needs closed.
type walStore struct {
	*wal.WAL
	meta *metadb.BoltMetaDB
}

func (s *walStore) Close() error {
	return errors.Join(s.WAL.Close(), s.meta.Close())
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
