package ingest

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"strconv"
)

// The line parser is written by hand rather than on encoding/csv or
// strings.Split: those allocate a string per field (75M allocations for a
// 25M-row file) and parse each number in a second pass, which makes them
// several times slower than the I/O. Here a line is cut into byte slices
// in place, ids that are canonical decimals are turned into integers
// without allocating, short decimal ratings take an exact float32 fast
// path, and only ids that are not decimal are ever copied into strings
// (once per distinct id per chunk).

// layout says how to cut the lines of one source into columns.
type layout struct {
	format                   Format
	sep                      []byte
	header                   bool
	user, item, rating, time int // 0-based columns; time < 0: none
	need                     int // fields needed: 1 + the largest column
}

func (l *layout) hasTime() bool { return l.time >= 0 }

// strBit marks a raw id that refers to a chunk's string table; other raw
// ids are canonical decimal values (< 10^18 < 2^63).
const strBit = 1 << 63

// chunk is a run of whole lines handed to a parsing worker, and the columns
// parsed from it. Chunks and their slices are recycled.
type chunk struct {
	buf       []byte // owned buffer; data is a prefix of it
	data      []byte
	firstLine int64 // line number of data's first line (1-based)
	done      chan struct{}

	users, items []uint64 // raw ids
	ratings      []float32
	times        []int64
	strs         []string // non-decimal ids of this chunk, in order of appearance
	strIdx       map[string]uint32
	nonRows      []int32 // 0-based line offsets within the chunk of lines that gave no row
	bad          []badLine
}

type badLine struct {
	line int64
	msg  string
}

func newChunk(size int) *chunk {
	return &chunk{buf: make([]byte, 0, size), done: make(chan struct{}, 1), strIdx: map[string]uint32{}}
}

func (c *chunk) reset() {
	c.users, c.items, c.ratings, c.times = c.users[:0], c.items[:0], c.ratings[:0], c.times[:0]
	c.strs = c.strs[:0]
	clear(c.strIdx)
	c.nonRows, c.bad = c.nonRows[:0], c.bad[:0]
}

// parser holds one worker's scratch space.
type parser struct {
	lay     *layout
	skipBad bool
	fields  [][]byte
	scratch []byte
	roles   []uint8
}

func newParser(lay *layout, skipBad bool) *parser {
	return &parser{lay: lay, skipBad: skipBad, fields: make([][]byte, lay.need), roles: lay.roles()}
}

// parse fills c's columns from c.data. Without skipBad it stops at the
// first bad line (the rows before it are kept but never used).
func (p *parser) parse(c *chunk) {
	c.reset()
	data := c.data
	var rel int32
	for len(data) > 0 {
		var line []byte
		if nl := bytes.IndexByte(data, '\n'); nl >= 0 {
			line, data = data[:nl], data[nl+1:]
		} else {
			line, data = data, nil
		}
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
		if len(line) == 0 {
			c.nonRows = append(c.nonRows, rel)
		} else if msg := p.line(line, c); msg != "" {
			c.bad = append(c.bad, badLine{line: c.firstLine + int64(rel), msg: msg})
			c.nonRows = append(c.nonRows, rel)
			if !p.skipBad {
				return
			}
		}
		rel++
	}
}

// line parses one non-empty line into c and returns "" or what is wrong.
func (p *parser) line(line []byte, c *chunk) string {
	if p.fast(line, c) {
		return ""
	}
	n, msg := p.split(line)
	if msg != "" {
		return msg
	}
	l := p.lay
	if n < l.need {
		return fmt.Sprintf("line has %d field(s) separated by %q, need %d (%s)", n, l.sep, l.need, l.columnsText())
	}
	u, msg := p.id(p.fields[l.user], "user", c)
	if msg != "" {
		return msg
	}
	it, msg := p.id(p.fields[l.item], "item", c)
	if msg != "" {
		return msg
	}
	r, msg := parseRating(p.fields[l.rating])
	if msg != "" {
		return msg
	}
	if l.time >= 0 {
		ts, ok := parseInt(p.fields[l.time])
		if !ok {
			return fmt.Sprintf("timestamp %q is not an integer (Unix seconds)", clip(p.fields[l.time]))
		}
		c.times = append(c.times, ts)
	}
	c.users = append(c.users, u)
	c.items = append(c.items, it)
	c.ratings = append(c.ratings, r)
	return ""
}

