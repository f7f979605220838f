package main

import (
	"encoding/json"
	"net"
	"net/http"
	"time"

	"github.com/mathcrm/mathcrm/coordinator"
	"github.com/mathcrm/mathcrm/internal/inuse"
)

// httpServer serves a coordinator's health, readiness and status.
type httpServer struct {
	srv *http.Server
	ln  net.Listener
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

// serveHTTP serves c's health and status on ln.
func serveHTTP(ln net.Listener, c *coordinator.Coordinator) *httpServer {
	mux := http.NewServeMux()
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
	hs := &httpServer{srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}, ln: ln}
	go func() { _ = hs.srv.Serve(ln) }()
	return hs
}

func (h *httpServer) Addr() string { return h.ln.Addr().String() }
func (h *httpServer) Close()       { _ = h.srv.Close() }
