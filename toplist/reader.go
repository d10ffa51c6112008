package toplist

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/apache/arrow-go/v18/parquet"
	"github.com/klauspost/compress/gzip"

	"github.com/recs-dev/recs/internal/errs"
)

// Reader reads lists one at a time, checking each (see the package
// documentation for the checks). It is not safe for concurrent use.
type Reader struct {
	name   string
	meta   Meta
	dec    decoder
	closer io.Closer // the file opened by Open, or nil
	seen   map[string]struct{}
	n      int64
	length int64
}

type decoder interface {
	next(l *List) error // io.EOF at the end
	where() (line, row int64)
	close() error
}

func errInput(name string, line int64, format string, args ...any) error {
	return errs.Inputf(name, line, format, args...)
}

// NewReader starts reading lists in format from r; name is used in errors
// (the file name as the user gave it). Parquet needs random access: if r is
// not an io.ReaderAt and io.Seeker (an *os.File is), it is read into memory
// first. Close the Reader when done; it does not close r.
func NewReader(r io.Reader, format Format, name string) (*Reader, error) {
	rd := &Reader{name: name, seen: make(map[string]struct{}), length: -1}
	switch format {
	case JSONL, JSONLGzip:
		var zr *gzip.Reader
		if format == JSONLGzip {
			var err error
			zr, err = gzip.NewReader(r)
			if err != nil {
				return nil, errInput(name, 0, "not a gzip file: %v", err)
			}
			r = zr
		}
		d := &jsonlDecoder{name: name, sc: bufio.NewScanner(r), zr: zr}
		d.sc.Buffer(make([]byte, 0, 256<<10), 64<<20)
		meta, err := d.header()
		if err != nil {
			return nil, err
		}
		rd.meta, rd.dec = meta, d
	case Parquet:
		ras, ok := r.(parquet.ReaderAtSeeker)
		if !ok {
			b, err := io.ReadAll(r)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			ras = bytes.NewReader(b)
		}
		d, meta, err := newParquetDecoder(ras, name)
		if err != nil {
			return nil, err
		}
		rd.meta, rd.dec, rd.length = meta, d, d.rows
	default:
		return nil, fmt.Errorf("toplist: unknown format %q", format)
	}
	return rd, nil
}

// Open opens the list file at path, in the format its extension names.
func Open(path string) (*Reader, error) {
	format, err := FormatOf(path)
	if err != nil {
		return nil, errs.Input(path, err)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	rd, err := NewReader(f, format, path)
	if err != nil {
		f.Close()
		return nil, err
	}
	rd.closer = f
	return rd, nil
}

// Meta returns the description from the file's header.
func (r *Reader) Meta() Meta { return r.meta }

// Len returns the number of lists in the file when the format records it
// (Parquet), else -1.
func (r *Reader) Len() int64 { return r.length }

// Count returns the number of lists returned so far.
func (r *Reader) Count() int64 { return r.n }

// Next returns the next list, or io.EOF after the last. Bad data yields an
// error naming the file and line (or row); the Reader is then unusable.
func (r *Reader) Next() (List, error) {
	var l List
	if err := r.dec.next(&l); err != nil {
		return List{}, err
	}
	line, row := r.dec.where()
	if err := l.Validate(r.meta); err != nil {
		return List{}, r.errAt(line, row, "%v", err)
	}
	if _, dup := r.seen[l.User]; dup {
		return List{}, r.errAt(line, row, "user %q appears twice", l.User)
	}
	r.seen[l.User] = struct{}{}
	r.n++
	return l, nil
}

func (r *Reader) errAt(line, row int64, format string, args ...any) error {
	if line > 0 {
		return errInput(r.name, line, format, args...)
	}
	return errInput(r.name, 0, "row %d: "+format, append([]any{row}, args...)...)
}

// Close releases the reader (and the file, if Open opened it).
func (r *Reader) Close() error {
	err := r.dec.close()
	if r.closer != nil {
		if cerr := r.closer.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

// ReadAll reads every remaining list.
func (r *Reader) ReadAll() ([]List, error) {
	var out []List
	if r.length > 0 {
		out = make([]List, 0, r.length)
	}
	for {
		l, err := r.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
}

type jsonlDecoder struct {
	name string
	sc   *bufio.Scanner
	zr   *gzip.Reader
	line int64
}

type jsonLine struct {
	User  *string `json:"user"`
	Items *[]struct {
		ID    *string  `json:"id"`
		Score *float64 `json:"score"`
	} `json:"items"`
}

func (d *jsonlDecoder) scan() ([]byte, error) {
	for d.sc.Scan() {
		d.line++
		b := bytes.TrimSpace(d.sc.Bytes())
		if len(b) > 0 {
			return b, nil
		}
	}
	if err := d.sc.Err(); err != nil {
		if err == bufio.ErrTooLong {
			return nil, errInput(d.name, d.line+1, "line longer than 64 MiB")
		}
		return nil, errInput(d.name, d.line+1, "%v", err)
	}
	return nil, io.EOF
}

func (d *jsonlDecoder) header() (Meta, error) {
	b, err := d.scan()
	if err == io.EOF {
		return Meta{}, errInput(d.name, 0, "empty file: no header line")
	}
	if err != nil {
		return Meta{}, err
	}
	m, err := decodeHeader(b)
	if err != nil {
		return Meta{}, errInput(d.name, d.line, "%v", err)
	}
	return m, nil
}

func (d *jsonlDecoder) next(l *List) error {
	b, err := d.scan()
	if err != nil {
		return err
	}
	if parseLineFast(b, l) {
		return nil
	}
	var jl jsonLine
	if err := json.Unmarshal(b, &jl); err != nil {
		return errInput(d.name, d.line, "not a JSON object: %v", err)
	}
	if jl.User == nil {
		return errInput(d.name, d.line, `no "user" field`)
	}
	if jl.Items == nil {
		return errInput(d.name, d.line, `no "items" field`)
	}
	l.User = *jl.User
	l.Items = make([]Item, len(*jl.Items))
	for i, it := range *jl.Items {
		if it.ID == nil || it.Score == nil {
			return errInput(d.name, d.line, `user %q: item %d lacks "id" or "score"`, l.User, i+1)
		}
		s := float32(*it.Score)
		if math.IsInf(float64(s), 0) {
			return errInput(d.name, d.line, "user %q: item %q: score %v is out of float32 range", l.User, *it.ID, *it.Score)
		}
		l.Items[i] = Item{ID: *it.ID, Score: s}
	}
	return nil
}

func (d *jsonlDecoder) where() (line, row int64) { return d.line, 0 }

func (d *jsonlDecoder) close() error {
	if d.zr != nil {
		return d.zr.Close()
	}
	return nil
}
