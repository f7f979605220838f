package main

import (
	"encoding/json"
	"net"
	"net/http"
	"time"

	"github.com/mathcrm/mathcrm/coordinator"
)

// httpServer serves a coordinator's health, readiness and status.
type httpServer struct {
	srv *http.Server
	ln  net.Listener
}

func startHTTP(addr string, c *coordinator.Coordinator) (*httpServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
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
	return hs, nil
}

func (h *httpServer) Addr() string { return h.ln.Addr().String() }
func (h *httpServer) Close()       { _ = h.srv.Close() }
