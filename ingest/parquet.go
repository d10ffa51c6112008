package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"strconv"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/apache/arrow-go/v18/parquet/schema"

	"github.com/recs-dev/recs/internal/errs"
	"github.com/recs-dev/recs/ratings"
)

// parquetBatchRows is the number of rows decoded at a time from a part
// file: one chunk handed to the merger.
var parquetBatchRows = 1 << 18

// Parquet columns are found as text columns are: --user-col etc. name a
// column (or give its 0-based index among the file's top-level columns
// followed by the partition keys); empty, the well-known names of
// knownColumns. Values may be of Spark's usual types: ids int, long or
// string (also any other integer type, binary, or dictionary-encoded);
// ratings int, long, float, double (or a decimal string); timestamps int
// or long (Unix seconds), a Parquet TIMESTAMP (floored to seconds), or a
// decimal string. A partition column holds text, converted the same way.

// readDataset appends the rows of every part of ds, in order. Parts are
// decoded by up to st.workers() goroutines at once and merged in order, so
// the result does not depend on the number of workers.
func (st *state) readDataset(ctx context.Context, ds *dataset, add counter) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	rowsBefore := int64(len(st.u))
	skippedBefore := st.report.Skipped
	nw := min(st.workers(), len(ds.parts))
	outs := make([]chan *chunk, len(ds.parts))
	for k := range outs {
		outs[k] = make(chan *chunk, 4)
	}
	timeCol := make([]bool, len(ds.parts)) // whether part k has timestamps; set before its first chunk
	errsOf := make([]error, len(ds.parts))
	next := make(chan int)
	var wg sync.WaitGroup
	for range nw {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range next {
				errsOf[k] = st.readPart(ctx, ds, k, &timeCol[k], outs[k])
				close(outs[k])
			}
		}()
	}
	go func() {
		defer close(next)
		for k := range ds.parts {
			select {
			case next <- k:
			case <-ctx.Done():
				for ; k < len(ds.parts); k++ {
					close(outs[k])
				}
				return
			}
		}
	}()
	var err error
	for k := range ds.parts {
		name := ds.where(ds.parts[k].rel)
		src := len(st.names)
		st.names = append(st.names, name)
		first := true
		for c := range outs[k] {
			if err != nil {
				continue
			}
			if first {
				first = false
				err = st.setTimes(name, timeCol[k])
			}
			if err == nil {
				err = st.merge(c, src, timeCol[k])
			}
			if err != nil {
				cancel()
			}
		}
		if err == nil && errsOf[k] != nil {
			err = errsOf[k]
			cancel()
		}
		if err != nil {
			break
		}
		add(ds.parts[k].size)
	}
	if err != nil {
		// Drain so that the workers can finish.
		for k := range outs {
			for range outs[k] {
			}
		}
	}
	wg.Wait()
	if err != nil {
		if ctx.Err() != nil && errors.Is(err, context.Canceled) {
			err = context.Cause(ctx)
		}
		return err
	}
	rep := SourceReport{Name: ds.name, Format: FormatParquet, Rows: int64(len(st.u)) - rowsBefore,
		Skipped: st.report.Skipped - skippedBefore}
	if rep.Rows == 0 {
		return errs.Inputf(ds.name, 0, "no ratings in its %d part file(s)", len(ds.parts))
	}
	st.report.Sources = append(st.report.Sources, rep)
	return nil
}

// readPart decodes part k of ds into chunks sent to out, in row order.
// It sets *hasTime before sending the first chunk.
func (st *state) readPart(ctx context.Context, ds *dataset, k int, hasTime *bool, out chan<- *chunk) (err error) {
	part := ds.parts[k]
	name := ds.where(part.rel)
	defer func() {
		// The Parquet decoders may panic on corrupt input.
		if p := recover(); p != nil {
			err = errs.Inputf(name, 0, "corrupt Parquet file: %v", p)
		}
	}()
	f, err := ds.fsys.Open(part.rel)
	if err != nil {
		return partErr(name, err)
	}
	defer f.Close()
	pf, err := openParquetPart(name, f)
	if err != nil {
		return err
	}
	defer pf.Close()
	lay, err := st.layoutOf(name, pf.MetaData().Schema, ds.keys)
	if err != nil {
		return err
	}
	*hasTime = lay.pos[3] >= 0
	rr, err := lay.recordReader(ctx, name, pf)
	if err != nil {
		return err
	}
	defer rr.Release()
	return st.decodePart(ctx, name, rr, &lay, part.values, *hasTime, out)
}

