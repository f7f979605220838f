package console

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/mathcrm/mathcrm/internal/proto"
)

// events streams a job's progress as server-sent events: a "progress"
// event with the job's committed state first, then one per event the
// leader publishes (pass, objective, shards done, ETA), then an "end"
// event with the final state when the job ends.
func (c *Console) events(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	ctx, cancel := context.WithTimeout(r.Context(), ReadTimeout)
	j, err := c.src.Job(ctx, id)
	cancel()
	if err != nil {
		c.fail(w, r, err)
		return
	}
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "console: this connection cannot stream events", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	send := func(name string, v any) bool {
		b, _ := json.Marshal(v)
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", name, b); err != nil {
			return false
		}
		fl.Flush()
		return true
	}
	if !send("progress", jobEvent(j)) {
		return
	}
	if !j.Terminal() {
		final, err := c.src.WatchJob(r.Context(), id, func(ev proto.JobEvent) bool { return send("progress", ev) })
		if err != nil || final == nil {
			return // the client went away, or the cluster did: nothing to end
		}
		j = final
		if !j.Terminal() {
			return
		}
	}
	send("end", jobEvent(j))
}

// jobEvent is a job's committed state as an event.
func jobEvent(j *proto.Job) proto.JobEvent {
	return proto.JobEvent{V: proto.Version, Job: j.ID, Algo: j.Spec.Algo, State: j.State, Pass: j.Pass, Iteration: j.Iteration,
		Objective: j.Objective, Reason: j.Reason, Model: j.Model, Output: j.Output}
}
