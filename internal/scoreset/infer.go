package scoreset

import (
	"bytes"
	"fmt"

	"github.com/parquet-go/parquet-go"
)

// Infer reads a score shard's columns after its key column from the file's
// own schema: a reader needs neither the score set's kind nor the scorer
// that wrote it.
func Infer(b []byte, key string) (cols []Column, err error) {
	defer func() {
		if r := recover(); r != nil { // parquet-go panics on some malformed input
			cols, err = nil, fmt.Errorf("%w: %v", ErrCorrupt, r)
		}
	}()
	f, err := parquet.OpenFile(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	fields := f.Schema().Fields()
	if len(fields) == 0 || fields[0].Name() != key {
		return nil, fmt.Errorf("%w: the first column is not the key %q", ErrCorrupt, key)
	}
	for _, fd := range fields[1:] {
		if !fd.Leaf() {
			return nil, fmt.Errorf("%w: column %q is not a leaf", ErrCorrupt, fd.Name())
		}
		c := Column{Name: fd.Name()}
		switch fd.Type().Kind() {
		case parquet.Double:
			c.Type = Float
		case parquet.Int64:
			c.Type = Int
		case parquet.ByteArray:
			c.Type = String
		default:
			return nil, fmt.Errorf("%w: column %q of type %v", ErrCorrupt, fd.Name(), fd.Type())
		}
		cols = append(cols, c)
	}
	return cols, nil
}

// DecodeAny is Decode with the columns the file's schema says (Infer).
func DecodeAny(b []byte, key string) (*Table, error) {
	cols, err := Infer(b, key)
	if err != nil {
		return nil, err
	}
	return Decode(b, key, cols)
}
