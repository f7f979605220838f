package partition

import (
	"fmt"
	"io"
	"math"

	"github.com/parquet-go/parquet-go"
)

// recoverCorrupt turns a panic into an ErrCorrupt error. parquet-go is not
// hardened against hostile bytes; a panic in it on corrupt input is a data
// error here, not a crash of the worker. Use it deferred.
func recoverCorrupt(err *error) {
	if p := recover(); p != nil {
		*err = fmt.Errorf("%w: decoder panic: %v", ErrCorrupt, p)
	}
}

// openShardFile opens a Parquet shard file of a sorted kind and checks that
// its metadata names that kind.
func openShardFile(r io.ReaderAt, size int64, kind string) (*parquet.File, error) {
	if r == nil || size < 0 {
		return nil, fmt.Errorf("%w: no data", ErrCorrupt)
	}
	if err := checkFraming(r, size); err != nil {
		return nil, err
	}
	f, err := parquet.OpenFile(r, size, parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	if got, _ := f.Lookup(metaKind); got != kind {
		return nil, fmt.Errorf("%w: %s is %q, not %q", ErrCorrupt, metaKind, got, kind)
	}
	return f, nil
}

// columnSpec is what a reader expects of one leaf column.
type columnSpec struct {
	name     string
	kind     parquet.Kind
	required bool         // else optional
	logical  parquet.Type // nil: any; else its logical type must match
}

// checkColumns checks that f's columns are exactly want, in order.
func checkColumns(f *parquet.File, want []columnSpec) error {
	cols := f.Root().Columns()
	if len(cols) != len(want) {
		return fmt.Errorf("%w: %d columns, want %d", ErrCorrupt, len(cols), len(want))
	}
	for j, c := range cols {
		w := want[j]
		ok := w.name != "" && c.Leaf() && c.Name() == w.name && c.Type().Kind() == w.kind &&
			!c.Repeated() && c.Required() == w.required && c.Optional() == !w.required
		if ok && w.logical != nil {
			got := c.Type().LogicalType()
			ok = got != nil && got.String() == w.logical.LogicalType().String()
		}
		if !ok {
			return fmt.Errorf("%w: column %d is not %q of the expected type", ErrCorrupt, j, w.name)
		}
	}
	return nil
}

// rowCount returns f's row count, checked for sanity.
func rowCount(f *parquet.File) (int64, error) {
	total := f.NumRows()
	if total < 0 {
		return 0, fmt.Errorf("%w: negative row count", ErrCorrupt)
	}
	return total, nil
}

// finiteDouble returns the finite DOUBLE v holds.
func finiteDouble(v parquet.Value, column string) (float64, error) {
	if v.IsNull() || v.Kind() != parquet.Double {
		return 0, fmt.Errorf("%w: bad value in column %q", ErrCorrupt, column)
	}
	x := v.Double()
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0, fmt.Errorf("%w: non-finite value in column %q", ErrCorrupt, column)
	}
	return x, nil
}