// openParquetPart opens the Parquet reader of the part file f, named name
// in messages.
func openParquetPart(name string, f fs.File) (*file.Reader, error) {
	ra, ok := f.(parquet.ReaderAtSeeker)
	if !ok {
		b, err := io.ReadAll(f)
		if err != nil {
			return nil, partErr(name, err)
		}
		ra = bytes.NewReader(b)
	}
	var magic [4]byte
	if n, err := ra.ReadAt(magic[:], 0); err != nil && n < 4 || !bytes.Equal(magic[:], magicParquet) {
		if err != nil && errs.IsService(err) {
			return nil, partErr(name, err)
		}
		return nil, errs.Inputf(name, 0, "not a Parquet file (the parts of a directory must all be Parquet)")
	}
	pf, err := file.NewParquetReader(ra)
	if err != nil {
		if errs.IsService(err) {
			return nil, partErr(name, err)
		}
		return nil, errs.Inputf(name, 0, "not a readable Parquet file: %v", err)
	}
	return pf, nil
}

// partLayout says where the roles user, item, rating and time (in that
// order) of a part file find their values.
type partLayout struct {
	header []string // the file's top-level columns, then the partition keys
	leaves []int    // header position -> leaf column index, for the file's columns
	nFile  int      // how many of header are the file's
	pos    [4]int   // header position of each role, or -1 (no time)
	src    [4]int   // column of the decoded record of each role, or -1; set by recordReader
}

// layoutOf resolves the columns of the options against the file's
// top-level (non-nested) columns of sch followed by the partition keys.
func (st *state) layoutOf(name string, sch *schema.Schema, keys []string) (partLayout, error) {
	var lay partLayout
	for c := 0; c < sch.NumColumns(); c++ {
		col := sch.Column(c)
		if len(col.ColumnPath()) != 1 {
			continue // nested: not a ratings column
		}
		lay.header = append(lay.header, col.Name())
		lay.leaves = append(lay.leaves, c)
	}
	for _, key := range keys {
		for _, h := range lay.header[:len(lay.leaves)] {
			if h == key {
				return lay, errs.Inputf(name, 0, "column %q is also a partition key of the path", key)
			}
		}
	}
	lay.nFile = len(lay.header)
	lay.header = append(lay.header, keys...)
	o := st.opts
	for i, r := range []struct{ role, spec string }{{"user", o.UserCol}, {"item", o.ItemCol}, {"rating", o.RatingCol}, {"time", o.TimeCol}} {
		c, err := resolveColumn(r.role, r.spec, lay.header, true)
		if err != nil {
			return lay, errs.Input(name, err)
		}
		if c >= len(lay.header) {
			return lay, errs.Inputf(name, 0, "--%s-col %s: the file has %d columns (%d with partition keys)", r.role, r.spec, lay.nFile, len(lay.header))
		}
		lay.pos[i] = c
	}
	return lay, nil
}

// decoded returns the leaf columns to decode and, for each role, its
// column in the decoded records (-1: none, or a partition key).
func (lay *partLayout) decoded() (indices []int, src [4]int) {
	src = [4]int{-1, -1, -1, -1}
	for i, c := range lay.pos {
		if c < 0 || c >= lay.nFile {
			continue
		}
		found := -1
		for j, x := range indices {
			if x == lay.leaves[c] {
				found = j
			}
		}
		if found < 0 {
			found = len(indices)
			indices = append(indices, lay.leaves[c])
		}
		src[i] = found
	}
	return indices, src
}

// recordReader returns a reader of the file's columns the roles need, in
// batches of parquetBatchRows rows, and sets lay.src.
func (lay *partLayout) recordReader(ctx context.Context, name string, pf *file.Reader) (pqarrow.RecordReader, error) {
	var indices []int
	indices, lay.src = lay.decoded()
	if len(indices) == 0 {
		return nil, errs.Inputf(name, 0, "every column comes from the partition path; at least one must be in the file")
	}
	sch := pf.MetaData().Schema
	props := pqarrow.ArrowReadProperties{BatchSize: int64(parquetBatchRows)}
	for _, c := range indices {
		if sch.Column(c).PhysicalType() == parquet.Types.ByteArray {
			props.SetReadDict(c, true)
		}
	}
	fr, err := pqarrow.NewFileReader(pf, props, memory.DefaultAllocator)
	if err != nil {
		return nil, errs.Inputf(name, 0, "reading the Parquet schema: %v", err)
	}
	rr, err := fr.GetRecordReader(ctx, indices, nil)
	if err != nil {
		return nil, errs.Inputf(name, 0, "%v", err)
	}
	return rr, nil
}

