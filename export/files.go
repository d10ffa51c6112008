package export

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"sync"
	"time"

	"github.com/recs-dev/recs/toplist"
)

// DefaultFormats are the data files DirSink and BlobSink write when their
// Formats field is empty.
var DefaultFormats = []toplist.Format{toplist.JSONL, toplist.Parquet}

// writeBatch is the number of lists handed to the file encoders at once.
const writeBatch = 256

// dest is where one data file goes: a temporary file, a blob's staged
// blocks. Nothing is visible until commit.
type dest interface {
	io.Writer
	commit(ctx context.Context) error
	abort()
}

// hashWriter counts and hashes what passes through it.
type hashWriter struct {
	w     io.Writer
	h     hash.Hash
	n     int64
	bytes *Counters
}

func (hw *hashWriter) Write(p []byte) (int, error) {
	n, err := hw.w.Write(p)
	hw.h.Write(p[:n])
	hw.n += int64(n)
	hw.bytes.Bytes.Add(int64(n))
	return n, err
}

func checkFormats(formats []toplist.Format) ([]toplist.Format, error) {
	if len(formats) == 0 {
		return DefaultFormats, nil
	}
	seen := map[toplist.Format]bool{}
	for _, f := range formats {
		if _, err := toplist.ParseFormat(string(f)); err != nil {
			return nil, err
		}
		if seen[f] {
			return nil, fmt.Errorf("format %s named twice", f)
		}
		seen[f] = true
	}
	return formats, nil
}

// writeFiles streams src once into one file per format, named
// GEN/DataName(format) (or names(format), when names is not nil), through
// the dests open returns, and commits them all only after every list was
// written. It returns the manifest of the files, for generation gen.
func writeFiles(ctx context.Context, meta toplist.Meta, src ListSource, formats []toplist.Format, gen string,
	names func(toplist.Format) string, open func(name string, f toplist.Format) (dest, error), c *Counters) (*Manifest, error) {
	outs, err := openFiles(meta, formats, gen, names, open, c)
	if err != nil {
		return nil, err
	}
	defer func() {
		for _, o := range outs {
			o.d.abort()
		}
	}()
	m := &Manifest{Format: ManifestFormat, Version: 1, Model: meta.Model, K: meta.K, GeneratedAt: meta.GeneratedAt.UTC(), Generation: gen}
	if err := encodeFiles(ctx, outs, src, m, c); err != nil {
		return nil, err
	}
	if err := finishFiles(ctx, outs, m); err != nil {
		return nil, err
	}
	outs = nil
	m.PublishedAt = time.Now().UTC()
	return m, nil
}

// fileOut is one data file being written: its dest, and the hash and
// encoder in front of it.
type fileOut struct {
	name string
	f    toplist.Format
	d    dest
	hw   *hashWriter
	tw   *toplist.Writer
}

// openFiles opens a dest and an encoder for each format (see writeFiles
// for the names). On an error it aborts the dests already open.
func openFiles(meta toplist.Meta, formats []toplist.Format, gen string,
	names func(toplist.Format) string, open func(name string, f toplist.Format) (dest, error), c *Counters) (_ []*fileOut, err error) {
	outs := make([]*fileOut, 0, len(formats))
	defer func() {
		if err != nil {
			for _, o := range outs {
				o.d.abort()
			}
		}
	}()
	for _, f := range formats {
		name := gen + "/" + DataName(f)
		if names != nil {
			name = names(f)
		}
		d, err := open(name, f)
		if err != nil {
			return nil, err
		}
		o := &fileOut{name: name, f: f, d: d}
		outs = append(outs, o)
		o.hw = &hashWriter{w: d, h: sha256.New(), bytes: c}
		if o.tw, err = toplist.NewWriter(o.hw, f, meta); err != nil {
			return nil, err
		}
	}
	return outs, nil
}

// encodeFiles reads src on this goroutine and encodes each file on its own
// (JSON lines, gzip and Parquet encoders and their hashes run in
// parallel); batches of lists are shared read-only. It counts the users
// and items into m, and returns the first error of any of them.
func encodeFiles(ctx context.Context, outs []*fileOut, src ListSource, m *Manifest, c *Counters) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	chans := make([]chan []toplist.List, len(outs))
	var wg sync.WaitGroup
	for i, o := range outs {
		ch := make(chan []toplist.List, 4)
		chans[i] = ch
		wg.Add(1)
		go func() {
			defer wg.Done()
			o.encode(ctx, cancel, ch)
		}()
	}
	send := func(batch []toplist.List) {
		for _, ch := range chans {
			select {
			case ch <- batch:
			case <-ctx.Done():
			}
		}
	}
	if err := readBatches(ctx, src, m, c, send); err != nil {
		cancel(err)
	}
	for _, ch := range chans {
		close(ch)
	}
	wg.Wait()
	return context.Cause(ctx)
}

// encode writes the batches of ch to the file's encoder until ch is
// closed; after a failure (which cancels the run) it only drains.
func (o *fileOut) encode(ctx context.Context, cancel context.CancelCauseFunc, ch <-chan []toplist.List) {
	for batch := range ch {
		if ctx.Err() != nil {
			continue // drain
		}
		for _, l := range batch {
			if err := o.tw.Write(l); err != nil {
				cancel(fmt.Errorf("%s: %w", o.name, err))
				break
			}
		}
	}
}

// readBatches reads src to its end (or until ctx is done) and hands the
// lists to send writeBatch at a time, counting them into m and c.
func readBatches(ctx context.Context, src ListSource, m *Manifest, c *Counters, send func([]toplist.List)) error {
	batch := make([]toplist.List, 0, writeBatch)
	for {
		if ctx.Err() != nil {
			return nil
		}
		l, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		batch = append(batch, l)
		m.Users++
		m.Items += int64(len(l.Items))
		if len(batch) == writeBatch {
			send(batch)
			c.Documents.Add(int64(len(batch)))
			batch = make([]toplist.List, 0, writeBatch)
		}
	}
	if len(batch) > 0 {
		send(batch)
		c.Documents.Add(int64(len(batch)))
	}
	return nil
}

// finishFiles closes every encoder, then commits every dest and lists the
// file in m.
func finishFiles(ctx context.Context, outs []*fileOut, m *Manifest) error {
	for _, o := range outs {
		if err := o.tw.Close(); err != nil {
			return fmt.Errorf("%s: %w", o.name, err)
		}
	}
	for _, o := range outs {
		if err := o.d.commit(ctx); err != nil {
			return fmt.Errorf("%s: %w", o.name, err)
		}
		m.Files = append(m.Files, ManifestFile{Name: o.name, Format: o.f, Bytes: o.hw.n, SHA256: hex.EncodeToString(o.hw.h.Sum(nil))})
		crashPoint("committed " + o.name)
	}
	return nil
}
