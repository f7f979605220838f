package main

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/mathcrm/mathcrm/coordinator"
	"github.com/mathcrm/mathcrm/internal/client"
	"github.com/mathcrm/mathcrm/internal/console"
	"github.com/mathcrm/mathcrm/internal/creds"
	"github.com/mathcrm/mathcrm/internal/inuse"
	"github.com/mathcrm/mathcrm/internal/metrics"
	"github.com/nats-io/nats.go"
)

// httpServer serves a coordinator's health, readiness and status, and the
// web console, which reads the cluster over its own NATS connection.
type httpServer struct {
	srv    *http.Server
	ln     net.Listener
	cl     *client.Client
	scheme string
}

// listenHTTP takes the HTTP address before anything else starts, so that a
// busy port fails the process at once; what names the process for the error.
func listenHTTP(what, addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, inuse.AddrError(what+": HTTP listen address", addr, err)
	}
	return ln, nil
}

// serveHTTP serves c's health and status, and the console, on ln. With
// auth it serves HTTPS with s's certificate, and every path but health and
// readiness needs a token or client certificate of a role that may.
func serveHTTP(ln net.Listener, c *coordinator.Coordinator, natsURL string, s *creds.Set, auth *console.Auth) (*httpServer, error) {
	nc, err := s.Connect(natsURL, nats.Name("mathcrm-console"), nats.MaxReconnects(-1), nats.ReconnectWait(500*time.Millisecond))
	if err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	cl := client.New(nc)
	con, err := console.New(console.NewClientSource(cl), logger())
	if err != nil {
		cl.Close()
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/", con)
	mux.Handle("GET /metrics", metrics.Handler())
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := r.Context(), func() {}
		defer cancel()
		if err := c.WaitLeaderNow(ctx); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	})
	mux.HandleFunc("/v1/status", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"leader": c.IsLeader(), "datasets": c.FSM().Datasets(), "jobs": c.FSM().Jobs(),
		})
	})
	var h http.Handler = mux
	hs := &httpServer{ln: ln, cl: cl, scheme: "http"}
	if auth != nil {
		tc, err := s.HTTPServer()
		if err != nil {
			cl.Close()
			return nil, err
		}
		h, hs.scheme, hs.ln = auth.Wrap(mux), "https", tls.NewListener(ln, tc)
	}
	hs.srv = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(logger().Handler(), slog.LevelInfo)}
	go func() { _ = hs.srv.Serve(hs.ln) }()
	return hs, nil
}

// URL is where the listener serves.
func (h *httpServer) URL() string { return h.scheme + "://" + h.ln.Addr().String() }
func (h *httpServer) Close()      { _ = h.srv.Close(); h.cl.Close() }
