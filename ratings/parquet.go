package ratings

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/apache/arrow-go/v18/parquet/schema"

	"github.com/recs-dev/recs/internal/atomicfile"
	"github.com/recs-dev/recs/internal/errs"

	_ "github.com/recs-dev/recs/internal/parquetcodec" // standard-speed Snappy for the files written here
)

// ParquetRowGroupRows is the number of rows per row group that WriteParquet
// writes: about 20 MB of uncompressed columns, large enough for fast scans and
// small enough to keep the memory of readers and writers bounded.
const ParquetRowGroupRows = 1 << 20

// rowGroupRows is ParquetRowGroupRows; tests lower it to write many row
// groups cheaply.
var rowGroupRows = ParquetRowGroupRows

// parquetFields returns the Arrow fields of the file WriteParquet writes
// for t, whose id dictionaries are userInts and itemInts as integers (nil:
// strings; see canonicalInts). The Arrow schema is not stored in the file;
// it gives the Parquet schema: INT64 or UTF8 ids, FLOAT ratings, INT64
// timestamps.
func parquetFields(t *Table, userInts, itemInts []int64) []arrow.Field {
	idType := func(ints []int64) arrow.DataType {
		if ints != nil {
			return arrow.PrimitiveTypes.Int64
		}
		return arrow.BinaryTypes.String
	}
	fields := []arrow.Field{
		{Name: "user", Type: idType(userInts)},
		{Name: "item", Type: idType(itemInts)},
		{Name: "rating", Type: arrow.PrimitiveTypes.Float32},
	}
	if t.HasTimes() {
		fields = append(fields, arrow.Field{Name: "timestamp", Type: arrow.PrimitiveTypes.Int64})
	}
	return fields
}

// parquetWriterProps are the properties of the files WriteParquet writes.
func parquetWriterProps() *parquet.WriterProperties {
	return parquet.NewWriterProperties(
		parquet.WithCompression(compress.Codecs.Snappy),
		parquet.WithMaxRowGroupLength(int64(rowGroupRows)),
		parquet.WithCreatedBy("recs"),
		// Ids and ratings span nearly their whole range in every row
		// group: min and max would never let a reader skip one.
		parquet.WithStatsFor("user", false),
		parquet.WithStatsFor("item", false),
		parquet.WithStatsFor("rating", false),
		// Timestamps are nearly all distinct: a dictionary would not pay.
		parquet.WithDictionaryFor("timestamp", false),
	)
}

// canonicalInts returns the dictionary as int64 values when every id is the
// canonical decimal form of an int64 (what strconv.FormatInt returns), and
// nil otherwise. An empty dictionary is numeric.
func canonicalInts(ids []string) []int64 {
	out := make([]int64, len(ids))
	for i, s := range ids {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil || !isCanonicalInt(s) {
			return nil
		}
		out[i] = v
	}
	return out
}

// isCanonicalInt reports whether s, which parses as an int64, is written as
// FormatInt would write it: no sign but a leading '-', no leading zeros, no
// "-0".
func isCanonicalInt(s string) bool {
	d := s
	if strings.HasPrefix(d, "-") {
		d = d[1:]
		if d == "0" {
			return false
		}
	}
	if d == "" || d[0] == '+' {
		return false
	}
	return len(d) == 1 || d[0] != '0'
}

// WriteFile writes t to path as Parquet, atomically: readers see the old
// file or the complete new one, and a failed write leaves nothing behind.
func WriteFile(path string, t *Table) error {
	return atomicfile.WriteFile(path, func(w io.Writer) error { return WriteParquet(w, t) })
}

// ReadFile reads the Parquet file at path (see ReadParquet). Errors about
// the file's content are *errdefs.InputError naming path.
func ReadFile(path string) (*Table, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, errs.Input(path, err)
	}
	defer f.Close()
	return ReadParquet(f, path)
}

// column roles, in the order of parquetColumns.
const (
	colUser = iota
	colItem
	colRating
	colTime
	numCols
)

// parquetAliases lists, per role, the accepted column names after
// lowercasing and removing underscores.
var parquetAliases = [numCols][]string{
	{"user", "userid"},
	{"item", "itemid", "movieid"},
	{"rating", "ratings"},
	{"timestamp", "time"},
}

