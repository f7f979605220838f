// Package partition turns customer data in CSV form into hash-partitioned
// Parquet shards, and reads those shards back into memory. It knows three
// kinds of dataset:
//
//   - features: one row per customer, a unique key and float64 (or
//     categorical-coded) columns; [Split] writes it, [ReadShard] reads a
//     shard, and [WriteFeatureShard] writes a shard computed elsewhere.
//   - interactions: (user, item[, value]) rows, ratings or implicit counts;
//     [SplitInteractions] writes a by-user and a by-item layout in one pass,
//     [ReadInteractions] reads a shard of either.
//   - transactions: (customer, time, amount[, invoice]) rows;
//     [SplitTransactions] writes them, [ReadTransactions] reads a shard.
//
// [Input], which every kind embeds, reads CSV with a one-character
// delimiter, or splits lines literally at a longer one (MovieLens's "::");
// Input.Names stands for a missing header row. Every kind also reads a
// Parquet file (recognised by its contents) as a table: its flat columns are
// the header, its rows the records, column by column, and errors name rows
// ([InputError].Rows) instead of lines.
//
// # Features
//
// [Split] streams a CSV file (plain or gzip) once. Every data row is routed to
// shard [ShardOf](key, Shards) and written, in file order, to that shard's
// Parquet file; per-column statistics and a SHA-256 of every file written
// (a shard handed over in memory is hashed by its receiver) are returned in
// a [Result]. [ReadShard] decodes one such file into a
// column-major [Shard].
//
// Split parses CSV with a one-byte delimiter in blocks of whole lines on up
// to GOMAXPROCS goroutines and stores the blocks' rows in file order, so
// everything below holds whatever the number of goroutines or the block
// size. From the first block that holds a quote on, it reads sequentially
// (encoding/csv), since a quoted field may hold line breaks. It writes the
// shards GOMAXPROCS at a time, and can hand each over as soon as it is
// complete (Options.ShardWritten), small ones in memory instead of files.
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
//   - Without Options.Columns, a column is numeric when its non-empty
//     fields in the first SniffRows rows are more than half numbers (or
//     there are none); a field of it that is not a number, among those rows
//     or after them, is the same error, or counted under Input.OnBadValue.
//     Other columns are text: ignored and listed in Result.Ignored unless
//     categorical.
//   - With Key = [RowKey] the keys are the data rows' numbers in file order,
//     so the same file always gives the same keys and shards.
//   - Memory does not grow with the input. Split makes two passes: while it
//     reads the CSV it appends each row to a per-shard spill (the parsing
//     goroutines split each block's rows by shard, the blocks are appended
//     in file order), in memory up to a budget (192 MiB) and past it in a
//     file in TempDir; then it converts the spills to Parquet, one shard per
//     goroutine (up to GOMAXPROCS) at a time, so at most that many row
//     groups are in memory, with the index of the shard's keys that finds
//     duplicates (a 128-bit hash of each key and its line, 48 to 96 bytes
//     per row of the shard: a key's rows all land in one shard). TempDir may need room for the spills: 8 bytes per value
//     plus the key and line, per row.
//   - On any error Split removes every file it created and returns an error;
//     data errors are [*InputError] values naming file, line and column.
//
// Shard files are plain Parquet: a required string column named after the key
// column followed by one optional DOUBLE column per imported column, in
// import order, zstd-compressed. The file's key/value metadata holds
// "mathcrm.key" (the key column name), "mathcrm.columns" (JSON array of the
// numeric column names) and "mathcrm.shard" ("index/count").
//
// # Interactions and transactions
//
// [SplitInteractions] and [SplitTransactions] read their CSV once, like
// Split, and spill each row to its shard(s). Unlike Split they sort each
// shard: when a shard's spill is converted it is loaded whole, sorted and
// written, so memory is bounded by the shards being converted at once (up to
// GOMAXPROCS), not by the input. Guarantees:
//
//   - Placement is ShardOf of the layout's id (the user in the by-user
//     layout, the item in the by-item layout, the customer for
//     transactions), so a shard holds all of an id's rows and distinct-id
//     counts are exact sums over shards.
//   - Every stored row is in exactly one shard of each layout. Interaction
//     shards are sorted by (id, other id), transaction shards by (customer,
//     time, invoice); equal rows keep file order, so the same input always
//     yields the same bytes. Repeated interactions are kept.
//   - Ids are non-empty, valid UTF-8, stored as read. Interaction values,
//     amounts, quantities and prices are finite numbers and required; a
//     missing one is [ErrMissingValue]. Returns (a negative amount or
//     quantity) are kept and flagged, never dropped. A transaction's amount
//     is its Amount field, or Quantity × Price in float64.
//   - Times are stored to the second (rounded down) as UTC. Without a
//     TimeFormat the first stored row's time picks the layout among those
//     TransactionOptions lists, and every row must match it; an eight-digit
//     value that is also a YYYYMMDD date is ambiguous and an error.
//   - A shard holds at most 2^31-1 rows (offsets are int32).
//   - On any error nothing is left in TempDir; data errors are
//     [*InputError] values naming file, line and column.
//
// Interaction shard files (byuser-shard-IIIII-of-NNNNN.parquet,
// byitem-shard-IIIII-of-NNNNN.parquet) have three required columns: the
// layout's id (string), the other id (string) and the value (DOUBLE, named
// after the value column, or "value" when there is none), with metadata
// "mathcrm.kind" = "interactions", "mathcrm.layout" ("by-user" or
// "by-item"), "mathcrm.key", "mathcrm.other", "mathcrm.value" (the three
// column names) and "mathcrm.shard".
//
// Transaction shard files (txn-shard-IIIII-of-NNNNN.parquet) have the
// customer id (required string), the time (required INT64 TIMESTAMP in
// milliseconds, UTC), the invoice id (optional string, null when empty; only
// when the import names an invoice column), the amount (required DOUBLE,
// named after the amount column or "amount") and the return flag (required
// BOOLEAN, "is_return"), with metadata "mathcrm.kind" = "transactions",
// "mathcrm.key", "mathcrm.time", "mathcrm.invoice", "mathcrm.amount",
// "mathcrm.return" (the column names, "" for no invoice) and
// "mathcrm.shard". A generated name that clashes with an input column's
// gets a suffix ("amount_1").
//
// The readers accept only files of their own kind, zstd-compressed, and
// check lengths in the footer and page headers before decoding, so corrupt
// bytes yield [ErrCorrupt] rather than huge allocations.
package partition
