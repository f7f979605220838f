package partition

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"sync"
)

// chunkBytes is the size of the blocks of text the parallel reader parses
// at once (tests make it small to force many blocks).
var chunkBytes = 1 << 20

// readParallel stores the records of br, CSV with a one-byte delimiter
// whose first line is line+1 of the input, parsing blocks of whole lines on
// up to GOMAXPROCS goroutines and storing their rows in file order, so the
// result is the same whatever the number of goroutines or the block size.
//
// A block holding a quote is not parsed: a quoted field may hold line
// breaks, which only a sequential read can tell from record ends. Then
// readParallel stops there and returns the rest of the text and the
// number of lines before it, for the sequential reader; rest is nil when it
// read everything.
func (sp *splitter) readParallel(ctx context.Context, br *bufio.Reader, line int, delim byte) (rest io.Reader, restLine int, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	workers := max(1, runtime.GOMAXPROCS(0))
	free := make(chan *batch, 2*workers+2)
	for range cap(free) {
		free <- sp.newBatch()
	}
	work := make(chan *batch, workers)
	done := make(chan *batch, cap(free))
	var wg sync.WaitGroup
	var fallback *batch // the block holding a quote, and the text after it
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(work)
		fallback = sp.chunk(ctx, br, line, free, work)
	}()
	var parsers sync.WaitGroup
	for range workers {
		parsers.Add(1)
		go func() {
			defer parsers.Done()
			var fields [][]byte
			for b := range work {
				fields = sp.parseChunk(ctx, b, delim, fields)
				if sp.keyIdx >= 0 && len(sp.parser.catCols) == 0 {
					b.scatter(len(sp.columns), len(sp.spills))
				}
				done <- b
			}
		}()
	}
	go func() {
		parsers.Wait()
		close(done)
	}()
	pending := map[int]*batch{}
	next := 0
	for b := range done {
		pending[b.seq] = b
		for err == nil {
			b, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			next++
			err = sp.store(ctx, b)
			free <- b
		}
		if err != nil {
			cancel()
		}
	}
	wg.Wait()
	if err != nil {
		return nil, 0, err
	}
	if fallback != nil {
		return io.MultiReader(bytes.NewReader(fallback.data), br), fallback.startLine, nil
	}
	return nil, 0, ctx.Err()
}

// chunk cuts br into blocks of whole lines and sends them to work, each in a
// batch from free, numbered in file order. It stops at the end of the text,
// at a read error (sent as the last batch's error), when ctx ends, or at a
// block holding a quote, which it returns with the text read after it.
func (sp *splitter) chunk(ctx context.Context, br *bufio.Reader, line int, free <-chan *batch, work chan<- *batch) *batch {
	var carry []byte // the start of a line the last block cut off
	for seq := 0; ; seq++ {
		var b *batch
		select {
		case b = <-free:
		case <-ctx.Done():
			return nil
		}
		b.reset()
		b.seq, b.startLine = seq, line
		data := append(b.data[:0], carry...)
		var readErr error
		read := func() {
			if len(data) == cap(data) {
				data = slices.Grow(data, chunkBytes)
			}
			var n int
			n, readErr = br.Read(data[len(data):cap(data)])
			data = data[:len(data)+n]
		}
		for readErr == nil && len(data) < chunkBytes {
			read()
		}
		end := len(data)
		for readErr == nil {
			if i := bytes.LastIndexByte(data, '\n'); i >= 0 {
				end = i + 1
				break
			}
			read() // a line longer than the block
			end = len(data)
		}
		carry = append(carry[:0:0], data[end:]...)
		b.data = data[:end]
		if readErr != nil && !errors.Is(readErr, io.EOF) {
			b.err = readErr
		}
		if bytes.IndexByte(b.data, '"') >= 0 {
			b.data = append(b.data, carry...)
			return b
		}
		line += bytes.Count(b.data, []byte{'\n'})
		select {
		case work <- b:
		case <-ctx.Done():
			return nil
		}
		if readErr != nil {
			return nil
		}
	}
}

// parseChunk parses the lines of b.data into b, as encoding/csv would read
// them when no field is quoted: "\r\n" ends a line like "\n", a "\r" before
// the end of the text is dropped, and empty lines are skipped. It stops at
// the first data error, which it leaves in b.err.
func (sp *splitter) parseChunk(ctx context.Context, b *batch, delim byte, fields [][]byte) [][]byte {
	readErr := b.err
	b.err = nil
	data, line := b.data, b.startLine
	for len(data) > 0 {
		var l []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			l, data = data[:i], data[i+1:]
		} else {
			l, data = data, nil
		}
		line++
		if n := len(l); n > 0 && l[n-1] == '\r' {
			l = l[:n-1]
		}
		if len(l) == 0 {
			continue
		}
		if sp.parser.addLine(b, l, delim, line) {
			if b.records%ctxCheckRows == 0 && ctx.Err() != nil {
				b.err = ctx.Err()
				return fields
			}
			continue
		}
		fields = fields[:0]
		start := 0
		for i, c := range l { // fields are short: a loop beats IndexByte's calls
			if c == delim {
				fields = append(fields, l[start:i:i])
				start = i + 1
			}
		}
		fields = append(fields, l[start:])
		if err := sp.parser.add(b, fields, line); err != nil {
			b.err = err
			return fields
		}
		if b.records%ctxCheckRows == 0 && ctx.Err() != nil {
			b.err = ctx.Err()
			return fields
		}
	}
	if readErr != nil {
		b.err = wrapReadErr(sp.rr.name, readErr)
	}
	return fields
}

func wrapReadErr(name string, err error) error {
	return fmt.Errorf("partition: reading %s: %w", name, err)
}