var parquetRoleNames = [numCols]string{"user", "item", "rating", "timestamp"}

// ReadParquet reads a table from the Parquet file r, such as WriteParquet
// writes; name is used in error messages. A file that is not Parquet, is
// truncated or corrupt, lacks a required column or holds a bad value gives
// an *errdefs.InputError naming the file. Integer ids are kept as their
// decimal form; dictionaries are in order of first appearance.
//
// It is more lenient than WriteParquet. It finds its columns by
// name, ignoring case and underscores: the user column may be called user,
// userId, userID or user_id; the item column item, itemId, itemID, item_id,
// movieId or movie_id; the rating column rating or ratings; the timestamp
// column timestamp or time. Other columns are ignored. Ids may be any
// integer type or strings (optionally dictionary-encoded, as pandas writes
// categoricals); ratings any integer or floating-point type; timestamps any
// integer type (taken as Unix seconds) or a Parquet TIMESTAMP (converted to
// Unix seconds, rounding toward negative infinity). A column with nulls, a
// non-finite rating or a missing user, item or rating column is an error.
//
// Cost: O(rows); integer ids are mapped to dense indices through an array
// when they are small non-negative numbers (as in MovieLens) and through a
// hash map otherwise, without a string allocation per row; string ids cost
// one map lookup per row (one per dictionary entry when the column is
// dictionary-encoded) and one allocation per distinct id.
func ReadParquet(r parquet.ReaderAtSeeker, name string) (t *Table, err error) {
	defer func() {
		// The parquet decoders may panic on corrupt input; that is bad
		// input, not a bug of the caller.
		if p := recover(); p != nil {
			t, err = nil, errs.Inputf(name, 0, "corrupt Parquet file: %v", p)
		}
	}()
	fileSize, err := r.Seek(0, io.SeekEnd)
	if err != nil {
		return nil, errs.Input(name, err)
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, errs.Input(name, err)
	}
	// One allocator that recycles buffers for the decoders and the Arrow
	// arrays, and buffered column reads instead of whole column chunks in
	// memory: a read's garbage stays about one row group.
	mem := &poolAllocator{}
	rprops := parquet.NewReaderProperties(mem)
	rprops.BufferedStreamEnabled = true
	rprops.BufferSize = 1 << 20
	pf, err := file.NewParquetReader(r, file.WithReadProps(rprops))
	if err != nil {
		return nil, errs.Inputf(name, 0, "not a readable Parquet file: %w", err)
	}
	defer pf.Close()

	md := pf.MetaData()
	sch := md.Schema
	leaf, err := ratingColumns(sch, name)
	if err != nil {
		return nil, err
	}
	props := pqarrow.ArrowReadProperties{BatchSize: 64 << 10}
	for _, role := range []int{colUser, colItem} {
		if sch.Column(leaf[role]).PhysicalType() == parquet.Types.ByteArray {
			props.SetReadDict(leaf[role], true)
		}
	}
	fr, err := pqarrow.NewFileReader(pf, props, mem)
	if err != nil {
		return nil, errs.Inputf(name, 0, "reading Parquet schema: %w", err)
	}
	total := md.NumRows
	if total < 0 || total > math.MaxInt32 {
		return nil, errs.Inputf(name, 0, "%d rows: a table holds at most %d", total, math.MaxInt32)
	}
	return readRowGroups(fr, pf.NumRowGroups(), name, leaf, total, fileSize)
}

// ratingColumns finds the leaf column of each role in sch by its name (see
// ReadParquet), -1 for a missing timestamp column.
func ratingColumns(sch *schema.Schema, name string) ([numCols]int, error) {
	var leaf [numCols]int
	for i := range leaf {
		leaf[i] = -1
	}
	for c := 0; c < sch.NumColumns(); c++ {
		col := sch.Column(c)
		if len(col.ColumnPath()) != 1 {
			continue // nested: not ours
		}
		key := strings.ReplaceAll(strings.ToLower(col.Name()), "_", "")
		for role, names := range parquetAliases {
			for _, a := range names {
				if key != a {
					continue
				}
				if leaf[role] >= 0 {
					return leaf, errs.Inputf(name, 0, "two %s columns: %q and %q",
						parquetRoleNames[role], sch.Column(leaf[role]).Name(), col.Name())
				}
				leaf[role] = c
			}
		}
	}
	for role := colUser; role <= colRating; role++ {
		if leaf[role] < 0 {
			return leaf, errs.Inputf(name, 0, "no %s column (looked for %s)",
				parquetRoleNames[role], strings.Join(parquetAliases[role], ", "))
		}
	}
	return leaf, nil
}

