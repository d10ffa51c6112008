package ingest

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/recs-dev/recs/internal/errs"
	"github.com/recs-dev/recs/internal/testenv"
	"github.com/recs-dev/recs/ratings"
)

// row is one expected rating, with ids as written.
type row struct {
	u, i string
	r    float32
	t    int64
}

// rowsOf lists a table's rows with original ids.
func rowsOf(t *ratings.Table) []row {
	out := make([]row, t.Len())
	for k := range out {
		out[k] = row{u: t.UserIDs[t.Users[k]], i: t.ItemIDs[t.Items[k]], r: t.Ratings[k]}
		if t.Times != nil {
			out[k].t = t.Times[k]
		}
	}
	return out
}

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func gz(t testing.TB, data string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(data))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// zipOf builds an archive with the given members, in order.
func zipOf(t *testing.T, members ...string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	for k := 0; k+1 < len(members); k += 2 {
		f, err := w.Create(members[k])
		if err != nil {
			t.Fatal(err)
		}
		f.Write([]byte(members[k+1]))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// The expected rows below are the input lines transcribed by hand.
var (
	uData = "196\t242\t3\t881250949\n186\t302\t3\t891717742\n22\t377\t1\t878887116\n"
	uRows = []row{{"196", "242", 3, 881250949}, {"186", "302", 3, 891717742}, {"22", "377", 1, 878887116}}
	dat   = "1::1193::5::978300760\n1::661::3.5::978302109\n2::1193::4::978298413\n"
	dRows = []row{{"1", "1193", 5, 978300760}, {"1", "661", 3.5, 978302109}, {"2", "1193", 4, 978298413}}
	csv   = "userId,movieId,rating,timestamp\n1,2,3.5,1112486027\n1,29,3.5,1112484676\n2,32,0.5,974820889\n"
	cRows = []row{{"1", "2", 3.5, 1112486027}, {"1", "29", 3.5, 1112484676}, {"2", "32", 0.5, 974820889}}
)

func TestReadFormats(t *testing.T) {
	for _, tc := range []struct {
		name   string
		file   string
		data   []byte
		opts   Options
		want   []row
		format Format
		noTime bool
	}{
		{name: "udata", file: "u.data", data: []byte(uData), want: uRows, format: FormatUData},
		{name: "udata no final newline", file: "u.data", data: []byte(strings.TrimSuffix(uData, "\n")), want: uRows, format: FormatUData},
		{name: "dat", file: "ratings.dat", data: []byte(dat), want: dRows, format: FormatDat},
		{name: "csv LF", file: "ratings.csv", data: []byte(csv), want: cRows, format: FormatCSV},
		{name: "csv CRLF", file: "ratings.csv", data: []byte(strings.ReplaceAll(csv, "\n", "\r\n")), want: cRows, format: FormatCSV},
		{name: "csv BOM and blank lines", file: "ratings.csv", data: []byte("\ufeff" + strings.ReplaceAll(csv, "\n1,29", "\n\n1,29") + "\n\n"), want: cRows, format: FormatCSV},
		{name: "gzip udata", file: "u.data.gz", data: gz(t, uData), want: uRows, format: FormatUData},
		{name: "gzip csv CRLF", file: "r.csv.gz", data: gz(t, strings.ReplaceAll(csv, "\n", "\r\n")), want: cRows, format: FormatCSV},
		{name: "zip 100k", file: "ml-100k.zip", data: zipOf(t, "ml-100k/README", "x", "ml-100k/u.item", "1|Toy Story", "ml-100k/u.data", uData), want: uRows, format: FormatUData},
		{name: "zip 25m prefers ratings.csv", file: "ml-25m.zip", data: zipOf(t, "ml-25m/movies.csv", "movieId,title\n", "ml-25m/u.data", uData, "ml-25m/ratings.csv", csv), want: cRows, format: FormatCSV},
		{name: "zip 1m", file: "ml-1m.zip", data: zipOf(t, "ml-1m/ratings.dat", dat), want: dRows, format: FormatDat},
		{name: "forced udata", file: "x", data: []byte(uData), opts: Options{Format: FormatUData}, want: uRows, format: FormatUData},
		{name: "headerless csv", file: "x.csv", data: []byte("1,2,3.5,1112486027\n"),
			want: []row{{"1", "2", 3.5, 1112486027}}, format: FormatDelimited},
		{name: "delimited by name", file: "amazon.csv",
			data: []byte("asin,reviewerID,overall,unixReviewTime,summary\nB0001,A3R5OBKS7OM2IR,5.0,1356048000,good\nB0002,A3R5OBKS7OM2IR,2,1356134400,bad\n"),
			want: []row{{"A3R5OBKS7OM2IR", "B0001", 5, 1356048000}, {"A3R5OBKS7OM2IR", "B0002", 2, 1356134400}}, format: FormatCSV},
		{name: "delimited by explicit names", file: "x.txt",
			data: []byte("when;who;what;stars\n100;alice;book 1;4\n200;bob;book 2;2.5\n"),
			opts: Options{UserCol: "who", ItemCol: "what", RatingCol: "stars", TimeCol: "when"},
			want: []row{{"alice", "book 1", 4, 100}, {"bob", "book 2", 2.5, 200}}, format: FormatDelimited},
		{name: "delimited by index no header no time", file: "x.txt",
			data: []byte("x|5|u1|i1\ny|1|u2|i1\n"),
			opts: Options{Sep: "|", Header: HeaderNo, UserCol: "2", ItemCol: "3", RatingCol: "1"},
			want: []row{{"u1", "i1", 5, 0}, {"u2", "i1", 1, 0}}, format: FormatDelimited, noTime: true},
		{name: "time column none", file: "u.data", data: []byte(uData), opts: Options{TimeCol: NoColumn},
			want: []row{{"196", "242", 3, 0}, {"186", "302", 3, 0}, {"22", "377", 1, 0}}, format: FormatUData, noTime: true},
		{name: "three columns", file: "x.tsv", data: []byte("a\tb\t1\nc\td\t2\n"),
			want: []row{{"a", "b", 1, 0}, {"c", "d", 2, 0}}, format: FormatUData, noTime: true},
		{name: "quoted fields", file: "q.csv",
			data: []byte("user,item,rating\n\"Smith, J\",\"The \"\"Best\"\" Movie\",\"4.5\"\n"),
			want: []row{{"Smith, J", "The \"Best\" Movie", 4.5, 0}}, format: FormatCSV, noTime: true},
		{name: "ids kept as written", file: "x.csv",
			data: []byte("user,item,rating\n007,01,1\n7,1,2\n-3,+1,3\n"),
			want: []row{{"007", "01", 1, 0}, {"7", "1", 2, 0}, {"-3", "+1", 3, 0}}, format: FormatCSV, noTime: true},
		{name: "rating forms", file: "x.csv",
			data: []byte("u,i,rating\n1,1,1e0\n1,2, 2.25 \n1,3,-0.5\n1,4,.5\n1,5,12345678.5\n"),
			opts: Options{UserCol: "u", ItemCol: "i"},
			want: []row{{"1", "1", 1, 0}, {"1", "2", 2.25, 0}, {"1", "3", -0.5, 0}, {"1", "4", 0.5, 0}, {"1", "5", 12345678.5, 0}}, format: FormatCSV, noTime: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := writeFile(t, tc.file, tc.data)
			tab, rep, err := Read(context.Background(), []string{p}, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := rowsOf(tab); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("rows\n got %v\nwant %v", got, tc.want)
			}
			if tab.HasTimes() == tc.noTime {
				t.Errorf("HasTimes = %v, want %v", tab.HasTimes(), !tc.noTime)
			}
			if len(rep.Sources) != 1 || rep.Sources[0].Format != tc.format {
				t.Errorf("report sources %+v, want format %s", rep.Sources, tc.format)
			}
			if rep.Rows != int64(len(tc.want)) || rep.RowsRead != int64(len(tc.want)) {
				t.Errorf("report rows %d read %d, want %d", rep.Rows, rep.RowsRead, len(tc.want))
			}
		})
	}
}

func TestReadStdinAndSeveralSources(t *testing.T) {
	a := writeFile(t, "a.dat", []byte(dat))
	opts := Options{Stdin: strings.NewReader(strings.ReplaceAll(csv, "\n", "\r\n"))}
	tab, rep, err := Read(context.Background(), []string{a, "-"}, opts)
	if err != nil {
		t.Fatal(err)
	}
	want := append(append([]row{}, dRows...), cRows...)
	if got := rowsOf(tab); !reflect.DeepEqual(got, want) {
		t.Errorf("rows\n got %v\nwant %v", got, want)
	}
	// Users 1 and 2 appear in both files: one dictionary entry each, in
	// order of first appearance; items 1193, 661, 2, 29, 32.
	if !reflect.DeepEqual(tab.UserIDs, []string{"1", "2"}) || !reflect.DeepEqual(tab.ItemIDs, []string{"1193", "661", "2", "29", "32"}) {
		t.Errorf("dictionaries %v %v", tab.UserIDs, tab.ItemIDs)
	}
	if rep.Sources[1].Name != "-" || rep.Sources[1].Format != FormatCSV {
		t.Errorf("stdin source report %+v", rep.Sources[1])
	}
	// gzip on stdin too.
	tab, _, err = Read(context.Background(), []string{"-"}, Options{Stdin: bytes.NewReader(gz(t, uData))})
	if err != nil || !reflect.DeepEqual(rowsOf(tab), uRows) {
		t.Errorf("gzip stdin: %v %v", err, tab)
	}
	// A zip archive on stdin is read into memory.
	tab, rep, err = Read(context.Background(), []string{"-"}, Options{Stdin: bytes.NewReader(zipOf(t, "ml-1m/ratings.dat", dat))})
	if err != nil || !reflect.DeepEqual(rowsOf(tab), dRows) || rep.Sources[0].Name != "-/ml-1m/ratings.dat" {
		t.Errorf("zip stdin: %v %v %+v", err, tab, rep)
	}
}

func TestReadParquetSource(t *testing.T) {
	src := writeFile(t, "u.data", []byte(uData))
	tab, _, err := Read(context.Background(), []string{src}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	pq := filepath.Join(t.TempDir(), "r.parquet")
	if err := ratings.WriteFile(pq, tab); err != nil {
		t.Fatal(err)
	}
	// Parquet plus text: rows in source order, one dictionary.
	both, rep, err := Read(context.Background(), []string{pq, src}, Options{Dedupe: DedupeFirst})
	if err != nil {
		t.Fatal(err)
	}
	if rep.RowsRead != 6 || rep.Duplicates != 3 || rep.Sources[0].Format != FormatParquet {
		t.Errorf("report %+v: want 6 read, 3 duplicates, first source parquet", rep)
	}
	if got := rowsOf(both); !reflect.DeepEqual(got, uRows) {
		t.Errorf("rows %v, want %v", got, uRows)
	}
	if _, _, err := Read(context.Background(), []string{pq}, Options{Format: FormatCSV}); err == nil || !strings.HasSuffix(err.Error(), "is a Parquet file, not csv") {
		t.Errorf("parquet read as csv: %v", err)
	}
	if _, _, err := Read(context.Background(), []string{src}, Options{Format: FormatParquet}); err == nil || !strings.HasSuffix(err.Error(), "u.data: is not a Parquet file") {
		t.Errorf("text read as parquet: %v", err)
	}
	lt, err := LoadTable(context.Background(), pq)
	if err != nil || !reflect.DeepEqual(rowsOf(lt), uRows) {
		t.Errorf("LoadTable(parquet) = %v, %v", lt, err)
	}
	lt, err = LoadTable(context.Background(), src)
	if err != nil || !reflect.DeepEqual(rowsOf(lt), uRows) {
		t.Errorf("LoadTable(u.data) = %v, %v", lt, err)
	}
}

// inputErr asserts err is an *errs.InputError and returns its text.
func inputErr(t *testing.T, err error) string {
	t.Helper()
	if err == nil {
		t.Fatal("no error")
	}
	var ie *errs.InputError
	if !errors.As(err, &ie) {
		t.Fatalf("error %v (%T) is not an *errs.InputError", err, err)
	}
	return err.Error()
}

func TestReadBadInput(t *testing.T) {
	for _, tc := range []struct {
		name, file, data string
		opts             Options
		want             string // exact message after the temp dir prefix
	}{
		{"non-numeric rating", "u.data", "1\t2\t3\t4\n1\t3\tabc\t5\n", Options{}, `u.data:2: rating "abc" is not a number`},
		{"NaN rating", "r.csv", "userId,movieId,rating,timestamp\n1,2,3,4\n1,3,NaN,5\n", Options{}, `r.csv:3: rating "NaN" is not finite`},
		{"Inf rating", "r.csv", "userId,movieId,rating,timestamp\n1,3,-Inf,5\n", Options{}, `r.csv:2: rating "-Inf" is not finite`},
		{"overflowing rating", "u.data", "1\t2\t1e39\t4\n", Options{}, `u.data:1: rating "1e39" is out of range`},
		{"missing column", "ratings.dat", "1::2::3::4\n1::2\n", Options{}, `ratings.dat:2: line has 2 field(s) separated by "::", need 4 (user in 1, item in 2, rating in 3, timestamp in 4)`},
		{"bad timestamp", "u.data", "1\t2\t3\t4\n\n1\t2\t3\tyesterday\n", Options{}, `u.data:3: timestamp "yesterday" is not an integer (Unix seconds)`},
		{"empty user", "r.csv", "user,item,rating\n,2,3\n", Options{}, `r.csv:2: empty user id`},
		{"unterminated quote", "r.csv", "user,item,rating\n\"a,2,3\n", Options{}, `r.csv:2: unterminated quoted field (a quoted field cannot span lines)`},
		{"empty file", "u.data", "", Options{}, `u.data: empty file: no ratings`},
		{"blank file", "u.data", "\n\r\n\n", Options{}, `u.data: empty file: no ratings`},
		{"header only", "r.csv", "userId,movieId,rating,timestamp\r\n", Options{}, `r.csv: no ratings after the header line`},
		{"no separator", "r.txt", "hello\n", Options{}, `r.txt:1: cannot tell the field separator from the first line "hello"; give --sep (or --format)`},
		{"unknown column", "r.csv", "a,b,c\n1,2,3\n", Options{UserCol: "user"}, `r.csv:1: --user-col "user" is not a column of the header ["a" "b" "c"]`},
		{"no item column", "r.csv", "userId,x,rating\n1,2,3\n", Options{}, `r.csv:1: no item column in the header ["userId" "x" "rating"]; name it with --item-col`},
		{"duplicate error", "u.data", "1\t2\t3\t4\n5\t6\t1\t1\n1\t2\t4\t5\n", Options{Dedupe: DedupeError},
			`u.data:3: user "1" rated item "2" again (first at line 1); choose --dedupe last, first or mean to keep one`},
		{"gzip corrupt", "u.data.gz", string(gz(t, uData)[:20]), Options{}, `u.data.gz: reading: unexpected EOF`},
		{"zip without ratings", "x.zip", string(zipOf(t, "ml/movies.csv", "a")), Options{}, `x.zip: no ratings file (ratings.csv, ratings.dat, u.data) in the archive`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := writeFile(t, tc.file, []byte(tc.data))
			_, _, err := Read(context.Background(), []string{p}, tc.opts)
			msg := inputErr(t, err)
			want := filepath.Join(filepath.Dir(p), tc.want)
			if msg != want {
				t.Errorf("error\n got %s\nwant %s", msg, want)
			}
		})
	}
	_, _, err := Read(context.Background(), []string{filepath.Join(t.TempDir(), "missing.csv")}, Options{})
	if msg := inputErr(t, err); !strings.HasSuffix(msg, "missing.csv: open: no such file or directory") {
		t.Errorf("missing file: %s", msg)
	}
}

func TestSkipBadLines(t *testing.T) {
	data := "1\t2\t3\t4\nbroken\n1\t3\tx\t5\n2\t2\t4\t6\n2\t3\t5\tnow\n"
	p := writeFile(t, "u.data", []byte(data))
	tab, rep, err := Read(context.Background(), []string{p}, Options{SkipBad: true})
	if err != nil {
		t.Fatal(err)
	}
	want := []row{{"1", "2", 3, 4}, {"2", "2", 4, 6}}
	if got := rowsOf(tab); !reflect.DeepEqual(got, want) {
		t.Errorf("rows %v, want %v", got, want)
	}
	// Lines 2, 3 and 5 are bad, in that order.
	wantReasons := []string{
		p + `:2: line has 1 field(s) separated by "\t", need 4 (user in 1, item in 2, rating in 3, timestamp in 4)`,
		p + `:3: rating "x" is not a number`,
		p + `:5: timestamp "now" is not an integer (Unix seconds)`,
	}
	if rep.Skipped != 3 || !reflect.DeepEqual(rep.Reasons, wantReasons) || rep.Sources[0].Skipped != 3 {
		t.Errorf("report %+v\nwant skipped 3, reasons %q", rep, wantReasons)
	}
	_, _, err = Read(context.Background(), []string{p}, Options{SkipBad: true, MaxBad: 2})
	if msg := inputErr(t, err); msg != p+`:5: more than 2 bad lines (--max-bad-lines); this one: timestamp "now" is not an integer (Unix seconds)` {
		t.Errorf("max bad: %s", msg)
	}
}

func TestDedupe(t *testing.T) {
	defer func(n int) { dedupeRowsPerWorker = n }(dedupeRowsPerWorker)
	dedupeRowsPerWorker = 1
	// User 1 rates item 2 three times: at t=5 (4), t=9 (2), t=9 again (5,
	// a later line); user 2 rates item 2 at t=3 (1) then t=1 (3).
	data := "1\t2\t4\t5\n2\t2\t1\t3\n1\t2\t2\t9\n1\t7\t3\t1\n2\t2\t3\t1\n1\t2\t5\t9\n"
	for _, tc := range []struct {
		policy Dedupe
		want   []row
	}{
		// last: latest time, ties to the later line: (1,2) keeps line 6, (2,2) line 2.
		{DedupeLast, []row{{"2", "2", 1, 3}, {"1", "7", 3, 1}, {"1", "2", 5, 9}}},
		// first: earliest time, ties to the earlier line: (1,2) line 1, (2,2) line 5.
		{DedupeFirst, []row{{"1", "2", 4, 5}, {"1", "7", 3, 1}, {"2", "2", 3, 1}}},
		// mean: last's rows with mean ratings (4+2+5)/3 and (1+3)/2.
		{DedupeMean, []row{{"2", "2", 2, 3}, {"1", "7", 3, 1}, {"1", "2", 11.0 / 3, 9}}},
	} {
		for _, workers := range []int{1, 2, 3} {
			t.Run(fmt.Sprintf("%s/workers=%d", tc.policy, workers), func(t *testing.T) {
				p := writeFile(t, "u.data", []byte(data))
				tab, rep, err := Read(context.Background(), []string{p}, Options{Dedupe: tc.policy, Workers: workers})
				if err != nil {
					t.Fatal(err)
				}
				if got := rowsOf(tab); !reflect.DeepEqual(got, tc.want) {
					t.Errorf("rows\n got %v\nwant %v", got, tc.want)
				}
				if rep.Duplicates != 3 || rep.RowsRead != 6 || rep.Rows != 3 {
					t.Errorf("report %+v", rep)
				}
			})
		}
	}
	// Without timestamps, last and first go by line.
	p := writeFile(t, "x.tsv", []byte("a\tb\t1\na\tb\t2\n"))
	for policy, want := range map[Dedupe]float32{DedupeLast: 2, DedupeFirst: 1, DedupeMean: 1.5} {
		tab, _, err := Read(context.Background(), []string{p}, Options{Dedupe: policy})
		if err != nil || tab.Len() != 1 || tab.Ratings[0] != want {
			t.Errorf("%s without times: %v %v, want rating %v", policy, err, tab, want)
		}
	}
}

// TestChunking cuts inputs into chunks of a few bytes so that lines, CRLF
// pairs and the line count cross chunk boundaries, and checks the result
// and error line numbers do not depend on chunking or workers.
func TestChunking(t *testing.T) {
	defer func(n int) { chunkSize = n }(chunkSize)
	var b strings.Builder
	b.WriteString("userId,movieId,rating,timestamp\r\n")
	var want []row
	for k := 0; k < 500; k++ {
		u, i := fmt.Sprint(k%37), fmt.Sprintf("m%d", k%101)
		if k%7 == 0 {
			u = fmt.Sprintf("0%d", k%37) // a non-canonical id: the string path
		}
		fmt.Fprintf(&b, "%s,%s,%d.5,%d\r\n", u, i, k%5, 1000+k)
		if k%50 == 0 {
			b.WriteString("\r\n")
		}
		want = append(want, row{u, i, float32(k%5) + 0.5, int64(1000 + k)})
	}
	data := b.String()
	p := writeFile(t, "r.csv", []byte(data))
	bad := writeFile(t, "bad.csv", []byte(data+"1,2,oops,3\r\n"))
	// The bad line: 1 header + 500 rows + 10 blank lines + 1.
	wantErr := bad + `:512: rating "oops" is not a number`
	var ref *ratings.Table
	for _, size := range []int{7, 64, 1000, 4 << 20} {
		for _, workers := range []int{1, 2, 5} {
			chunkSize = size
			tab, _, err := Read(context.Background(), []string{p}, Options{Workers: workers, Dedupe: DedupeFirst})
			if err != nil {
				t.Fatalf("chunk %d workers %d: %v", size, workers, err)
			}
			if ref == nil {
				ref = tab
				// No pair repeats within 500 rows (37·101 > 500), so every row stays.
				if got := rowsOf(tab); !reflect.DeepEqual(got, want) {
					t.Fatalf("rows differ from the input")
				}
			} else if !reflect.DeepEqual(tab.UserIDs, ref.UserIDs) || !reflect.DeepEqual(tab.Users, ref.Users) ||
				!reflect.DeepEqual(tab.Items, ref.Items) || !reflect.DeepEqual(tab.Times, ref.Times) {
				t.Errorf("chunk %d workers %d: table differs", size, workers)
			}
			_, _, err = Read(context.Background(), []string{bad}, Options{Workers: workers})
			if msg := inputErr(t, err); msg != wantErr {
				t.Errorf("chunk %d workers %d: error %s, want %s", size, workers, msg, wantErr)
			}
		}
	}
}

func TestLongFirstLine(t *testing.T) {
	p := writeFile(t, "r.csv", []byte(strings.Repeat("x", peekSize+10)+"\n"))
	_, _, err := Read(context.Background(), []string{p}, Options{})
	if msg := inputErr(t, err); msg != p+":1: first line is longer than 64 KiB" {
		t.Errorf("got %s", msg)
	}
}

func TestMixedTimestampsFail(t *testing.T) {
	a := writeFile(t, "u.data", []byte(uData))
	b := writeFile(t, "x.tsv", []byte("1\t2\t3\n"))
	_, _, err := Read(context.Background(), []string{a, b}, Options{})
	if msg := inputErr(t, err); !strings.Contains(msg, "has no timestamps but") {
		t.Errorf("got %s", msg)
	}
}

func TestContextCancel(t *testing.T) {
	p := writeFile(t, "u.data", []byte(uData))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := Read(ctx, []string{p}, Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

// TestMovieLens100k checks the real file: 100,000 ratings by 943 users of
// 1,682 items (the counts GroupLens publishes in the ml-100k README).
func TestMovieLens100k(t *testing.T) {
	p := testenv.ML100K(t)
	tab, rep, err := Read(context.Background(), []string{p}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if tab.Len() != 100000 || tab.NumUsers() != 943 || tab.NumItems() != 1682 || rep.Duplicates != 0 || rep.Sources[0].Format != FormatUData {
		t.Errorf("got %d ratings, %d users, %d items, %d duplicates, format %s; want 100000, 943, 1682, 0, udata",
			tab.Len(), tab.NumUsers(), tab.NumItems(), rep.Duplicates, rep.Sources[0].Format)
	}
}

// digitsAt (eight bytes at a time) agrees with a byte-at-a-time loop for
// every run length up to 19 digits, every byte after the run, and every
// amount of line left after it (so both the 8-byte and the tail paths end
// runs).
func TestDigitsAt(t *testing.T) {
	ref := func(line []byte, i int) (uint64, int) {
		var v uint64
		for i < len(line) && line[i] >= '0' && line[i] <= '9' {
			v = v*10 + uint64(line[i]-'0')
			i++
		}
		return v, i
	}
	digits := "9081726354091827364"
	for n := 0; n <= len(digits); n++ {
		for b := 0; b < 256; b++ {
			for pad := 0; pad <= 9; pad++ {
				line := []byte("x" + digits[:n])
				if pad > 0 {
					line = append(line, byte(b))
					for k := 1; k < pad; k++ {
						line = append(line, '7')
					}
				}
				gv, gi := digitsAt(line, 1)
				wv, wi := ref(line, 1)
				if gv != wv || gi != wi {
					t.Fatalf("digitsAt(%q, 1) = %d, %d; want %d, %d", line, gv, gi, wv, wi)
				}
			}
		}
	}
}
