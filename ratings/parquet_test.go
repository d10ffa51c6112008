package ratings

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/recs-dev/recs/internal/errs"
)

// mustTable builds a table from rows of (user, item, rating, time).
func mustTable(t testing.TB, withTimes bool, rows ...[4]string) *Table {
	t.Helper()
	b := NewBuilder(withTimes)
	for _, r := range rows {
		v, err := strconv.ParseFloat(r[2], 32)
		if err != nil {
			t.Fatal(err)
		}
		ts, _ := strconv.ParseInt(r[3], 10, 64)
		b.Add(r[0], r[1], float32(v), ts)
	}
	return b.Table()
}

// sameRows fails unless a and b hold the same rows (by original id) in the
// same order.
func sameRows(t *testing.T, a, b *Table) {
	t.Helper()
	if a.Len() != b.Len() || a.HasTimes() != b.HasTimes() {
		t.Fatalf("len %d/%d, times %v/%v", a.Len(), b.Len(), a.HasTimes(), b.HasTimes())
	}
	for r := 0; r < a.Len(); r++ {
		if a.UserIDs[a.Users[r]] != b.UserIDs[b.Users[r]] || a.ItemIDs[a.Items[r]] != b.ItemIDs[b.Items[r]] ||
			a.Ratings[r] != b.Ratings[r] || (a.HasTimes() && a.Times[r] != b.Times[r]) {
			t.Fatalf("row %d differs: (%s %s %v) vs (%s %s %v)", r,
				a.UserIDs[a.Users[r]], a.ItemIDs[a.Items[r]], a.Ratings[r],
				b.UserIDs[b.Users[r]], b.ItemIDs[b.Items[r]], b.Ratings[r])
		}
	}
}

func roundTrip(t *testing.T, tab *Table) (*Table, *arrow.Schema) {
	got, sc, _ := roundTripGroups(t, tab)
	return got, sc
}

// roundTripGroups writes and reads tab, and returns the table read, the
// file's Arrow schema and its number of row groups.
func roundTripGroups(t *testing.T, tab *Table) (*Table, *arrow.Schema, int) {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteParquet(&buf, tab); err != nil {
		t.Fatal(err)
	}
	got, err := ReadParquet(bytes.NewReader(buf.Bytes()), "mem.parquet")
	if err != nil {
		t.Fatal(err)
	}
	pf, err := file.NewParquetReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := fr.Schema()
	if err != nil {
		t.Fatal(err)
	}
	return got, sc, pf.NumRowGroups()
}

func schemaString(sc *arrow.Schema) string {
	var parts []string
	for _, f := range sc.Fields() {
		parts = append(parts, f.Name+":"+f.Type.String())
	}
	return strings.Join(parts, ",")
}

func TestParquetRoundTrip(t *testing.T) {
	tests := []struct {
		name   string
		tab    *Table
		schema string // expected from the layout documented in parquet.go
	}{
		{"int ids", mustTable(t, true,
			[4]string{"1", "10", "4", "881250949"},
			[4]string{"2", "10", "3.5", "891717742"},
			[4]string{"1", "-20", "0.5", "-5"},
			[4]string{"9223372036854775807", "0", "5", "0"}),
			"user:int64,item:int64,rating:float32,timestamp:int64"},
		{"string ids", mustTable(t, true,
			[4]string{"A3R5OBKS7OM2IR", "0000143561", "5", "1"},
			[4]string{"u,with\"quotes", "0000143561", "1", "2"},
			[4]string{"A3R5OBKS7OM2IR", "B0001", "2", "3"}),
			"user:utf8,item:utf8,rating:float32,timestamp:int64"},
		// "007" and "+7" are not canonical: writing them as integers would
		// change the ids, so the column stays a string.
		{"mixed: non-canonical ints", mustTable(t, false,
			[4]string{"007", "1", "3"}, [4]string{"+7", "2", "4"}, [4]string{"7", "3", "1"}),
			"user:utf8,item:int64,rating:float32"},
		{"no times", mustTable(t, false,
			[4]string{"1", "a", "1"}, [4]string{"2", "b", "2"}),
			"user:int64,item:utf8,rating:float32"},
		{"empty", mustTable(t, true), "user:int64,item:int64,rating:float32,timestamp:int64"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, sc := roundTrip(t, tc.tab)
			if s := schemaString(sc); s != tc.schema {
				t.Errorf("schema %s, want %s", s, tc.schema)
			}
			sameRows(t, tc.tab, got)
			// A table built in row order has its dictionaries in order of
			// first appearance, as ReadParquet builds them.
			if !reflect.DeepEqual(got.UserIDs, tc.tab.UserIDs) || !reflect.DeepEqual(got.ItemIDs, tc.tab.ItemIDs) {
				t.Errorf("dictionaries %v %v, want %v %v", got.UserIDs, got.ItemIDs, tc.tab.UserIDs, tc.tab.ItemIDs)
			}
		})
	}
}

