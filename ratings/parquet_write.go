package ratings

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"math/bits"
	"runtime"
	"sync"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/apache/arrow-go/v18/parquet/schema"
)

// The page bodies of the files WriteParquet writes are encoded here, and
// everything around them by arrow-go: page headers and column chunk
// metadata (file.NewPageWriter), row group and file metadata
// (metadata.FileMetaDataBuilder), and the footer. Why hand-written: the
// page bodies are the hot loop of `recs ingest`. pqarrow's column writers
// put each dictionary index through a call of its RLE encoder and each
// literal through a bit writer, re-insert every row group's dictionaries
// into a hash table, and stop all columns at every row group; on the
// 25M-row ingest that was 0.7 s of CPU out of 3.8 (perf, Intel(R) Xeon(R)
// Processor, 2 cores). Here a page is packed eight values at a time
// (appendHybrid), and row groups are encoded by a pool of workers while
// the previous ones are written. The files read back the same through
// arrow-go and have the same schema, encodings and timestamp statistics as
// pqarrow's (TestWriteParquetMatchesPqarrow).

// pageRows is the rows of a data page: 1 MiB of int64 values, the page
// size pqarrow writes by default.
const pageRows = 1 << 17

// inFlight is how many row groups are encoded or written at a time.
const inFlight = 3