// readRowGroups reads the leaf columns of every row group of fr (nGroups
// of them, total rows as the footer declares, in a file of fileSize bytes)
// into a new table.
func readRowGroups(fr *pqarrow.FileReader, nGroups int, name string, leaf [numCols]int, total, fileSize int64) (*Table, error) {
	// Columns are allocated once for the rows the footer declares, unless
	// that is far more than the file could plausibly hold (our files take
	// about 6 bytes a row): a corrupt footer must not allocate gigabytes.
	// Appending grows them past that when the rows are really there.
	prealloc := total
	if fileSize > 0 {
		prealloc = min(total, max(1<<20, fileSize))
	}
	withTimes := leaf[colTime] >= 0
	out := &Table{
		Users:   make([]int32, 0, prealloc),
		Items:   make([]int32, 0, prealloc),
		Ratings: make([]float32, 0, prealloc),
	}
	if withTimes {
		out.Times = make([]int64, 0, prealloc)
	}
	users, items := newIDDict(int(prealloc)), newIDDict(int(prealloc))
	var indices []int
	for role := range leaf {
		if leaf[role] >= 0 {
			indices = append(indices, leaf[role])
		}
	}
	ctx := context.Background()
	for rg := 0; rg < nGroups; rg++ {
		tbl, err := fr.ReadRowGroups(ctx, indices, []int{rg})
		if err != nil {
			return nil, errs.Inputf(name, 0, "row group %d: %w", rg, err)
		}
		err = appendRowGroup(out, tbl, total, leaf, indices, users, items)
		tbl.Release()
		if err != nil {
			return nil, errs.Inputf(name, 0, "row group %d: %w", rg, err)
		}
	}
	if int64(len(out.Users)) != total {
		return nil, errs.Inputf(name, 0, "footer says %d rows, row groups hold %d", total, len(out.Users))
	}
	out.UserIDs = users.strings()
	out.ItemIDs = items.strings()
	return out, nil
}

// appendRowGroup appends the columns of one row group to out.
func appendRowGroup(out *Table, tbl arrow.Table, declared int64, leaf [numCols]int, indices []int, users, items *idDict) error {
	colOf := func(role int) *arrow.Chunked {
		for j, c := range indices {
			if c == leaf[role] {
				return tbl.Column(j).Data()
			}
		}
		return nil
	}
	base := len(out.Users)
	n := int(tbl.NumRows())
	if int64(base+n) > declared {
		return fmt.Errorf("more rows than the footer declares")
	}
	out.Users = slices.Grow(out.Users, n)
	out.Items = slices.Grow(out.Items, n)
	out.Ratings = slices.Grow(out.Ratings, n)
	if out.Times != nil {
		out.Times = slices.Grow(out.Times, n)
	}
	out.Users = out.Users[:base+n]
	out.Items = out.Items[:base+n]
	out.Ratings = out.Ratings[:base+n]
	if out.Times != nil {
		out.Times = out.Times[:base+n]
	}
	if err := readIDs(colOf(colUser), out.Users[base:], users, base); err != nil {
		return fmt.Errorf("column %s: %w", tbl.Schema().Field(indexOfLeaf(indices, leaf[colUser])).Name, err)
	}
	if err := readIDs(colOf(colItem), out.Items[base:], items, base); err != nil {
		return fmt.Errorf("column %s: %w", tbl.Schema().Field(indexOfLeaf(indices, leaf[colItem])).Name, err)
	}
	if err := readRatings(colOf(colRating), out.Ratings[base:], base); err != nil {
		return fmt.Errorf("column %s: %w", tbl.Schema().Field(indexOfLeaf(indices, leaf[colRating])).Name, err)
	}
	if out.Times != nil {
		if err := readTimes(colOf(colTime), out.Times[base:], base); err != nil {
			return fmt.Errorf("column %s: %w", tbl.Schema().Field(indexOfLeaf(indices, leaf[colTime])).Name, err)
		}
	}
	return nil
}

