package toplist

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"

	"github.com/klauspost/compress/gzip"
)

// Writer writes lists to a stream in one format. Call Close to finish the
// stream (a Parquet footer, a gzip trailer); Close does not close the
// underlying io.Writer. A Writer is not safe for concurrent use.
type Writer struct {
	enc    encoder
	meta   Meta
	n      int64
	err    error // sticky
	closed bool
}

type encoder interface {
	write(l *List) error
	close() error
}

// NewWriter starts a stream of lists described by meta in format on w.
func NewWriter(w io.Writer, format Format, meta Meta) (*Writer, error) {
	if err := meta.Validate(); err != nil {
		return nil, fmt.Errorf("toplist: %v", err)
	}
	var enc encoder
	var err error
	switch format {
	case JSONL:
		enc, err = newJSONLEncoder(w, nil, meta)
	case JSONLGzip:
		zw, zerr := gzip.NewWriterLevel(w, gzip.DefaultCompression)
		if zerr != nil {
			return nil, zerr
		}
		enc, err = newJSONLEncoder(zw, zw, meta)
	case Parquet:
		enc, err = newParquetEncoder(w, meta)
	default:
		return nil, fmt.Errorf("toplist: unknown format %q", format)
	}
	if err != nil {
		return nil, err
	}
	return &Writer{enc: enc, meta: meta}, nil
}

// Write appends one list after checking it (List.Validate).
func (w *Writer) Write(l List) error {
	if w.closed {
		return errors.New("toplist: write after Close")
	}
	if w.err != nil {
		return w.err
	}
	if err := l.Validate(w.meta); err != nil {
		return fmt.Errorf("toplist: list %d: %w", w.n+1, err)
	}
	if err := w.enc.write(&l); err != nil {
		w.err = err
		return err
	}
	w.n++
	return nil
}

// Count returns the number of lists written so far.
func (w *Writer) Count() int64 { return w.n }

// Close finishes the stream. It is an error to Write afterwards; a second
// Close returns nil.
func (w *Writer) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	if w.err != nil {
		return w.err
	}
	return w.enc.close()
}

// jsonlEncoder writes JSON lines by hand: encoding/json through reflection
// costs several times more per list, and a nightly job writes millions.
type jsonlEncoder struct {
	bw  *bufio.Writer
	zw  io.Closer // gzip writer to close after flushing, or nil
	buf []byte
}

func newJSONLEncoder(w io.Writer, zw io.Closer, meta Meta) (*jsonlEncoder, error) {
	h, err := encodeHeader(meta)
	if err != nil {
		return nil, err
	}
	e := &jsonlEncoder{bw: bufio.NewWriterSize(w, 256<<10), zw: zw}
	e.bw.Write(h)
	e.bw.WriteByte('\n')
	return e, nil
}

func (e *jsonlEncoder) write(l *List) error {
	e.buf = AppendJSONLine(e.buf[:0], l)
	_, err := e.bw.Write(e.buf)
	return err
}

func (e *jsonlEncoder) close() error {
	if err := e.bw.Flush(); err != nil {
		return err
	}
	if e.zw != nil {
		return e.zw.Close()
	}
	return nil
}

// AppendJSONLine appends l as one JSON lines record, newline included:
// {"user":"u","items":[{"id":"i","score":s},...]}.
func AppendJSONLine(b []byte, l *List) []byte {
	b = append(b, `{"user":`...)
	b = AppendJSONString(b, l.User)
	b = append(b, `,"items":[`...)
	for i, it := range l.Items {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"id":`...)
		b = AppendJSONString(b, it.ID)
		b = append(b, `,"score":`...)
		b = AppendScore(b, it.Score)
		b = append(b, '}')
	}
	return append(b, "]}\n"...)
}

// AppendScore appends s as a JSON number with the fewest digits that read
// back to the same float32. s must be finite.
func AppendScore(b []byte, s float32) []byte {
	return strconv.AppendFloat(b, float64(s), 'g', -1, 32)
}

const hexDigits = "0123456789abcdef"

// AppendJSONString appends s as a JSON string literal: quotes, backslashes
// and control characters escaped, invalid UTF-8 replaced by U+FFFD (as
// encoding/json does).
func AppendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		// U+2028 and U+2029 are valid JSON but break JavaScript readers.
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