// nativeLittleEndian: plain Parquet values are little-endian, and on such
// machines the table's columns are their own plain encoding.
var nativeLittleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// WriteParquet writes t to w as Parquet: one flat schema of required (non-null) columns, in
// this order:
//
//	user       INT64, or BYTE_ARRAY (UTF8 string)
//	item       INT64, or BYTE_ARRAY (UTF8 string)
//	rating     FLOAT (float32)
//	timestamp  INT64 (Unix seconds; the column is absent when the table has no times)
//
// The user column is INT64 when every id of the user dictionary is a
// canonical decimal integer that fits int64 ("42", "-7"; not "007", "+7" or
// "1e3"), so that the file reads back with the same ids; otherwise it is a
// string column. The item column is chosen the same way, independently.
// Rows are written in table order, in row groups of ParquetRowGroupRows
// rows and data pages of up to 131,072 rows, Snappy-compressed. Ids and
// ratings are dictionary-encoded (RLE_DICTIONARY), a dictionary per row
// group in order of first use, unless a row group's dictionary would
// exceed 1 MiB (or its ratings take more than 4,096 values): that column
// chunk is then PLAIN. Only the timestamps carry min/max statistics, since
// ids and ratings span nearly their whole range in every row group and
// would never let a reader skip one. Only standard Parquet types are used
// and no Arrow schema is stored, so pandas.read_parquet and Spark's
// spark.read.parquet see int64 (or string), float32 and int64 columns.
//
// Only rows are stored, not the dictionaries: ids of the dictionary that no
// row uses (as in a split, which shares its parent's dictionaries) are not
// written, and ReadParquet builds dictionaries in order of first appearance.
//
// It does not close w. Cost: O(rows) time, on GOMAXPROCS goroutines;
// memory of a few row groups beyond the table.
func WriteParquet(w io.Writer, t *Table) error {
	e, err := newParquetEncoder(t)
	if err != nil {
		return fmt.Errorf("ratings: parquet: %w", err)
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	if err := e.write(&tellWriter{w: bw}); err != nil {
		return fmt.Errorf("ratings: parquet: %w", err)
	}
	return bw.Flush()
}

// parquetEncoder encodes the column chunks of one table.
type parquetEncoder struct {
	t         *Table
	sch       *schema.Schema
	props     *parquet.WriterProperties
	codec     compress.Codec
	ids       [2]idColumn // user, item
	dictLimit int
	// Per-call scratch, at most inFlight of each: a column's chunks are
	// encoded by at most inFlight workers at once.
	idChunkers     [2]chan *dictChunker
	ratingChunkers chan *ratingChunker
}

// idColumn is the user or item column of the table.
type idColumn struct {
	ids  []string // the dictionary
	ints []int64  // the dictionary as integers, or nil: strings
	rows []int32
}

func newParquetEncoder(t *Table) (*parquetEncoder, error) {
	userInts := canonicalInts(t.UserIDs)
	itemInts := canonicalInts(t.ItemIDs)
	fields := parquetFields(t, userInts, itemInts)
	props := parquetWriterProps()
	sch, err := pqarrow.ToParquet(arrow.NewSchema(fields, nil), props, pqarrow.DefaultWriterProps())
	if err != nil {
		return nil, err
	}
	codec, err := compress.GetCodec(props.Compression())
	if err != nil {
		return nil, err
	}
	e := &parquetEncoder{
		t: t, sch: sch, props: props, codec: codec,
		ids: [2]idColumn{
			{ids: t.UserIDs, ints: userInts, rows: t.Users},
			{ids: t.ItemIDs, ints: itemInts, rows: t.Items},
		},
		dictLimit:      int(props.DictionaryPageSizeLimit()),
		ratingChunkers: make(chan *ratingChunker, inFlight),
	}
	for c := range e.idChunkers {
		e.idChunkers[c] = make(chan *dictChunker, inFlight)
		for range inFlight {
			e.idChunkers[c] <- &dictChunker{}
		}
	}
	for range inFlight {
		e.ratingChunkers <- &ratingChunker{}
	}
	return e, nil
}

// encodedPage is a data page ready to write.
type encodedPage struct {
	data  []byte // the body, compressed
	size  int32  // the body's uncompressed size
	n     int32  // values
	stats metadata.EncodedStatistics
}

// encodedChunk is a column chunk ready to write. Its buffers are reused
// from one row group to the next.
type encodedChunk struct {
	hasDict  bool
	dict     []byte // PLAIN-encoded dictionary values
	dictN    int
	pages    []encodedPage
	stats    metadata.EncodedStatistics
	hasStats bool
	out      []byte // backing array of the compressed bodies
	body     []byte // an uncompressed body
}

// rowGroupJob is a row group on its way to the file.
type rowGroupJob struct {
	lo, hi int
	chunks []encodedChunk
	errs   []error
	wg     sync.WaitGroup
}

type chunkTask struct {
	job *rowGroupJob
	c   int
}

// write writes the file to sink: workers encode the column chunks of up to
// inFlight row groups while this goroutine writes them in order.
func (e *parquetEncoder) write(sink *tellWriter) error {
	ncols := e.sch.NumColumns()
	tasks := make(chan chunkTask, inFlight*ncols)
	var workers sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), inFlight*ncols) {
		workers.Go(func() {
			for tk := range tasks {
				j := tk.job
				j.errs[tk.c] = e.encode(tk.c, j.lo, j.hi, &j.chunks[tk.c])
				j.wg.Done()
			}
		})
	}
	defer workers.Wait()
	defer close(tasks)

	n := e.t.Len()
	groups := (n + rowGroupRows - 1) / rowGroupRows
	ring := make([]rowGroupJob, inFlight)
	start := func(g int) {
		j := &ring[g%inFlight]
		j.lo, j.hi = g*rowGroupRows, min((g+1)*rowGroupRows, n)
		if j.chunks == nil {
			j.chunks = make([]encodedChunk, ncols)
			j.errs = make([]error, ncols)
		}
		j.wg.Add(ncols)
		for c := range ncols {
			tasks <- chunkTask{j, c}
		}
	}
	for g := range min(groups, inFlight) {
		start(g)
	}

	if _, err := sink.Write([]byte("PAR1")); err != nil {
		return err
	}
	fmb := metadata.NewFileMetadataBuilder(e.sch, e.props, make(metadata.KeyValueMetadata, 0))
	for g := range groups {
		j := &ring[g%inFlight]
		j.wg.Wait()
		for _, err := range j.errs {
			if err != nil {
				return err
			}
		}
		if err := e.writeRowGroup(sink, fmb.AppendRowGroup(), g, j); err != nil {
			return err
		}
		if g+inFlight < groups {
			start(g + inFlight)
		}
	}
	fm, err := fmb.Finish()
	if err != nil {
		return err
	}
	size, err := fm.WriteTo(sink, nil)
	if err != nil {
		return err
	}
	_, err = sink.Write(binary.LittleEndian.AppendUint32(nil, uint32(size)))
	if err == nil {
		_, err = sink.Write([]byte("PAR1"))
	}
	return err
}