func indexOfLeaf(indices []int, c int) int {
	for j, v := range indices {
		if v == c {
			return j
		}
	}
	return 0
}

// errNull reports the first null of a chunk; row is 1-based within the file.
func errNull(a arrow.Array, base int) error {
	for i := 0; i < a.Len(); i++ {
		if a.IsNull(i) {
			return fmt.Errorf("row %d: null value", base+i+1)
		}
	}
	return errors.New("null value")
}

// readIDs maps the ids of col to dense indices in dst.
func readIDs(col *arrow.Chunked, dst []int32, d *idDict, base int) error {
	off := 0
	for _, a := range col.Chunks() {
		if a.NullN() > 0 {
			return errNull(a, base+off)
		}
		n := a.Len()
		if off+n > len(dst) {
			return fmt.Errorf("column longer than its row group")
		}
		out := dst[off : off+n]
		switch a := a.(type) {
		case *array.Dictionary:
			remap, err := dictRemap(a.Dictionary(), d)
			if err != nil {
				return err
			}
			if err := mapIndices(a.Indices(), remap, out); err != nil {
				return err
			}
		default:
			if err := mapValues(a, d, out); err != nil {
				return err
			}
		}
		off += n
	}
	if off != len(dst) {
		return fmt.Errorf("column shorter than its row group")
	}
	return nil
}

// dictRemap returns the dense index of every entry of an Arrow dictionary.
func dictRemap(dict arrow.Array, d *idDict) ([]int32, error) {
	remap := make([]int32, dict.Len())
	if dict.NullN() > 0 {
		// A null dictionary entry is only an error if a row uses it;
		// mark it and let mapIndices complain.
		for i := range remap {
			remap[i] = -1
		}
		valid := make([]int32, dict.Len())
		if err := mapValuesMasked(dict, d, valid); err != nil {
			return nil, err
		}
		for i := range remap {
			if dict.IsValid(i) {
				remap[i] = valid[i]
			}
		}
		return remap, nil
	}
	return remap, mapValues(dict, d, remap)
}

func mapValuesMasked(a arrow.Array, d *idDict, out []int32) error {
	switch a := a.(type) {
	case *array.String:
		for i := range out {
			if a.IsValid(i) {
				out[i] = d.str(a.Value(i))
			}
		}
	case *array.LargeString:
		for i := range out {
			if a.IsValid(i) {
				out[i] = d.str(a.Value(i))
			}
		}
	default:
		return fmt.Errorf("ids of type %s with nulls in the dictionary are not supported", a.DataType())
	}
	return nil
}

func mapIndices(idx arrow.Array, remap []int32, out []int32) error {
	get := func(i int) int64 { return 0 }
	switch x := idx.(type) {
	case *array.Int8:
		get = func(i int) int64 { return int64(x.Value(i)) }
	case *array.Int16:
		get = func(i int) int64 { return int64(x.Value(i)) }
	case *array.Int32:
		v := x.Int32Values()
		for i := range out {
			k := v[i]
			if k < 0 || int(k) >= len(remap) || remap[k] < 0 {
				return fmt.Errorf("dictionary index %d invalid", k)
			}
			out[i] = remap[k]
		}
		return nil
	case *array.Int64:
		get = func(i int) int64 { return x.Value(i) }
	case *array.Uint8:
		get = func(i int) int64 { return int64(x.Value(i)) }
	case *array.Uint16:
		get = func(i int) int64 { return int64(x.Value(i)) }
	case *array.Uint32:
		get = func(i int) int64 { return int64(x.Value(i)) }
	default:
		return fmt.Errorf("dictionary indices of type %s are not supported", idx.DataType())
	}
	for i := range out {
		k := get(i)
		if k < 0 || k >= int64(len(remap)) || remap[k] < 0 {
			return fmt.Errorf("dictionary index %d invalid", k)
		}
		out[i] = remap[k]
	}
	return nil
}

