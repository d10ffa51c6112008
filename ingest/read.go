package ingest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sort"
	"sync"

	"github.com/recs-dev/recs/internal/errs"
	"github.com/recs-dev/recs/ratings"
)

// Chunking. A chunk is up to chunkSize bytes of whole lines (more when a
// single line is longer); lines longer than maxLine are an error. The
// first line (header or data) must fit in peekSize.
const (
	peekSize = 64 << 10
	maxLine  = 64 << 20
)

// chunkSize is a variable so that tests can cut small inputs into many
// chunks.
var chunkSize = 4 << 20

// Read reads the sources (paths; "-" is opts.Stdin; Blob Storage URLs,
// see IsBlobURL and Options.Blob) into one table, in order, and resolves
// duplicate (user, item) pairs. Errors about the data
// are *errdefs.InputError naming the file and line; nothing is returned but
// the error then.
//
// Each text source is cut into chunks of whole lines that GOMAXPROCS
// workers parse concurrently; one goroutine maps the ids of each chunk, in
// file order, to dense indices, so indices are in order of first
// appearance and the result does not depend on the number of workers.
// Cost: O(bytes) parsing, O(rows) id mapping and dedupe; memory: the
// table's columns (20 bytes a row with timestamps) plus, during dedupe, 4
// bytes a row when the rows are not grouped by user, plus a few chunks.
func Read(ctx context.Context, sources []string, opts Options) (*ratings.Table, *Report, error) {
	if len(sources) == 0 {
		return nil, nil, errors.New("ingest: no sources")
	}
	if _, err := ParseDedupe(string(opts.Dedupe)); err != nil {
		return nil, nil, fmt.Errorf("ingest: %w", err)
	}
	add := counter(func(int64) {})
	if opts.Progress != nil {
		add = opts.Progress.Add
	}
	srcs := make([]*source, 0, len(sources))
	defer func() {
		for _, s := range srcs {
			s.close()
		}
	}()
	var total int64
	for _, p := range sources {
		s, err := openSource(ctx, p, &opts, add)
		if err != nil {
			return nil, nil, err
		}
		srcs = append(srcs, s)
		total += s.size
	}
	if opts.Progress != nil && total > 0 {
		opts.Progress.SetTotal(total)
	}
	st := newState(&opts)
	for i, s := range srcs {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		var err error
		switch {
		case s.ds != nil && opts.Format != FormatAuto && opts.Format != FormatParquet:
			err = errs.Inputf(s.name, 0, "is a Parquet file, not %s", opts.Format)
		case s.ds == nil && opts.Format == FormatParquet:
			err = errs.Inputf(s.name, 0, "is not a Parquet file")
		case s.ds != nil:
			err = st.readDataset(ctx, s.ds, add)
		default:
			err = st.readText(ctx, s)
		}
		s.close()
		srcs[i] = &source{}
		if err != nil {
			return nil, nil, err
		}
	}
	return st.finish(ctx)
}

// ReadFrom reads one stream of text (plain, gzip or zip) named name in
// messages. It is Read for data that is not in a file.
func ReadFrom(ctx context.Context, name string, r io.Reader, opts Options) (*ratings.Table, *Report, error) {
	if _, err := ParseDedupe(string(opts.Dedupe)); err != nil {
		return nil, nil, fmt.Errorf("ingest: %w", err)
	}
	add := counter(func(int64) {})
	if opts.Progress != nil {
		add = opts.Progress.Add
	}
	s, err := openStream(name, r, add)
	if err != nil {
		return nil, nil, err
	}
	defer s.close()
	st := newState(&opts)
	switch {
	case s.ds != nil && opts.Format != FormatAuto && opts.Format != FormatParquet:
		err = errs.Inputf(name, 0, "is a Parquet file, not %s", opts.Format)
	case s.ds == nil && opts.Format == FormatParquet:
		err = errs.Inputf(name, 0, "is not a Parquet file")
	case s.ds != nil:
		err = st.readDataset(ctx, s.ds, add)
	default:
		err = st.readText(ctx, s)
	}
	if err != nil {
		return nil, nil, err
	}
	return st.finish(ctx)
}

// state accumulates the table over the sources of one Read.
type state struct {
	opts           *Options
	users, items   *interner
	u, i           []int32
	ratings        []float32
	times          []int64
	timesKnown     bool // whether the first source decided hasTime
	hasTime        bool
	firstTimeSrc   string
	segs           []segment
	names          []string
	report         Report
	uTrans, iTrans []int32
}