// A subset shares its parent's dictionaries; only the ids its rows use come
// back, in order of first appearance in the subset.
func TestParquetSubsetDictionaries(t *testing.T) {
	tab := mustTable(t, true, [4]string{"1", "a", "1", "1"}, [4]string{"2", "b", "2", "2"}, [4]string{"3", "a", "3", "3"})
	sub := tab.Subset([]int{2, 0})
	got, _ := roundTrip(t, sub)
	sameRows(t, sub, got)
	if want := []string{"3", "1"}; !reflect.DeepEqual(got.UserIDs, want) {
		t.Errorf("users %v, want %v", got.UserIDs, want)
	}
	if want := []string{"a"}; !reflect.DeepEqual(got.ItemIDs, want) {
		t.Errorf("items %v, want %v", got.ItemIDs, want)
	}
}

// Several row groups (lowered to 1000 rows), large and sparse integer ids
// (map path), dense small ids (array path), random string ids.
func TestParquetRoundTripLarge(t *testing.T) {
	defer func(n int) { rowGroupRows = n }(rowGroupRows)
	rowGroupRows = 1000
	n := 5*rowGroupRows + 123
	rng := rand.New(rand.NewPCG(1, 2))
	for _, kind := range []string{"small", "sparse", "string"} {
		t.Run(kind, func(t *testing.T) {
			b := NewBuilder(true)
			for r := 0; r < n; r++ {
				var u string
				switch kind {
				case "small":
					u = strconv.Itoa(rng.IntN(5000))
				case "sparse":
					u = strconv.FormatInt(rng.Int64()-rng.Int64(), 10)
				default:
					u = "u" + strconv.Itoa(rng.IntN(5000))
				}
				b.Add(u, strconv.Itoa(rng.IntN(100000)), float32(rng.IntN(10)+1)/2, rng.Int64N(2e9))
			}
			tab := b.Table()
			got, _, groups := roundTripGroups(t, tab)
			if groups != 6 { // ceil(5123 / 1000)
				t.Errorf("%d row groups, want 6", groups)
			}
			sameRows(t, tab, got)
			if !reflect.DeepEqual(got.UserIDs, tab.UserIDs) {
				t.Error("user dictionary differs")
			}
		})
	}
}

func TestWriteReadFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "r.parquet")
	tab := mustTable(t, true, [4]string{"1", "2", "3", "4"})
	if err := WriteFile(path, tab); err != nil {
		t.Fatal(err)
	}
	got, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sameRows(t, tab, got)
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("%d files in dir, want 1 (no temporary left)", len(ents))
	}
}

// writeArrow writes an arbitrary Arrow record as Parquet, as another tool
// (pandas, Spark) might.
func writeArrow(t *testing.T, rec arrow.RecordBatch, storeSchema bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	ap := pqarrow.DefaultWriterProps()
	if storeSchema {
		ap = pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema())
	}
	fw, err := pqarrow.NewFileWriter(rec.Schema(), &buf, parquet.NewWriterProperties(parquet.WithMaxRowGroupLength(2)), ap)
	if err != nil {
		t.Fatal(err)
	}
	if err := fw.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// A MovieLens-style file as pandas writes it: userId int32, movieId int64,