// mapValues maps a plain (not dictionary-encoded) id array.
func mapValues(a arrow.Array, d *idDict, out []int32) error {
	switch a := a.(type) {
	case *array.Int64:
		for i, v := range a.Int64Values() {
			out[i] = d.int(v)
		}
	case *array.Int32:
		for i, v := range a.Int32Values() {
			out[i] = d.int(int64(v))
		}
	case *array.Int16:
		for i, v := range a.Int16Values() {
			out[i] = d.int(int64(v))
		}
	case *array.Int8:
		for i, v := range a.Int8Values() {
			out[i] = d.int(int64(v))
		}
	case *array.Uint32:
		for i, v := range a.Uint32Values() {
			out[i] = d.int(int64(v))
		}
	case *array.Uint16:
		for i, v := range a.Uint16Values() {
			out[i] = d.int(int64(v))
		}
	case *array.Uint8:
		for i, v := range a.Uint8Values() {
			out[i] = d.int(int64(v))
		}
	case *array.Uint64:
		for i, v := range a.Uint64Values() {
			if v > math.MaxInt64 {
				out[i] = d.str(strconv.FormatUint(v, 10))
				continue
			}
			out[i] = d.int(int64(v))
		}
	case *array.String:
		for i := range out {
			out[i] = d.str(a.Value(i))
		}
	case *array.LargeString:
		for i := range out {
			out[i] = d.str(a.Value(i))
		}
	case *array.Binary:
		for i := range out {
			out[i] = d.bytes(a.Value(i))
		}
	case *array.LargeBinary:
		for i := range out {
			out[i] = d.bytes(a.Value(i))
		}
	default:
		return fmt.Errorf("ids of type %s are not supported (want integers or strings)", a.DataType())
	}
	return nil
}

// readChunks fills dst from the chunks of col, one chunk at a time through
// fill, which converts a chunk's values into out (len(out) = the chunk's
// length) and returns an error naming the column's unsupported type. base is
// the table row of dst[0], for the row numbers in errors.
func readChunks[T any](col *arrow.Chunked, dst []T, base int, fill func(a arrow.Array, out []T, base int) error) error {
	off := 0
	for _, a := range col.Chunks() {
		if a.NullN() > 0 {
			return errNull(a, base+off)
		}
		n := a.Len()
		if off+n > len(dst) {
			return fmt.Errorf("column longer than its row group")
		}
		if err := fill(a, dst[off:off+n], base+off); err != nil {
			return err
		}
		off += n
	}
	if off != len(dst) {
		return fmt.Errorf("column shorter than its row group")
	}
	return nil
}

// convert sets out[i] = D(in[i]).
func convert[D float32 | int64, S float64 | int64 | int32 | uint32 | int16 | int8 | uint8](out []D, in []S) {
	for i, v := range in {
		out[i] = D(v)
	}
}

func readRatings(col *arrow.Chunked, dst []float32, base int) error {
	return readChunks(col, dst, base, func(a arrow.Array, out []float32, base int) error {
		switch a := a.(type) {
		case *array.Float32:
			copy(out, a.Float32Values())
		case *array.Float64:
			convert(out, a.Float64Values())
		case *array.Int64:
			convert(out, a.Int64Values())
		case *array.Int32:
			convert(out, a.Int32Values())
		case *array.Int16:
			convert(out, a.Int16Values())
		case *array.Int8:
			convert(out, a.Int8Values())
		case *array.Uint8:
			convert(out, a.Uint8Values())
		default:
			return fmt.Errorf("ratings of type %s are not supported (want a number)", a.DataType())
		}
		for i, v := range out {
			if f := float64(v); math.IsNaN(f) || math.IsInf(f, 0) {
				return fmt.Errorf("row %d: rating %v is not a finite float32", base+i+1, v)
			}
		}
		return nil
	})
}

// TimestampSeconds returns v, an Arrow timestamp in unit, as Unix seconds
// rounded down (toward −∞: 1.5 s before the epoch is −2), the timestamp
// column of a ratings table.
func TimestampSeconds(v arrow.Timestamp, unit arrow.TimeUnit) int64 {
	return floorDiv(int64(v), unitsPerSecond(unit))
}

