package client

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sync"

	"github.com/nats-io/nats.go"
)

// ErrRefused reports a request the NATS server did not let this
// connection's role send.
var ErrRefused = errors.New("client: refused")

// refusals keeps the publish permission violations the server reported to
// a connection, by subject, and wakes the requests waiting on them: the
// server refuses a publish asynchronously, and without this a refused
// request would only time out.
type refusals struct {
	mu      sync.Mutex
	subject map[string]error
	changed chan struct{}
}

func newRefusals() *refusals {
	return &refusals{subject: map[string]error{}, changed: make(chan struct{})}
}

var publishViolation = regexp.MustCompile(`Permissions Violation for Publish to "([^"]+)"`)

// handler is the connection's asynchronous error handler.
func (r *refusals) handler(_ *nats.Conn, _ *nats.Subscription, err error) {
	if !errors.Is(err, nats.ErrPermissionViolation) {
		return
	}
	m := publishViolation.FindStringSubmatch(err.Error())
	if m == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.subject[m[1]] = err
	close(r.changed)
	r.changed = make(chan struct{})
}

// get returns the refusal of subject, if any, and a channel closed at the
// next refusal of any subject.
func (r *refusals) get(subject string) (error, <-chan struct{}) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.subject[subject], r.changed
}

// watch cancels a request on subject as soon as the server refuses it;
// stop ends the watch.
func (r *refusals) watch(subject string, cancel func()) (stop func()) {
	if r == nil {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		for {
			err, changed := r.get(subject)
			if err != nil {
				cancel()
				return
			}
			select {
			case <-changed:
			case <-done:
				return
			}
		}
	}()
	return func() { close(done) }
}

// refused is the error of a request the server refused, nil otherwise.
func (r *refusals) refused(verb, subject string) error {
	if r == nil {
		return nil
	}
	if err, _ := r.get(subject); err != nil {
		return fmt.Errorf("%w: %s: %v: the role these credentials are for may not call it", ErrRefused, verb, err)
	}
	return nil
}

// Request sends one request on subject outside the API (a worker's control
// subject); a refusal by the server fails it at once, as Call does.
func (c *Client) Request(ctx context.Context, subject string, data []byte) (*nats.Msg, error) {
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer c.refused.watch(subject, cancel)()
	m, err := c.nc.RequestWithContext(rctx, subject, data)
	if err != nil {
		if rerr := c.refused.refused(subject, subject); rerr != nil {
			return nil, rerr
		}
		return nil, err
	}
	return m, nil
}
