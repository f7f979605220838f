// Package blob encodes the self-describing, compressed, checksummed blobs that
// carry partial results, algorithm state and models between processes.
//
// Layout (little endian):
//
//	magic "MCRB" | format u8 | len(kind) u8 | kind | rawLen u32 | crc32c u32 | zstd(body)
//
// The body is the value in MessagePack (format 2, written by this build) or
// in gob (format 1, written by earlier builds and still read). MessagePack
// encodes a struct with per-type plans cached for the life of the process;
// gob sends and compiles the whole type tree with every message, which cost
// half a millisecond per partial, more than most shards' arithmetic. Struct
// fields are named by their json tags when they have one, else by their Go
// names; types that implement encoding.BinaryMarshaler encode themselves.
//
// The checksum covers the compressed bytes and is verified before anything is
// decompressed; rawLen bounds the decompressed size so a hostile blob cannot
// make the reader allocate without limit.
package blob

import (
	"bytes"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"fmt"
	"hash/crc32"
	"sync"

	"github.com/hashicorp/go-msgpack/v2/codec"
	"github.com/klauspost/compress/zstd"
)

// Format is the blob format version written by this build.
const Format = formatMsgpack

// The body encodings by format version.
const (
	formatGob     = 1
	formatMsgpack = 2
)

// mh is the MessagePack handle; its type plans are cached and it is safe
// for concurrent use once configured.
var mh = func() *codec.MsgpackHandle {
	h := &codec.MsgpackHandle{WriteExt: true}
	h.MaxInitLen = 1 << 20 // a hostile length prefix allocates no more up front
	return h
}()

// MaxRaw bounds the decoded size of any blob.
const MaxRaw = 1 << 30

var (
	// ErrCorrupt reports a blob whose bytes do not verify.
	ErrCorrupt = errors.New("blob: corrupt")
	// ErrKind reports a blob of another kind than the reader expects.
	ErrKind = errors.New("blob: unexpected kind")
	// ErrFormat reports a blob written in an unknown format version.
	ErrFormat = errors.New("blob: unknown format version")
)

var magic = [4]byte{'M', 'C', 'R', 'B'}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

var (
	encOnce sync.Once
	enc     *zstd.Encoder
	dec     *zstd.Decoder
)

func codecs() (*zstd.Encoder, *zstd.Decoder) {
	encOnce.Do(func() {
		var err error
		enc, err = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
		if err != nil {
			panic(err) // only bad options fail here
		}
		dec, err = zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecoderMaxMemory(MaxRaw))
		if err != nil {
			panic(err)
		}
	})
	return enc, dec
}

// Encode writes v as a blob of the given kind.
func Encode(kind string, v any) ([]byte, error) { return encode(kind, v, false) }

// EncodeTransient writes v as a blob that is sent, not stored (a step's
// partial): its bytes go in stored zstd blocks whatever its size. A
// logistic eval partial (a shard's sorted scores, 140 KB) compressed to
// 0.91 of its size for 0.25 ms of a worker's time, more than a network
// moves the bytes saved in; any zstd decoder reads the frame, so every
// build reads the blob.
func EncodeTransient(kind string, v any) ([]byte, error) { return encode(kind, v, true) }

func encode(kind string, v any, stored bool) ([]byte, error) {
	if len(kind) == 0 || len(kind) > 255 {
		return nil, fmt.Errorf("blob: kind %q must be 1 to 255 bytes", kind)
	}
	var raw []byte
	if err := codec.NewEncoderBytes(&raw, mh).Encode(v); err != nil {
		return nil, fmt.Errorf("blob: encode %s: %w", kind, err)
	}
	if len(raw) > MaxRaw {
		return nil, fmt.Errorf("blob: %s is %d bytes, more than %d", kind, len(raw), MaxRaw)
	}
	stored = stored || len(raw) <= maxStored
	size := 16 + len(kind)
	if stored {
		size += storedFrameSize(len(raw))
	}
	head := make([]byte, 0, size)
	head = append(head, magic[:]...)
	head = append(head, Format, byte(len(kind)))
	head = append(head, kind...)
	head = binary.LittleEndian.AppendUint32(head, uint32(len(raw)))
	crcAt := len(head)
	head = binary.LittleEndian.AppendUint32(head, 0)
	var out []byte
	if stored {
		out = appendStoredFrame(head, raw)
	} else {
		e, _ := codecs()
		out = e.EncodeAll(raw, head)
	}
	binary.LittleEndian.PutUint32(out[crcAt:], crc32.Checksum(out[crcAt+4:], castagnoli))
	return out, nil
}

