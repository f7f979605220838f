package proto

import "time"

// API subjects of customer erasure.
const (
	// APIEraseDataset swaps the shards of one dataset version that held
	// erased customers for their rewritten copies.
	APIEraseDataset = "customer.erase-dataset"
	// APIEraseScores does the same for one score set version.
	APIEraseScores = "customer.erase-scores"
	// APIEraseRecord records an erasure: a salted hash of every key, when,
	// and what it touched; it answers with the models to retrain.
	APIEraseRecord = "customer.erase-record"
)

// ShardSwap replaces one shard: Old names the object the version refers to
// now, New the rewritten copy without the erased rows.
type ShardSwap struct {
	Old string   `json:"old"`
	New ShardRef `json:"new"`
}

// EraseDataset swaps shards of one dataset version and sets the version's
// row count and statistics to those of the remaining rows, all in one raft
// entry.
type EraseDataset struct {
	Dataset string `json:"dataset"`
	Version int    `json:"version"`
	// Shards swaps shards of the by-key (by-user) layout, ItemShards of an
	// interactions version's by-item layout.
	Shards     []ShardSwap `json:"shards"`
	ItemShards []ShardSwap `json:"item_shards,omitempty"`
	// Rows, Columns, Interactions and Transactions describe what remains.
	Rows         int64             `json:"rows"`
	Columns      []ColumnStats     `json:"columns"`
	Interactions *InteractionsInfo `json:"interactions,omitempty"`
	Transactions *TransactionsInfo `json:"transactions,omitempty"`
}

// EraseScores swaps shards of one score set version and sets its counts and
// summary to those of the remaining rows.
type EraseScores struct {
	Name    string       `json:"name"`
	Version int          `json:"version"`
	Shards  []ShardSwap  `json:"shards"`
	Rows    int64        `json:"rows"`
	Scored  int64        `json:"scored"`
	Summary ScoreSummary `json:"summary"`
}

// EraseTouched is what an erasure changed in one dataset or score set
// version.
type EraseTouched struct {
	// Dataset or Scores names what was touched.
	Dataset string `json:"dataset,omitempty"`
	Scores  string `json:"scores,omitempty"`
	Version int    `json:"version"`
	// Shards counts the shards rewritten (both layouts of an interactions
	// version), Rows the rows removed (counted in the by-user layout).
	Shards int   `json:"shards_rewritten"`
	Rows   int64 `json:"rows_removed"`
}

// EraseRecord asks the leader to record an erasure. The keys travel to the
// leader, which stores only their salted hashes.
type EraseRecord struct {
	Keys []string `json:"keys"`
	// Found are the keys that were found in some version.
	Found   []string       `json:"found"`
	Touched []EraseTouched `json:"touched"`
}

// ErasedKey is one entry of the erasure log: the hex SHA-256 of the
// cluster's erasure salt followed by the key, and when it was erased.
type ErasedKey struct {
	Hash  string    `json:"hash"`
	Time  time.Time `json:"time"`
	Found bool      `json:"found"`
}

// Retrain names a model trained on a dataset version that customers were
// erased from after the model's job started.
type Retrain struct {
	Model   string    `json:"model"`
	Kind    string    `json:"kind"`
	Dataset string    `json:"dataset"`
	Version int       `json:"dataset_version"`
	Erased  time.Time `json:"erased"`
}

// EraseReport answers an erasure: what it touched, which keys it found
// nowhere, and which models to retrain.
type EraseReport struct {
	Keys     int            `json:"keys"`
	Found    int            `json:"found"`
	NotFound []string       `json:"not_found"`
	Touched  []EraseTouched `json:"touched"`
	Retrain  []Retrain      `json:"retrain"`
	Time     time.Time      `json:"time"`
}