// writeRowGroup writes the encoded row group j, ordinal g, to sink.
func (e *parquetEncoder) writeRowGroup(sink *tellWriter, rgb *metadata.RowGroupMetaDataBuilder, g int, j *rowGroupJob) error {
	var total int64
	for c := range j.chunks {
		ch := &j.chunks[c]
		colMeta := rgb.NextColumnChunk()
		path := colMeta.Descr().Path()
		pager, err := file.NewPageWriter(sink, e.props.CompressionFor(path), e.props.CompressionLevelFor(path),
			colMeta, int16(g), int16(c), memory.DefaultAllocator, false, nil, nil)
		if err != nil {
			return err
		}
		if ch.hasDict {
			page := file.NewDictionaryPage(memory.NewBufferBytes(ch.dict), int32(ch.dictN), e.props.DictionaryPageEncoding())
			n, err := pager.WriteDictionaryPage(page)
			page.Release()
			if err != nil {
				return err
			}
			total += n
		}
		enc := parquet.Encodings.Plain
		if ch.hasDict {
			enc = e.props.DictionaryIndexEncoding()
		}
		var first int64 // the page's first row in the row group
		for _, p := range ch.pages {
			page := file.NewDataPageV1WithConfig(memory.NewBufferBytes(p.data), parquet.Encodings.RLE, parquet.Encodings.RLE,
				file.DataPageConfig{Num: p.n, Encoding: enc, UncompressedSize: p.size, Stats: p.stats, FirstRowIndex: first})
			n, err := pager.WriteDataPage(page)
			page.Release()
			if err != nil {
				return err
			}
			total += n
			first += int64(p.n)
		}
		if ch.hasStats {
			colMeta.SetStats(ch.stats)
		}
		if err := pager.Close(ch.hasDict, false); err != nil {
			return err
		}
	}
	rgb.SetNumRows(j.hi - j.lo)
	return rgb.Finish(total, int16(g))
}

// encode encodes rows [lo, hi) of column c into ch.
func (e *parquetEncoder) encode(c, lo, hi int, ch *encodedChunk) error {
	ch.hasDict, ch.dict, ch.dictN = false, ch.dict[:0], 0
	ch.pages, ch.out = ch.pages[:0], ch.out[:0]
	ch.stats, ch.hasStats = metadata.EncodedStatistics{}, false
	switch c {
	case colUser, colItem:
		e.encodeIDs(c, lo, hi, ch)
		return nil
	case colRating:
		e.encodeRatings(lo, hi, ch)
		return nil
	}
	return e.encodeTimes(lo, hi, ch)
}

// encodeIDs encodes an id column: its dictionary and indices, or PLAIN
// values when the dictionary would outgrow its page.
func (e *parquetEncoder) encodeIDs(c, lo, hi int, ch *encodedChunk) {
	col := &e.ids[c]
	rows := col.rows[lo:hi]
	ck := <-e.idChunkers[c]
	defer func() { e.idChunkers[c] <- ck }()
	used, idx := ck.chunk(rows, len(col.ids))
	size := 8 * len(used)
	if col.ints == nil {
		size = 0
		for _, d := range used {
			size += 4 + len(col.ids[d])
		}
	}
	if size > e.dictLimit {
		for p := 0; p < len(rows); p += pageRows {
			part := rows[p:min(p+pageRows, len(rows))]
			b := ch.body[:0]
			for _, d := range part {
				b = col.appendPlain(b, d)
			}
			ch.body = b
			e.addPage(ch, b, len(part), metadata.EncodedStatistics{})
		}
		return
	}
	ch.hasDict, ch.dictN = true, len(used)
	for _, d := range used {
		ch.dict = col.appendPlain(ch.dict, d)
	}
	e.addIndexPages(ch, idx, len(used))
}

