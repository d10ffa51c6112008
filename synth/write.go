package synth

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/recs-dev/recs/internal/atomicfile"
	"github.com/recs-dev/recs/ratings"
)

// Format is an output format.
type Format string

// Output formats, as read by package ingest.
const (
	FormatUData   Format = "udata"   // MovieLens 100k u.data: user \t item \t rating \t timestamp
	FormatDat     Format = "dat"     // MovieLens 1M/10M ratings.dat: user::item::rating::timestamp
	FormatCSV     Format = "csv"     // MovieLens 20M+ ratings.csv with header userId,movieId,rating,timestamp
	FormatParquet Format = "parquet" // ratings.WriteFile's layout
)

// ParseFormat returns the format named s.
func ParseFormat(s string) (Format, error) {
	switch s {
	case "udata", "u.data", "tsv":
		return FormatUData, nil
	case "dat", "ratings.dat":
		return FormatDat, nil
	case "csv":
		return FormatCSV, nil
	case "parquet":
		return FormatParquet, nil
	}
	return "", fmt.Errorf("unknown format %q (want udata, dat, csv or parquet)", s)
}

// FormatForPath picks the format from a file name: .parquet, .dat, .csv,
// u.data / .data / .tsv; anything else (and "-") is CSV. A trailing .gz
// is not supported and is an error.
func FormatForPath(path string) (Format, error) {
	base := strings.ToLower(filepath.Base(path))
	switch {
	case strings.HasSuffix(base, ".gz"):
		return "", fmt.Errorf("%s: compressed output is not supported; pipe '-o -' through gzip", path)
	case strings.HasSuffix(base, ".parquet"):
		return FormatParquet, nil
	case strings.HasSuffix(base, ".dat"):
		return FormatDat, nil
	case strings.HasSuffix(base, ".data"), strings.HasSuffix(base, ".tsv"):
		return FormatUData, nil
	}
	return FormatCSV, nil
}

// blockRatings is about how many ratings one work unit generates (a
// variable so that tests can cut small sets into many blocks).
var blockRatings int64 = 1 << 18

// blocks cuts the users into ranges of about blockRatings ratings.
func (p *plan) blocks() [][2]int {
	var out [][2]int
	lo := 0
	for u := 0; u < p.c.Users; u++ {
		if p.offset[u+1]-p.offset[lo] >= blockRatings || u == p.c.Users-1 {
			out = append(out, [2]int{lo, u + 1})
			lo = u + 1
		}
	}
	return out
}

