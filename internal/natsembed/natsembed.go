// Package natsembed runs nats-server, with JetStream on disk, inside this process.
package natsembed

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Options configures an embedded server.
type Options struct {
	// Listen is HOST:PORT; port 0 picks a free one.
	Listen string
	// StoreDir holds the JetStream data.
	StoreDir string
	// Name of the server, shown in its logs.
	Name string
}

// Start runs a server and waits until it accepts connections.
func Start(o Options) (*server.Server, error) {
	host, portStr, err := net.SplitHostPort(o.Listen)
	if err != nil {
		return nil, fmt.Errorf("natsembed: listen address %q: %w", o.Listen, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, fmt.Errorf("natsembed: listen port %q: %w", portStr, err)
	}
	if port == 0 {
		port = server.RANDOM_PORT
	}
	if o.StoreDir == "" {
		return nil, errors.New("natsembed: StoreDir is required")
	}
	opts := &server.Options{
		ServerName: o.Name, Host: host, Port: port, JetStream: true, StoreDir: o.StoreDir,
		NoLog: true, NoSigs: true, MaxPayload: 8 << 20,
		// A peer cut off by the network is dropped within seconds, so that
		// requests stop going to a coordinator that cannot answer them.
		PingInterval: 2 * time.Second, MaxPingsOut: 3,
	}
	s, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("natsembed: %w", err)
	}
	errs := &errorLog{}
	s.SetLoggerV2(errs, false, false, false)
	go s.Start()
	if !s.ReadyForConnections(30 * time.Second) {
		s.Shutdown()
		return nil, fmt.Errorf("natsembed: server on %s not ready: %s", o.Listen, errs.last())
	}
	return s, nil
}

// errorLog keeps the server's errors, so that a failed start can say why;
// everything else the server logs is dropped.
type errorLog struct {
	mu   sync.Mutex
	errs []string
}

func (l *errorLog) add(format string, v ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.errs) < 100 {
		l.errs = append(l.errs, fmt.Sprintf(format, v...))
	}
}

func (l *errorLog) last() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.errs) == 0 {
		return "no error logged"
	}
	return l.errs[len(l.errs)-1]
}

func (l *errorLog) Noticef(string, ...any)         {}
func (l *errorLog) Warnf(string, ...any)           {}
func (l *errorLog) Debugf(string, ...any)          {}
func (l *errorLog) Tracef(string, ...any)          {}
func (l *errorLog) Fatalf(format string, v ...any) { l.add(format, v...) }
func (l *errorLog) Errorf(format string, v ...any) { l.add(format, v...) }