// appendPlain appends the PLAIN encoding of id d to b.
func (col *idColumn) appendPlain(b []byte, d int32) []byte {
	if col.ints != nil {
		return binary.LittleEndian.AppendUint64(b, uint64(col.ints[d]))
	}
	s := col.ids[d]
	b = binary.LittleEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

// encodeRatings encodes the rating column: a dictionary and indices, or
// PLAIN float32 values beyond maxRatingDict distinct ratings.
func (e *parquetEncoder) encodeRatings(lo, hi int, ch *encodedChunk) {
	rs := e.t.Ratings[lo:hi]
	rc := <-e.ratingChunkers
	defer func() { e.ratingChunkers <- rc }()
	vals, idx, ok := rc.chunk(rs)
	if !ok || 4*len(vals) > e.dictLimit {
		for p := 0; p < len(rs); p += pageRows {
			part := rs[p:min(p+pageRows, len(rs))]
			e.addPage(ch, plainBytes(part, &ch.body), len(part), metadata.EncodedStatistics{})
		}
		return
	}
	ch.hasDict, ch.dictN = true, len(vals)
	for _, v := range vals {
		ch.dict = binary.LittleEndian.AppendUint32(ch.dict, math.Float32bits(v))
	}
	e.addIndexPages(ch, idx, len(vals))
}

// encodeTimes encodes the timestamp column: PLAIN int64 values, with
// min/max statistics for each page and the chunk, as pqarrow writes them.
func (e *parquetEncoder) encodeTimes(lo, hi int, ch *encodedChunk) error {
	ts := e.t.Times[lo:hi]
	descr := e.sch.Column(colTime)
	signed := descr.SortOrder() == schema.SortSIGNED
	chunk := metadata.NewInt64Statistics(descr, memory.DefaultAllocator)
	page := metadata.NewInt64Statistics(descr, memory.DefaultAllocator)
	for p := 0; p < len(ts); p += pageRows {
		part := ts[p:min(p+pageRows, len(ts))]
		page.Reset()
		page.Update(part, 0)
		st, err := page.Encode()
		if err != nil {
			return err
		}
		st.Signed = signed
		chunk.Merge(page)
		e.addPage(ch, plainBytes(part, &ch.body), len(part), st)
	}
	st, err := chunk.Encode()
	if err != nil {
		return err
	}
	st.Signed = signed
	ch.stats, ch.hasStats = st, st.IsSet()
	return nil
}

// plainBytes returns the PLAIN encoding of vals: on a little-endian
// machine their own memory, elsewhere a copy into *scratch.
func plainBytes[T float32 | int64](vals []T, scratch *[]byte) []byte {
	size := int(unsafe.Sizeof(*new(T)))
	if nativeLittleEndian {
		return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(vals))), len(vals)*size)
	}
	b := (*scratch)[:0]
	for _, v := range vals {
		switch v := any(v).(type) {
		case float32:
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
		case int64:
			b = binary.LittleEndian.AppendUint64(b, uint64(v))
		}
	}
	*scratch = b
	return b
}

// addIndexPages adds the data pages of dictionary indices idx into a
// dictionary of n entries: the bit width in a byte, then the indices in
// the RLE/bit-packing hybrid encoding.
func (e *parquetEncoder) addIndexPages(ch *encodedChunk, idx []int32, n int) {
	bw := 1
	if n > 1 {
		bw = bits.Len32(uint32(n - 1))
	}
	for p := 0; p < len(idx); p += pageRows {
		part := idx[p:min(p+pageRows, len(idx))]
		ch.body = appendHybrid(append(ch.body[:0], byte(bw)), part, bw)
		e.addPage(ch, ch.body, len(part), metadata.EncodedStatistics{})
	}
}

// addPage compresses body, a page of n values, into ch.out and adds it
// to ch's pages.
func (e *parquetEncoder) addPage(ch *encodedChunk, body []byte, n int, stats metadata.EncodedStatistics) {
	bound := int(e.codec.CompressBound(int64(len(body))))
	if cap(ch.out)-len(ch.out) < bound {
		// The pages compressed so far keep the old array.
		ch.out = make([]byte, 0, max(2*cap(ch.out), bound))
	}
	dst := ch.out[len(ch.out) : len(ch.out)+bound]
	data := e.codec.Encode(dst, body)
	if len(data) > 0 && &data[0] == &dst[0] {
		ch.out = ch.out[:len(ch.out)+len(data)]
	}
	ch.pages = append(ch.pages, encodedPage{data: data, size: int32(len(body)), n: int32(n), stats: stats})
}

// appendHybrid appends vals, each in [0, 1<<bw) with 1 <= bw <= 32, to
// dst in Parquet's RLE/bit-packing hybrid encoding, without a length
// prefix. Eight equal values at a multiple of eight from the start of the
// pending literals begin a run, which lasts as long as the value repeats;
// everything else is bit-packed, eight values to a group, the last group
// padded with zeros (readers stop at the page's value count). These are
// the runs arrow-go's RleEncoder finds.
func appendHybrid(dst []byte, vals []int32, bw int) []byte {
	lit, i, n := 0, 0, len(vals)
	for i+8 <= n {
		v := vals[i]
		g := vals[i : i+8 : i+8]
		if g[1] != v || g[2] != v || g[3] != v || g[4] != v || g[5] != v || g[6] != v || g[7] != v {
			i += 8
			continue
		}
		j := i + 8
		for j < n && vals[j] == v {
			j++
		}
		dst = appendBitPacked(dst, vals[lit:i], bw)
		dst = binary.AppendUvarint(dst, uint64(j-i)<<1)
		for k := 0; k < (bw+7)/8; k++ {
			dst = append(dst, byte(uint32(v)>>(8*k)))
		}
		i, lit = j, j
	}
	return appendBitPacked(dst, vals[lit:], bw)
}