// Generate returns the data set of c as a table whose dictionaries are in
// order of first appearance (as package ingest would build from the text).
// Memory: 20 bytes a rating.
func Generate(ctx context.Context, c Config) (*ratings.Table, error) {
	p, err := newPlan(c)
	if err != nil {
		return nil, err
	}
	n := p.offset[p.c.Users]
	users := make([]int32, n)
	items := make([]int32, n)
	rs := make([]float32, n)
	ts := make([]int64, n)
	blocks := p.blocks()
	err = p.parallel(ctx, len(blocks), func(g *userGen, b int) error {
		for u := blocks[b][0]; u < blocks[b][1]; u++ {
			lo, hi := p.offset[u], p.offset[u+1]
			g.user(u, items[lo:hi], rs[lo:hi], ts[lo:hi])
			for k := lo; k < hi; k++ {
				users[k] = int32(u)
				items[k]-- // ids 1..I to indices of the id-ordered dictionary
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	uids := make([]string, p.c.Users)
	for u := range uids {
		uids[u] = strconv.Itoa(u + 1)
	}
	// Users appear in index order already; renumber items, in place, in
	// order of first appearance.
	remap := make([]int32, p.c.Items)
	for i := range remap {
		remap[i] = -1
	}
	iids := make([]string, 0, p.c.Items)
	for k, v := range items {
		if remap[v] < 0 {
			remap[v] = int32(len(iids))
			iids = append(iids, strconv.Itoa(int(v)+1))
		}
		items[k] = remap[v]
	}
	t, err := ratings.New(uids, iids, users, items, rs, ts)
	if err != nil {
		return nil, fmt.Errorf("synth: %w", err)
	}
	return t, nil
}

// parallel runs fn on blocks 0..n-1 with the plan's workers, each with its
// own generator, and returns the first error.
func (p *plan) parallel(ctx context.Context, n int, fn func(g *userGen, b int) error) error {
	var mu sync.Mutex
	next := 0
	var firstErr error
	var wg sync.WaitGroup
	for range min(p.c.Workers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g := newUserGen(p)
			for {
				mu.Lock()
				b := next
				next++
				stop := firstErr != nil
				mu.Unlock()
				if b >= n || stop {
					return
				}
				err := ctx.Err()
				if err == nil {
					err = fn(g, b)
				}
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	return firstErr
}

// WriteText writes the data set of c to w as text in format f (not
// Parquet), block by block: memory stays a few blocks whatever the size.
func WriteText(ctx context.Context, w io.Writer, c Config, f Format) error {
	p, err := newPlan(c)
	if err != nil {
		return err
	}
	sep, err := textSeparator(f)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	if f == FormatCSV {
		bw.WriteString("userId,movieId,rating,timestamp\n")
	}
	if err := p.writeBlocks(ctx, bw, sep, f == FormatCSV); err != nil {
		return err
	}
	return bw.Flush()
}

// textSeparator returns the field separator of text format f.
func textSeparator(f Format) (string, error) {
	switch f {
	case FormatUData:
		return "\t", nil
	case FormatDat:
		return "::", nil
	case FormatCSV:
		return ",", nil
	}
	return "", fmt.Errorf("synth: WriteText: format %q is not a text format", f)
}

// textBlocks hands the blocks of a plan to the workers that format them and
// their text, in block order, to the writer.
//
// A worker takes a slot before it claims the next block and the writer
// frees it once the block is written: at most 2 blocks per worker are in
// memory, and the lowest unwritten block always holds a slot, so the writer
// never waits on a block that waits on it.
type textBlocks struct {
	blocks  [][2]int
	results []chan []byte // the text of each block, once formatted
	slots   chan struct{}
	free    chan []byte // written buffers for reuse

	mu   sync.Mutex
	next int // the next block to claim
}

// writeBlocks formats the plan's rows with p.c.Workers goroutines and
// writes them to w in order; see appendLines for sep and decimal.
func (p *plan) writeBlocks(ctx context.Context, w io.Writer, sep string, decimal bool) error {
	blocks := p.blocks()
	q := &textBlocks{blocks: blocks, results: make([]chan []byte, len(blocks))}
	for b := range q.results {
		q.results[b] = make(chan []byte, 1)
	}
	nslots := 2 * p.c.Workers
	q.slots = make(chan struct{}, nslots)
	q.free = make(chan []byte, nslots)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for range min(p.c.Workers, len(blocks)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			q.format(ctx, &textLines{g: newUserGen(p), sep: sep, decimal: decimal})
		}()
	}
	err := q.write(ctx, w)
	cancel()
	wg.Wait()
	return err
}

// format is one worker: it formats blocks with t until none is left or ctx
// is done.
func (q *textBlocks) format(ctx context.Context, t *textLines) {
	for {
		select {
		case q.slots <- struct{}{}:
		case <-ctx.Done():
			return
		}
		q.mu.Lock()
		b := q.next
		q.next++
		q.mu.Unlock()
		if b >= len(q.blocks) {
			<-q.slots
			return
		}
		var buf []byte
		select {
		case buf = <-q.free:
		default:
		}
		q.results[b] <- t.appendLines(buf[:0], q.blocks[b][0], q.blocks[b][1])
	}
}

// write writes the blocks to w in order as they are formatted, and returns
// the first write error or ctx's.
func (q *textBlocks) write(ctx context.Context, w io.Writer) error {
	for b := range q.blocks {
		var buf []byte
		select {
		case buf = <-q.results[b]:
		case <-ctx.Done():
			return ctx.Err()
		}
		if _, err := w.Write(buf); err != nil {
			return err
		}
		select {
		case q.free <- buf:
		default:
		}
		<-q.slots
	}
	return nil
}

// textLines formats the rows of users; one per worker, with its scratch.
type textLines struct {
	g       *userGen
	sep     string // field separator
	decimal bool   // whole ratings as "4.0" rather than "4"
	items   []int32
	rs      []float32
	ts      []int64
}

// appendLines appends the rows of users lo..hi-1 to buf, one line each:
// user, item, rating and time separated by t.sep.
func (t *textLines) appendLines(buf []byte, lo, hi int) []byte {
	p, sep, decimal := t.g.p, t.sep, t.decimal
	n := int(p.offset[hi] - p.offset[lo])
	t.items, t.rs, t.ts = grow(t.items, n), grow(t.rs, n), grow(t.ts, n)
	items, rs, ts := t.items, t.rs, t.ts
	for u := lo; u < hi; u++ {
		a, z := p.offset[u]-p.offset[lo], p.offset[u+1]-p.offset[lo]
		t.g.user(u, items[a:z], rs[a:z], ts[a:z])
		for k := a; k < z; k++ {
			buf = strconv.AppendInt(buf, int64(u+1), 10)
			buf = append(buf, sep...)
			buf = strconv.AppendInt(buf, int64(items[k]), 10)
			buf = append(buf, sep...)
			buf = appendRating(buf, rs[k], decimal)
			buf = append(buf, sep...)
			buf = strconv.AppendInt(buf, ts[k], 10)
			buf = append(buf, '\n')
		}
	}
	return buf
}

func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// appendRating writes a rating on the 0.5 grid: "4" or "3.5", or with
// decimal "4.0" (MovieLens CSV style).
func appendRating(buf []byte, v float32, decimal bool) []byte {
	h := int(v * 2)
	buf = strconv.AppendInt(buf, int64(h/2), 10)
	switch {
	case h%2 != 0:
		buf = append(buf, ".5"...)
	case decimal:
		buf = append(buf, ".0"...)
	}
	return buf
}

// WriteFile writes the data set of c to path in format f, atomically: on
// any error nothing is left at path.
func WriteFile(ctx context.Context, path string, c Config, f Format) error {
	if f == FormatParquet {
		t, err := Generate(ctx, c)
		if err != nil {
			return err
		}
		return ratings.WriteFile(path, t)
	}
	return atomicfile.WriteFile(path, func(w io.Writer) error { return WriteText(ctx, w, c, f) })
}
