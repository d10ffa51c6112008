package ratings

import (
	"bufio"
	"bytes"
	"io"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// writeParquetSerial is WriteParquet as it was before its columns were
// encoded concurrently: pqarrow.FileWriter.Write, one column after the
// other, the rating column handed over as plain float32 for the writer to
// build its dictionary (WriteParquet builds it itself, ratingChunker). It
// is the reference of TestWriteParquetBytes.
func writeParquetSerial(w io.Writer, t *Table) error {
	userInts := canonicalInts(t.UserIDs)
	itemInts := canonicalInts(t.ItemIDs)
	fields := parquetFields(t, userInts, itemInts)
	fields[2].Type = arrow.PrimitiveTypes.Float32 // plain: the writer builds the dictionary
	schema := arrow.NewSchema(fields, nil)
	props := parquetWriterProps()
	bw := bufio.NewWriterSize(w, 1<<20)
	fw, err := pqarrow.NewFileWriter(schema, struct{ io.Writer }{bw}, props, pqarrow.DefaultWriterProps())
	if err != nil {
		return err
	}
	users := newDictChunker(t.UserIDs, userInts)
	items := newDictChunker(t.ItemIDs, itemInts)
	for lo := 0; lo < t.Len(); lo += rowGroupRows {
		hi := min(lo+rowGroupRows, t.Len())
		cols := []arrow.Array{users.chunk(t.Users[lo:hi], fields[0].Type), items.chunk(t.Items[lo:hi], fields[1].Type),
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

// TestWriteParquetBytes: WriteParquet, which encodes the columns of a row
// group concurrently, writes exactly the bytes of the serial pqarrow
// writer, for integer and string ids, with and without timestamps, over
// many row groups (and one that is not full), including ratings 0 and -0
// (distinct bit patterns), a dictionary of many distinct ratings, and row
// groups of many pages. When the rating dictionary outgrows its page and
// the writer falls back to plain encoding, arrow-go itself does not write
// the same bytes twice (the footer's encoding stats come from a map: one
// serial run in 20 differed from the first, measured here), so that case
// asserts the same content only. So do the many-pages cases: WriteParquet
// cuts dictionary columns into pages of dictPageRows rows, where the serial
// writer makes one page of a row group's ids and sizes its rating pages by
// the bytes of the plain values.
func TestWriteParquetBytes(t *testing.T) {
	old := rowGroupRows
	rowGroupRows = 1 << 12
	defer func() { rowGroupRows = old }()
	for _, tc := range []struct {
		name  string
		str   bool
		times bool
		dense bool // many distinct ratings
		rows  int
	}{{"int", false, true, false, 0}, {"string", true, true, false, 0}, {"no-times", false, false, false, 0},
		{"many-ratings", false, true, true, 0},
		// More distinct ratings in a row group than a dictionary page holds
		// (1 MiB: 262,144 float32): the writer falls back to plain.
		{"dictionary-fallback", false, true, true, 300_000},
		// Many pages per column, few distinct ratings (the MovieLens case),
		// with integer and with string ids.
		{"many-pages", false, true, false, 400_000}, {"many-pages-strings", true, true, false, 400_000}} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.rows > 0 {
				rowGroupRows = tc.rows
				defer func() { rowGroupRows = 1 << 12 }()
			}
			tab := benchTable(5*(1<<12)+1234+tc.rows, tc.str)
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
			if err := writeParquetSerial(&want, tab); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), want.Bytes()) && tc.name != "dictionary-fallback" && !strings.HasPrefix(tc.name, "many-pages") {
				k := 0
				for k < min(got.Len(), want.Len()) && got.Bytes()[k] == want.Bytes()[k] {
					k++
				}
				t.Fatalf("%d bytes, the serial writer %d; they differ from byte %d", got.Len(), want.Len(), k)
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
				!slices.Equal(back.Items, ref.Items) || !slices.Equal(back.Times, ref.Times) {
				t.Fatal("the content differs from the serial writer's")
			}
			for r := range tab.Len() {
				if math.Float32bits(back.Ratings[r]) != math.Float32bits(tab.Ratings[r]) {
					t.Fatalf("row %d: rating %v read back as %v", r, tab.Ratings[r], back.Ratings[r])
				}
			}
		})
	}
}

// ratingChunker: distinct values by bit pattern in order of first use
// (0 and -0 apart), indices into them, and plain float32 beyond
// maxRatingDict distinct values.
func TestRatingChunker(t *testing.T) {
	var c ratingChunker
	negZero := float32(math.Copysign(0, -1))
	rs := []float32{4, 3.5, 4, 0, negZero, 5, 3.5, 0}
	a := c.chunk(rs, ratingDictType)
	d, ok := a.(*array.Dictionary)
	if !ok {
		t.Fatalf("chunk returned %T, want a dictionary array", a)
	}
	vals := d.Dictionary().(*array.Float32).Float32Values()
	wantVals := []float32{4, 3.5, 0, negZero, 5}
	wantIdx := []int32{0, 1, 0, 2, 3, 4, 1, 2}
	if len(vals) != len(wantVals) {
		t.Fatalf("dictionary %v, want %v", vals, wantVals)
	}
	for i := range vals {
		if math.Float32bits(vals[i]) != math.Float32bits(wantVals[i]) {
			t.Fatalf("dictionary %v, want %v", vals, wantVals)
		}
	}
	if got := d.Indices().(*array.Int32).Int32Values(); !slices.Equal(got, wantIdx) {
		t.Fatalf("indices %v, want %v", got, wantIdx)
	}
	a.Release()

	many := make([]float32, maxRatingDict+1)
	for i := range many {
		many[i] = float32(i) / 3
	}
	a = c.chunk(many, ratingDictType)
	if p, ok := a.(*array.Float32); !ok || !slices.Equal(p.Float32Values(), many) {
		t.Fatalf("%d distinct ratings: got %T, want the plain float32 values", len(many), a)
	}
	a.Release()
	// Exactly maxRatingDict distinct values still make a dictionary.
	a = c.chunk(many[:maxRatingDict], ratingDictType)
	if _, ok := a.(*array.Dictionary); !ok {
		t.Fatalf("%d distinct ratings: got %T, want a dictionary array", maxRatingDict, a)
	}
	a.Release()
}
