// Package console is the read-only web console: server-rendered pages of the
// cluster, datasets, jobs, models, score sets and schedules, each also
// answered as JSON when asked with Accept: application/json, and the live
// progress of a job as server-sent events. It reads everything through a
// Source and changes nothing. Charts are SVG drawn on the server; the
// templates, style sheet and the one small script are embedded.
package console

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mathcrm/mathcrm/internal/describe"
	"github.com/mathcrm/mathcrm/internal/proto"
)

// ErrNotFound is returned by a Source for a name or id it does not know.
var ErrNotFound = errors.New("console: not found")

// Source is what the console reads: every call is a read, and WatchJob
// calls fn with every progress event of a job until fn returns false, the
// job ends or ctx ends.
type Source interface {
	ClusterStatus(ctx context.Context) (*proto.ClusterStatus, error)
	Datasets(ctx context.Context) ([]proto.Dataset, error)
	Dataset(ctx context.Context, name string) (*proto.Dataset, error)
	Jobs(ctx context.Context) ([]proto.Job, error)
	Job(ctx context.Context, id string) (*proto.Job, error)
	Models(ctx context.Context) ([]proto.ModelSummary, error)
	Model(ctx context.Context, id string) (*proto.ModelDetail, error)
	ScoreSets(ctx context.Context) ([]proto.ScoreSet, error)
	ScoreSet(ctx context.Context, name string, version int) (*proto.ScoreSet, error)
	Schedules(ctx context.Context) ([]proto.ScheduleInfo, error)
	Schedule(ctx context.Context, name string) (*proto.ScheduleInfo, error)
	WatchJob(ctx context.Context, id string, fn func(proto.JobEvent) bool) (*proto.Job, error)
	Customer(ctx context.Context, key string) (*proto.CustomerScores, error)
}

// templates holds the page templates; static the files served under
// /assets/ (style sheet, icon, the live progress script).
//
//go:embed templates static
var files embed.FS

// ReadTimeout bounds the reads behind one page.
var ReadTimeout = 10 * time.Second

// Console serves the pages.
type Console struct {
	src   Source
	log   *slog.Logger
	pages map[string]*template.Template
	mux   *http.ServeMux
}

// pageNames are the page templates, each rendered inside layout.html.
var pageNames = []string{"cluster", "datasets", "dataset", "jobs", "job", "models", "model", "scores", "score", "schedules", "schedule", "customer", "error"}

// New returns the console over src.
func New(src Source, log *slog.Logger) (*Console, error) {
	if log == nil {
		log = slog.Default()
	}
	c := &Console{src: src, log: log, pages: map[string]*template.Template{}, mux: http.NewServeMux()}
	for _, name := range pageNames {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(files, "templates/layout.html", "templates/chart.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("console: template %s: %w", name, err)
		}
		c.pages[name] = t
	}
	c.routes()
	return c, nil
}

func (c *Console) routes() {
	static, _ := fs.Sub(files, "static")
	c.mux.Handle("GET /assets/", http.StripPrefix("/assets/", http.FileServerFS(static)))
	c.mux.HandleFunc("GET /{$}", c.page("cluster", c.cluster))
	c.mux.HandleFunc("GET /datasets", c.page("datasets", c.datasets))
	c.mux.HandleFunc("GET /datasets/{name}", c.page("dataset", c.dataset))
	c.mux.HandleFunc("GET /jobs", c.page("jobs", c.jobs))
	c.mux.HandleFunc("GET /jobs/{id}", c.page("job", c.job))
	c.mux.HandleFunc("GET /jobs/{id}/events", c.events)
	c.mux.HandleFunc("GET /models", c.page("models", c.models))
	c.mux.HandleFunc("GET /models/{id}", c.page("model", c.model))
	c.mux.HandleFunc("GET /scores", c.page("scores", c.scores))
	c.mux.HandleFunc("GET /scores/{name}", c.page("score", c.score))
	c.mux.HandleFunc("GET /schedules", c.page("schedules", c.schedules))
	c.mux.HandleFunc("GET /schedules/{name}", c.page("schedule", c.schedule))
	c.mux.HandleFunc("GET /customers", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/customers/"+url.PathEscape(r.URL.Query().Get("key")), http.StatusSeeOther)
	})
	c.mux.HandleFunc("GET /customers/{key...}", c.page("customer", c.customer))
	c.mux.HandleFunc("GET /v1/customers/{key...}", c.customerJSON)
	c.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		c.fail(w, r, fmt.Errorf("%w: no page at %s", ErrNotFound, r.URL.Path))
	})
}

// ServeHTTP serves the console.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	c.mux.ServeHTTP(w, r)
}

// loader reads the data of one page.
type loader func(ctx context.Context, r *http.Request) (any, error)

// page serves a page as HTML, or as JSON when the request accepts JSON
// and not HTML: the same value either way.
func (c *Console) page(name string, load loader) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), ReadTimeout)
		defer cancel()
		data, err := load(ctx, r)
		if err != nil {
			c.fail(w, r, err)
			return
		}
		c.render(w, r, http.StatusOK, name, data)
	}
}

// errorPage is the data of an error page.
type errorPage struct {
	Status int    `json:"status"`
	Error  string `json:"error"`
}

func (c *Console) fail(w http.ResponseWriter, r *http.Request, err error) {
	status := statusOf(err)
	if status >= 500 {
		c.log.Warn("console: page failed", "path", r.URL.Path, "err", err)
	}
	c.render(w, r, status, "error", errorPage{Status: status, Error: err.Error()})
}

// statusOf is the HTTP status of a read's error.
func statusOf(err error) int {
	status := http.StatusBadGateway
	switch {
	case errors.Is(err, ErrNotFound):
		status = http.StatusNotFound
	case errors.Is(err, errBadRequest):
		status = http.StatusBadRequest
	case errors.Is(err, describe.ErrKind):
		status = http.StatusNotImplemented
	case errors.Is(err, context.DeadlineExceeded):
		status = http.StatusGatewayTimeout
	}
	return status
}

var errBadRequest = errors.New("console: bad request")

func wantsJSON(r *http.Request) bool {
	a := r.Header.Get("Accept")
	return strings.Contains(a, "application/json") && !strings.Contains(a, "text/html")
}

// view is what layout.html renders: the page's data and its title.
type view struct {
	Title string
	Page  string
	Data  any
}

func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	w.Header().Set("Vary", "Accept")
	if wantsJSON(r) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(data)
		return
	}
	var b strings.Builder
	if err := c.pages[name].Execute(&b, view{Title: title(name, data), Page: name, Data: data}); err != nil {
		c.log.Error("console: render", "page", name, "err", err)
		http.Error(w, "console: cannot render the page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(b.String()))
}
