package partition

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"
)

// A batch holds the data rows of a run of consecutive records, parsed and
// checked but not yet stored: what can be done to a row without knowing the
// rows before it. Batches are filled in parallel and stored in file order
// (see splitter.store), which does the rest: row keys, category codes,
// statistics and the spill.
type batch struct {
	seq       int   // position in the file, from 0
	records   int64 // records read, skipped ones included
	skipped   int64 // records dropped under BadValueSkip
	invalid   []int64
	lines     []int   // by kept row: the line it starts on
	recNo     []int64 // by kept row: its record number in the batch, from 0
	shard     []int32 // by kept row: its shard; -1 when the key is RowKey
	key       []span  // by kept row, in arena
	cat       []span  // by kept row and categorical column, in arena
	arena     []byte
	vals      []float64 // by kept row: one value per imported column
	err       error     // the error at the record after the last one read
	errExtra  *keyAt    // with err, a kept-looking row whose key the duplicate check must see
	data      []byte    // the chunk's text (parallel reader), reused
	startLine int       // lines before the chunk
	// parts holds the kept rows again, split by shard (see scatter), when
	// the parser could do that; the spills take them over when the batch
	// is stored. count is scatter's scratch.
	parts []shardPart
	count []int
}

// shardPart is the rows of one batch that go to one shard, in file order.
type shardPart struct {
	shard int
	g     *group
}

// span is a slice of a batch's arena.
type span struct{ off, end int }

// keyAt is a key and the line of its row.
type keyAt struct {
	key  string
	line int
}

func (b *batch) reset() {
	b.records, b.skipped, b.err, b.errExtra = 0, 0, nil, nil
	clear(b.invalid)
	b.lines, b.recNo, b.shard = b.lines[:0], b.recNo[:0], b.shard[:0]
	b.key, b.cat, b.arena, b.vals = b.key[:0], b.cat[:0], b.arena[:0], b.vals[:0]
	b.parts = nil
}

// scatter copies the kept rows of b, w values each, into one new group per
// shard that has any (column-major, as the spills and the shard writer keep
// rows), in file order, and lists them in b.parts. The groups share a few
// allocations and are never changed again: the spills own them once the
// batch is stored. It needs every row's shard, so not for RowKey.
func (b *batch) scatter(w, shards int) {
	n := b.rows()
	if n == 0 {
		return
	}
	if len(b.count) != 3*shards {
		b.count = make([]int, 3*shards)
	}
	rowsOf, keyBytes, part := b.count[:shards], b.count[shards:2*shards], b.count[2*shards:]
	clear(b.count)
	parts := 0
	for i, s := range b.shard {
		if rowsOf[s] == 0 {
			parts++
		}
		rowsOf[s]++
		keyBytes[s] += b.key[i].end - b.key[i].off
	}
	vals := make([]float64, n*w)
	ends := make([]int, 2*n) // ends, then lines
	arena := make([]byte, 0, len(b.arena))
	cols := make([][]float64, parts*w)
	groups := make([]group, parts)
	b.parts = slices.Grow(b.parts[:0], parts)
	row, key := 0, 0
	for s, r := range rowsOf {
		if r == 0 {
			continue
		}
		k := len(b.parts)
		g := &groups[k]
		g.arena = arena[key : key : key+keyBytes[s]]
		g.ends = ends[row : row+r : row+r]
		g.lines = ends[n+row : n+row+r : n+row+r]
		g.values = cols[k*w : (k+1)*w : (k+1)*w]
		for j := range g.values {
			at := row*w + j*r
			g.values[j] = vals[at : at+r : at+r]
		}
		b.parts = append(b.parts, shardPart{shard: s, g: g})
		part[s] = k
		rowsOf[s] = 0 // from here: the rows the group holds so far
		row += r
		key += keyBytes[s]
	}
	for i, s := range b.shard {
		g, r := b.parts[part[s]].g, rowsOf[s]
		rowsOf[s]++
		g.arena = append(g.arena, b.arena[b.key[i].off:b.key[i].end]...)
		g.ends[r] = len(g.arena)
		g.lines[r] = b.lines[i]
		for j, v := range b.vals[i*w : (i+1)*w] {
			g.values[j][r] = v
		}
	}
}

func (b *batch) rows() int { return len(b.lines) }

func (b *batch) bytes(s span) []byte { return b.arena[s.off:s.end] }

// rowParser parses records into batches; it is read-only once built, so
// every goroutine of the parallel reader shares one.
type rowParser struct {
	file    string
	keyIdx  int // -1 for RowKey
	keyName string
	colIdx  []int // header index by imported column
	columns []string
	isCat   []bool // by imported column
	catCols []int  // imported columns that are categorical
	fields  int    // fields a record must have
	policy  BadValuePolicy
	shards  int
	names   bool // the field count comes from Input.Names
	// roles says what each field of a record is, for addLine: roleKey,
	// roleSkip, or the imported column it holds. Nil when addLine cannot
	// be used (categorical columns).
	roles []int
}

// Field roles of rowParser.roles besides an imported column's index.
const (
	roleSkip = -1
	roleKey  = -2
)

