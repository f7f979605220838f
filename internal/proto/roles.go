package proto

import (
	"sort"
	"strings"
)

// Access is who may call an API verb: each class includes the ones before it
// (an analyst may read, an admin may do everything).
type Access int

// Access classes of the API verbs.
const (
	// AccessRead verbs change nothing: list, show, status.
	AccessRead Access = iota + 1
	// AccessAnalyze verbs import data, train, score and schedule: an
	// analyst's work on the cluster's datasets.
	AccessAnalyze
	// AccessAdmin verbs change cluster membership, destroy data (delete,
	// retention, customer erasure) or collect garbage.
	AccessAdmin
)

// String names the class as the role that needs it at least.
func (a Access) String() string {
	switch a {
	case AccessRead:
		return "read"
	case AccessAnalyze:
		return "analyze"
	case AccessAdmin:
		return "admin"
	}
	return "unknown"
}

// APIAccess classifies every API verb. It is the one place that decides
// which role may call what: the NATS permissions of every role are derived
// from it, and a test fails when a verb in this package is missing here.
var APIAccess = map[string]Access{
	APIDatasetList:    AccessRead,
	APIDatasetShow:    AccessRead,
	APIJobList:        AccessRead,
	APIJobStatus:      AccessRead,
	APIModelShow:      AccessRead,
	APIModelList:      AccessRead,
	APIClusterStatus:  AccessRead,
	APIScoresList:     AccessRead,
	APIScoresShow:     AccessRead,
	APICustomerShow:   AccessRead,
	APIScheduleList:   AccessRead,
	APIScheduleShow:   AccessRead,
	APIScheduleRuns:   AccessRead,
	APIDatasetCheck:   AccessAnalyze,
	APIDatasetCommit:  AccessAnalyze,
	APIJobSubmit:      AccessAnalyze,
	APIJobCancel:      AccessAnalyze,
	APIScheduleCreate: AccessAnalyze,
	APIScheduleRunNow: AccessAnalyze,
	APISchedulePause:  AccessAnalyze,
	APIScheduleResume: AccessAnalyze,
	APIScheduleDelete: AccessAnalyze,
	APIDatasetDelete:  AccessAdmin,
	APIDatasetRetain:  AccessAdmin,
	APIScoresDelete:   AccessAdmin,
	APIScoresRetain:   AccessAdmin,
	APIModelDelete:    AccessAdmin,
	APIJobDelete:      AccessAdmin,
	APIAddVoter:       AccessAdmin,
	APIRemoveVoter:    AccessAdmin,
	APIEraseDataset:   AccessAdmin,
	APIEraseScores:    AccessAdmin,
	APIEraseRecord:    AccessAdmin,
	APIGC:             AccessAdmin,
	APIClusterBackup:  AccessAdmin,
	APIClusterRestore: AccessAdmin,
}

// VerbsUpTo returns the API verbs of class a and below, sorted.
func VerbsUpTo(a Access) []string {
	var out []string
	for v, c := range APIAccess {
		if c <= a {
			out = append(out, v)
		}
	}
	sort.Strings(out)
	return out
}

// APISubject is the subject a client of role calls verb on,
// "mathcrm.api.<role>.<noun>.<verb>". The NATS configuration lets each role
// publish under its own role's token only, so the coordinator knows from
// the subject alone, enforced by the server, who asks.
func APISubject(role, verb string) string { return APIPrefix + role + "." + verb }

// InboxRoot is the root of the per-role inboxes: a connection of role
// receives its replies under InboxPrefix(role), and the NATS configuration
// lets each role subscribe under its own only, so that no role reads the
// replies (customer rows among them) sent to another.
const InboxRoot = "_INBOX.mathcrm."

// InboxPrefix is the inbox prefix of role's connections (for
// nats.CustomInboxPrefix: no trailing dot).
func InboxPrefix(role string) string { return InboxRoot + role }

// InboxRole is the role whose inbox prefix p is, "" for any other prefix.
func InboxRole(p string) string {
	role, ok := strings.CutPrefix(p, InboxRoot)
	if !ok || role == "" || strings.ContainsAny(role, ".*> ") {
		return ""
	}
	return role
}
