package proto

import "time"

// APIGC asks the leader to collect unreferenced blobs now.
const APIGC = "gc.run"

// Buckets lists every object store bucket of a cluster: the store creates
// them and the coordinator's garbage collection sweeps them.
var Buckets = []string{BucketShards, BucketModels}

// GCRequest asks for one collection. Grace nil means the coordinator's
// configured grace; zero collects every blob nothing refers to now.
type GCRequest struct {
	Grace *time.Duration `json:"grace,omitempty"`
}

// GCResult is what one collection did.
type GCResult struct {
	// Grace is the age an unreferenced blob had to reach to be collected.
	Grace time.Duration `json:"grace"`
	// Removed and Bytes count the blobs deleted and their size.
	Removed int   `json:"removed"`
	Bytes   int64 `json:"bytes"`
	// Partials counts uploads that never finished (their process died
	// midway) whose chunks were deleted; Bytes does not include them.
	Partials int `json:"partials"`
	// Referenced counts the blobs kept because committed state names them.
	Referenced int `json:"referenced"`
	// Young counts unreferenced blobs kept because they are younger than
	// the grace: they may belong to an import in progress.
	Young int `json:"young"`
	// Running counts unreferenced blobs kept because a job that has not
	// ended wrote them: its next commit may name them.
	Running int `json:"running"`
	// Failed counts deletions the object store refused; the next
	// collection tries again.
	Failed int `json:"failed,omitempty"`
}