// setRoles fills in p.roles once the columns are known.
func (p *rowParser) setRoles() {
	p.roles = nil
	if len(p.catCols) > 0 {
		return
	}
	p.roles = make([]int, p.fields)
	for i := range p.roles {
		p.roles[i] = roleSkip
	}
	if p.keyIdx >= 0 {
		p.roles[p.keyIdx] = roleKey
	}
	for j, i := range p.colIdx {
		p.roles[i] = j
	}
}

func (p *rowParser) fail(line int, column string, err error) error {
	return &InputError{File: p.file, Line: line, Column: column, Err: err}
}

// add parses one record into b. A data error is returned as an
// *InputError and leaves b as it was; the caller ends the batch there.
func (p *rowParser) add(b *batch, rec [][]byte, line int) error {
	return p.addTyped(b, rec, nil, nil, line)
}

// addTyped is add for a record some of whose fields are numbers already:
// field i is nums[i] when isNum[i] (else parsed from rec[i]); such a number
// must be finite, like a parsed one.
func (p *rowParser) addTyped(b *batch, rec [][]byte, nums []float64, isNum []bool, line int) error {
	if len(rec) != p.fields {
		return p.fail(line, "", p.fieldCountError(len(rec)))
	}
	var key []byte
	if p.keyIdx >= 0 {
		key = rec[p.keyIdx]
		if err := checkKey(unsafe.String(unsafe.SliceData(key), len(key))); err != nil {
			return p.fail(line, p.keyName, err)
		}
	}
	n := len(b.vals)
	skip := false
	for j, i := range p.colIdx {
		if p.isCat[j] {
			b.vals = append(b.vals, math.NaN())
			continue
		}
		var v float64
		var ok bool
		if isNum != nil && isNum[i] {
			v = nums[i]
			ok = !math.IsNaN(v) && !math.IsInf(v, 0)
		} else {
			v, ok = parseNumberBytes(rec[i])
		}
		if !ok {
			if p.policy != BadValueSkip && p.policy != BadValueMissing {
				b.vals = b.vals[:n]
				text := string(rec[i])
				if isNum != nil && isNum[i] {
					text = strconv.FormatFloat(v, 'g', -1, 64)
				}
				return p.fail(line, p.columns[j], fmt.Errorf("%w: %s", ErrNotNumeric, quoteField(text)))
			}
			b.invalid[j]++
			v, skip = math.NaN(), skip || p.policy == BadValueSkip
		}
		b.vals = append(b.vals, v)
	}
	rn := b.records
	b.records++
	if skip {
		b.vals = b.vals[:n]
		b.skipped++
		return nil
	}
	b.lines = append(b.lines, line)
	b.recNo = append(b.recNo, rn)
	start := len(b.arena)
	b.arena = append(b.arena, key...)
	b.key = append(b.key, span{start, len(b.arena)})
	if p.keyIdx >= 0 {
		b.shard = append(b.shard, int32(ShardOf(unsafe.String(unsafe.SliceData(key), len(key)), p.shards)))
	} else {
		b.shard = append(b.shard, -1)
	}
	for _, j := range p.catCols {
		f := rec[p.colIdx[j]]
		if len(f) > 0 && (f[0] <= ' ' || f[len(f)-1] <= ' ' || f[0] >= utf8.RuneSelf || f[len(f)-1] >= utf8.RuneSelf) {
			f = []byte(strings.TrimSpace(string(f)))
		}
		start := len(b.arena)
		b.arena = append(b.arena, f...)
		b.cat = append(b.cat, span{start, len(b.arena)})
	}
	return nil
}

