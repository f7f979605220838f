package partition

import "io"

// WriteFeatureShard writes one features shard to w in the layout [Split]
// writes, so that [ReadShard] reads it: a required string key column named
// key, then one optional DOUBLE column per name in columns, zstd-compressed.
// values is column-major: values[j][i] is column j of row i (NaN =
// missing). Keys must be non-empty, valid UTF-8 and distinct; values must be
// finite or NaN. Rows are written in the given order. It returns the row
// count, the bytes written and their hex SHA-256.
func WriteFeatureShard(w io.Writer, key string, columns []string, keys []string, values [][]float64) (rows int64, size int64, sha256hex string, err error) {
	return 0, 0, "", errNotYet
}
