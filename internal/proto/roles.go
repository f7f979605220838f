package proto

import "sort"

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