// segment maps rows back to lines for messages: rows from row on came from
// source src starting at line, skipping the line offsets in nonRows.
type segment struct {
	row     int64
	src     int
	line    int64
	nonRows []int32
}

func newState(o *Options) *state {
	if o.Dedupe == "" {
		o.Dedupe = DedupeLast
	}
	return &state{opts: o, users: newInterner(), items: newInterner()}
}

func (st *state) workers() int {
	if st.opts.Workers > 0 {
		return st.opts.Workers
	}
	return runtime.GOMAXPROCS(0)
}

// setTimes checks that every source agrees on having timestamps.
func (st *state) setTimes(name string, has bool) error {
	if !st.timesKnown {
		st.timesKnown, st.hasTime, st.firstTimeSrc = true, has, name
		return nil
	}
	if has != st.hasTime {
		what := map[bool]string{true: "has timestamps", false: "has no timestamps"}
		return errs.Inputf(name, 0, "%s but %s %s; ingest them separately or map --time-col the same way",
			what[has], st.firstTimeSrc, what[st.hasTime])
	}
	return nil
}

// readText runs the chunked, parallel parse of one text source.
func (st *state) readText(ctx context.Context, s *source) error {
	br := bufio.NewReaderSize(s.r, peekSize)
	srcIdx := len(st.names)
	st.names = append(st.names, s.name)
	rep := SourceReport{Name: s.name}

	first, line, err := firstLine(br, s.name)
	if err != nil {
		return err
	}
	lay, err := detectLayout(first, s.name, st.opts)
	if err != nil {
		if !errs.IsInput(err) {
			err = errs.Input(s.name, err)
		}
		return err
	}
	rep.Format, rep.Sep, rep.Header = lay.format, string(lay.sep), lay.header
	if err := st.setTimes(s.name, lay.hasTime()); err != nil {
		return err
	}
	if lay.header {
		if _, err := br.ReadSlice('\n'); err != nil && err != io.EOF {
			return errs.Input(s.name, fmt.Errorf("reading: %w", err))
		}
		line++
	}

	rowsBefore := int64(len(st.u))
	skippedBefore := st.report.Skipped
	if err := st.parseText(ctx, s, br, lay, line, srcIdx); err != nil {
		return err
	}
	rep.Rows = int64(len(st.u)) - rowsBefore
	rep.Skipped = st.report.Skipped - skippedBefore
	if rep.Rows == 0 {
		if lay.header {
			return errs.Inputf(s.name, 0, "no ratings after the header line")
		}
		return errs.Inputf(s.name, 0, "no ratings")
	}
	st.report.Sources = append(st.report.Sources, rep)
	return nil
}

// firstLine skips a byte-order mark and leading blank lines of br and
// returns the first line that is not blank (without its line end, valid
// until br is read further), and its 1-based number.
func firstLine(br *bufio.Reader, name string) ([]byte, int64, error) {
	line := int64(1)
	if b, _ := br.Peek(3); bytes.Equal(b, []byte{0xEF, 0xBB, 0xBF}) {
		br.Discard(3)
	}
	for {
		b, err := br.Peek(peekSize)
		if len(b) == 0 {
			if err != nil && err != io.EOF {
				return nil, line, errs.Input(name, fmt.Errorf("reading: %w", err))
			}
			return nil, line, errs.Inputf(name, 0, "empty file: no ratings")
		}
		nl := bytes.IndexByte(b, '\n')
		if nl < 0 && len(b) == peekSize {
			return nil, line, errs.Inputf(name, line, "first line is longer than %d KiB", peekSize>>10)
		}
		l := b
		if nl >= 0 {
			l = b[:nl]
		}
		l = bytes.TrimSuffix(l, []byte("\r"))
		if len(l) > 0 {
			return l, line, nil
		}
		if nl < 0 {
			return nil, line, errs.Inputf(name, 0, "empty file: no ratings")
		}
		br.Discard(nl + 1)
		line++
	}
}

