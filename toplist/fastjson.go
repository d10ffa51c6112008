package toplist

import (
	"bytes"
	"strconv"
	"unicode/utf8"
)

// parseLineFast parses a list line in the exact shape AppendJSONLine
// writes, {"user":"…","items":[{"id":"…","score":N},…]}, with no
// whitespace and no escapes in strings. It reports ok = false for anything
// else (other spacing, field order, escapes, unknown fields, invalid
// UTF-8, a malformed number), and the caller then parses the line with
// encoding/json, which decides what is valid and words the errors. Both
// paths give the same List for every line the fast path accepts (see
// FuzzFastPath). The fast path is about ten times quicker.
func parseLineFast(b []byte, l *List) bool {
	if !utf8.Valid(b) {
		return false
	}
	rest, ok := cutPrefix(b, `{"user":`)
	if !ok {
		return false
	}
	var user string
	if user, rest, ok = plainString(rest); !ok {
		return false
	}
	if rest, ok = cutPrefix(rest, `,"items":[`); !ok {
		return false
	}
	items := make([]Item, 0, 10)
	if len(rest) > 0 && rest[0] == ']' {
		rest = rest[1:]
	} else {
		for {
			if rest, ok = cutPrefix(rest, `{"id":`); !ok {
				return false
			}
			var id string
			if id, rest, ok = plainString(rest); !ok {
				return false
			}
			if rest, ok = cutPrefix(rest, `,"score":`); !ok {
				return false
			}
			n := numberLen(rest)
			if n == 0 {
				return false
			}
			s, err := strconv.ParseFloat(string(rest[:n]), 32)
			if err != nil {
				// Out of float32 range: let the slow path word it.
				return false
			}
			items = append(items, Item{ID: id, Score: float32(s)})
			rest = rest[n:]
			if len(rest) == 0 || rest[0] != '}' {
				return false
			}
			rest = rest[1:]
			if len(rest) > 0 && rest[0] == ',' {
				rest = rest[1:]
				continue
			}
			if len(rest) > 0 && rest[0] == ']' {
				rest = rest[1:]
				break
			}
			return false
		}
	}
	if !bytes.Equal(rest, []byte("}")) {
		return false
	}
	l.User, l.Items = user, items
	return true
}

func cutPrefix(b []byte, p string) ([]byte, bool) {
	if len(b) < len(p) || string(b[:len(p)]) != p {
		return b, false
	}
	return b[len(p):], true
}

// plainString reads a JSON string without escapes or control characters.
func plainString(b []byte) (string, []byte, bool) {
	if len(b) == 0 || b[0] != '"' {
		return "", b, false
	}
	for i := 1; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			return string(b[1:i]), b[i+1:], true
		case c == '\\' || c < 0x20:
			return "", b, false
		}
	}
	return "", b, false
}

// numberLen returns the length of the JSON number at the start of b (RFC
// 8259: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?), or 0.
func numberLen(b []byte) int {
	i := 0
	digits := func() int {
		n := 0
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case digits() == 0:
		return 0
	}
	if i < len(b) && b[i] == '.' {
		i++
		if digits() == 0 {
			return 0
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			return 0
		}
	}
	return i
}
