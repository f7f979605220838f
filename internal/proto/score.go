package proto

import "github.com/mathcrm/mathcrm/algo/quantile"

// Stages of a scoring job.
const (
	ScoreStageCuts  = "cuts"  // find the decile cuts of the predictions
	ScoreStageWrite = "write" // score every row and write the score shards
)

// ScoreTask is the task of one pass of a scoring job.
type ScoreTask struct {
	// Kind is the model's kind: kmeans, linear, logistic or als.
	Kind string `json:"kind"`
	// Model is the model's blob (for ALS, its manifest).
	Model BlobRef `json:"model"`
	// Key is the scored dataset's key column, the first column written.
	Key string `json:"key"`
	// Levels are the dictionaries of the scored version's categorical
	// columns, in code order: a model's one-hot column "c=v" is 1 where
	// column c holds v, whatever code v has in this version.
	Levels map[string][]string `json:"levels,omitempty"`
	Stage  string              `json:"stage"`
	// Quantile is the cut search task of a cuts pass.
	Quantile *quantile.Task `json:"quantile,omitempty"`
	// Cuts are the decile cuts of the predictions, for a write pass of a
	// linear or logistic model.
	Cuts []float64 `json:"cuts,omitempty"`
	// Top is the number of items per user of an ALS model.
	Top int `json:"top,omitempty"`
	// Prefix names the written shards: Prefix/shard-NNNN-<random>.parquet.
	Prefix string `json:"prefix"`
}

// ScorePartial is one shard's summary of a scoring pass: small, its size
// set by the model (segments, deciles, items), not by the rows.
type ScorePartial struct {
	Scored   int64 `json:"scored"`
	Unscored int64 `json:"unscored"`
	// Quantile is the shard's result in a cuts pass.
	Quantile *quantile.Result `json:"quantile,omitempty"`
	// Segments counts rows per segment (k-means).
	Segments []int64 `json:"segments,omitempty"`
	// Deciles sums the predictions of each decile (linear, logistic).
	Deciles []DecileSums `json:"deciles,omitempty"`
	// Items counts how often each item was recommended (ALS), by item id.
	Items []ItemCount `json:"items,omitempty"`
	// Values summarises the score column (distance, prediction,
	// probability or score).
	Values Moments `json:"values"`
}

// DecileSums are one decile's sums over a shard.
type DecileSums struct {
	Rows int64   `json:"rows"`
	Min  float64 `json:"min"`
	Max  float64 `json:"max"`
	Sum  float64 `json:"sum"`
}
