package secrets

import (
	"strings"

	"github.com/mathcrm/mathcrm/internal/proto"
)

// Role names; each names its credential files (<role>.nk, <role>.crt, <role>.key).
const (
	RoleCoordinator = "coordinator"
	RoleWorker      = "worker"
	RoleAdmin       = "admin"
	RoleAnalyst     = "analyst"
	RoleViewer      = "viewer"
)

// Roles lists every role in the order the configuration grants them.
var Roles = []string{RoleCoordinator, RoleWorker, RoleAdmin, RoleAnalyst, RoleViewer}

// Grant is what one role may do on NATS.
type Grant struct {
	Publish   []string
	Subscribe []string
	// Responses lets the role answer, once each, requests it received,
	// whatever their reply subject: a worker answers lookups and drains
	// this way. Steps it answers on its reply subject (Publish), which no
	// expiry cuts off.
	Responses bool
}

// inbox is every role's inbox: who answers requests publishes there.
const inbox = "_INBOX.>"

// InboxPrefix is the inbox prefix role's connections use; the generated
// configuration lets role subscribe under it and no other inbox.
func InboxPrefix(role string) string { return proto.InboxPrefix(role) }

// ownInbox is what role may subscribe to of the inboxes.
func ownInbox(role string) string { return InboxPrefix(role) + ".>" }

// WorkerRole names the credential of the worker with this id: it may take
// only that worker's steps and heartbeat only as that worker.
func WorkerRole(id string) string { return RoleWorker + "-" + id }

// WorkerGrant is the grant of the worker with this id; "*" is the shared
// worker role's, for workers started without an identity of their own.
func WorkerGrant(id string) Grant {
	role := RoleWorker
	if id != "*" {
		role = WorkerRole(id)
	}
	return Grant{
		Publish: append([]string{proto.WorkerHelloSubject(id), proto.WorkerByeSubject(id),
			proto.WorkerHeartbeatSubject(id), proto.WorkerReplySubject(id, ">")}, objectStore()...),
		Subscribe: []string{proto.WorkerStepSubject(id), proto.WorkerControlSubject(id), proto.WorkerLookupSubject(id), ownInbox(role)},
		Responses: true,
	}
}

// Grants returns the NATS permissions of every role.
func Grants() map[string]Grant {
	events := strings.TrimSuffix(proto.EventsJob, "job.") + ">"
	return map[string]Grant{
		// The coordinators answer every role's requests, in its inbox.
		RoleCoordinator: {
			Publish:   []string{"mathcrm.>", "$JS.>", "$O.>", inbox},
			Subscribe: []string{"mathcrm.>", "$JS.>", "$O.>", ownInbox(RoleCoordinator)},
		},
		RoleWorker: WorkerGrant("*"),
		RoleAdmin:  {Publish: []string{">"}, Subscribe: []string{">"}},
		RoleAnalyst: {
			Publish:   append(apiSubjects(RoleAnalyst, proto.AccessAnalyze), objectStore()...),
			Subscribe: []string{events, ownInbox(RoleAnalyst)},
		},
		RoleViewer: {
			Publish:   apiSubjects(RoleViewer, proto.AccessRead),
			Subscribe: []string{events, ownInbox(RoleViewer)},
		},
	}
}

// apiSubjects are role's API subjects of the verbs of class a and below:
// a role publishes under its own token only, which is how a coordinator
// knows who sent a request (coordinator/roles.go).
func apiSubjects(role string, a proto.Access) []string {
	var out []string
	for _, v := range proto.VerbsUpTo(a) {
		out = append(out, proto.APISubject(role, v))
	}
	return out
}

// objectStore is what reading and writing the cluster's buckets takes: the
// bucket's own subjects and the JetStream API calls an object store client
// makes on its stream (info, last message, an ordered consumer, pushed with
// flow control or pulled). Nothing that removes data is in it: no purge, no
// message delete, no stream update or delete. Workers and clients write
// every object under a fresh name and append only (internal/store's
// append.go; the buckets refuse rollups), so they never need to; deleting
// and collecting blobs is the coordinators' (and admin's) work.
func objectStore() []string {
	out := []string{"$JS.API.INFO"}
	for _, b := range proto.Buckets {
		s := "OBJ_" + b
		out = append(out,
			"$O."+b+".>",
			"$JS.API.STREAM.INFO."+s,
			"$JS.API.STREAM.MSG.GET."+s,
			"$JS.API.DIRECT.GET."+s+".>",
			"$JS.API.CONSUMER.CREATE."+s,
			"$JS.API.CONSUMER.CREATE."+s+".>",
			"$JS.API.CONSUMER.DELETE."+s+".>",
			"$JS.API.CONSUMER.MSG.NEXT."+s+".>",
			"$JS.FC."+s+".>",
		)
	}
	return out
}

// IsRole reports whether r names a role of the generated configuration: one
// of Roles, or the worker role of one worker id.
func IsRole(r string) bool { return isRole(r) }
