package coordinator

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"slices"
	"strconv"
	"time"
)

// Config configures one coordinator.
type Config struct {
	// ID is this coordinator's raft server id.
	ID string
	// RaftAddr is the TCP address raft listens on; "127.0.0.1:0" picks a port.
	RaftAddr string
	// RaftAdvertise, when set, is the address the other voters reach this
	// one at, host:port, instead of the one RaftAddr listens on: a stable
	// DNS name (a StatefulSet pod's) that follows the coordinator to another
	// IP. It is resolved at every dial; over mutual TLS the coordinator
	// certificate must name it (mathcrm secrets init --host, a wildcard
	// like *.coordinator.mathcrm.svc allowed). RaftAddr may then listen on
	// every interface (0.0.0.0:7000).
	RaftAdvertise string
	// raftResolve, when set, maps a raft address to the one dialled; tests
	// use it as their name service.
	raftResolve func(addr string) (string, error)
	// DataDir holds the raft log, stable store and snapshots.
	DataDir string
	// Bootstrap makes this node the first voter of a new cluster when it has no state.
	Bootstrap bool
	// RaftServerTLS and RaftClientTLS, when set, make the raft transport
	// mutual TLS: the first accepts voters, the second dials them; each
	// refuses a peer without a coordinator's certificate (see
	// creds.Set.Mutual). Unset, raft runs over plain TCP.
	RaftServerTLS, RaftClientTLS *tls.Config
	// Join, when set, makes a node without state ask the cluster's leader to
	// add it as a voter; the value names the cluster for the logs (an existing
	// voter's raft address).
	Join string
	// RaftHeartbeatTimeout and RaftElectionTimeout override raft's defaults (1s).
	RaftHeartbeatTimeout time.Duration
	RaftElectionTimeout  time.Duration
	// HeartbeatTTL is the base of how long a silent worker counts as alive;
	// the effective TTL grows with the number of workers (see members.go).
	HeartbeatTTL time.Duration
	// StepTimeout bounds one step on one worker before it is sent elsewhere.
	StepTimeout time.Duration
	// WorkerWait bounds how long a pass waits for any live worker.
	WorkerWait time.Duration
	// MaxRunningJobs bounds how many jobs the leader drives at once.
	MaxRunningJobs int
	// ActiveJobs bounds, by role, how many jobs a role may have queued or
	// running at once; a submit past it is refused with ErrLimit. A role
	// not in it has no bound; a schedule's runs count for no role.
	ActiveJobs map[string]int
	// GCGrace is how old an unreferenced blob must be before it is collected.
	GCGrace time.Duration
	// GCPartialAge is how long the chunks of an upload that never finished
	// must have been left alone before they are collected, whatever the
	// grace: an upload in progress stores its chunks back to back, so a
	// collection never tears one (default 10m).
	GCPartialAge time.Duration
	// Replicas of the object store buckets.
	Replicas int
	// SnapshotThreshold and SnapshotInterval say how often raft snapshots the
	// FSM and truncates its log (defaults 1024 entries, 30s).
	SnapshotThreshold uint64
	SnapshotInterval  time.Duration
	// FastRaft shortens raft's timers, for tests.
	FastRaft bool
	Logger   *slog.Logger

	// ScheduleClock is the clock schedules fire by (nil: the system clock);
	// tests inject one so that a window comes without waiting for it.
	ScheduleClock func() time.Time
	// ScheduleCheck is how often the leader checks for due windows and for
	// retries that are due (default 1s).
	ScheduleCheck time.Duration
	// ScheduleGrace is how late a window may start and still count as on
	// time (default 1m); a later one was missed, and the schedule's
	// catch-up policy decides whether it runs.
	ScheduleGrace time.Duration
}

// DefaultConfig returns a configuration with production defaults.
func DefaultConfig() Config {
	return Config{
		ID:             "coord-1",
		RaftAddr:       "127.0.0.1:7000",
		HeartbeatTTL:   3 * time.Second,
		StepTimeout:    2 * time.Minute,
		WorkerWait:     10 * time.Minute,
		MaxRunningJobs: 4,
		ActiveJobs:     DefaultActiveJobs(),
		GCGrace:        time.Hour,
		GCPartialAge:   10 * time.Minute,
		Replicas:       1,
		ScheduleCheck:  time.Second,
		ScheduleGrace:  time.Minute,
	}
}

// Validate says what is wrong with a configuration.
func (c Config) Validate() error {
	var errs []error
	if c.ID == "" {
		errs = append(errs, errors.New("ID is required"))
	}
	if c.RaftAddr == "" {
		errs = append(errs, errors.New("RaftAddr is required"))
	}
	if c.RaftAdvertise != "" {
		if err := checkAdvertise(c.RaftAdvertise); err != nil {
			errs = append(errs, err)
		}
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("DataDir is required"))
	}
	if c.HeartbeatTTL < 100*time.Millisecond {
		errs = append(errs, fmt.Errorf("HeartbeatTTL %v is too low (minimum 100ms)", c.HeartbeatTTL))
	}
	if c.StepTimeout < time.Second {
		errs = append(errs, fmt.Errorf("StepTimeout %v is too low (minimum 1s)", c.StepTimeout))
	}
	if (c.RaftServerTLS == nil) != (c.RaftClientTLS == nil) {
		errs = append(errs, errors.New("RaftServerTLS and RaftClientTLS go together"))
	}
	if c.Bootstrap && c.Join != "" {
		errs = append(errs, errors.New("Bootstrap and Join exclude each other"))
	}
	if c.ScheduleCheck < 0 || c.ScheduleGrace < 0 {
		errs = append(errs, errors.New("ScheduleCheck and ScheduleGrace cannot be negative"))
	}
	if c.GCGrace < 0 || c.GCPartialAge < 0 {
		errs = append(errs, fmt.Errorf("GCGrace %v and GCPartialAge %v cannot be negative", c.GCGrace, c.GCPartialAge))
	}
	for _, role := range slices.Sorted(maps.Keys(c.ActiveJobs)) {
		if err := checkLimitRole(role); err != nil {
			errs = append(errs, fmt.Errorf("ActiveJobs: %w", err))
		} else if c.ActiveJobs[role] < 0 {
			errs = append(errs, fmt.Errorf("ActiveJobs of %s is %d; it cannot be negative", role, c.ActiveJobs[role]))
		}
	}
	if c.MaxRunningJobs < 1 {
		errs = append(errs, errors.New("MaxRunningJobs must be at least 1"))
	}
	if len(errs) > 0 {
		return fmt.Errorf("coordinator: invalid config: %w", errors.Join(errs...))
	}
	return nil
}

// checkAdvertise says what is wrong with an advertised raft address.
func checkAdvertise(a string) error {
	host, port, err := net.SplitHostPort(a)
	if err != nil {
		return fmt.Errorf("RaftAdvertise (--raft-advertise) %q is not host:port: %v", a, err)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("RaftAdvertise (--raft-advertise) %q: port %q is not 1..65535", a, port)
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		return fmt.Errorf("RaftAdvertise (--raft-advertise) %q must name a host or an address other voters can reach", a)
	}
	return nil
}
