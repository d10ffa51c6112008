package ingest

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"

	"github.com/recs-dev/recs/internal/errs"
)

// Magic numbers that tell containers apart.
var (
	magicGzip    = []byte{0x1f, 0x8b}
	magicZip     = []byte("PK\x03\x04")
	magicParquet = []byte("PAR1")
)

// ratingsMembers are the names of ratings files inside MovieLens archives,
// in order of preference.
var ratingsMembers = []string{"ratings.csv", "ratings.dat", "u.data"}

// source is one opened input.
type source struct {
	name    string    // for messages: the path, or "a.zip/member"
	r       io.Reader // decompressed text; nil for Parquet
	ds      *dataset  // Parquet part files to read instead of r
	size    int64     // bytes the progress total counts for this source
	text    int64     // expected text bytes (0: unknown), to size columns
	plain   bool      // a stream that is neither compressed nor an archive
	closers []io.Closer
}

func (s *source) close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i].Close()
	}
}

// counter receives the number of bytes read from disk or stdin.
type counter func(n int64)

// countReader reports bytes read to a counter.
type countReader struct {
	r   io.Reader
	add counter
}

func (c countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.add(int64(n))
	return n, err
}

type countReaderAt struct {
	r   io.ReaderAt
	add counter
}

func (c countReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.add(int64(n))
	return n, err
}

// openSource opens path ("-": stdin; a Blob Storage URL: that blob) and
// looks through gzip and zip containers. Bytes read from disk, stdin or
// the network are added to counter.
func openSource(ctx context.Context, p string, o *Options, add counter) (*source, error) {
	if p == "-" {
		stdin := o.Stdin
		if stdin == nil {
			stdin = os.Stdin
		}
		return openStream("-", stdin, add)
	}
	if IsBlobURL(p) {
		// A URL ending in '/' or with a glob is a dataset; otherwise it is
		// a blob, or else the prefix of a dataset's blobs.
		dataset := o.Blob.Container == "" && (strings.HasSuffix(stripQuery(p), "/") || hasGlobMeta(stripQuery(p)))
		var rc io.ReadCloser
		var size int64
		var name string
		var err error
		if !dataset {
			rc, size, name, err = OpenBlob(ctx, p, o.Blob)
			dataset = errors.Is(err, errNoBlob) && o.Blob.Container == ""
		}
		if dataset {
			ds, derr := openBlobDataset(ctx, p, o.Blob)
			switch {
			case derr != nil:
				return nil, derr
			case ds != nil:
				return &source{name: ds.name, ds: ds, size: ds.size}, nil
			case err == nil:
				err = errs.Inputf(stripQuery(p), 0, "no blobs under this prefix")
			}
		}
		if err != nil {
			return nil, err
		}
		s, err := openStream(name, rc, add)
		if err != nil {
			rc.Close()
			return nil, err
		}
		s.closers = append([]io.Closer{rc}, s.closers...)
		s.size = size
		if s.plain {
			s.text = size
		}
		return s, nil
	}
	ds, err := openLocalDataset(p)
	if err != nil {
		return nil, err
	}
	if ds != nil {
		return &source{name: p, ds: ds, size: ds.size}, nil
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, errs.Input(p, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, errs.Input(p, err)
	}
	if st.IsDir() {
		f.Close()
		return nil, errs.Input(p, errors.New("is a directory"))
	}
	var magic [4]byte
	n, _ := f.ReadAt(magic[:], 0)
	head := magic[:n]
	switch {
	case bytes.HasPrefix(head, magicParquet):
		ds := &dataset{name: p, fsys: fileFS{f}, where: func(string) string { return p },
			parts: []datasetPart{{rel: "file", size: st.Size()}}, size: st.Size()}
		return &source{name: p, ds: ds, size: st.Size(), closers: []io.Closer{f}}, nil
	case bytes.HasPrefix(head, magicZip):
		src, err := openZip(p, countReaderAt{f, add}, st.Size())
		if err != nil {
			f.Close()
			return nil, err
		}
		src.closers = append([]io.Closer{f}, src.closers...)
		return src, nil
	case bytes.HasPrefix(head, magicGzip):
		zr, err := gzip.NewReader(bufio.NewReaderSize(countReader{f, add}, 1<<20))
		if err != nil {
			f.Close()
			return nil, errs.Input(p, fmt.Errorf("gzip: %w", err))
		}
		return &source{name: p, r: zr, size: st.Size(), closers: []io.Closer{f, zr}}, nil
	}
	return &source{name: p, r: countReader{f, add}, size: st.Size(), text: st.Size(), closers: []io.Closer{f}}, nil
}

// openStream opens a non-seekable stream: gzip is decompressed on the fly,
// a zip archive is read into memory first.
func openStream(name string, r io.Reader, add counter) (*source, error) {
	br := bufio.NewReaderSize(countReader{r, add}, 1<<20)
	head, _ := br.Peek(4)
	switch {
	case bytes.HasPrefix(head, magicParquet):
		// Parquet is read from its end: the stream is read into memory.
		data, err := io.ReadAll(br)
		if err != nil {
			return nil, errs.Input(name, err)
		}
		r := bytes.NewReader(data)
		ds := &dataset{name: name, fsys: fileFS{readerFile{r}}, where: func(string) string { return name },
			parts: []datasetPart{{rel: "file", size: int64(len(data))}}, size: int64(len(data))}
		return &source{name: name, ds: ds}, nil
	case bytes.HasPrefix(head, magicZip):
		data, err := io.ReadAll(br)
		if err != nil {
			return nil, errs.Input(name, err)
		}
		return openZip(name, bytes.NewReader(data), int64(len(data)))
	case bytes.HasPrefix(head, magicGzip):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, errs.Input(name, fmt.Errorf("gzip: %w", err))
		}
		return &source{name: name, r: zr, closers: []io.Closer{zr}}, nil
	}
	return &source{name: name, r: br, plain: true}, nil
}

