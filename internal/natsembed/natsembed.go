// Package natsembed runs nats-server, with JetStream on disk, inside this
// process. It holds the JetStream directory's lock while the server runs,
// and a busy listen address or a held directory fails the start at once.
package natsembed

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/mathcrm/mathcrm/internal/inuse"
	"github.com/nats-io/nats-server/v2/server"
)

// Server is a running embedded server; Shutdown also releases its
// JetStream directory.
type Server struct {
	*server.Server
	lock *inuse.Lock
	once sync.Once
}

// Shutdown stops the server, waits for it and releases the directory, so
// that a new server may start on it as soon as Shutdown returns.
func (s *Server) Shutdown() {
	s.once.Do(func() {
		s.Server.Shutdown()
		s.Server.WaitForShutdown()
		_ = s.lock.Close()
	})
}

// Options configures an embedded server.
type Options struct {
	// Listen is HOST:PORT; port 0 picks a free one. With ConfigFile, empty
	// keeps the file's host and port.
	Listen string
	// StoreDir holds the JetStream data. With ConfigFile, empty keeps the
	// file's store_dir.
	StoreDir string
	// Name of the server, shown in its logs.
	Name string
	// ConfigFile is a nats-server configuration (the one mathcrm secrets
	// writes: TLS, and a user per role) to run instead of the open defaults.
	ConfigFile string
}

// Start runs a server and waits until it accepts connections. A StoreDir
// another process holds fails with inuse.ErrLocked, a listen address in use
// with inuse.ErrAddrInUse, both naming the holder.
func Start(o Options) (*Server, error) {
	opts, err := serverOptions(o)
	if err != nil {
		return nil, err
	}
	lock, err := inuse.LockDir("natsembed: JetStream directory", opts.StoreDir)
	if err != nil {
		return nil, err
	}
	s, err := start(opts)
	if err != nil {
		lock.Close()
		return nil, err
	}
	return &Server{Server: s, lock: lock}, nil
}

// serverOptions are o's server options: the open defaults, or the
// configuration file's, with Listen and StoreDir put over them.
func serverOptions(o Options) (*server.Options, error) {
	opts := &server.Options{
		MaxPayload: 8 << 20,
		// A peer cut off by the network is dropped within seconds, so that
		// requests stop going to a coordinator that cannot answer them.
		PingInterval: 2 * time.Second, MaxPingsOut: 3,
	}
	if o.ConfigFile != "" {
		var err error
		if opts, err = server.ProcessConfigFile(o.ConfigFile); err != nil {
			return nil, fmt.Errorf("natsembed: configuration %s: %w", o.ConfigFile, err)
		}
	} else if o.Listen == "" || o.StoreDir == "" {
		return nil, errors.New("natsembed: Listen and StoreDir are required")
	}
	if o.Listen != "" {
		host, portStr, err := net.SplitHostPort(o.Listen)
		if err != nil {
			return nil, fmt.Errorf("natsembed: listen address %q: %w", o.Listen, err)
		}
		port, err := strconv.Atoi(portStr)
		if err != nil {
			return nil, fmt.Errorf("natsembed: listen port %q: %w", portStr, err)
		}
		opts.Host, opts.Port = host, port
	}
	if opts.Port == 0 {
		opts.Port = server.RANDOM_PORT
	}
	if o.StoreDir != "" {
		opts.StoreDir = o.StoreDir
	}
	if opts.StoreDir == "" {
		return nil, fmt.Errorf("natsembed: configuration %s names no jetstream store_dir", o.ConfigFile)
	}
	if o.Name != "" {
		opts.ServerName = o.Name
	}
	opts.JetStream, opts.NoLog, opts.NoSigs = true, true, true
	return opts, nil
}

func start(opts *server.Options) (*server.Server, error) {
	const what = "natsembed: NATS listen address"
	listen := net.JoinHostPort(opts.Host, strconv.Itoa(opts.Port))
	if opts.Port != server.RANDOM_PORT {
		// The server listens in a goroutine and only logs a busy port.
		if err := inuse.CheckAddr(what, listen); err != nil {
			return nil, err
		}
	}
	s, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("natsembed: %w", err)
	}
	errs := &errorLog{}
	s.SetLoggerV2(errs, false, false, false)
	go s.Start()
	// A failure to listen or to start JetStream is logged, not returned:
	// watch the log so that it ends the wait at once.
	for deadline := time.Now().Add(30 * time.Second); ; {
		if s.ReadyForConnections(50 * time.Millisecond) {
			return s, nil
		}
		if msg, failed := errs.fatalMsg(); failed || time.Now().After(deadline) {
			s.Shutdown()
			s.WaitForShutdown()
			if strings.Contains(msg, "address already in use") {
				return nil, inuse.AddrError(what, listen, syscall.EADDRINUSE)
			}
			return nil, fmt.Errorf("natsembed: server on %s not ready: %s", listen, errs.last())
		}
	}
}

// errorLog keeps the server's errors, so that a failed start can say why;
// everything else the server logs is dropped.
type errorLog struct {
	mu    sync.Mutex
	errs  []string
	fatal string
}

// fatalMsg returns the first fatal error logged, if any.
func (l *errorLog) fatalMsg() (string, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.fatal, l.fatal != ""
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

func (l *errorLog) Noticef(string, ...any) {}
func (l *errorLog) Warnf(string, ...any)   {}
func (l *errorLog) Debugf(string, ...any)  {}
func (l *errorLog) Tracef(string, ...any)  {}
func (l *errorLog) Fatalf(format string, v ...any) {
	l.add(format, v...)
	l.mu.Lock()
	if l.fatal == "" {
		l.fatal = fmt.Sprintf(format, v...)
	}
	l.mu.Unlock()
}
func (l *errorLog) Errorf(format string, v ...any) { l.add(format, v...) }
