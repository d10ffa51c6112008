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
	var sep string
	switch f {
	case FormatUData:
		sep = "\t"
	case FormatDat:
		sep = "::"
	case FormatCSV:
		sep = ","
	default:
		return fmt.Errorf("synth: WriteText: format %q is not a text format", f)
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	if f == FormatCSV {
		bw.WriteString("userId,movieId,rating,timestamp\n")
	}
	blocks := p.blocks()
	results := make([]chan []byte, len(blocks))
	for b := range results {
		results[b] = make(chan []byte, 1)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// A worker takes a slot before it claims the next block and the writer
	// frees it once the block is written: at most 2 blocks per worker are
	// in memory, and the lowest unwritten block always holds a slot, so the
	// writer never waits on a block that waits on it.
	nslots := 2 * p.c.Workers
	slots := make(chan struct{}, nslots)
	free := make(chan []byte, nslots)
	var mu sync.Mutex
	next := 0
	var wg sync.WaitGroup
	for range min(p.c.Workers, len(blocks)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g := newUserGen(p)
			var items []int32
			var rs []float32
			var ts []int64
			for {
				select {
				case slots <- struct{}{}:
				case <-ctx.Done():
					return
				}
				mu.Lock()
				b := next
				next++
				mu.Unlock()
				if b >= len(blocks) {
					<-slots
					return
				}
				lo, hi := blocks[b][0], blocks[b][1]
				n := int(p.offset[hi] - p.offset[lo])
				items, rs, ts = grow(items, n), grow(rs, n), grow(ts, n)
				var buf []byte
				select {
				case buf = <-free:
				default:
				}
				buf = buf[:0]
				for u := lo; u < hi; u++ {
					a, z := p.offset[u]-p.offset[lo], p.offset[u+1]-p.offset[lo]
					g.user(u, items[a:z], rs[a:z], ts[a:z])
					for k := a; k < z; k++ {
						buf = strconv.AppendInt(buf, int64(u+1), 10)
						buf = append(buf, sep...)
						buf = strconv.AppendInt(buf, int64(items[k]), 10)
						buf = append(buf, sep...)
						buf = appendRating(buf, rs[k], f == FormatCSV)
						buf = append(buf, sep...)
						buf = strconv.AppendInt(buf, ts[k], 10)
						buf = append(buf, '\n')
					}
				}
				results[b] <- buf
			}
		}()
	}
	for b := range blocks {
		var buf []byte
		select {
		case buf = <-results[b]:
		case <-ctx.Done():
			err = ctx.Err()
		}
		if err != nil {
			break
		}
		if _, err = bw.Write(buf); err != nil {
			break
		}
		select {
		case free <- buf:
		default:
		}
		<-slots
	}
	cancel()
	wg.Wait()
	if err != nil {
		return err
	}
	return bw.Flush()
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