// rating float64, timestamp as a TIMESTAMP in milliseconds, plus an extra
// column; three row groups of at most 2 rows.
func TestReadParquetOtherSchema(t *testing.T) {
	mem := memory.DefaultAllocator
	sc := arrow.NewSchema([]arrow.Field{
		{Name: "extra", Type: arrow.BinaryTypes.String},
		{Name: "userId", Type: arrow.PrimitiveTypes.Int32},
		{Name: "movieId", Type: arrow.PrimitiveTypes.Int64},
		{Name: "rating", Type: arrow.PrimitiveTypes.Float64},
		{Name: "timestamp", Type: &arrow.TimestampType{Unit: arrow.Millisecond}},
	}, nil)
	b := array.NewRecordBuilder(mem, sc)
	defer b.Release()
	b.Field(0).(*array.StringBuilder).AppendValues([]string{"x", "y", "z", "w", "v"}, nil)
	b.Field(1).(*array.Int32Builder).AppendValues([]int32{196, 186, 196, 22, 7}, nil)
	b.Field(2).(*array.Int64Builder).AppendValues([]int64{242, 302, 377, 242, 1}, nil)
	b.Field(3).(*array.Float64Builder).AppendValues([]float64{3, 3.5, 1, 0.5, 5}, nil)
	// -1500 ms is 1.5 s before the epoch: floor gives -2 s.
	b.Field(4).(*array.TimestampBuilder).AppendValues([]arrow.Timestamp{881250949000, 891717742999, 878887116000, -1500, 0}, nil)
	rec := b.NewRecordBatch()
	defer rec.Release()
	data := writeArrow(t, rec, true)

	got, err := ReadParquet(bytes.NewReader(data), "ml.parquet")
	if err != nil {
		t.Fatal(err)
	}
	want := mustTable(t, true,
		[4]string{"196", "242", "3", "881250949"},
		[4]string{"186", "302", "3.5", "891717742"},
		[4]string{"196", "377", "1", "878887116"},
		[4]string{"22", "242", "0.5", "-2"},
		[4]string{"7", "1", "5", "0"})
	sameRows(t, want, got)
	if !reflect.DeepEqual(got.UserIDs, []string{"196", "186", "22", "7"}) {
		t.Errorf("user dictionary %v", got.UserIDs)
	}
}

// Recommenders' column names (userID, itemID), dictionary-encoded string ids
// (a pandas categorical), integer ratings, no timestamp column.
func TestReadParquetDictionaryStrings(t *testing.T) {
	mem := memory.DefaultAllocator
	dt := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int8, ValueType: arrow.BinaryTypes.String}
	sc := arrow.NewSchema([]arrow.Field{
		{Name: "userID", Type: dt},
		{Name: "item_id", Type: arrow.BinaryTypes.String},
		{Name: "Rating", Type: arrow.PrimitiveTypes.Int64},
	}, nil)
	b := array.NewRecordBuilder(mem, sc)
	defer b.Release()
	db := b.Field(0).(*array.BinaryDictionaryBuilder)
	for _, s := range []string{"bob", "amy", "bob"} {
		if err := db.AppendString(s); err != nil {
			t.Fatal(err)
		}
	}
	b.Field(1).(*array.StringBuilder).AppendValues([]string{"i1", "i2", "i2"}, nil)
	b.Field(2).(*array.Int64Builder).AppendValues([]int64{5, 4, 1}, nil)
	rec := b.NewRecordBatch()
	defer rec.Release()
	got, err := ReadParquet(bytes.NewReader(writeArrow(t, rec, true)), "cat.parquet")
	if err != nil {
		t.Fatal(err)
	}
	want := mustTable(t, false, [4]string{"bob", "i1", "5"}, [4]string{"amy", "i2", "4"}, [4]string{"bob", "i2", "1"})
	sameRows(t, want, got)
	if got.HasTimes() {
		t.Error("times from a file without a timestamp column")
	}
}