// Kind returns the kind of a blob without decoding it.
func Kind(b []byte) (string, error) {
	k, _, _, _, _, err := header(b)
	return k, err
}

func header(b []byte) (kind string, format byte, rawLen int, crc uint32, body []byte, err error) {
	if len(b) < 6 || !bytes.Equal(b[:4], magic[:]) {
		return "", 0, 0, 0, nil, fmt.Errorf("%w: bad magic", ErrCorrupt)
	}
	format = b[4]
	if format != formatGob && format != formatMsgpack {
		return "", 0, 0, 0, nil, fmt.Errorf("%w: %d (this build reads %d and %d)", ErrFormat, format, formatGob, formatMsgpack)
	}
	n := int(b[5])
	if len(b) < 6+n+8 {
		return "", 0, 0, 0, nil, fmt.Errorf("%w: short header", ErrCorrupt)
	}
	kind = string(b[6 : 6+n])
	rawLen = int(binary.LittleEndian.Uint32(b[6+n:]))
	crc = binary.LittleEndian.Uint32(b[10+n:])
	return kind, format, rawLen, crc, b[14+n:], nil
}

// Decode verifies a blob of the given kind and decodes it into v.
func Decode(b []byte, kind string, v any) error {
	k, format, rawLen, crc, body, err := header(b)
	if err != nil {
		return err
	}
	if k != kind {
		return fmt.Errorf("%w: got %q, want %q", ErrKind, k, kind)
	}
	if crc32.Checksum(body, castagnoli) != crc {
		return fmt.Errorf("%w: checksum mismatch", ErrCorrupt)
	}
	if rawLen > MaxRaw {
		return fmt.Errorf("%w: declared size %d too large", ErrCorrupt, rawLen)
	}
	_, d := codecs()
	raw, err := d.DecodeAll(body, make([]byte, 0, rawLen))
	if err != nil {
		return fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if len(raw) != rawLen {
		return fmt.Errorf("%w: decoded %d bytes, header says %d", ErrCorrupt, len(raw), rawLen)
	}
	if format == formatGob {
		err = gob.NewDecoder(bytes.NewReader(raw)).Decode(v)
	} else {
		err = codec.NewDecoderBytes(raw, mh).Decode(v)
	}
	if err != nil {
		return fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	return nil
}

// Marshal writes v in MessagePack without a frame: for a value carried
// inside a blob (a partial's payload), which the blob's frame already
// compresses and checksums.
func Marshal(v any) ([]byte, error) {
	var raw []byte
	if err := codec.NewEncoderBytes(&raw, mh).Encode(v); err != nil {
		return nil, fmt.Errorf("blob: encode: %w", err)
	}
	return raw, nil
}

// Unmarshal reads what Marshal wrote into v.
func Unmarshal(b []byte, v any) error {
	if err := codec.NewDecoderBytes(b, mh).Decode(v); err != nil {
		return fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	return nil
}

// maxStored is the size up to which Encode stores a blob's bytes as they
// are, in a zstd frame of stored ("raw") blocks, instead of compressing
// them: a step's partial (a few KiB of float64 sums, which do not
// compress) took longer to compress than to compute on small shards, and
// at this size the bytes saved are worth nothing. Any zstd decoder reads
// the frame, so blobs written this way read in every build.
const maxStored = 64 << 10

// maxStoredBlock is the largest stored block of a zstd frame.
const maxStoredBlock = 128 << 10

// storedFrameSize is the size of the zstd frame appendStoredFrame writes
// for n bytes.
func storedFrameSize(n int) int {
	return 9 + 3*max(1, (n+maxStoredBlock-1)/maxStoredBlock) + n
}

// appendStoredFrame appends a zstd frame holding p (at most MaxRaw bytes)
// in stored blocks of at most 128 KiB: the magic number, a descriptor
// (single segment, a 4-byte content size, no checksum), the content size,
// then each block's header (last or not, raw, its size) and its bytes.
func appendStoredFrame(b, p []byte) []byte {
	b = append(b, 0x28, 0xb5, 0x2f, 0xfd, 0xa0)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(p)))
	for {
		n := min(len(p), maxStoredBlock)
		h := uint32(n) << 3
		if n == len(p) {
			h |= 1 // the last block
		}
		b = append(b, byte(h), byte(h>>8), byte(h>>16))
		b = append(b, p[:n]...)
		p = p[n:]
		if len(p) == 0 {
			return b
		}
	}
}
