package main

import (
	"net"
	"net/http"
	"time"

	"github.com/mathcrm/mathcrm/internal/metrics"
)

// serveWorkerHTTP serves a worker's /metrics and /healthz on ln.
func serveWorkerHTTP(ln net.Listener) *http.Server {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics.Handler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return srv
}