// addLine parses one unquoted line (without its line end) into b in a
// single pass, for the common record: the right number of fields, a valid
// key, and every imported field empty or a plain decimal that
// parseNumberBytes converts directly (the same bits). For any other line it
// leaves b as it was and returns false, for add to parse it, report its
// error or apply the bad-value policy.
func (p *rowParser) addLine(b *batch, l []byte, delim byte, line int) bool {
	if p.roles == nil {
		return false
	}
	n := len(b.vals)
	w := len(p.colIdx)
	b.vals = slices.Grow(b.vals, w)[:n+w]
	vals := b.vals[n:]
	var key []byte
	pos := 0
	last := len(p.roles) - 1
	for i, role := range p.roles {
		start := pos
		if role >= 0 {
			neg := false
			if pos < len(l) && (l[pos] == '-' || l[pos] == '+') {
				neg = l[pos] == '-'
				pos++
			}
			// The commonest number of all, a digit, the point and six
			// digits ("5.774249"), in eight bytes. With the point made a
			// zero they read d·10^7 + f, the seven digits d·10^6 + f plus
			// 9·10^6·d; the value is then what the general path computes
			// from those seven digits, the same division.
			if pos+8 <= len(l) && l[pos+1] == '.' && (pos+8 == len(l) || l[pos+8]-'0' >= 10) {
				x := binary.LittleEndian.Uint64(l[pos:])
				if m, k := digits8(x&^0xFF00|0x3000, 8); k == 8 {
					v := float64(m-uint64(l[pos]-'0')*9_000_000) / 1e6
					if neg {
						v = -v
					}
					vals[role] = v
					pos += 8
					goto next
				}
			}
			// The common number, fewer than eight digits before the point
			// and after it, in two inlined steps; any other in readDigits.
			m, digits, ok := uint64(0), 0, true
			k := 8
			if pos+8 <= cap(l) {
				m, k = digits8(binary.LittleEndian.Uint64(l[pos:cap(l)]), len(l)-pos)
			}
			if k < 8 {
				digits, pos = k, pos+k
			} else {
				m, digits, pos, ok = readDigits(l, pos, 0, 0)
			}
			frac := 0
			if ok && pos < len(l) && l[pos] == '.' {
				point := digits
				var v uint64
				k = 8
				if pos+9 <= cap(l) {
					v, k = digits8(binary.LittleEndian.Uint64(l[pos+1:cap(l)]), len(l)-pos-1)
				}
				if k < 8 && digits+k <= 19 {
					m, digits, pos = m*pow10u[k]+v, digits+k, pos+1+k
				} else {
					m, digits, pos, ok = readDigits(l, pos+1, m, digits)
				}
				frac = digits - point
			}
			switch {
			case !ok:
				b.vals = b.vals[:n]
				return false
			case pos == start:
				vals[role] = math.NaN()
			case digits == 0 || m > 1<<53 || frac > 22:
				b.vals = b.vals[:n]
				return false
			default:
				v := float64(m)
				if frac > 0 {
					v /= exactPow10[frac]
				}
				if neg {
					v = -v
				}
				vals[role] = v
			}
		} else {
			for pos < len(l) && l[pos] != delim {
				pos++
			}
			if role == roleKey {
				key = l[start:pos]
			}
		}
	next:
		switch {
		case i < last && pos < len(l) && l[pos] == delim:
			pos++
		case i == last && pos == len(l):
		default: // another character, too few or too many fields
			b.vals = b.vals[:n]
			return false
		}
	}
	if p.keyIdx >= 0 && checkKey(unsafe.String(unsafe.SliceData(key), len(key))) != nil {
		b.vals = b.vals[:n]
		return false
	}
	b.lines = append(b.lines, line)
	b.recNo = append(b.recNo, b.records)
	b.records++
	start := len(b.arena)
	b.arena = append(b.arena, key...)
	b.key = append(b.key, span{start, len(b.arena)})
	if p.keyIdx >= 0 {
		b.shard = append(b.shard, int32(ShardOf(unsafe.String(unsafe.SliceData(key), len(key)), p.shards)))
	} else {
		b.shard = append(b.shard, -1)
	}
	return true
}

// pow10u holds 10^0 to 10^8.
var pow10u = [...]uint64{1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8}

// digits8 returns the value and count of the ASCII digits that start the
// eight bytes of x (little-endian: the first byte lowest), at most left of
// them; a count of 8 means there may be more. See readDigits.
func digits8(x uint64, left int) (v uint64, k int) {
	nd := ((x + 0x4646464646464646) | (x - 0x3030303030303030)) & 0x8080808080808080
	k = min(bits.TrailingZeros64(nd)>>3, left)
	x = (x - 0x3030303030303030) << (8 * (8 - k)) // k = 0: shifted out whole, 0
	x = (x*10 + x>>8) & 0x00FF00FF00FF00FF
	x = (x*100 + x>>16) & 0x0000FFFF0000FFFF
	return (x*10000 + x>>32) & 0xFFFFFFFF, k
}

// readDigits reads the run of ASCII digits at l[pos:], appending them to
// the mantissa m of digits digits, and returns the new mantissa, digit
// count and position; ok is false past 19 digits. It reads eight bytes at
// a time, up to cap(l) (bytes past len(l) are read but never used): in
// each, the high bit of a byte is set where it is not a digit, above '9'
// (+0x46 carries into it) or below '0' (−0x30 borrows); carries and borrows
// only move up, so the lowest flag is right. The digits are shifted to the
// top bytes, zeros (leading zeros) below, then pairs, quads and octets of
// digits are combined.
func readDigits(l []byte, pos int, m uint64, digits int) (uint64, int, int, bool) {
	for {
		var v uint64
		n := 0
		if pos+8 <= cap(l) {
			v, n = digits8(binary.LittleEndian.Uint64(l[pos:cap(l)]), len(l)-pos)
		} else {
			for ; n < 8 && pos+n < len(l); n++ {
				d := l[pos+n] - '0'
				if d >= 10 {
					break
				}
				v = v*10 + uint64(d)
			}
		}
		if digits+n > 19 {
			return m, digits, pos, false
		}
		m = m*pow10u[n] + v
		digits += n
		pos += n
		if n < 8 {
			return m, digits, pos, true
		}
	}
}

func (p *rowParser) fieldCountError(n int) error {
	if p.names {
		return fmt.Errorf("%w: record has %d fields, %d names given", ErrMalformed, n, p.fields)
	}
	return fmt.Errorf("%w: record has %d fields, header has %d", ErrMalformed, n, p.fields)
}