func (l *layout) columnsText() string {
	s := fmt.Sprintf("user in %d, item in %d, rating in %d", l.user+1, l.item+1, l.rating+1)
	if l.time >= 0 {
		s += fmt.Sprintf(", timestamp in %d", l.time+1)
	}
	return s
}

// Column roles for the fast path.
const (
	roleSkip = iota
	roleUser
	roleItem
	roleRating
	roleTime
)

// roles returns the role of each of the first lay.need columns.
func (l *layout) roles() []uint8 {
	r := make([]uint8, l.need)
	r[l.user], r[l.item], r[l.rating] = roleUser, roleItem, roleRating
	if l.time >= 0 {
		r[l.time] = roleTime
	}
	return r
}

// fast parses the common line in one pass: unquoted fields, decimal ids,
// ratings of at most 7 digits, integer timestamps. It appends the row and
// returns true, or returns false without touching c, and the general path
// (which also words the errors) takes the line.
func (p *parser) fast(line []byte, c *chunk) bool {
	sep := p.lay.sep
	s0 := sep[0]
	i := 0
	var u, it uint64
	var r float32
	var ts int64
	for col, role := range p.roles {
		if col > 0 {
			// line[i] is the first byte of a separator.
			if i >= len(line) || (len(sep) > 1 && !bytes.HasPrefix(line[i:], sep)) {
				return false
			}
			i += len(sep)
		}
		start := i
		switch role {
		case roleUser, roleItem:
			// Ids of up to 7 digits (nearly all) take one inlined swar8;
			// longer ones, or the last 7 bytes of a line, digitsAt.
			var v uint64
			n := 8
			if i+8 <= len(line) {
				v, n = swar8(binary.LittleEndian.Uint64(line[i:]))
			}
			if n < 8 {
				i += n
			} else {
				v, i = digitsAt(line, i)
			}
			n = i - start
			if n == 0 || n > 18 || (line[start] == '0' && n > 1) || (i < len(line) && line[i] != s0) {
				return false
			}
			if role == roleUser {
				u = v
			} else {
				it = v
			}
		case roleRating:
			neg := i < len(line) && line[i] == '-'
			if neg {
				i++
			}
			var m uint32
			digits, frac := 0, -1
			for ; i < len(line) && line[i] != s0; i++ {
				ch := line[i]
				if ch == '.' && frac < 0 && digits > 0 {
					frac = 0
					continue
				}
				if ch-'0' > 9 {
					return false
				}
				m = m*10 + uint32(ch-'0')
				digits++
				if frac >= 0 {
					frac++
				}
			}
			if digits == 0 || digits > 7 || frac == 0 {
				return false
			}
			r = float32(m)
			if frac > 0 {
				r /= pow10f32[frac]
			}
			if neg {
				r = -r
			}
		case roleTime:
			neg := i < len(line) && line[i] == '-'
			if neg {
				i++
			}
			d := i
			var v uint64
			v, i = digitsAt(line, i)
			ts = int64(v) // at most 18 digits below, so no overflow then
			if n := i - d; n == 0 || n > 18 || (i < len(line) && line[i] != s0) {
				return false
			}
			if neg {
				ts = -ts
			}
		default:
			if i < len(line) && line[i] == '"' {
				return false
			}
			for i < len(line) && line[i] != s0 {
				i++
			}
		}
	}
	if i < len(line) && !bytes.HasPrefix(line[i:], sep) {
		return false // the last field runs on: leave it to the general path
	}
	c.users = append(c.users, u)
	c.items = append(c.items, it)
	c.ratings = append(c.ratings, r)
	if p.lay.time >= 0 {
		c.times = append(c.times, ts)
	}
	return true
}

