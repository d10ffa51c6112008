package ratings

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// writeParquetPqarrow writes t as WriteParquet does, with the same schema
// and properties, but through pqarrow.FileWriter, which builds the
// dictionaries and encodes the pages itself. It is the reference of
// TestWriteParquetMatchesPqarrow (and was WriteParquet's implementation
// before the pages were encoded by hand).
func writeParquetPqarrow(w io.Writer, t *Table) error {
	userInts := canonicalInts(t.UserIDs)
	itemInts := canonicalInts(t.ItemIDs)
	schema := arrow.NewSchema(parquetFields(t, userInts, itemInts), nil)
	bw := bufio.NewWriterSize(w, 1<<20)
	fw, err := pqarrow.NewFileWriter(schema, struct{ io.Writer }{bw}, parquetWriterProps(), pqarrow.DefaultWriterProps())
	if err != nil {
		return err
	}
	ids := func(dict []string, ints []int64, rows []int32) arrow.Array {
		if ints != nil {
			vals := make([]int64, len(rows))
			for r, d := range rows {
				vals[r] = ints[d]
			}
			return array.NewInt64Data(array.NewData(arrow.PrimitiveTypes.Int64, len(vals),
				[]*memory.Buffer{nil, memory.NewBufferBytes(arrow.Int64Traits.CastToBytes(vals))}, nil, 0, 0))
		}
		b := array.NewStringBuilder(memory.DefaultAllocator)
		defer b.Release()
		for _, d := range rows {
			b.Append(dict[d])
		}
		return b.NewArray()
	}
	for lo := 0; lo < t.Len(); lo += rowGroupRows {
		hi := min(lo+rowGroupRows, t.Len())
		cols := []arrow.Array{ids(t.UserIDs, userInts, t.Users[lo:hi]), ids(t.ItemIDs, itemInts, t.Items[lo:hi]),
			array.NewFloat32Data(array.NewData(arrow.PrimitiveTypes.Float32, hi-lo,
				[]*memory.Buffer{nil, memory.NewBufferBytes(arrow.Float32Traits.CastToBytes(t.Ratings[lo:hi]))}, nil, 0, 0))}
		if t.HasTimes() {
			cols = append(cols, array.NewInt64Data(array.NewData(arrow.PrimitiveTypes.Int64, hi-lo,
				[]*memory.Buffer{nil, memory.NewBufferBytes(arrow.Int64Traits.CastToBytes(t.Times[lo:hi]))}, nil, 0, 0)))
		}
		rec := array.NewRecordBatch(schema, cols, int64(hi-lo))
		err := fw.Write(rec)
		rec.Release()
		for _, c := range cols {
			c.Release()
		}
		if err != nil {
			return err
		}
	}
	if err := fw.Close(); err != nil {
		return err
	}
	return bw.Flush()
}

// wideTable is a table of n rows whose item column takes `distinct`
// values in every run of that many rows, for dictionaries of many
// entries.
func wideTable(n, distinct int) *Table {
	t := &Table{Users: make([]int32, n), Items: make([]int32, n), Ratings: make([]float32, n), Times: make([]int64, n)}
	t.UserIDs = []string{"1", "2", "3"}
	t.ItemIDs = make([]string, distinct)
	for i := range t.ItemIDs {
		t.ItemIDs[i] = strconv.Itoa(1000 + 7*i)
	}
	for r := range n {
		t.Users[r] = int32(r / 1000 % 3)
		t.Items[r] = int32((r * 7919) % distinct)
		t.Ratings[r] = float32(r%9+1) / 2
		t.Times[r] = 1_600_000_000 - int64(r%5000)*3600
	}
	return t
}

