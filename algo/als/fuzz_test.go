package als

import (
	"encoding/binary"
	"errors"
	"math"
	"testing"
)

// blockFromBytes decodes fuzz input into a block: rows and other ids from
// small alphabets (so that order, duplicates and unknown ids all occur),
// Ptr and values taken from the bytes as they come, valid or not.
func blockFromBytes(b []byte) *Block {
	next := func() byte {
		if len(b) == 0 {
			return 0
		}
		c := b[0]
		b = b[1:]
		return c
	}
	blk := &Block{}
	rows := int(next() % 6)
	for range rows {
		blk.IDs = append(blk.IDs, string(rune('a'+next()%8)))
	}
	nnz := int(next() % 24)
	blk.Ptr = append(blk.Ptr, int32(next()%3)-1+0)
	for range rows {
		blk.Ptr = append(blk.Ptr, blk.Ptr[len(blk.Ptr)-1]+int32(next()%6)-1)
	}
	if next()%4 == 0 {
		blk.Ptr = blk.Ptr[:len(blk.Ptr)-min(len(blk.Ptr), 1)]
	}
	for range nnz {
		blk.Other = append(blk.Other, string(rune('p'+next()%9)))
		var v float64
		switch next() % 8 {
		case 0:
			v = math.NaN()
		case 1:
			v = -float64(next())
		case 2:
			var w [8]byte
			for k := range w {
				w[k] = next()
			}
			v = math.Float64frombits(binary.LittleEndian.Uint64(w[:]))
		default:
			v = float64(next() % 6)
		}
		blk.Value = append(blk.Value, v)
	}
	return blk
}

// FuzzRunTask feeds arbitrary blocks to Prepare and RunTask on both
// sides, explicit and implicit: they must return an error or a finite
// result, never panic.
func FuzzRunTask(f *testing.F) {
	f.Add([]byte{3, 0, 1, 2, 6, 0, 2, 2, 2, 0, 1, 3, 2, 4, 5, 3, 0, 2, 1})
	f.Add([]byte{2, 1, 1, 4, 1, 3, 3, 0, 0, 1, 0, 2, 4})
	f.Add([]byte{5, 0, 1, 2, 3, 4, 20, 0, 5, 5, 5, 5, 5, 1, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7})
	others := &Factors{Rank: 3}
	for k := range 8 {
		others.IDs = append(others.IDs, string(rune('p'+k)))
		others.F = append(others.F, float64(k)-3, 0.5, float64(k%3))
		others.Count = append(others.Count, int32(k%2))
	}
	tab, err := NewTable(nil, []*Factors{others})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		blk := blockFromBytes(b)
		for _, implicit := range []bool{false, true} {
			cfg := DefaultConfig().withDefaults()
			cfg.Rank, cfg.Implicit, cfg.Alpha, cfg.Holdout, cfg.Seed = 3, implicit, 1, 0.3, 2
			for _, kind := range []TaskKind{TaskInit, TaskUsers, TaskItems} {
				task := &Task{Kind: kind, Side: Users, Iteration: 1, Config: cfg, Popular: 3}
				if kind != TaskUsers {
					task.Side = Items
				}
				tb := tab
				if kind == TaskInit {
					tb = nil
				}
				res, fs, err := RunTask(task, blk, tb, nil, nil, 0)
				if err != nil {
					if !errors.Is(err, ErrBlock) && !errors.Is(err, ErrUnknownID) && !errors.Is(err, ErrSolve) && !errors.Is(err, ErrNonFinite) {
						t.Fatalf("%s: unexpected error kind: %v", kind, err)
					}
					continue
				}
				if !finite(res.Reg) || !finite(res.Loss) || len(fs.F) != len(blk.IDs)*3 {
					t.Fatalf("%s: bad result %+v", kind, res)
				}
				for _, v := range fs.F {
					if !finite(v) {
						t.Fatalf("%s: non-finite factor", kind)
					}
				}
			}
		}
	})
}

// FuzzNewTable decodes factor shards from bytes: NewTable must accept
// them or return ErrFactors.
func FuzzNewTable(f *testing.F) {
	f.Add([]byte{2, 1, 0, 1, 2, 3, 4, 5, 6, 7})
	f.Add([]byte{3, 2, 5, 4, 3, 0, 0, 0, 0, 0, 0, 240, 127})
	f.Fuzz(func(t *testing.T, b []byte) {
		var shards []*Factors
		for len(b) >= 2 {
			n, rank := int(b[0]%4), int(b[1]%3)
			b = b[2:]
			fs := &Factors{Rank: rank}
			for k := range n {
				if len(b) == 0 {
					break
				}
				fs.IDs = append(fs.IDs, string(rune('a'+b[0]%6)))
				b = b[1:]
				for range rank {
					if len(b) >= 8 {
						fs.F = append(fs.F, math.Float64frombits(binary.LittleEndian.Uint64(b)))
						b = b[8:]
					} else if len(b) > 0 {
						fs.F = append(fs.F, float64(b[0]))
						b = b[1:]
					}
				}
				_ = k
			}
			shards = append(shards, fs)
		}
		tab, err := NewTable(nil, shards)
		if err != nil {
			if !errors.Is(err, ErrFactors) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		for k, id := range tab.IDs {
			if i, ok := tab.Index(id); !ok || i != k {
				t.Fatalf("index of %q is %d, %v; want %d", id, i, ok, k)
			}
		}
		if tab.Len() > 0 {
			_ = tab.Gram(nil)
		}
	})
}
