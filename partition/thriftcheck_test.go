package partition

import (
	"errors"
	"testing"

	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
)

func TestThriftStructLen(t *testing.T) {
	meta := openParquet(t, transactionShardBytes(t)).Metadata()
	b, err := thrift.Marshal(new(thrift.CompactProtocol), meta)
	if err != nil {
		t.Fatal(err)
	}
	tail := append(append([]byte{}, b...), 0xde, 0xad)
	if n, err := thriftStructLen(tail); err != nil || n != len(b) {
		t.Fatalf("thriftStructLen = %d, %v; want %d", n, err, len(b))
	}
	for cut := 0; cut < len(b); cut++ {
		if _, err := thriftStructLen(b[:cut]); !errors.Is(err, errThrift) {
			t.Fatalf("truncated to %d of %d bytes: err = %v", cut, len(b), err)
		}
	}
	// A list claiming more elements than bytes left, as a corrupt
	// FileMetaData.schema would: field 2, type list, 15 = long size.
	huge := []byte{0x29, 0xfc, 0xff, 0xff, 0xff, 0x07, 0x00}
	if _, err := thriftStructLen(huge); !errors.Is(err, errThrift) {
		t.Errorf("huge list: err = %v", err)
	}
	var deep []byte
	for range maxThriftDepth + 2 {
		deep = append(deep, 0x1c) // field 1, struct
	}
	if _, err := thriftStructLen(deep); !errors.Is(err, errThrift) {
		t.Errorf("deep nesting: err = %v", err)
	}
	var h format.PageHeader
	h.Type, h.CompressedPageSize, h.UncompressedPageSize = format.DataPage, 10, 20
	hb, err := thrift.Marshal(new(thrift.CompactProtocol), &h)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := thriftStructLen(hb); err != nil || n != len(hb) {
		t.Errorf("page header: %d, %v; want %d", n, err, len(hb))
	}
}