// digitsAt returns the value of the run of decimal digits of line from i
// on (wrapped around if longer than 19 digits: callers reject more than
// 18) and the index after it. It reads eight bytes at a time while eight
// remain in the line (swar8), the rest one at a time: the ids and
// timestamps of a ratings line are most of its bytes, and a byte loop
// spent about a nanosecond on each.
func digitsAt(line []byte, i int) (uint64, int) {
	var v uint64
	for i+8 <= len(line) {
		d, n := swar8(binary.LittleEndian.Uint64(line[i:]))
		v = v*pow10u64[n] + d
		i += n
		if n < 8 {
			return v, i
		}
	}
	for i < len(line) && line[i]-'0' <= 9 {
		v = v*10 + uint64(line[i]-'0')
		i++
	}
	return v, i
}

var pow10u64 = [9]uint64{1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8}

// swar8 returns the value of the decimal digits x starts with (its bytes
// in memory order, the first in the low byte) and how many there are, at
// most 8. A byte b is flagged as a non-digit by the top bit of b−'0'
// (below '0') or of b+0x46 (above '9'); a borrow or carry only runs
// towards later bytes, so the first flag is exact. The n digits are then
// shifted to the top, below them zeros, and combined pairwise: 8 digits to
// 4 two-digit numbers, to 2 four-digit ones, to one.
func swar8(x uint64) (uint64, int) {
	sub := x - 0x3030303030303030
	flags := (sub | (x + 0x4646464646464646)) & 0x8080808080808080
	n := bits.TrailingZeros64(flags) >> 3
	v := sub << (64 - 8*uint(n)) // n = 0: a shift by 64, which gives 0
	v = (v*10 + v>>8) & 0x00FF00FF00FF00FF
	v = (v*100 + v>>16) & 0x0000FFFF0000FFFF
	v = (v*10000 + v>>32) & 0xFFFFFFFF
	return v, n
}

// split cuts line into p.fields[:n], at most lay.need fields (the rest of
// the line is ignored). A field that starts with a double quote runs to the
// matching quote, with "" standing for one quote (RFC 4180); quoted fields
// cannot span lines.
func (p *parser) split(line []byte) (int, string) {
	sep := p.lay.sep
	s0 := sep[0]
	need := p.lay.need
	n, i := 0, 0
	p.scratch = p.scratch[:0]
	for n < need {
		if i < len(line) && line[i] == '"' {
			f, next, msg := p.quoted(line, i)
			if msg != "" {
				return n, msg
			}
			p.fields[n] = f
			n++
			if next >= len(line) {
				return n, ""
			}
			i = next + len(sep)
			continue
		}
		j := i
		if len(sep) == 1 {
			for j < len(line) && line[j] != s0 {
				j++
			}
		} else {
			for j < len(line) && !(line[j] == s0 && bytes.HasPrefix(line[j:], sep)) {
				j++
			}
		}
		p.fields[n] = line[i:j]
		n++
		if j >= len(line) {
			break
		}
		i = j + len(sep)
	}
	return n, ""
}

// quoted reads the quoted field starting at line[i] == '"' and returns it
// unquoted and the index just after it (a separator or the end of line).
func (p *parser) quoted(line []byte, i int) ([]byte, int, string) {
	sep := p.lay.sep
	start := len(p.scratch)
	j := i + 1
	for {
		k := bytes.IndexByte(line[j:], '"')
		if k < 0 {
			return nil, 0, "unterminated quoted field (a quoted field cannot span lines)"
		}
		p.scratch = append(p.scratch, line[j:j+k]...)
		j += k + 1
		if j < len(line) && line[j] == '"' {
			p.scratch = append(p.scratch, '"')
			j++
			continue
		}
		break
	}
	if j < len(line) && !bytes.HasPrefix(line[j:], sep) {
		return nil, 0, fmt.Sprintf("unexpected %q after a closing quote", line[j])
	}
	// scratch may move when it grows; fields cut from it earlier keep the
	// old backing array, which stays valid.
	return p.scratch[start:len(p.scratch):len(p.scratch)], j, ""
}