// parseText cuts the rest of br (from line line on) into chunks, parses
// them on st.workers() goroutines and merges them in order as rows of
// source srcIdx.
func (st *state) parseText(ctx context.Context, s *source, br *bufio.Reader, lay *layout, line int64, srcIdx int) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	nw := st.workers()
	nchunks := 2*nw + 2
	free := make(chan *chunk, nchunks)
	jobs := make(chan *chunk, nchunks)
	order := make(chan *chunk, nchunks)
	for range nchunks {
		free <- newChunk(chunkSize)
	}
	var wg sync.WaitGroup
	for range nw {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := newParser(lay, st.opts.SkipBad)
			for c := range jobs {
				if ctx.Err() == nil {
					p.parse(c)
				} else {
					c.reset()
				}
				c.done <- struct{}{}
			}
		}()
	}
	readErr := make(chan error, 1)
	go func() {
		defer close(jobs)
		defer close(order)
		readErr <- splitChunks(ctx, s.name, br, line, free, jobs, order)
	}()

	var err error
	estimated := false
	for c := range order {
		<-c.done
		if err == nil {
			if !estimated && s.text > 0 && len(c.users) > 0 {
				estimated = true
				st.reserve(s.text, len(c.data), len(c.users))
			}
			err = st.merge(c, srcIdx, lay.hasTime())
			if err != nil {
				cancel()
			}
		}
		free <- c
	}
	wg.Wait()
	if rerr := <-readErr; err == nil && rerr != nil {
		if errors.Is(rerr, context.Canceled) && ctx.Err() != nil {
			rerr = context.Cause(ctx)
		}
		err = rerr
		if !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) && !errs.IsInput(err) {
			err = errs.Input(s.name, fmt.Errorf("reading: %w", err))
		}
	}
	return err
}

// splitChunks cuts r into chunks of whole lines, numbering lines from line.
func splitChunks(ctx context.Context, name string, r io.Reader, line int64, free <-chan *chunk, jobs, order chan<- *chunk) error {
	var carry []byte
	eof := false
	for !eof {
		var c *chunk
		select {
		case c = <-free:
		case <-ctx.Done():
			return ctx.Err()
		}
		buf := append(c.buf[:0], carry...)
		cut := 0
		for {
			for len(buf) < cap(buf) && !eof {
				n, err := r.Read(buf[len(buf):cap(buf)])
				buf = buf[:len(buf)+n]
				if err == io.EOF {
					eof = true
				} else if err != nil {
					return err
				}
			}
			if eof {
				cut = len(buf)
				break
			}
			if k := bytes.LastIndexByte(buf, '\n'); k >= 0 {
				cut = k + 1
				break
			}
			if cap(buf) >= maxLine {
				return errs.Inputf(name, line, "line longer than %d MiB", maxLine>>20)
			}
			grown := make([]byte, len(buf), 2*cap(buf))
			copy(grown, buf)
			buf = grown
		}
		carry = append(carry[:0], buf[cut:]...)
		c.buf, c.data, c.firstLine = buf, buf[:cut], line
		if cut == 0 {
			c.reset()
			c.done <- struct{}{}
			order <- c // returned to free by the merger without rows
			continue
		}
		line += int64(bytes.Count(c.data, []byte{'\n'}))
		if c.data[cut-1] != '\n' {
			line++
		}
		jobs <- c
		order <- c
	}
	return nil
}

// reserve grows the columns for the rows a source of textBytes bytes is
// expected to hold, judged from its first chunk. Capacity that is never
// used costs address space, not memory: untouched pages stay unmapped.
func (st *state) reserve(textBytes int64, chunkBytes, chunkRows int) {
	est := int(float64(textBytes)/float64(chunkBytes)*float64(chunkRows)*1.1) + 1024
	n := len(st.u) + est
	if n <= cap(st.u) {
		return
	}
	st.u = grow(st.u, n)
	st.i = grow(st.i, n)
	st.ratings = grow(st.ratings, n)
	if st.hasTime {
		st.times = grow(st.times, n)
	}
}

func grow[T any](s []T, n int) []T {
	if n <= cap(s) {
		return s
	}
	out := make([]T, len(s), n)
	copy(out, s)
	return out
}

