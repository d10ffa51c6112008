package ingest

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/recs-dev/recs/internal/azure"
	"github.com/recs-dev/recs/internal/emulator"
	"github.com/recs-dev/recs/internal/errs"
	"github.com/recs-dev/recs/ratings"
)

// sparkTypes are the Spark SQL types of one way to write the columns
// userId, movieId, rating and timestamp.
type sparkTypes struct {
	name                      string
	user, item, rating, times arrow.DataType
}

var sparkTypeSets = []sparkTypes{
	{"int-long-double-long", arrow.PrimitiveTypes.Int32, arrow.PrimitiveTypes.Int64, arrow.PrimitiveTypes.Float64, arrow.PrimitiveTypes.Int64},
	{"string-int-float-int", arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int32, arrow.PrimitiveTypes.Float32, arrow.PrimitiveTypes.Int32},
	{"long-string-double-timestamp", arrow.PrimitiveTypes.Int64, arrow.BinaryTypes.String, arrow.PrimitiveTypes.Float64, arrow.FixedWidthTypes.Timestamp_us},
}

// sparkRows returns n distinct (user, item) ratings from a seeded
// generator: users 1..40, items 100..199, half-star ratings, times in
// 2019-2021, in generation order.
func sparkRows(n int) []row {
	rng := rand.New(rand.NewPCG(16, 1))
	seen := map[[2]int]bool{}
	var out []row
	for len(out) < n {
		u, i := 1+rng.IntN(40), 100+rng.IntN(100)
		if seen[[2]int{u, i}] {
			continue
		}
		seen[[2]int{u, i}] = true
		ts := time.Date(2019+rng.IntN(3), time.Month(1+rng.IntN(12)), 1+rng.IntN(28), 0, 0, 0, 0, time.UTC).Unix() + int64(rng.IntN(86400))
		out = append(out, row{u: strconv.Itoa(u), i: strconv.Itoa(i), r: float32(1+rng.IntN(10)) / 2, t: ts})
	}
	return out
}

func yearOf(ts int64) int { return time.Unix(ts, 0).UTC().Year() }