// batchColumns returns, for each role, its column of rec or (for a
// partition key) its constant value from values.
func (lay *partLayout) batchColumns(name string, rec arrow.RecordBatch, values []string) (cols [4]arrow.Array, consts [4]string, err error) {
	roleNames := [4]string{"user", "item", "rating", "timestamp"}
	for i := range 4 {
		switch {
		case lay.pos[i] < 0:
		case lay.src[i] >= 0:
			cols[i] = rec.Column(lay.src[i])
		default:
			v := values[lay.pos[i]-lay.nFile]
			if v == hiveNull {
				return cols, consts, errs.Inputf(name, 0, "partition %s is null (%s): no %s", lay.header[lay.pos[i]], hiveNull, roleNames[i])
			}
			consts[i] = v
		}
	}
	return cols, consts, nil
}

// decodePart converts the batches of rr into chunks sent to out, in row
// order; values are the part's partition values.
func (st *state) decodePart(ctx context.Context, name string, rr pqarrow.RecordReader, lay *partLayout, values []string, hasTime bool, out chan<- *chunk) error {
	row := int64(1) // 1-based row of the part of the next batch
	for rr.Next() {
		rec := rr.RecordBatch()
		n := int(rec.NumRows())
		c := newChunk(0)
		c.firstLine = row
		cols, consts, err := lay.batchColumns(name, rec, values)
		if err != nil {
			return err
		}
		conv := partConv{c: c}
		for r := 0; r < n; r++ {
			if msg := conv.row(cols, consts, hasTime, r); msg != "" {
				col := lay.header[lay.pos[conv.role]]
				c.bad = append(c.bad, badLine{line: row + int64(r), msg: fmt.Sprintf("column %s: %s", col, msg)})
				c.nonRows = append(c.nonRows, int32(r))
				if !st.opts.SkipBad {
					break
				}
			}
		}
		row += int64(n)
		select {
		case out <- c:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if err := rr.Err(); err != nil && !errors.Is(err, io.EOF) {
		if errs.IsService(err) {
			return partErr(name, err)
		}
		return errs.Inputf(name, row, "unreadable Parquet data (truncated or corrupt?): %v", err)
	}
	return nil
}

func partErr(name string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	if errs.IsService(err) {
		return fmt.Errorf("%s: %w", name, err)
	}
	return errs.Input(name, err)
}

// partConv converts the values of one row into a chunk.
type partConv struct {
	c    *chunk
	role int // the role of the last problem
}

// row appends row r; it returns "" or what is wrong (and appends nothing).
func (pc *partConv) row(cols [4]arrow.Array, consts [4]string, hasTime bool, r int) string {
	c := pc.c
	var ids [2]uint64
	for i := range 2 {
		pc.role = i
		var msg string
		if cols[i] == nil {
			ids[i], msg = idOfText(consts[i], c)
		} else {
			ids[i], msg = idOf(cols[i], r, c)
		}
		if msg != "" {
			return msg
		}
	}
	pc.role = 2
	var rating float32
	var msg string
	if cols[2] == nil {
		rating, msg = parseRating([]byte(consts[2]))
	} else {
		rating, msg = ratingOf(cols[2], r)
	}
	if msg != "" {
		return msg
	}
	var ts int64
	if hasTime {
		pc.role = 3
		if cols[3] == nil {
			v, ok := parseInt([]byte(consts[3]))
			if !ok {
				return fmt.Sprintf("timestamp %q is not an integer (Unix seconds)", consts[3])
			}
			ts = v
		} else if ts, msg = timeOf(cols[3], r); msg != "" {
			return msg
		}
		c.times = append(c.times, ts)
	}
	c.users = append(c.users, ids[0])
	c.items = append(c.items, ids[1])
	c.ratings = append(c.ratings, rating)
	return ""
}

// idOfText returns the raw id of a textual id, as the text parser does.
func idOfText(s string, c *chunk) (uint64, string) {
	if s == "" {
		return 0, "empty id"
	}
	if v, ok := canonicalDecimal([]byte(s)); ok {
		return v, ""
	}
	if k, ok := c.strIdx[s]; ok {
		return strBit | uint64(k), ""
	}
	k := uint32(len(c.strs))
	c.strs = append(c.strs, s)
	c.strIdx[s] = k
	return strBit | uint64(k), ""
}

// idOfInt returns the raw id of an integer id: its value when it is below
// 10^18 and not negative, else its decimal text.
func idOfInt(v int64, c *chunk) (uint64, string) {
	if v >= 0 && v < 1e18 {
		return uint64(v), ""
	}
	return idOfText(strconv.FormatInt(v, 10), c)
}

func idOf(a arrow.Array, r int, c *chunk) (uint64, string) {
	if a.IsNull(r) {
		return 0, "null id"
	}
	switch a := a.(type) {
	case *array.Int32:
		return idOfInt(int64(a.Value(r)), c)
	case *array.Int64:
		return idOfInt(a.Value(r), c)
	case *array.Int16:
		return idOfInt(int64(a.Value(r)), c)
	case *array.Int8:
		return idOfInt(int64(a.Value(r)), c)
	case *array.Uint8:
		return idOfInt(int64(a.Value(r)), c)
	case *array.Uint16:
		return idOfInt(int64(a.Value(r)), c)
	case *array.Uint32:
		return idOfInt(int64(a.Value(r)), c)
	case *array.Uint64:
		if v := a.Value(r); v > math.MaxInt64 {
			return idOfText(strconv.FormatUint(v, 10), c)
		}
		return idOfInt(int64(a.Value(r)), c)
	case *array.String:
		return idOfText(a.Value(r), c)
	case *array.LargeString:
		return idOfText(a.Value(r), c)
	case *array.Binary:
		return idOfText(string(a.Value(r)), c)
	case *array.Dictionary:
		return idOf(a.Dictionary(), a.GetValueIndex(r), c)
	}
	return 0, fmt.Sprintf("ids of type %s are not supported (want integers or strings)", a.DataType())
}

func ratingOf(a arrow.Array, r int) (float32, string) {
	if a.IsNull(r) {
		return 0, "null rating"
	}
	var v float64
	switch a := a.(type) {
	case *array.Float32:
		v = float64(a.Value(r))
	case *array.Float64:
		v = a.Value(r)
	case *array.Int32:
		v = float64(a.Value(r))
	case *array.Int64:
		v = float64(a.Value(r))
	case *array.Int16:
		v = float64(a.Value(r))
	case *array.Int8:
		v = float64(a.Value(r))
	case *array.Uint8:
		v = float64(a.Value(r))
	case *array.String:
		return parseRating([]byte(a.Value(r)))
	case *array.Dictionary:
		return ratingOf(a.Dictionary(), a.GetValueIndex(r))
	default:
		return 0, fmt.Sprintf("ratings of type %s are not supported (want a number)", a.DataType())
	}
	f := float32(v)
	if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
		return 0, fmt.Sprintf("rating %v is not a finite float32", v)
	}
	return f, ""
}

func timeOf(a arrow.Array, r int) (int64, string) {
	if a.IsNull(r) {
		return 0, "null timestamp"
	}
	switch a := a.(type) {
	case *array.Int64:
		return a.Value(r), ""
	case *array.Int32:
		return int64(a.Value(r)), ""
	case *array.Uint32:
		return int64(a.Value(r)), ""
	case *array.Timestamp:
		return ratings.TimestampSeconds(a.Value(r), a.DataType().(*arrow.TimestampType).Unit), ""
	case *array.String:
		v, ok := parseInt([]byte(a.Value(r)))
		if !ok {
			return 0, fmt.Sprintf("timestamp %q is not an integer (Unix seconds)", a.Value(r))
		}
		return v, ""
	case *array.Dictionary:
		return timeOf(a.Dictionary(), a.GetValueIndex(r))
	}
	return 0, fmt.Sprintf("timestamps of type %s are not supported (want integer seconds or a timestamp)", a.DataType())
}