// id returns the raw id of field f: its value when f is a canonical
// decimal, else a reference into c's string table.
func (p *parser) id(f []byte, role string, c *chunk) (uint64, string) {
	if len(f) == 0 {
		return 0, "empty " + role + " id"
	}
	if v, ok := canonicalDecimal(f); ok {
		return v, ""
	}
	if k, ok := c.strIdx[string(f)]; ok {
		return strBit | uint64(k), ""
	}
	s := string(f)
	k := uint32(len(c.strs))
	c.strs = append(c.strs, s)
	c.strIdx[s] = k
	return strBit | uint64(k), ""
}

// canonicalDecimal parses b when it is the canonical decimal form of a
// number below 10^18: digits only, no sign, no leading zero (except "0").
// Only such ids take the integer path, so "007" and "7" stay distinct ids.
func canonicalDecimal(b []byte) (uint64, bool) {
	n := len(b)
	if n == 0 || n > 18 {
		return 0, false
	}
	if b[0] == '0' {
		return 0, n == 1
	}
	var v uint64
	for _, ch := range b {
		d := ch - '0'
		if d > 9 {
			return 0, false
		}
		v = v*10 + uint64(d)
	}
	return v, true
}

// formatDecimal is the inverse of canonicalDecimal.
func formatDecimal(v uint64) string { return strconv.FormatUint(v, 10) }

var pow10f32 = [...]float32{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7}

// parseRating parses a finite rating. Short decimals ([-]d+[.d+] with at
// most 7 digits) are exact: the mantissa (< 2^24) and the power of ten are
// both exact float32 values, so one IEEE division rounds correctly, as
// strconv.ParseFloat(s, 32) would. Anything else goes to strconv.
func parseRating(b []byte) (float32, string) {
	i, neg := 0, false
	if len(b) > 0 && b[0] == '-' {
		neg, i = true, 1
	}
	var m uint32
	digits, frac, dot := 0, 0, false
	for ; i < len(b); i++ {
		ch := b[i]
		if ch == '.' && !dot {
			dot = true
			continue
		}
		d := ch - '0'
		if d > 9 {
			digits = -1
			break
		}
		m = m*10 + uint32(d)
		digits++
		if dot {
			frac++
		}
		if digits > 7 {
			break
		}
	}
	if digits > 0 && digits <= 7 && i == len(b) && (!dot || frac > 0) && b[len(b)-1] != '.' && !(dot && frac == digits) {
		v := float32(m) / pow10f32[frac]
		if neg {
			v = -v
		}
		return v, ""
	}
	if t := bytes.TrimSpace(b); len(t) != len(b) && len(t) > 0 {
		return parseRating(t)
	}
	v, err := strconv.ParseFloat(string(b), 32)
	switch {
	case math.IsNaN(v) || (err == nil && math.IsInf(v, 0)):
		return 0, fmt.Sprintf("rating %q is not finite", clip(b))
	case err != nil && math.IsInf(v, 0):
		return 0, fmt.Sprintf("rating %q is out of range", clip(b))
	case err != nil:
		return 0, fmt.Sprintf("rating %q is not a number", clip(b))
	}
	return float32(v), ""
}

// parseInt parses [-]digits (at most 18, spaces around allowed) as an
// int64.
func parseInt(b []byte) (int64, bool) {
	if v, ok := parseInt1(b); ok {
		return v, true
	}
	if t := bytes.TrimSpace(b); len(t) != len(b) {
		return parseInt1(t)
	}
	return 0, false
}

func parseInt1(b []byte) (int64, bool) {
	i, neg := 0, false
	if len(b) > 0 && b[0] == '-' {
		neg, i = true, 1
	}
	if len(b)-i == 0 || len(b)-i > 18 {
		return 0, false
	}
	var v int64
	for ; i < len(b); i++ {
		d := b[i] - '0'
		if d > 9 {
			return 0, false
		}
		v = v*10 + int64(d)
	}
	if neg {
		v = -v
	}
	return v, true
}

// clip shortens b for error messages.
func clip(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "..."
	}
	return string(b)
}
