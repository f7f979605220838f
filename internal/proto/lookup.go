package proto

import "time"

// APICustomerShow answers one customer's rows in the latest version of
// every score set (CustomerShow → CustomerScores). Any coordinator answers
// it, the leader or not: it reads what the coordinator has applied.
const APICustomerShow = "customer.show"

// MaxKeyBytes bounds a looked-up key.
const MaxKeyBytes = 4096

// WorkerLookupSubject is where a worker answers lookups in the score shards
// it holds (LookupRequest → LookupReply).
func WorkerLookupSubject(id string) string { return "mathcrm.worker." + id + ".lookup" }

// CustomerShow asks for one customer by key.
type CustomerShow struct {
	Key string `json:"key"`
}

// CustomerScores is one customer's rows, from every score set that has the
// customer, newest first.
type CustomerScores struct {
	Key string `json:"key"`
	// Sets are the score sets with a row for the key.
	Sets []CustomerSet `json:"sets"`
	// Searched counts the score sets looked in.
	Searched int `json:"searched"`
}

// CustomerSet is one score set's rows for a customer: one row for most
// kinds, one per item for recommendations. An unscored customer (a missing
// input) has one row of nulls.
type CustomerSet struct {
	Name    string    `json:"name"`
	Version int       `json:"version"`
	Kind    string    `json:"kind"`
	Model   string    `json:"model"`
	Dataset string    `json:"dataset"`
	Created time.Time `json:"created"`
	Columns []string  `json:"columns"`
	Rows    [][]any   `json:"rows"`
}

// LookupRequest asks a worker for a key's rows in one score shard.
type LookupRequest struct {
	V     int      `json:"v"`
	Key   string   `json:"key"`
	KeyOf string   `json:"key_column"`
	Shard ShardRef `json:"shard"`
}

// LookupReply is a worker's answer: the shard's score columns and the key's
// rows (none when the shard does not hold the key).
type LookupReply struct {
	Columns []string `json:"columns"`
	Rows    [][]any  `json:"rows"`
	Error   string   `json:"error,omitempty"`
}