// appendBitPacked appends vals as one bit-packed run of the hybrid
// encoding: its header, then the values bw bits each, least significant
// bit first, padded with zeros to a multiple of eight values.
func appendBitPacked(dst []byte, vals []int32, bw int) []byte {
	if len(vals) == 0 {
		return dst
	}
	groups := (len(vals) + 7) / 8
	dst = binary.AppendUvarint(dst, uint64(groups)<<1|1)
	need := groups * bw
	start := len(dst)
	if cap(dst)-start < need+8 {
		grown := make([]byte, start, 2*cap(dst)+need+8)
		copy(grown, dst)
		dst = grown
	}
	buf := dst[start : start+need+8]
	var acc uint64
	o, nb := 0, 0
	for _, v := range vals {
		u := uint64(uint32(v))
		acc |= u << nb
		nb += bw
		if nb >= 64 {
			binary.LittleEndian.PutUint64(buf[o:], acc)
			o += 8
			nb -= 64
			acc = u >> (bw - nb)
		}
	}
	clear(buf[o:])
	binary.LittleEndian.PutUint64(buf[o:], acc)
	return dst[:start+need]
}

// tellWriter is the file's sink: a writer that counts its bytes, for the
// offsets in the metadata.
type tellWriter struct {
	w io.Writer
	n int64
}

func (t *tellWriter) Write(p []byte) (int, error) {
	n, err := t.w.Write(p)
	t.n += int64(n)
	return n, err
}

func (t *tellWriter) Tell() int64 { return t.n }

// dictChunker turns a slice of dense indices into the dictionary of the
// ones it uses, in order of first use, and indices into that dictionary.
type dictChunker struct {
	local []int32 // dense index -> local index + 1; 0 = unused in this chunk
	used  []int32 // dense indices used in this chunk, in order
	idx   []int32 // local indices of the chunk's rows
}

// chunk returns the dense indices rows use, in order of first use, and
// each row's index into them; n is the size of the dense dictionary. Both
// slices are valid until the next call.
func (c *dictChunker) chunk(rows []int32, n int) (used, idx []int32) {
	if len(c.local) != n {
		c.local = make([]int32, n)
	}
	for _, d := range c.used {
		c.local[d] = 0
	}
	c.used = c.used[:0]
	if cap(c.idx) < len(rows) {
		c.idx = make([]int32, len(rows))
	}
	idx = c.idx[:len(rows)]
	for r, d := range rows {
		k := c.local[d]
		if k == 0 {
			c.used = append(c.used, d)
			k = int32(len(c.used))
			c.local[d] = k
		}
		idx[r] = k - 1
	}
	return c.used, idx
}

// maxRatingDict is the most distinct ratings a row group's rating column
// is dictionary-encoded with; with more, it is PLAIN.
const maxRatingDict = 1 << 12

// ratingChunker turns a row group's ratings into a dictionary (distinct
// values in order of first use, by bit pattern, so 0 and -0 differ) and
// indices into it. Ratings take few values (MovieLens: 10), so a small
// open-addressing table on the bits does it.
type ratingChunker struct {
	slots []ratingSlot // 2·maxRatingDict, by hash of the bits
	vals  []float32    // the distinct values, in order of first use
	idx   []int32
}

type ratingSlot struct {
	bits uint32
	k    int32 // local index + 1; 0 = empty
}

// chunk returns the distinct values of rs and each row's index into them,
// valid until the next call; ok is false when rs has more than
// maxRatingDict distinct values.
func (c *ratingChunker) chunk(rs []float32) (vals []float32, idx []int32, ok bool) {
	const bits = 13 // log2(2·maxRatingDict)
	if c.slots == nil {
		c.slots = make([]ratingSlot, 1<<bits)
	}
	clear(c.slots)
	c.vals = c.vals[:0]
	if cap(c.idx) < len(rs) {
		c.idx = make([]int32, len(rs))
	}
	idx = c.idx[:len(rs)]
	for r, v := range rs {
		b := math.Float32bits(v)
		h := (b * 0x9E3779B1) >> (32 - bits)
		for {
			sl := &c.slots[h]
			if sl.k != 0 && sl.bits == b {
				idx[r] = sl.k - 1
				break
			}
			if sl.k == 0 {
				if len(c.vals) == maxRatingDict {
					return nil, nil, false
				}
				c.vals = append(c.vals, v)
				*sl = ratingSlot{bits: b, k: int32(len(c.vals))}
				idx[r] = sl.k - 1
				break
			}
			h = (h + 1) & (1<<bits - 1)
		}
	}
	return c.vals, idx, true
}
