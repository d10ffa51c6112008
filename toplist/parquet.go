package toplist

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	_ "github.com/recs-dev/recs/internal/parquetcodec" // standard-speed Snappy for the files written here
)

// parquetBatch is the number of lists per record batch (and row group).
const parquetBatch = 64 << 10

var parquetSchema = arrow.NewSchema([]arrow.Field{
	{Name: "user", Type: arrow.BinaryTypes.String},
	{Name: "items", Type: arrow.ListOfNonNullable(arrow.BinaryTypes.String)},
	{Name: "scores", Type: arrow.ListOfNonNullable(arrow.PrimitiveTypes.Float32)},
}, nil)

type parquetEncoder struct {
	fw     *pqarrow.FileWriter
	b      *array.RecordBuilder
	users  *array.StringBuilder
	items  *array.ListBuilder
	itemV  *array.StringBuilder
	scores *array.ListBuilder
	scoreV *array.Float32Builder
	n      int
}

func newParquetEncoder(w io.Writer, meta Meta) (*parquetEncoder, error) {
	h, err := encodeHeader(meta)
	if err != nil {
		return nil, err
	}
	props := parquet.NewWriterProperties(
		parquet.WithCompression(compress.Codecs.Snappy),
		parquet.WithDictionaryDefault(true),
		parquet.WithMaxRowGroupLength(parquetBatch),
		parquet.WithCreatedBy("recs"),
	)
	// The FileWriter closes its destination if it can; the caller owns w.
	fw, err := pqarrow.NewFileWriter(parquetSchema, struct{ io.Writer }{w}, props, pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	if err != nil {
		return nil, fmt.Errorf("toplist: parquet: %w", err)
	}
	if err := fw.AppendKeyValueMetadata(ParquetMetaKey, string(h)); err != nil {
		return nil, fmt.Errorf("toplist: parquet: %w", err)
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, parquetSchema)
	e := &parquetEncoder{fw: fw, b: b,
		users:  b.Field(0).(*array.StringBuilder),
		items:  b.Field(1).(*array.ListBuilder),
		scores: b.Field(2).(*array.ListBuilder),
	}
	e.itemV = e.items.ValueBuilder().(*array.StringBuilder)
	e.scoreV = e.scores.ValueBuilder().(*array.Float32Builder)
	return e, nil
}

func (e *parquetEncoder) write(l *List) error {
	e.users.Append(l.User)
	e.items.Append(true)
	e.scores.Append(true)
	for _, it := range l.Items {
		e.itemV.Append(it.ID)
		e.scoreV.Append(it.Score)
	}
	e.n++
	if e.n == parquetBatch {
		return e.flush()
	}
	return nil
}

func (e *parquetEncoder) flush() error {
	if e.n == 0 {
		return nil
	}
	rec := e.b.NewRecordBatch()
	defer rec.Release()
	e.n = 0
	if err := e.fw.Write(rec); err != nil {
		return fmt.Errorf("toplist: parquet: %w", err)
	}
	return nil
}

func (e *parquetEncoder) close() error {
	defer e.b.Release()
	if err := e.flush(); err != nil {
		e.fw.Close()
		return err
	}
	if err := e.fw.Close(); err != nil {
		return fmt.Errorf("toplist: parquet: %w", err)
	}
	return nil
}

// parquetDecoder reads rows batch by batch.
type parquetDecoder struct {
	name   string
	pr     *file.Reader
	rr     pqarrow.RecordReader
	rec    arrow.RecordBatch
	users  *array.String
	items  *array.List
	itemV  *array.String
	scores *array.List
	scoreV *array.Float32
	i      int   // next row of rec
	row    int64 // rows returned so far
	rows   int64 // rows in the file
}

func newParquetDecoder(r parquet.ReaderAtSeeker, name string) (*parquetDecoder, Meta, error) {
	pr, err := file.NewParquetReader(r)
	if err != nil {
		return nil, Meta{}, errInput(name, 0, "not a Parquet file: %v", err)
	}
	kv := pr.MetaData().KeyValueMetadata()
	var hv *string
	if kv != nil {
		hv = kv.FindValue(ParquetMetaKey)
	}
	if hv == nil {
		pr.Close()
		return nil, Meta{}, errInput(name, 0, "no %q key in the Parquet metadata (is this a recs top-k file?)", ParquetMetaKey)
	}
	meta, err := decodeHeader([]byte(*hv))
	if err != nil {
		pr.Close()
		return nil, Meta{}, errInput(name, 0, "%v", err)
	}
	fr, err := pqarrow.NewFileReader(pr, pqarrow.ArrowReadProperties{BatchSize: 16 << 10}, memory.DefaultAllocator)
	if err != nil {
		pr.Close()
		return nil, Meta{}, errInput(name, 0, "%v", err)
	}
	sc, err := fr.Schema()
	if err != nil {
		pr.Close()
		return nil, Meta{}, errInput(name, 0, "%v", err)
	}
	want := map[string]arrow.DataType{
		"user":   arrow.BinaryTypes.String,
		"items":  arrow.ListOf(arrow.BinaryTypes.String),
		"scores": arrow.ListOf(arrow.PrimitiveTypes.Float32),
	}
	cols := make([]int, 0, 3)
	for _, n := range []string{"user", "items", "scores"} {
		idx := sc.FieldIndices(n)
		if len(idx) != 1 {
			pr.Close()
			return nil, Meta{}, errInput(name, 0, "want exactly one column %q, found %d", n, len(idx))
		}
		got := sc.Field(idx[0]).Type
		if !sameType(got, want[n]) {
			pr.Close()
			return nil, Meta{}, errInput(name, 0, "column %q has type %s, want %s", n, got, want[n])
		}
		cols = append(cols, idx[0])
	}
	rr, err := fr.GetRecordReader(context.Background(), cols, nil)
	if err != nil {
		pr.Close()
		return nil, Meta{}, errInput(name, 0, "%v", err)
	}
	return &parquetDecoder{name: name, pr: pr, rr: rr, rows: pr.NumRows()}, meta, nil
}

// sameType compares types ignoring list element names and nullability.
func sameType(got, want arrow.DataType) bool {
	gl, ok1 := got.(*arrow.ListType)
	wl, ok2 := want.(*arrow.ListType)
	if ok1 || ok2 {
		return ok1 && ok2 && arrow.TypeEqual(gl.Elem(), wl.Elem())
	}
	return arrow.TypeEqual(got, want)
}

func (d *parquetDecoder) next(l *List) error {
	for d.rec == nil || d.i >= int(d.rec.NumRows()) {
		if d.rec != nil {
			d.rec.Release()
			d.rec = nil
		}
		if !d.rr.Next() {
			if err := d.rr.Err(); err != nil && !errors.Is(err, io.EOF) {
				return errInput(d.name, 0, "row %d: %v", d.row+1, err)
			}
			return io.EOF
		}
		d.rec = d.rr.RecordBatch()
		d.rec.Retain()
		d.users = d.rec.Column(0).(*array.String)
		d.items = d.rec.Column(1).(*array.List)
		d.itemV = d.items.ListValues().(*array.String)
		d.scores = d.rec.Column(2).(*array.List)
		d.scoreV = d.scores.ListValues().(*array.Float32)
		d.i = 0
	}
	i := d.i
	d.i++
	d.row++
	if d.users.IsNull(i) || d.items.IsNull(i) || d.scores.IsNull(i) {
		return errInput(d.name, 0, "row %d: null user, items or scores", d.row)
	}
	is, ie := d.items.ValueOffsets(i)
	ss, se := d.scores.ValueOffsets(i)
	if ie-is != se-ss {
		return errInput(d.name, 0, "row %d: %d items but %d scores", d.row, ie-is, se-ss)
	}
	l.User = d.users.Value(i)
	l.Items = make([]Item, ie-is)
	for j := range l.Items {
		if d.itemV.IsNull(int(is)+j) || d.scoreV.IsNull(int(ss)+j) {
			return errInput(d.name, 0, "row %d: null item or score", d.row)
		}
		l.Items[j] = Item{ID: d.itemV.Value(int(is) + j), Score: d.scoreV.Value(int(ss) + j)}
	}
	return nil
}

func (d *parquetDecoder) where() (line, row int64) { return 0, d.row }

func (d *parquetDecoder) close() error {
	if d.rec != nil {
		d.rec.Release()
		d.rec = nil
	}
	d.rr.Release()
	return d.pr.Close()
}
