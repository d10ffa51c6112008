package toplist

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
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

// AppendScore appends f as encoding/json writes a float32: the shortest
// decimal that reads back to the same float32, in exponent form below 1e-6
// and from 1e21 up. f must be finite.
func AppendScore(dst []byte, f float32) []byte {
	abs := math.Abs(float64(f))
	format := byte('f')
	if abs != 0 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, float64(f), format, -1, 32)
	if format == 'e' {
		// e-09 → e-9, as encoding/json does.
		n := len(dst)
		if n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}

const hexDigits = "0123456789abcdef"

// AppendJSONString appends s as a JSON string literal, byte for byte as
// encoding/json.Marshal writes it (HTML-safe escaping of <, > and &,
// invalid UTF-8 as U+FFFD, U+2028 and U+2029 escaped), so responses built
// here and by encoding/json agree.
func AppendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