// unitsPerSecond is how many of unit make a second.
func unitsPerSecond(unit arrow.TimeUnit) int64 {
	switch unit {
	case arrow.Millisecond:
		return 1e3
	case arrow.Microsecond:
		return 1e6
	case arrow.Nanosecond:
		return 1e9
	}
	return 1
}

// floorDiv is v / div rounded toward −∞ (div > 0).
func floorDiv(v, div int64) int64 {
	q := v / div
	if v%div < 0 {
		q--
	}
	return q
}

func readTimes(col *arrow.Chunked, dst []int64, base int) error {
	return readChunks(col, dst, base, func(a arrow.Array, out []int64, _ int) error {
		switch a := a.(type) {
		case *array.Int64:
			copy(out, a.Int64Values())
		case *array.Int32:
			convert(out, a.Int32Values())
		case *array.Uint32:
			convert(out, a.Uint32Values())
		case *array.Timestamp:
			div := unitsPerSecond(a.DataType().(*arrow.TimestampType).Unit)
			for i, v := range a.TimestampValues() {
				out[i] = floorDiv(int64(v), div)
			}
		default:
			return fmt.Errorf("timestamps of type %s are not supported (want integer seconds or a timestamp)", a.DataType())
		}
		return nil
	})
}

// idDict assigns dense indices to ids in order of first appearance. Integer
// ids in [0, len(small)) use an array (small[v] is index+1, 0 = unseen);
// others a map. Integer and string ids share one order; an integer id and
// its decimal string are the same id.
type idDict struct {
	small    []int32
	smallMax int // small never grows beyond this many entries
	ints     map[int64]int32
	strs     map[string]int32
	order    []idRef
}

// idRef is one dictionary entry: an integer id, or a string id when isStr.
type idRef struct {
	v     int64
	s     string
	isStr bool
}

func newIDDict(rows int) *idDict {
	return &idDict{smallMax: max(1<<20, min(2*rows, 1<<24)), ints: map[int64]int32{}, strs: map[string]int32{}}
}

func (d *idDict) int(v int64) int32 {
	if uint64(v) < uint64(len(d.small)) {
		if k := d.small[v]; k != 0 {
			return k - 1
		}
	} else if v >= 0 && v < int64(d.smallMax) {
		n := max(int(v)+1, 2*len(d.small), 1024)
		n = min(n, d.smallMax)
		grown := make([]int32, n)
		copy(grown, d.small)
		d.small = grown
	} else if k, ok := d.ints[v]; ok {
		return k
	}
	k, ok := int32(0), false
	if len(d.strs) > 0 {
		k, ok = d.strs[strconv.FormatInt(v, 10)]
	}
	if !ok {
		k = int32(len(d.order))
		d.order = append(d.order, idRef{v: v})
	}
	if uint64(v) < uint64(len(d.small)) {
		d.small[v] = k + 1
	} else {
		d.ints[v] = k
	}
	return k
}

func (d *idDict) str(s string) int32 {
	if k, ok := d.strs[s]; ok {
		return k
	}
	return d.addStr(s)
}

func (d *idDict) bytes(b []byte) int32 {
	if k, ok := d.strs[string(b)]; ok { // no allocation for the lookup
		return k
	}
	return d.addStr(string(b))
}

func (d *idDict) addStr(s string) int32 {
	// A string id equal to the canonical form of an integer id already seen
	// (a file mixing both would be odd, but one id must keep one index).
	if v, err := strconv.ParseInt(s, 10, 64); err == nil && isCanonicalInt(s) {
		if uint64(v) < uint64(len(d.small)) && d.small[v] != 0 {
			return d.small[v] - 1
		}
		if k, ok := d.ints[v]; ok {
			return k
		}
	}
	k := int32(len(d.order))
	s = strings.Clone(s)
	d.strs[s] = k
	d.order = append(d.order, idRef{s: s, isStr: true})
	return k
}

// strings returns the dictionary as strings, in index order.
func (d *idDict) strings() []string {
	out := make([]string, len(d.order))
	for i, r := range d.order {
		if r.isStr {
			out[i] = r.s
		} else {
			out[i] = strconv.FormatInt(r.v, 10)
		}
	}
	return out
}
