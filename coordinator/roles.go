package coordinator

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/internal/secrets"
)

// ErrLimit reports a request refused because its role is at a bound.
var ErrLimit = errors.New("coordinator: limit reached")

// apiRoles are the roles a request may come from. A client calls the API on
// proto.APISubject(role, verb), and the NATS configuration mathcrm secrets
// writes lets each role publish under its own token only: the role of a
// request is the server's word, not a claim in its body.
var apiRoles = map[string]bool{
	secrets.RoleAdmin: true, secrets.RoleAnalyst: true, secrets.RoleViewer: true, secrets.RoleCoordinator: true,
}

// apiCaller splits what follows the API prefix (or a direct prefix) into
// the role that sent the request and the verb. A subject without a role's
// token is the admin's: in a cluster without credentials every client is,
// and in a secured one only the admin and the coordinators may publish it.
func apiCaller(rest string) (role, verb string) {
	if r, v, ok := strings.Cut(rest, "."); ok && apiRoles[r] {
		return r, v
	}
	return secrets.RoleAdmin, rest
}

type roleKey struct{}

// withRole is ctx of a request sent by role.
func withRole(ctx context.Context, role string) context.Context {
	return context.WithValue(ctx, roleKey{}, role)
}

// callerRole is the role of the request ctx serves, "" for the cluster's
// own work (a schedule's runs).
func callerRole(ctx context.Context) string {
	r, _ := ctx.Value(roleKey{}).(string)
	return r
}

// DefaultActiveJobs bounds each role's active (queued or running) jobs: a
// viewer submits none, an analyst a few, the admin more. The coordinators'
// own role has no bound.
func DefaultActiveJobs() map[string]int {
	return map[string]int{secrets.RoleAdmin: 64, secrets.RoleAnalyst: 8, secrets.RoleViewer: 0}
}

// ParseActiveJobs reads "role=N,role=N" (the --max-active-jobs flag) over
// the bounds in into, which it changes only when the whole value is good.
func ParseActiveJobs(s string, into map[string]int) error {
	set := map[string]int{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		role, n, ok := strings.Cut(part, "=")
		if !ok {
			return fmt.Errorf("%q is not role=N", part)
		}
		v, err := strconv.Atoi(strings.TrimSpace(n))
		if err != nil || v < 0 {
			return fmt.Errorf("%q: the bound must be a whole number, 0 or more", part)
		}
		role = strings.TrimSpace(role)
		if err := checkLimitRole(role); err != nil {
			return err
		}
		set[role] = v
	}
	maps.Copy(into, set)
	return nil
}

func checkLimitRole(role string) error {
	if !apiRoles[role] {
		return fmt.Errorf("no role %q calls the API (%s)", role, strings.Join(slices.Sorted(maps.Keys(apiRoles)), ", "))
	}
	return nil
}

// activeJobs lists role's queued and running jobs, in submission order.
func (f *FSM) activeJobs(role string) []*proto.Job {
	f.mu.RLock()
	defer f.mu.RUnlock()
	var out []*proto.Job
	for _, j := range f.st.Jobs {
		if j.Role == role && !j.Terminal() {
			out = append(out, &proto.Job{ID: j.ID, State: j.State})
		}
	}
	slices.SortFunc(out, func(a, b *proto.Job) int { return jobNum(a.ID) - jobNum(b.ID) })
	return out
}

// submitted reports whether a submit with this request id made a job.
func (f *FSM) submitted(requestID string) bool {
	f.mu.RLock()
	defer f.mu.RUnlock()
	_, ok := f.st.Requests[requestID]
	return ok
}

// checkActiveJobs refuses a submit by role that would take it past its
// bound. A retried submit that already made its job is not a new one. The
// caller holds submitMu until the submit is applied, so that two submits
// cannot both take the last place.
func (c *Coordinator) checkActiveJobs(role, requestID string) error {
	limit, ok := c.cfg.ActiveJobs[role]
	if role == "" || !ok || requestID != "" && c.fsm.submitted(requestID) {
		return nil
	}
	if limit == 0 {
		return fmt.Errorf("%w: role %s may not have jobs (its bound of active jobs is 0; coordinator --max-active-jobs)", ErrLimit, role)
	}
	active := c.fsm.activeJobs(role)
	if len(active) < limit {
		return nil
	}
	const shown = 10
	names := make([]string, 0, shown)
	for _, j := range active[:min(len(active), shown)] {
		names = append(names, j.ID+" ("+j.State+")")
	}
	if len(active) > shown {
		names = append(names, fmt.Sprintf("and %d more", len(active)-shown))
	}
	return fmt.Errorf("%w: role %s may have %d active jobs (queued or running) and has %d: %s; wait for one to end or cancel one (mathcrm job cancel ID)",
		ErrLimit, role, limit, len(active), strings.Join(names, ", "))
}
