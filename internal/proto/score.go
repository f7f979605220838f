package proto

// DecileSums are one decile's sums over a shard.
type DecileSums struct {
	Rows int64   `json:"rows"`
	Min  float64 `json:"min"`
	Max  float64 `json:"max"`
	Sum  float64 `json:"sum"`
}
