// Package partition turns a customer table in CSV form into hash-partitioned
// Parquet shards, and reads those shards back into memory as float64 columns.
//
// [Split] streams a CSV file (plain or gzip) once. Every data row is routed to
// shard [ShardOf](key, Shards) and written, in file order, to that shard's
// Parquet file; per-column statistics and a SHA-256 of every file are
// returned in a [Result]. [ReadShard] decodes one such file into a
// column-major [Shard].
//
// Guarantees:
//
//   - Placement is a pure function of the key and the shard count (see
//     [ShardOf]); it never changes between versions.
//   - Within a shard, rows keep the order they had in the CSV, so the same
//     input always yields byte-identical shard files and checksums.
//   - Every data row lands in exactly one shard: the shard row counts sum to
//     Result.Rows.
//   - Imported values are finite float64s; an empty field is a missing value
//     (null in Parquet, NaN in a [Shard]). NaN and Inf text are rejected.
//   - Memory does not grow with the input except for the duplicate-key index
//     (a 128-bit hash of each key and the line it was first seen on, about
//     50 bytes per row with map overhead). Split makes two passes: while it
//     reads the CSV it appends each row to a per-shard spill file in TempDir;
//     then it converts the spills to Parquet, one shard per goroutine (up to
//     GOMAXPROCS) at a time, so at most that many row groups are in memory.
//     While Split runs, TempDir also needs room for the spills: 8 bytes per
//     value plus the key, per row.
//   - On any error Split removes every file it created and returns an error;
//     data errors are [*InputError] values naming file, line and column.
//
// Shard files are plain Parquet: a required string column named after the key
// column followed by one optional DOUBLE column per imported column, in
// import order, zstd-compressed. The file's key/value metadata holds
// "mathcrm.key" (the key column name), "mathcrm.columns" (JSON array of the
// numeric column names) and "mathcrm.shard" ("index/count").
package partition