// openZip finds the ratings file inside a zip archive (by base name:
// ratings.csv, then ratings.dat, then u.data) and opens it. Reading the
// member to its end verifies its CRC-32.
func openZip(name string, ra io.ReaderAt, size int64) (*source, error) {
	zr, err := zip.NewReader(ra, size)
	if err != nil {
		return nil, errs.Input(name, fmt.Errorf("zip: %w", err))
	}
	zr.RegisterDecompressor(zip.Deflate, func(r io.Reader) io.ReadCloser { return flate.NewReader(r) })
	m := findRatingsMember(zr)
	if m == nil {
		return nil, errs.Input(name, fmt.Errorf("no ratings file (%s) in the archive", strings.Join(ratingsMembers, ", ")))
	}
	rc, err := m.Open()
	if err != nil {
		return nil, errs.Input(name+"/"+m.Name, fmt.Errorf("zip: %w", err))
	}
	return &source{name: name + "/" + m.Name, r: rc, size: int64(m.CompressedSize64),
		text: int64(m.UncompressedSize64), closers: []io.Closer{rc}}, nil
}

func findRatingsMember(zr *zip.Reader) *zip.File {
	for _, want := range ratingsMembers {
		var best *zip.File
		for _, f := range zr.File {
			if path.Base(f.Name) != want || strings.HasPrefix(path.Base(path.Dir(f.Name)), "__MACOSX") {
				continue
			}
			// Prefer the shallowest match (ml-25m/ratings.csv over a nested copy).
			if best == nil || strings.Count(f.Name, "/") < strings.Count(best.Name, "/") {
				best = f
			}
		}
		if best != nil {
			return best
		}
	}
	return nil
}

// fileFS is an fs.FS of one open file, named "file" (a single Parquet
// source read as a dataset of one part). Closing what Open returns does not
// close the file.
type fileFS struct{ f fs.File }

func (s fileFS) Open(name string) (fs.File, error) {
	if name != "file" {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return noClose{s.f}, nil
}

type noClose struct{ fs.File }

func (noClose) Close() error { return nil }

func (n noClose) ReadAt(p []byte, off int64) (int, error) { return n.File.(io.ReaderAt).ReadAt(p, off) }

func (n noClose) Seek(off int64, whence int) (int64, error) {
	return n.File.(io.Seeker).Seek(off, whence)
}

// readerFile is an fs.File over a *bytes.Reader.
type readerFile struct{ *bytes.Reader }

func (readerFile) Stat() (fs.FileInfo, error) { return nil, errors.New("no file information") }
func (readerFile) Close() error               { return nil }
