package proto

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// API subjects of deletion and retention.
const (
	APIDatasetDelete = "dataset.delete"
	APIDatasetRetain = "dataset.retain"
	APIScoresDelete  = "scores.delete"
	APIScoresRetain  = "scores.retain"
	APIModelList     = "model.list"
	APIModelDelete   = "model.delete"
	APIJobDelete     = "job.delete"
)

// MaxKeep bounds a retention count.
const MaxKeep = 100000

// Delete asks to delete a dataset, score set, model or job; for a dataset
// or score set Version 0 deletes every version. Without Force a thing a
// schedule or a queued or running job uses is not deleted.
type Delete struct {
	Name    string `json:"name"`
	Version int    `json:"version,omitempty"`
	Force   bool   `json:"force,omitempty"`
	// RequestID makes a retried delete answer as the first one did.
	RequestID string `json:"request_id,omitempty"`
}

// Deleted says what a delete did.
type Deleted struct {
	// What is "dataset", "scores", "model" or "job".
	What string `json:"what"`
	Name string `json:"name"`
	// Versions are the versions deleted, for a dataset or score set.
	Versions []int `json:"versions,omitempty"`
	// Bytes is the size of the blobs the deleted thing referred to; those
	// nothing else refers to are collected by the coordinator.
	Bytes int64 `json:"bytes"`
	// Cancelled are the jobs --force cancelled, Paused the schedules it
	// paused, because they used what was deleted.
	Cancelled []string `json:"cancelled_jobs,omitempty"`
	Paused    []string `json:"paused_schedules,omitempty"`
}

// Retain sets how many of the newest versions of a dataset or score set
// are kept; 0 keeps every version.
type Retain struct {
	Name string `json:"name"`
	Keep int    `json:"keep"`
}

// Retained answers a Retain: the setting, the versions left and those
// dropped at once.
type Retained struct {
	Name     string `json:"name"`
	Keep     int    `json:"keep"`
	Versions []int  `json:"versions"`
	Dropped  []int  `json:"dropped,omitempty"`
	// Pinned are older versions kept because a job or schedule uses them.
	Pinned []int `json:"pinned,omitempty"`
}

// ModelSummary is one row of model.list.
type ModelSummary struct {
	ID             string    `json:"id"`
	Job            string    `json:"job"`
	Kind           string    `json:"kind"`
	Algo           string    `json:"algo"`
	Dataset        string    `json:"dataset"`
	DatasetVersion int       `json:"dataset_version"`
	Created        time.Time `json:"created"`
	Bytes          int64     `json:"bytes"`
}

// Version returns version n of a dataset, or nil when it has none (never
// had it, or it was deleted).
func (d *Dataset) Version(n int) *DatasetVersion {
	for i := range d.Versions {
		if d.Versions[i].Version == n {
			return &d.Versions[i]
		}
	}
	return nil
}

// VersionNumbers lists a dataset's versions, oldest first.
func (d *Dataset) VersionNumbers() []int {
	out := make([]int, len(d.Versions))
	for i, v := range d.Versions {
		out[i] = v.Version
	}
	return out
}

// ShardBytes is the total size of the shards of some layouts.
func ShardBytes(layouts ...[]ShardRef) int64 {
	var n int64
	for _, l := range layouts {
		for _, s := range l {
			n += s.Size
		}
	}
	return n
}

// Size is the size of a model's blobs.
func (m *Model) Size() int64 {
	n := m.Blob.Size
	for _, r := range m.Refs {
		n += r.Size
	}
	return n
}

// VersionList writes versions as runs: "1..3, 5".
func VersionList(vs []int) string {
	var parts []string
	for i := 0; i < len(vs); {
		j := i
		for j+1 < len(vs) && vs[j+1] == vs[j]+1 {
			j++
		}
		if j == i {
			parts = append(parts, strconv.Itoa(vs[i]))
		} else {
			parts = append(parts, fmt.Sprintf("%d..%d", vs[i], vs[j]))
		}
		i = j + 1
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}
