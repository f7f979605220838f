package client

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
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
	// inbox is the server's refusal of the connection's own inbox: no
	// answer can reach it, whatever it asks.
	inbox   error
	changed chan struct{}
}

func newRefusals() *refusals {
	return &refusals{subject: map[string]error{}, changed: make(chan struct{})}
}

var (
	publishViolation   = regexp.MustCompile(`Permissions Violation for Publish to "([^"]+)"`)
	subscribeViolation = regexp.MustCompile(`Permissions Violation for Subscription to "([^"]+)"`)
)

// handler is the connection's asynchronous error handler.
func (r *refusals) handler(nc *nats.Conn, _ *nats.Subscription, err error) {
	if !errors.Is(err, nats.ErrPermissionViolation) {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if m := publishViolation.FindStringSubmatch(err.Error()); m != nil {
		r.subject[m[1]] = err
	} else if m := subscribeViolation.FindStringSubmatch(err.Error()); m != nil && strings.HasPrefix(m[1], inboxPrefix(nc)) {
		r.inbox = fmt.Errorf("%w: the server does not let these credentials take answers in %s: are --creds and --tls-cert of one role?", err, inboxPrefix(nc))
	} else {
		return
	}
	close(r.changed)
	r.changed = make(chan struct{})
}

// get returns the refusal of subject, if any, and a channel closed at the
// next refusal of any subject.
func (r *refusals) get(subject string) (error, <-chan struct{}) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.inbox != nil {
		return r.inbox, r.changed
	}
	return r.subject[subject], r.changed
}

// inboxPrefix is where nc takes its answers.
func inboxPrefix(nc *nats.Conn) string {
	if p := nc.Opts.InboxPrefix; p != "" {
		return p + "."
	}
	return nats.InboxPrefix
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
	r.mu.Lock()
	inbox := r.inbox
	r.mu.Unlock()
	if inbox != nil {
		return fmt.Errorf("%w: %s: %v", ErrRefused, verb, inbox)
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