// pageStats returns the statistics in the header of every data page of
// column c of the file in b, row group after row group.
func pageStats(t *testing.T, b []byte, c int) []metadata.EncodedStatistics {
	t.Helper()
	r, err := file.NewParquetReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	var out []metadata.EncodedStatistics
	for g := range r.NumRowGroups() {
		pr, err := r.RowGroup(g).GetColumnPageReader(c)
		if err != nil {
			t.Fatal(err)
		}
		for pr.Next() {
			if p, ok := pr.Page().(*file.DataPageV1); ok {
				out = append(out, p.Statistics())
			}
		}
		if err := pr.Err(); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestWriteParquetMatchesPqarrow: the files WriteParquet encodes by hand
// read back as the table, the same as the files pqarrow writes from the
// same table with the same properties, and have the same schema, row
// groups, compression, column encodings and timestamp statistics (chunk
// and page), for integer and string ids, with and without timestamps,
// over many row groups (and one that is not full), including ratings 0
// and -0 (distinct bit patterns), dictionaries of many entries (bit
// widths up to 17), and column chunks that are PLAIN because their
// dictionary would outgrow its page. In those chunks pqarrow writes a
// dictionary page first and falls back to PLAIN after it (its encodings
// list both); WriteParquet decides before the first page, so the
// encodings are not compared there.
func TestWriteParquetMatchesPqarrow(t *testing.T) {
	old := rowGroupRows
	rowGroupRows = 1 << 12
	defer func() { rowGroupRows = old }()
	for _, tc := range []struct {
		name     string
		str      bool
		times    bool
		dense    bool // many distinct ratings
		rows     int  // rows per row group, instead of 1<<12
		wide     int  // distinct items of a wideTable, instead of benchTable
		fallback bool // some chunk is PLAIN: its encodings differ
	}{
		{name: "int", times: true}, {name: "string", str: true, times: true}, {name: "no-times"},
		{name: "many-ratings", times: true, dense: true},
		// More distinct ratings in a row group than maxRatingDict.
		{name: "rating-fallback", times: true, dense: true, rows: 140_000, fallback: true},
		// Many pages per column, few distinct ratings (the MovieLens
		// case), with integer and with string ids.
		{name: "many-pages", times: true, rows: 270_000}, {name: "many-pages-strings", str: true, times: true, rows: 270_000},
		// 100,000 distinct items in a row group: indices of 17 bits.
		{name: "wide-dictionary", times: true, rows: 200_000, wide: 100_000},
		// 140,000 distinct items: more than a 1 MiB dictionary page holds.
		{name: "id-fallback", times: true, rows: 200_000, wide: 140_000, fallback: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.rows > 0 {
				rowGroupRows = tc.rows
				defer func() { rowGroupRows = 1 << 12 }()
			}
			var tab *Table
			if tc.wide > 0 {
				tab = wideTable(2*tc.rows+1234, tc.wide)
			} else {
				tab = benchTable(5*(1<<12)+1234+tc.rows, tc.str)
			}
			for r := range tab.Ratings {
				switch {
				case r%997 == 0:
					tab.Ratings[r] = float32(math.Copysign(0, -1))
				case r%991 == 0:
					tab.Ratings[r] = 0
				case tc.dense && tc.rows > 0:
					tab.Ratings[r] = float32(r) / 7
				case tc.dense:
					tab.Ratings[r] = float32(r%5000) / 7
				}
			}
			if !tc.times {
				tab.Times = nil
			}
			var got, want bytes.Buffer
			if err := WriteParquet(&got, tab); err != nil {
				t.Fatal(err)
			}
			if err := writeParquetPqarrow(&want, tab); err != nil {
				t.Fatal(err)
			}
			back, err := ReadParquet(bytes.NewReader(got.Bytes()), "t")
			if err != nil {
				t.Fatal(err)
			}
			ref, err := ReadParquet(bytes.NewReader(want.Bytes()), "ref")
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(back.UserIDs, ref.UserIDs) || !slices.Equal(back.ItemIDs, ref.ItemIDs) || !slices.Equal(back.Users, ref.Users) ||
				!slices.Equal(back.Items, ref.Items) || !slices.Equal(back.Times, tab.Times) || !slices.Equal(ref.Times, tab.Times) {
				t.Fatal("the content differs from pqarrow's file or the table")
			}
			for r := range tab.Len() {
				if back.UserIDs[back.Users[r]] != tab.UserIDs[tab.Users[r]] || back.ItemIDs[back.Items[r]] != tab.ItemIDs[tab.Items[r]] {
					t.Fatalf("row %d: ids read back differ", r)
				}
				if math.Float32bits(back.Ratings[r]) != math.Float32bits(tab.Ratings[r]) {
					t.Fatalf("row %d: rating %v read back as %v", r, tab.Ratings[r], back.Ratings[r])
				}
			}

			gr, err := file.NewParquetReader(bytes.NewReader(got.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			wr, err := file.NewParquetReader(bytes.NewReader(want.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			gm, wm := gr.MetaData(), wr.MetaData()
			if !gm.Schema.Equals(wm.Schema) {
				t.Fatalf("schema\n%v\nwant\n%v", gm.Schema, wm.Schema)
			}
			if gm.NumRowGroups() != wm.NumRowGroups() || gm.NumRows != wm.NumRows || gm.GetCreatedBy() != wm.GetCreatedBy() {
				t.Fatalf("%d row groups, %d rows, created by %q; pqarrow %d, %d, %q",
					gm.NumRowGroups(), gm.NumRows, gm.GetCreatedBy(), wm.NumRowGroups(), wm.NumRows, wm.GetCreatedBy())
			}
			plainChunks := 0
			for g := range gm.NumRowGroups() {
				grg, wrg := gm.RowGroup(g), wm.RowGroup(g)
				if grg.NumRows() != wrg.NumRows() {
					t.Fatalf("row group %d: %d rows, pqarrow %d", g, grg.NumRows(), wrg.NumRows())
				}
				for c := range grg.NumColumns() {
					gc, _ := grg.ColumnChunk(c)
					wc, _ := wrg.ColumnChunk(c)
					if gc.Compression() != wc.Compression() || gc.NumValues() != wc.NumValues() {
						t.Fatalf("row group %d column %d: %v, %d values; pqarrow %v, %d", g, c, gc.Compression(), gc.NumValues(), wc.Compression(), wc.NumValues())
					}
					if c != colTime && !gc.HasDictionaryPage() {
						plainChunks++
					}
					if !tc.fallback && !slices.Equal(gc.Encodings(), wc.Encodings()) {
						t.Fatalf("row group %d column %d: encodings %v, pqarrow %v", g, c, gc.Encodings(), wc.Encodings())
					}
					gs, err := gc.StatsSet()
					if err != nil {
						t.Fatal(err)
					}
					ws, _ := wc.StatsSet()
					if gs != ws {
						t.Fatalf("row group %d column %d: statistics %v, pqarrow %v", g, c, gs, ws)
					}
					if gs {
						a, _ := gc.Statistics()
						b, _ := wc.Statistics()
						ae, _ := a.Encode()
						be, _ := b.Encode()
						if !bytes.Equal(ae.Min, be.Min) || !bytes.Equal(ae.Max, be.Max) || ae.NullCount != be.NullCount {
							t.Fatalf("row group %d column %d: statistics %+v, pqarrow %+v", g, c, ae, be)
						}
					}
				}
			}
			if tc.fallback != (plainChunks > 0) {
				t.Fatalf("%d PLAIN chunks; want some: %v", plainChunks, tc.fallback)
			}
			if tc.times {
				gp, wp := pageStats(t, got.Bytes(), colTime), pageStats(t, want.Bytes(), colTime)
				if len(gp) != len(wp) {
					t.Fatalf("%d timestamp pages, pqarrow %d", len(gp), len(wp))
				}
				for i := range gp {
					if !bytes.Equal(gp[i].Min, wp[i].Min) || !bytes.Equal(gp[i].Max, wp[i].Max) || gp[i].HasNullCount != wp[i].HasNullCount {
						t.Fatalf("timestamp page %d: statistics %+v, pqarrow %+v", i, gp[i], wp[i])
					}
				}
			}
		})
	}
}

// decodeHybrid decodes n values of Parquet's RLE/bit-packing hybrid
// encoding of width bw, as the format specification describes it
// (https://parquet.apache.org/docs/file-format/data-pages/encodings/):
// the reference of TestAppendHybrid. It also returns the runs' kinds, 'r'
// (repeated) or 'b' (bit-packed).
func decodeHybrid(t *testing.T, b []byte, n, bw int) ([]int32, string) {
	t.Helper()
	var out []int32
	var kinds []byte
	for len(out) < n {
		h, k := binary.Uvarint(b)
		if k <= 0 {
			t.Fatalf("bad run header at %d values", len(out))
		}
		b = b[k:]
		if h&1 == 0 {
			kinds = append(kinds, 'r')
			var v uint32
			for i := range (bw + 7) / 8 {
				v |= uint32(b[i]) << (8 * i)
			}
			b = b[(bw+7)/8:]
			for range h >> 1 {
				out = append(out, int32(v))
			}
			continue
		}
		kinds = append(kinds, 'b')
		cnt := int(h>>1) * 8
		for i := range cnt {
			var v uint64
			for j := range bw {
				bit := i*bw + j
				v |= uint64(b[bit/8]>>(bit%8)&1) << j
			}
			if len(out) < n {
				out = append(out, int32(v))
			} else if v != 0 {
				t.Fatalf("padding value %d is not zero", v)
			}
		}
		b = b[cnt*bw/8:]
	}
	if len(b) != 0 {
		t.Fatalf("%d bytes after the last run", len(b))
	}
	return out, string(kinds)
}

// TestAppendHybrid: appendHybrid round-trips through the reference
// decoder for every bit width, for runs and literals of random lengths
// (including lengths that are not multiples of eight, and buffers with
// stale bytes beyond their length); runs of eight aligned equal values are
// repeated runs; and the exact encodings of two small cases.
func TestAppendHybrid(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	scratch := make([]byte, 0, 1<<16)
	for bw := 1; bw <= 32; bw++ {
		for trial := range 40 {
			var vals []int32
			for len(vals) < trial*13 {
				v := int32(rng.Uint64() & (1<<bw - 1))
				for range 1 + rng.IntN(3)*rng.IntN(20) {
					vals = append(vals, v)
				}
			}
			for i := range scratch[:cap(scratch)] {
				scratch[:cap(scratch)][i] = 0xAA // stale bytes
			}
			prefix := []byte{byte(bw)}
			b := appendHybrid(append(scratch[:0], prefix...), vals, bw)
			if b[0] != byte(bw) {
				t.Fatal("the prefix was overwritten")
			}
			got, _ := decodeHybrid(t, b[1:], len(vals), bw)
			if !slices.Equal(got, vals) {
				t.Fatalf("bw %d: %v decoded as %v", bw, vals, got)
			}
		}
	}
	// 3 literals, then 20 sevens from index 8, then 5 literals: the first
	// group of eight is bit-packed (the sevens start mid-group), the run
	// begins at the next group.
	vals := []int32{1, 2, 3, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 4, 5, 6, 7, 0}
	got, kinds := decodeHybrid(t, appendHybrid(nil, vals, 3), len(vals), 3)
	if !slices.Equal(got, vals) || kinds != "brb" {
		t.Fatalf("decoded %v as runs %q; want %v, \"brb\"", got, kinds, vals)
	}
	// Exact bytes, by hand from the specification: 16 fives of width 3 are
	// a repeated run, header 16<<1 = 0x20, value 0x05; then 1, 2 bit-packed
	// in one group, header 1<<1|1 = 0x03, bits 001 010 then zeros = 0x11,
	// 0x00, 0x00.
	want := []byte{0x20, 0x05, 0x03, 0x11, 0x00, 0x00}
	if b := appendHybrid(nil, []int32{5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 1, 2}, 3); !bytes.Equal(b, want) {
		t.Fatalf("encoded % x, want % x", b, want)
	}
}

// ratingChunker: distinct values by bit pattern in order of first use
// (0 and -0 apart), indices into them, and no dictionary beyond
// maxRatingDict distinct values.
func TestRatingChunker(t *testing.T) {
	var c ratingChunker
	negZero := float32(math.Copysign(0, -1))
	vals, idx, ok := c.chunk([]float32{4, 3.5, 4, 0, negZero, 5, 3.5, 0})
	wantVals := []float32{4, 3.5, 0, negZero, 5}
	if !ok || len(vals) != len(wantVals) {
		t.Fatalf("dictionary %v (ok %v), want %v", vals, ok, wantVals)
	}
	for i := range vals {
		if math.Float32bits(vals[i]) != math.Float32bits(wantVals[i]) {
			t.Fatalf("dictionary %v, want %v", vals, wantVals)
		}
	}
	if want := []int32{0, 1, 0, 2, 3, 4, 1, 2}; !slices.Equal(idx, want) {
		t.Fatalf("indices %v, want %v", idx, want)
	}
	many := make([]float32, maxRatingDict+1)
	for i := range many {
		many[i] = float32(i) / 3
	}
	if _, _, ok := c.chunk(many); ok {
		t.Fatalf("%d distinct ratings made a dictionary", len(many))
	}
	// Exactly maxRatingDict distinct values still make one.
	if vals, _, ok := c.chunk(many[:maxRatingDict]); !ok || len(vals) != maxRatingDict {
		t.Fatalf("%d distinct ratings: %d values, ok %v", maxRatingDict, len(vals), ok)
	}
}

// dictChunker: the dense indices a chunk uses in order of first use, and
// indices into them; a second chunk starts afresh.
func TestDictChunker(t *testing.T) {
	var c dictChunker
	used, idx := c.chunk([]int32{5, 2, 5, 9, 2}, 10)
	if !slices.Equal(used, []int32{5, 2, 9}) || !slices.Equal(idx, []int32{0, 1, 0, 2, 1}) {
		t.Fatalf("used %v idx %v", used, idx)
	}
	used, idx = c.chunk([]int32{9, 9, 1}, 10)
	if !slices.Equal(used, []int32{9, 1}) || !slices.Equal(idx, []int32{0, 0, 1}) {
		t.Fatalf("second chunk: used %v idx %v", used, idx)
	}
}

// failAfter is a writer that fails once n bytes have been written.
type failAfter struct{ n int }

var errDiskFull = errors.New("disk full")

func (w *failAfter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		k := w.n
		w.n = 0
		return k, errDiskFull
	}
	w.n -= len(p)
	return len(p), nil
}

// TestWriteParquetWriteError: a sink that fails at any point (the magic
// bytes, a page, a row group's metadata, the footer) makes WriteParquet
// return its error, with every worker stopped: no goroutine of the
// encoder is left once it has returned (it waits for them before
// returning, so the check does not depend on timing).
func TestWriteParquetWriteError(t *testing.T) {
	old := rowGroupRows
	rowGroupRows = 1 << 12
	defer func() { rowGroupRows = old }()
	tab := benchTable(100*(1<<12)+7, false)
	var full bytes.Buffer
	if err := WriteParquet(&full, tab); err != nil {
		t.Fatal(err)
	}
	if full.Len() < 2<<20 {
		t.Fatalf("the file is %d bytes; the test needs more than twice bufio's 1 MiB", full.Len())
	}
	// WriteParquet writes through a 1 MiB bufio.Writer, which reaches the
	// sink every MiB: failing at 0 or a third of the file fails while row
	// groups are still being encoded; near the end, in the footer.
	for _, n := range []int{0, 3, 100, full.Len() / 3, full.Len() - 10, full.Len() - 1} {
		err := WriteParquet(&failAfter{n: n}, tab)
		if !errors.Is(err, errDiskFull) {
			t.Fatalf("failing after %d of %d bytes: error %v, want %v", n, full.Len(), err, errDiskFull)
		}
	}
	if err := WriteParquet(&failAfter{n: full.Len()}, tab); err != nil {
		t.Fatalf("a sink with room for the file: %v", err)
	}
	buf := make([]byte, 1<<20)
	stacks := buf[:runtime.Stack(buf, true)]
	if bytes.Contains(stacks, []byte("parquetEncoder")) {
		t.Fatalf("an encoder goroutine outlived WriteParquet:\n%s", stacks)
	}
}
