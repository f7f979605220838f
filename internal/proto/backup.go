package proto

import (
	"encoding/json"
	"time"
)

// Backup and restore of a whole cluster.
const (
	// APIClusterBackup asks the leader for its state and the blobs it names.
	APIClusterBackup = "cluster.backup"
	// APIClusterRestore asks the leader to make an empty cluster's state
	// the one a backup holds.
	APIClusterRestore = "cluster.restore"
)

// BackupFormat is the version of a backup's manifest; a restore refuses
// another one.
const BackupFormat = 1

// Backup is a backup's manifest: the state the leader's state machine held
// at one raft index, and every blob that state names. It names blobs, it
// holds no customer rows.
type Backup struct {
	Format int `json:"format"`
	// Proto is the protocol version of the cluster that took it.
	Proto   int       `json:"proto"`
	Created time.Time `json:"created"`
	// Index is the raft index the state was taken at.
	Index  uint64          `json:"index"`
	Counts BackupCounts    `json:"counts"`
	State  json.RawMessage `json:"state"`
	// Blobs are every blob State names, each once, in a stable order.
	Blobs []BlobRef `json:"blobs"`
}

// BackupCounts says what a backup holds.
type BackupCounts struct {
	Datasets  int `json:"datasets"`
	Versions  int `json:"dataset_versions"`
	Models    int `json:"models"`
	ScoreSets int `json:"score_sets"`
	Jobs      int `json:"jobs"`
	Schedules int `json:"schedules"`
	Blobs     int `json:"blobs"`
	// Bytes is the size of the blobs.
	Bytes int64 `json:"bytes"`
}

// BackupTaken is the leader's answer to APIClusterBackup: the manifest,
// stored in the object store for the client to read (it may be larger than
// a message). Nothing refers to it, so the collector removes it after the
// grace if the client does not.
type BackupTaken struct {
	Manifest BlobRef      `json:"manifest"`
	Index    uint64       `json:"index"`
	Counts   BackupCounts `json:"counts"`
}

// RestoreRequest asks the leader to restore the backup whose manifest is
// stored at Manifest, once every blob it names is stored. With Check it
// only says whether it would: the cluster must be empty.
type RestoreRequest struct {
	Manifest BlobRef `json:"manifest,omitzero"`
	Check    bool    `json:"check,omitempty"`
}

// Restored is what a restore committed.
type Restored struct {
	Counts BackupCounts `json:"counts"`
	// Index is the raft index of the restore's commit.
	Index uint64 `json:"index"`
}
