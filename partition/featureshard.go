package partition

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"unicode/utf8"
)

// WriteFeatureShard writes one features shard to w in the layout [Split]
// writes, so that [ReadShard] reads it: a required string key column named
// key, then one optional DOUBLE column per name in columns, zstd-compressed,
// with the same metadata except "mathcrm.shard", which only Split knows.
// values is column-major: values[j][i] is column j of row i (NaN =
// missing). Keys must be non-empty, valid UTF-8 and distinct; values must be
// finite or NaN. Rows are written in the given order. It returns the row
// count, the bytes written and their hex SHA-256.
//
// Bad arguments are errors wrapping ErrInvalidOptions, and nothing is
// written.
func WriteFeatureShard(w io.Writer, key string, columns []string, keys []string, values [][]float64) (rows int64, size int64, sha256hex string, err error) {
	if err := checkFeatureShard(key, columns, keys, values); err != nil {
		return 0, 0, "", err
	}
	set := newShardSet("", 1, key, columns, DefaultRowGroupRows)
	h := sha256.New()
	fw := newFeatureWriter(w, h, nil, key, columns,
		metaKey, set.meta[metaKey],
		metaColumns, set.meta[metaColumns],
		metaCategories, "",
	)
	defer fw.release()
	g := &group{}
	for lo := 0; lo < len(keys); lo += set.rowGroupRows {
		hi := min(lo+set.rowGroupRows, len(keys))
		g.reset(len(columns))
		for _, k := range keys[lo:hi] {
			g.arena = append(g.arena, k...)
			g.ends = append(g.ends, len(g.arena))
		}
		for j := range columns {
			g.values[j] = values[j][lo:hi]
		}
		if err := fw.writeGroup(g); err != nil {
			return 0, 0, "", fmt.Errorf("partition: writing features shard: %w", err)
		}
	}
	if err := fw.close(); err != nil {
		return 0, 0, "", fmt.Errorf("partition: writing features shard: %w", err)
	}
	return int64(len(keys)), fw.off, hex.EncodeToString(h.Sum(nil)), nil
}

// checkFeatureShard checks WriteFeatureShard's arguments against what
// ReadShard accepts.
func checkFeatureShard(key string, columns []string, keys []string, values [][]float64) error {
	if key == "" {
		return badOptions("key column name is empty")
	}
	if !utf8.ValidString(key) {
		return badOptions("key column name %q is not valid UTF-8", key)
	}
	seen := map[string]bool{key: true}
	for _, c := range columns {
		switch {
		case c == "":
			return badOptions("a column name is empty")
		case !utf8.ValidString(c):
			return badOptions("column name %q is not valid UTF-8", c)
		case seen[c]:
			return badOptions("column %q is named twice (or is the key)", c)
		}
		seen[c] = true
	}
	if len(values) != len(columns) {
		return badOptions("%d value columns for %d column names", len(values), len(columns))
	}
	for j, col := range values {
		if len(col) != len(keys) {
			return badOptions("column %q has %d values for %d keys", columns[j], len(col), len(keys))
		}
		for i, v := range col {
			if math.IsInf(v, 0) {
				return badOptions("column %q, key %q: %v is not finite", columns[j], keys[i], v)
			}
		}
	}
	ids := make(map[string]int, len(keys))
	for i, k := range keys {
		if err := checkKey(k); err != nil {
			return badOptions("key %d (%q): %v", i, k, err)
		}
		if first, dup := ids[k]; dup {
			return badOptions("key %q at rows %d and %d", k, first, i)
		}
		ids[k] = i
	}
	return nil
}