func TestReadParquetErrors(t *testing.T) {
	mem := memory.DefaultAllocator
	good := func() []byte {
		var buf bytes.Buffer
		if err := WriteParquet(&buf, mustTable(t, true, [4]string{"1", "2", "3", "4"}, [4]string{"5", "6", "7", "8"})); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}()
	record := func(fields []arrow.Field, fill func(b *array.RecordBuilder)) []byte {
		b := array.NewRecordBuilder(mem, arrow.NewSchema(fields, nil))
		defer b.Release()
		fill(b)
		rec := b.NewRecordBatch()
		defer rec.Release()
		return writeArrow(t, rec, false)
	}
	i64 := arrow.PrimitiveTypes.Int64
	f64 := arrow.PrimitiveTypes.Float64
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty file", nil, "not a readable Parquet file"},
		{"not parquet", []byte("userId,movieId,rating\n1,2,3\n"), "not a readable Parquet file"},
		{"truncated", good[:len(good)/2], "bad.parquet"},
		{"truncated footer", good[:len(good)-3], "bad.parquet"},
		{"no rating", record([]arrow.Field{{Name: "user", Type: i64}, {Name: "item", Type: i64}},
			func(b *array.RecordBuilder) {
				b.Field(0).(*array.Int64Builder).Append(1)
				b.Field(1).(*array.Int64Builder).Append(1)
			}), "no rating column"},
		{"two user columns", record([]arrow.Field{{Name: "user", Type: i64}, {Name: "user_id", Type: i64}},
			func(b *array.RecordBuilder) {
				b.Field(0).(*array.Int64Builder).Append(1)
				b.Field(1).(*array.Int64Builder).Append(1)
			}), "two user columns"},
		{"null user", record([]arrow.Field{{Name: "user", Type: i64, Nullable: true}, {Name: "item", Type: i64}, {Name: "rating", Type: f64}},
			func(b *array.RecordBuilder) {
				b.Field(0).(*array.Int64Builder).AppendValues([]int64{1, 0}, []bool{true, false})
				b.Field(1).(*array.Int64Builder).AppendValues([]int64{1, 2}, nil)
				b.Field(2).(*array.Float64Builder).AppendValues([]float64{1, 2}, nil)
			}), "row 2: null value"},
		{"infinite rating", record([]arrow.Field{{Name: "user", Type: i64}, {Name: "item", Type: i64}, {Name: "rating", Type: f64}},
			func(b *array.RecordBuilder) {
				b.Field(0).(*array.Int64Builder).AppendValues([]int64{1, 2, 3}, nil)
				b.Field(1).(*array.Int64Builder).AppendValues([]int64{1, 2, 3}, nil)
				b.Field(2).(*array.Float64Builder).AppendValues([]float64{1, 2, 1e300}, nil)
			}), "row 3: rating +Inf is not a finite float32"},
		{"bool ids", record([]arrow.Field{{Name: "user", Type: arrow.FixedWidthTypes.Boolean}, {Name: "item", Type: i64}, {Name: "rating", Type: f64}},
			func(b *array.RecordBuilder) {
				b.Field(0).(*array.BooleanBuilder).Append(true)
				b.Field(1).(*array.Int64Builder).Append(1)
				b.Field(2).(*array.Float64Builder).Append(1)
			}), "ids of type bool are not supported"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadParquet(bytes.NewReader(tc.data), "bad.parquet")
			if err == nil {
				t.Fatal("no error")
			}
			var ie *errs.InputError
			if !errors.As(err, &ie) || ie.File != "bad.parquet" {
				t.Fatalf("error %v (%T) is not an input error naming bad.parquet", err, err)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "bad.parquet: ") {
				t.Errorf("error %q, want it to start with the file and contain %q", err, tc.want)
			}
		})
	}
}

func TestReadFileMissing(t *testing.T) {
	_, err := ReadFile(filepath.Join(t.TempDir(), "nope.parquet"))
	if !errs.IsInput(err) || !strings.Contains(err.Error(), "nope.parquet") {
		t.Errorf("error %v, want an input error naming the file", err)
	}
}

func TestCanonicalInts(t *testing.T) {
	tests := []struct {
		ids  []string
		want []int64
	}{
		{[]string{}, []int64{}},
		{[]string{"0", "1", "-1", "9223372036854775807", "-9223372036854775808"},
			[]int64{0, 1, -1, 9223372036854775807, -9223372036854775808}},
		{[]string{"1", "01"}, nil},
		{[]string{"-0"}, nil},
		{[]string{"+1"}, nil},
		{[]string{"9223372036854775808"}, nil},
		{[]string{"1.0"}, nil},
		{[]string{""}, nil},
		{[]string{" 1"}, nil},
	}
	for _, tc := range tests {
		if got := canonicalInts(tc.ids); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("canonicalInts(%q) = %v, want %v", tc.ids, got, tc.want)
		}
	}
}

// TimestampSeconds rounds toward −∞ in every unit. Expected values by
// hand: 1.5 s before the epoch is second −2; exactly −1 s stays −1.
func TestTimestampSeconds(t *testing.T) {
	for _, tc := range []struct {
		v    arrow.Timestamp
		unit arrow.TimeUnit
		want int64
	}{
		{42, arrow.Second, 42}, {-3, arrow.Second, -3},
		{881250949999, arrow.Millisecond, 881250949}, {-1500, arrow.Millisecond, -2}, {-1000, arrow.Millisecond, -1},
		{1_000_001, arrow.Microsecond, 1}, {-1, arrow.Microsecond, -1},
		{2_999_999_999, arrow.Nanosecond, 2}, {-1_000_000_001, arrow.Nanosecond, -2},
	} {
		if got := TimestampSeconds(tc.v, tc.unit); got != tc.want {
			t.Errorf("TimestampSeconds(%d, %v) = %d, want %d", tc.v, tc.unit, got, tc.want)
		}
	}
}