// writeSparkPart writes rows as one Parquet part file with the columns of
// ty that are not in omit (a partition key). A null rating is written for
// the row at index nullAt (-1: none).
func writeSparkPart(t *testing.T, path string, rows []row, ty sparkTypes, omit string, nullAt int) {
	t.Helper()
	var fields []arrow.Field
	for _, f := range []arrow.Field{{Name: "userId", Type: ty.user}, {Name: "movieId", Type: ty.item},
		{Name: "rating", Type: ty.rating, Nullable: true}, {Name: "timestamp", Type: ty.times}} {
		if f.Name != omit {
			fields = append(fields, f)
		}
	}
	schema := arrow.NewSchema(fields, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for k, r := range rows {
		for j, f := range fields {
			fb := b.Field(j)
			var id string
			switch f.Name {
			case "userId":
				id = r.u
			case "movieId":
				id = r.i
			case "rating":
				switch {
				case k == nullAt:
					fb.AppendNull()
				case f.Type == arrow.PrimitiveTypes.Float64:
					fb.(*array.Float64Builder).Append(float64(r.r))
				default:
					fb.(*array.Float32Builder).Append(r.r)
				}
				continue
			case "timestamp":
				switch f.Type {
				case arrow.PrimitiveTypes.Int64:
					fb.(*array.Int64Builder).Append(r.t)
				case arrow.PrimitiveTypes.Int32:
					fb.(*array.Int32Builder).Append(int32(r.t))
				default: // microseconds, as Spark's TimestampType
					fb.(*array.TimestampBuilder).Append(arrow.Timestamp(r.t*1e6 + 123))
				}
				continue
			}
			v, _ := strconv.Atoi(id)
			switch fb := fb.(type) {
			case *array.Int32Builder:
				fb.Append(int32(v))
			case *array.Int64Builder:
				fb.Append(int64(v))
			case *array.StringBuilder:
				fb.Append(id)
			}
		}
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	var buf bytes.Buffer
	fw, err := pqarrow.NewFileWriter(schema, &buf, parquet.NewWriterProperties(
		parquet.WithCompression(compress.Codecs.Snappy), parquet.WithMaxRowGroupLength(7)), pqarrow.DefaultWriterProps())
	if err != nil {
		t.Fatal(err)
	}
	if err := fw.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, path, buf.Bytes())
}

func mustWrite(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// sparkPartName is a part file name as Spark writes it.
func sparkPartName(k int) string {
	return fmt.Sprintf("part-%05d-2c6a8f4e-1d3b-4e5f-9a7c-%012d.c000.snappy.parquet", k, k)
}

// writeSparkDataset writes rows as Spark's df.write.partitionBy(key)
// would: one directory key=value per value of key (values in byte order),
// two part files in each, _SUCCESS, a .crc file and a _temporary/ left
// over from a failed task. Rows are returned in the order in which the
// parts hold them.
func writeSparkDataset(t *testing.T, root string, rows []row, ty sparkTypes, key string) []row {
	t.Helper()
	groups := map[string][]row{}
	for _, r := range rows {
		v := ""
		switch key {
		case "year":
			v = strconv.Itoa(yearOf(r.t))
		case "userId":
			v = r.u
		}
		groups[v] = append(groups[v], r)
	}
	var values []string
	for v := range groups {
		values = append(values, v)
	}
	sort.Strings(values)
	var ordered []row
	k := 0
	for _, v := range values {
		g := groups[v]
		half := (len(g) + 1) / 2
		omit := ""
		if key != "year" {
			omit = key // Spark drops a partition column from the files
		}
		for _, part := range [][]row{g[:half], g[half:]} {
			if len(part) == 0 {
				continue
			}
			writeSparkPart(t, filepath.Join(root, key+"="+v, sparkPartName(k)), part, ty, omit, -1)
			k++
			ordered = append(ordered, part...)
		}
		mustWrite(t, filepath.Join(root, key+"="+v, "."+sparkPartName(0)+".crc"), []byte("not parquet"))
	}
	mustWrite(t, filepath.Join(root, "_SUCCESS"), nil)
	mustWrite(t, filepath.Join(root, "_temporary", "0", "task", sparkPartName(99)), []byte("half a file"))
	return ordered
}

// singleFile writes rows, in order, as one Parquet file with
// ratings.WriteFile and returns its path.
func singleFile(t *testing.T, rows []row) string {
	t.Helper()
	b := ratings.NewBuilder(true)
	for _, r := range rows {
		b.Add(r.u, r.i, r.r, r.t)
	}
	p := filepath.Join(t.TempDir(), "single.parquet")
	if err := ratings.WriteFile(p, b.Table()); err != nil {
		t.Fatal(err)
	}
	return p
}

func sameTable(t *testing.T, what string, got, want *ratings.Table) {
	t.Helper()
	if !reflect.DeepEqual(got.UserIDs, want.UserIDs) || !reflect.DeepEqual(got.ItemIDs, want.ItemIDs) ||
		!reflect.DeepEqual(got.Users, want.Users) || !reflect.DeepEqual(got.Items, want.Items) ||
		!reflect.DeepEqual(got.Ratings, want.Ratings) || !reflect.DeepEqual(got.Times, want.Times) {
		t.Errorf("%s: the table differs from the single file's\n got %v\nwant %v", what, rowsOf(got), rowsOf(want))
	}
}

// TestReadSparkDataset: a directory of Parquet parts written as Spark
// writes them (partitionBy year, Spark-style part names, _SUCCESS, .crc
// and _temporary/ that must be skipped) loads to exactly the table of the
// single file holding the same rows in the same order — ids, dense
// indices, ratings and times — for each set of Spark column types, with
// 4 workers and with 1 (small batches, many chunks).
func TestReadSparkDataset(t *testing.T) {
	rows := sparkRows(300)
	ctx := context.Background()
	for _, ty := range sparkTypeSets {
		t.Run(ty.name, func(t *testing.T) {
			root := filepath.Join(t.TempDir(), "ratings")
			ordered := writeSparkDataset(t, root, rows, ty, "year")
			want, err := LoadTable(ctx, singleFile(t, ordered))
			if err != nil {
				t.Fatal(err)
			}
			got, err := LoadTable(ctx, root)
			if err != nil {
				t.Fatal(err)
			}
			sameTable(t, "LoadTable(dir)", got, want)

			old := parquetBatchRows
			parquetBatchRows = 5
			defer func() { parquetBatchRows = old }()
			rec := &recorder{}
			got, rep, err := Read(ctx, []string{root + string(filepath.Separator)}, Options{Workers: 1, Progress: rec})
			if err != nil {
				t.Fatal(err)
			}
			sameTable(t, "Read(dir/, 1 worker)", got, want)
			if len(rep.Sources) != 1 || rep.Sources[0].Format != FormatParquet || rep.Sources[0].Rows != 300 {
				t.Errorf("report %+v", rep.Sources)
			}
			if rec.total == 0 || rec.done != rec.total {
				t.Errorf("progress: %d of %d bytes", rec.done, rec.total)
			}

			// A glob of some partitions: their rows, in order.
			var late []row
			for _, r := range ordered {
				if yearOf(r.t) >= 2020 {
					late = append(late, r)
				}
			}
			wantLate, err := LoadTable(ctx, singleFile(t, late))
			if err != nil {
				t.Fatal(err)
			}
			got, err = LoadTable(ctx, filepath.Join(root, "year=202*", "part-*.parquet"))
			if err != nil {
				t.Fatal(err)
			}
			sameTable(t, "LoadTable(glob)", got, wantLate)
		})
	}
}

// TestReadPartitionColumns: columns that exist only in the partition path
// (userId=N/, as df.write.partitionBy("userId") leaves them) are columns
// like the others, found by name or by --user-col; the extra partition
// column year is ignored, or used when asked for.
func TestReadPartitionColumns(t *testing.T) {
	rows := sparkRows(200)
	ctx := context.Background()
	root := filepath.Join(t.TempDir(), "by-user")
	ordered := writeSparkDataset(t, root, rows, sparkTypeSets[0], "userId")
	want, err := LoadTable(ctx, singleFile(t, ordered))
	if err != nil {
		t.Fatal(err)
	}
	got, err := LoadTable(ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	sameTable(t, "partitioned by userId", got, want)
	// Named explicitly, and by index: the file's 3 columns, then the key.
	for _, col := range []string{"userId", "3"} {
		got, _, err := Read(ctx, []string{root}, Options{UserCol: col, ItemCol: "movieId"})
		if err != nil {
			t.Fatal(err)
		}
		sameTable(t, "--user-col "+col, got, want)
	}
	// A partition key as the rating: year=2019/ holds ratings "2019".
	yroot := filepath.Join(t.TempDir(), "by-year")
	writeSparkDataset(t, yroot, rows, sparkTypeSets[0], "year")
	got, _, err = Read(ctx, []string{yroot}, Options{RatingCol: "year", TimeCol: NoColumn})
	if err != nil {
		t.Fatal(err)
	}
	for k := range got.Len() {
		if r := got.Ratings[k]; r < 2019 || r > 2021 {
			t.Fatalf("row %d: rating %v, want a year", k, r)
		}
	}
}

// TestReadDatasetErrors: bad parts are input errors that name the part
// file (and the row); --skip-bad skips a row with a null rating.
func TestReadDatasetErrors(t *testing.T) {
	ctx := context.Background()
	rows := sparkRows(40)
	ty := sparkTypeSets[0]
	dir := func() string { return filepath.Join(t.TempDir(), "t") }

	d := dir()
	writeSparkPart(t, filepath.Join(d, sparkPartName(0)), rows[:20], ty, "", -1)
	writeSparkPart(t, filepath.Join(d, sparkPartName(1)), rows[20:], ty, "", 6)
	_, _, err := Read(ctx, []string{d}, Options{})
	if !errs.IsInput(err) || !strings.Contains(err.Error(), sparkPartName(1)+":7: column rating: null rating") {
		t.Errorf("null rating: %v", err)
	}
	tab, rep, err := Read(ctx, []string{d}, Options{SkipBad: true})
	if err != nil || tab.Len() != 39 || rep.Skipped != 1 {
		t.Errorf("--skip-bad: %v rows, report %+v, %v", tab, rep, err)
	}

	d = dir()
	writeSparkPart(t, filepath.Join(d, sparkPartName(0)), rows, ty, "", -1)
	mustWrite(t, filepath.Join(d, "README.txt"), []byte("written by the nightly job\n"))
	if _, _, err := Read(ctx, []string{d}, Options{}); !errs.IsInput(err) ||
		!strings.Contains(err.Error(), filepath.Join(d, "README.txt")+": not a Parquet file") {
		t.Errorf("text file among the parts: %v", err)
	}

	d = dir()
	writeSparkPart(t, filepath.Join(d, "year=2019", sparkPartName(0)), rows[:20], ty, "", -1)
	writeSparkPart(t, filepath.Join(d, "month=1", sparkPartName(1)), rows[20:], ty, "", -1)
	if _, _, err := Read(ctx, []string{d}, Options{}); !errs.IsInput(err) || !strings.Contains(err.Error(), "partition keys") {
		t.Errorf("mixed partition keys: %v", err)
	}

	d = dir()
	writeSparkPart(t, filepath.Join(d, sparkPartName(0)), rows, ty, "", -1)
	mustWrite(t, filepath.Join(d, "_delta_log", "00000000000000000000.json"), []byte("{}\n"))
	if _, _, err := Read(ctx, []string{d}, Options{}); !errs.IsInput(err) || !strings.Contains(err.Error(), "Delta table") {
		t.Errorf("Delta table: %v", err)
	}

	d = dir()
	mustWrite(t, filepath.Join(d, "_SUCCESS"), nil)
	if _, _, err := Read(ctx, []string{d}, Options{}); !errs.IsInput(err) || !strings.Contains(err.Error(), "no part files") {
		t.Errorf("only _SUCCESS: %v", err)
	}
	if _, _, err := Read(ctx, []string{filepath.Join(d, "*.parquet")}, Options{}); !errs.IsInput(err) || !strings.Contains(err.Error(), "no part files") {
		t.Errorf("glob matching nothing: %v", err)
	}
}

// TestReadBlobDataset uploads a Spark-style partitioned directory to
// Azurite and reads it by URL (with and without the trailing '/', and as a
// glob): the same table as the local single file. The SAS never appears in
// the report or in errors.
func TestReadBlobDataset(t *testing.T) {
	az := emulator.Azurite(t)
	ctx := context.Background()
	rows := sparkRows(250)
	root := filepath.Join(t.TempDir(), "ratings")
	ordered := writeSparkDataset(t, root, rows, sparkTypeSets[1], "year")
	want, err := LoadTable(ctx, singleFile(t, ordered))
	if err != nil {
		t.Fatal(err)
	}

	name := fmt.Sprintf("ds%d", time.Now().UnixNano()%1e9)
	c, err := container.NewClientFromConnectionString(az.ConnectionString(), name, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Create(ctx, nil); err != nil {
		t.Fatal(err)
	}
	err = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		data, _ := os.ReadFile(p)
		_, err = c.NewBlockBlobClient("warehouse/ratings/"+filepath.ToSlash(rel)).UploadBuffer(ctx, data, nil)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	cred, _ := container.NewSharedKeyCredential(az.Account, az.Key)
	qp, err := sas.BlobSignatureValues{Protocol: sas.ProtocolHTTPSandHTTP, ExpiryTime: time.Now().Add(time.Hour),
		Permissions: (&sas.ContainerPermissions{Read: true, List: true}).String(), ContainerName: name}.SignWithSharedKey(cred)
	if err != nil {
		t.Fatal(err)
	}
	base := az.ServiceURL + "/" + name + "/warehouse/ratings"
	opts := Options{Blob: BlobOptions{Retry: policy.RetryOptions{MaxRetries: -1}}}
	for _, loc := range []string{base + "/?" + qp.Encode(), base + "?" + qp.Encode()} {
		got, rep, err := Read(ctx, []string{loc}, opts)
		if err != nil {
			t.Fatal(err)
		}
		sameTable(t, loc, got, want)
		if n := rep.Sources[0].Name; strings.Contains(n, qp.Signature()) || !strings.HasPrefix(n, base) {
			t.Errorf("source name %q", n)
		}
	}
	// The glob and LoadTable, with the key from the environment.
	azure.SetDefaultCredentials(azure.Credentials{AccountKey: az.Key})
	t.Cleanup(func() { azure.SetDefaultCredentials(azure.Credentials{}) })
	var late []row
	for _, r := range ordered {
		if yearOf(r.t) >= 2020 {
			late = append(late, r)
		}
	}
	wantLate, err := LoadTable(ctx, singleFile(t, late))
	if err != nil {
		t.Fatal(err)
	}
	got, err := LoadTable(ctx, base+"/year=202*/")
	if err != nil {
		t.Fatal(err)
	}
	sameTable(t, "glob", got, wantLate)

	// A corrupt part: an input error naming the blob, without the SAS.
	if _, err := c.NewBlockBlobClient("warehouse/ratings/year=2021/"+sparkPartName(50)).UploadBuffer(ctx, []byte("PAR1 and then garbage"), nil); err != nil {
		t.Fatal(err)
	}
	_, _, err = Read(ctx, []string{base + "/?" + qp.Encode()}, opts)
	if !errs.IsInput(err) || !strings.Contains(err.Error(), base+"/year=2021/"+sparkPartName(50)) || strings.Contains(err.Error(), qp.Signature()) {
		t.Errorf("corrupt part: %v", err)
	}
}

func TestADLSToBlobURL(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"abfss://lake@acct.dfs.core.windows.net/warehouse/ratings/", "https://acct.blob.core.windows.net/lake/warehouse/ratings/"},
		{"abfs://lake@acct.dfs.core.windows.net/m", "https://acct.blob.core.windows.net/lake/m"},
		{"wasbs://lake@acct.blob.core.windows.net/m/x.parquet", "https://acct.blob.core.windows.net/lake/m/x.parquet"},
		{"abfss://lake@acct.dfs.core.chinacloudapi.cn/m", "https://acct.blob.core.chinacloudapi.cn/lake/m"},
	} {
		got, ok := azure.ADLSToBlobURL(tc.in)
		if !ok || got != tc.want {
			t.Errorf("ADLSToBlobURL(%q) = %q, %v; want %q", tc.in, got, ok, tc.want)
		}
		if !IsBlobURL(tc.in) {
			t.Errorf("IsBlobURL(%q) = false", tc.in)
		}
	}
	for _, s := range []string{"https://acct.blob.core.windows.net/c/p", "abfss://acct.dfs.core.windows.net/p", "s3://bucket/p", "abfss://c@acct.queue.core.windows.net/p"} {
		if got, ok := azure.ADLSToBlobURL(s); ok {
			t.Errorf("ADLSToBlobURL(%q) = %q, want no mapping", s, got)
		}
	}
}