// merge appends a parsed chunk, in file order.
func (st *state) merge(c *chunk, src int, hasTime bool) error {
	name := st.names[src]
	for _, b := range c.bad {
		if !st.opts.SkipBad {
			return errs.Inputf(name, b.line, "%s", b.msg)
		}
		st.report.Skipped++
		if len(st.report.Reasons) < MaxReasons {
			st.report.Reasons = append(st.report.Reasons, fmt.Sprintf("%s:%d: %s", name, b.line, b.msg))
		}
		if st.opts.MaxBad > 0 && st.report.Skipped > st.opts.MaxBad {
			return errs.Inputf(name, b.line, "more than %d bad lines (--max-bad-lines); this one: %s", st.opts.MaxBad, b.msg)
		}
	}
	if len(c.users) == 0 {
		return nil
	}
	if int64(len(st.u))+int64(len(c.users)) > 1<<31-1 {
		return errs.Inputf(name, c.firstLine, "more than %d rows: a table holds at most that many", int64(1<<31-1))
	}
	seg := segment{row: int64(len(st.u)), src: src, line: c.firstLine}
	if len(c.nonRows) > 0 {
		seg.nonRows = append([]int32(nil), c.nonRows...)
	}
	st.segs = append(st.segs, seg)

	// Translate the chunk's string ids lazily: -1 = not yet looked up.
	st.uTrans = resetTrans(st.uTrans, len(c.strs))
	st.iTrans = resetTrans(st.iTrans, len(c.strs))
	st.u = mapIDs(st.u, c.users, st.users, c.strs, st.uTrans)
	st.i = mapIDs(st.i, c.items, st.items, c.strs, st.iTrans)
	st.ratings = append(st.ratings, c.ratings...)
	if hasTime {
		st.times = append(st.times, c.times...)
	}
	return nil
}

func resetTrans(t []int32, n int) []int32 {
	if cap(t) < n {
		t = make([]int32, n)
	}
	t = t[:n]
	for k := range t {
		t[k] = -1
	}
	return t
}

// mapIDs appends the dense indices of raw ids to dst.
func mapIDs(dst []int32, raw []uint64, in *interner, strs []string, trans []int32) []int32 {
	n := len(dst)
	dst = grow(dst, n+len(raw))[:n+len(raw)]
	out := dst[n:]
	dense := in.dense
	for k, v := range raw {
		if v < uint64(len(dense)) {
			if x := dense[v]; x != 0 {
				out[k] = x - 1
				continue
			}
		}
		if v&strBit == 0 {
			out[k] = in.numSlow(v)
			dense = in.dense
			continue
		}
		l := v &^ strBit
		if t := trans[l]; t >= 0 {
			out[k] = t
			continue
		}
		t := in.str(strs[l])
		trans[l] = t
		out[k] = t
	}
	return dst
}

// position returns the file and line of table row r (before dedupe).
func (st *state) position(r int64) (string, int64) {
	k := sort.Search(len(st.segs), func(k int) bool { return st.segs[k].row > r }) - 1
	seg := st.segs[k]
	off := r - seg.row
	for _, nr := range seg.nonRows {
		if int64(nr) <= off {
			off++
		} else {
			break
		}
	}
	return st.names[seg.src], seg.line + off
}

// finish dedupes and builds the table.
func (st *state) finish(ctx context.Context) (*ratings.Table, *Report, error) {
	st.report.RowsRead = int64(len(st.u))
	if !st.hasTime {
		st.times = nil
	}
	d := dedupeCols{users: st.u, items: st.i, ratings: st.ratings, times: st.times,
		nUsers: len(st.users.ids), nItems: len(st.items.ids)}
	res, err := d.run(ctx, st.opts.Dedupe, st.workers())
	if err != nil {
		return nil, nil, err
	}
	if res.dup != nil {
		f1, l1 := st.position(int64(res.dup[0]))
		f2, l2 := st.position(int64(res.dup[1]))
		u, i := st.users.ids[st.u[res.dup[1]]], st.items.ids[st.i[res.dup[1]]]
		where := fmt.Sprintf("line %d", l1)
		if f1 != f2 {
			where = fmt.Sprintf("%s:%d", f1, l1)
		}
		return nil, nil, errs.Inputf(f2, l2, "user %q rated item %q again (first at %s); choose --dedupe last, first or mean to keep one", u, i, where)
	}
	st.report.Duplicates = int64(res.removed)
	n := len(st.u) - res.removed
	var times []int64
	if st.times != nil {
		times = st.times[:n]
	}
	t, err := ratings.New(st.users.ids, st.items.ids, st.u[:n], st.i[:n], st.ratings[:n], times)
	if err != nil {
		return nil, nil, fmt.Errorf("ingest: %w", err)
	}
	st.report.Rows = int64(n)
	rep := st.report
	return t, &rep, nil
}
