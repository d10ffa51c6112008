package toplist

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/recs-dev/recs/internal/errs"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// sampleMeta and sampleLists exercise the corners of the formats: ids that
// need JSON escaping, non-ASCII ids, an empty list, scores at the ends of
// the float32 range, negative zero and a subnormal.
var sampleMeta = Meta{Model: "als-test", K: 3, GeneratedAt: time.Date(2024, 5, 1, 2, 0, 0, 0, time.UTC)}

var sampleLists = []List{
	{User: "196", Items: []Item{{"242", 4.61}, {"302", 4.55}, {"377", 4.2}}},
	{User: "186", Items: []Item{{"302", 4.9}, {"50", 4.8}}},
	{User: `quote"back\slash`, Items: []Item{{"tab\there", -1.5}, {"nl\nx", 0}}},
	{User: "zoë ☃", Items: []Item{{"\u2028", math.MaxFloat32}, {"ctl\x01", -math.MaxFloat32}, {"tiny", math.SmallestNonzeroFloat32}}},
	{User: "no-items", Items: []Item{}},
	{User: "negzero", Items: []Item{{"a", float32(math.Copysign(0, -1))}}},
}

func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	for _, f := range Formats {
		t.Run(string(f), func(t *testing.T) {
			path := filepath.Join(dir, "top"+f.Ext())
			if err := WriteFile(path, sampleMeta, sampleLists); err != nil {
				t.Fatal(err)
			}
			meta, lists, err := ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !meta.GeneratedAt.Equal(sampleMeta.GeneratedAt) || meta.Model != sampleMeta.Model || meta.K != sampleMeta.K {
				t.Errorf("meta = %+v, want %+v", meta, sampleMeta)
			}
			// Scores must come back bit for bit: the writers promise the
			// shortest text that reads back to the same float32.
			if len(lists) != len(sampleLists) {
				t.Fatalf("read %d lists, want %d", len(lists), len(sampleLists))
			}
			for i := range lists {
				got, want := lists[i], sampleLists[i]
				if got.User != want.User || len(got.Items) != len(want.Items) {
					t.Fatalf("list %d = %+v, want %+v", i, got, want)
				}
				for j := range got.Items {
					if got.Items[j].ID != want.Items[j].ID ||
						math.Float32bits(got.Items[j].Score) != math.Float32bits(want.Items[j].Score) {
						t.Errorf("list %d item %d = %+v, want %+v", i, j, got.Items[j], want.Items[j])
					}
				}
			}
			// No temporary files are left behind.
			ents, _ := os.ReadDir(dir)
			for _, e := range ents {
				if strings.Contains(e.Name(), ".tmp-") {
					t.Errorf("temporary file %s left behind", e.Name())
				}
			}
		})
	}
}

// TestJSONLGolden pins the JSON lines text (the documented format).
// Regenerate with go test ./toplist -run Golden -update and review the diff.
func TestJSONLGolden(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, JSONL, sampleMeta)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range sampleLists {
		if err := w.Write(l); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "sample.jsonl")
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("JSON lines differ from %s:\n got: %s\nwant: %s", golden, buf.Bytes(), want)
	}
	// Every line must also be valid JSON that encoding/json reads to the
	// same strings (the hand-written encoder must agree with the standard).
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	for i, line := range lines[1:] {
		var v struct {
			User  string `json:"user"`
			Items []Item `json:"items"`
		}
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatalf("line %d: %v", i+2, err)
		}
		if v.User != sampleLists[i].User {
			t.Errorf("line %d: user %q, want %q", i+2, v.User, sampleLists[i].User)
		}
	}
}

func TestAppendJSONStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", `"`, `\`, "\x00\x1f\x7f", "é☃😀", "\xff\xfe", "a\u2028b\u2029c", "<>&"} {
		got := AppendJSONString(nil, s)
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("%q encodes to invalid JSON %s: %v", s, got, err)
		}
		// Byte for byte what encoding/json writes (serve relies on it).
		want, _ := json.Marshal(s)
		if string(got) != string(want) {
			t.Errorf("%q: %s, encoding/json writes %s", s, got, want)
		}
		var wantBack string
		json.Unmarshal(want, &wantBack)
		if back != wantBack {
			t.Errorf("%q: round trip %q, encoding/json gives %q", s, back, wantBack)
		}
	}
}

func TestBadFiles(t *testing.T) {
	const hdr = `{"format":"recs-toplist","version":1,"model":"m","k":2,"generatedAt":"2024-05-01T02:00:00Z"}` + "\n"
	for _, tc := range []struct {
		name, text string
		line       int64
		msg        string
	}{
		{"empty", "", 0, "no header"},
		{"foreign header", `{"a":1}` + "\n", 1, `header format is ""`},
		{"header not json", "user,item\n", 1, "header is not a JSON object"},
		{"version", `{"format":"recs-toplist","version":9}` + "\n", 1, "version 9"},
		{"negative k", `{"format":"recs-toplist","version":1,"k":-1}` + "\n", 1, "negative"},
		{"bad json", hdr + `{"user":"1","items":[]}` + "\n{oops\n", 3, "not a JSON object"},
		{"no user", hdr + `{"items":[]}` + "\n", 2, `no "user"`},
		{"no items", hdr + `{"user":"1"}` + "\n", 2, `no "items"`},
		{"empty user", hdr + `{"user":"","items":[]}` + "\n", 2, "user id is empty"},
		{"item without score", hdr + `{"user":"1","items":[{"id":"a"}]}` + "\n", 2, `lacks "id" or "score"`},
		{"empty item", hdr + `{"user":"1","items":[{"id":"","score":1}]}` + "\n", 2, "empty id"},
		{"repeated item", hdr + `{"user":"1","items":[{"id":"a","score":2},{"id":"a","score":1}]}` + "\n", 2, "appears twice"},
		{"too many", hdr + `{"user":"1","items":[{"id":"a","score":3},{"id":"b","score":2},{"id":"c","score":1}]}` + "\n", 2, "more than k = 2"},
		{"score range", hdr + `{"user":"1","items":[{"id":"a","score":1e39}]}` + "\n", 2, "out of float32 range"},
		{"duplicate user", hdr + `{"user":"1","items":[]}` + "\n\n" + `{"user":"1","items":[]}` + "\n", 4, `user "1" appears twice`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := read(strings.NewReader(tc.text), JSONL, "top.jsonl")
			var ie *errs.InputError
			if !errors.As(err, &ie) {
				t.Fatalf("err = %v, want an *errs.InputError", err)
			}
			if ie.File != "top.jsonl" || ie.Line != tc.line || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("err = %q (line %d), want line %d and %q", err, ie.Line, tc.line, tc.msg)
			}
		})
	}
}

func read(r io.Reader, f Format, name string) (Meta, []List, error) {
	rd, err := NewReader(r, f, name)
	if err != nil {
		return Meta{}, nil, err
	}
	defer rd.Close()
	lists, err := rd.ReadAll()
	return rd.Meta(), lists, err
}

func TestBadParquet(t *testing.T) {
	// A JSON lines file is not Parquet; a Parquet file with a repeated
	// user is rejected naming the row.
	_, _, err := read(strings.NewReader("hello"), Parquet, "x.parquet")
	if !errs.IsInput(err) || !strings.Contains(err.Error(), "not a Parquet file") {
		t.Errorf("err = %v", err)
	}
	var buf bytes.Buffer
	w, _ := NewWriter(&buf, Parquet, sampleMeta)
	w.Write(List{User: "a", Items: []Item{}})
	w.Write(List{User: "a", Items: []Item{}})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	_, _, err = read(bytes.NewReader(buf.Bytes()), Parquet, "x.parquet")
	if !errs.IsInput(err) || !strings.Contains(err.Error(), `x.parquet: row 2: user "a" appears twice`) {
		t.Errorf("err = %v", err)
	}
}

func TestWriterRejects(t *testing.T) {
	w, err := NewWriter(io.Discard, JSONL, Meta{K: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []List{
		{User: ""},
		{User: "u", Items: []Item{{"a", float32(math.NaN())}}},
		{User: "u", Items: []Item{{"a", 1}, {"b", 0}}},
	} {
		if err := w.Write(l); err == nil {
			t.Errorf("Write(%+v) succeeded", l)
		}
	}
	if w.Count() != 0 {
		t.Errorf("Count = %d after rejected writes", w.Count())
	}
}

func TestWriteFileKeepsOldOnError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "top.jsonl")
	if err := WriteFile(path, sampleMeta, sampleLists[:1]); err != nil {
		t.Fatal(err)
	}
	bad := append([]List{}, sampleLists[:2]...)
	bad = append(bad, List{User: ""})
	if err := WriteFile(path, sampleMeta, bad); err == nil {
		t.Fatal("WriteFile with an empty user succeeded")
	}
	_, lists, err := ReadFile(path)
	if err != nil || len(lists) != 1 {
		t.Errorf("after a failed overwrite: %d lists, err %v; want the old single list", len(lists), err)
	}
}

func TestStreamingParquetManyBatches(t *testing.T) {
	// More lists than one Parquet batch, so the reader crosses batches.
	n := parquetBatch + 1000
	path := filepath.Join(t.TempDir(), "big.parquet")
	fw, err := Create(path, Meta{Model: "m", K: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer fw.Abort()
	for u := 0; u < n; u++ {
		id := "u" + itoa(u)
		if err := fw.Write(List{User: id, Items: []Item{{"i" + itoa(u%97), float32(u)}, {"j", -float32(u)}}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := fw.Commit(); err != nil {
		t.Fatal(err)
	}
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Len() != int64(n) {
		t.Errorf("Len = %d, want %d", r.Len(), n)
	}
	for u := 0; ; u++ {
		l, err := r.Next()
		if err == io.EOF {
			if u != n {
				t.Errorf("read %d lists, want %d", u, n)
			}
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		want := List{User: "u" + itoa(u), Items: []Item{{"i" + itoa(u%97), float32(u)}, {"j", -float32(u)}}}
		if !reflect.DeepEqual(l, want) {
			t.Fatalf("list %d = %+v, want %+v", u, l, want)
		}
	}
}

func itoa(i int) string { return intString(i) }

func intString(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}

// FuzzReadJSONL checks that no input makes the JSON lines reader panic,
// that it fails only with input errors, and that whatever it accepts
// writes back and reads again to the same lists.
func FuzzReadJSONL(f *testing.F) {
	golden, _ := os.ReadFile(filepath.Join("testdata", "sample.jsonl"))
	f.Add(golden)
	f.Add([]byte(`{"format":"recs-toplist","version":1,"k":0}` + "\n" + `{"user":"x","items":[{"id":"y","score":1}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		meta, lists, err := read(bytes.NewReader(data), JSONL, "f.jsonl")
		if err != nil {
			if !errs.IsInput(err) {
				t.Fatalf("non-input error %v", err)
			}
			return
		}
		var buf bytes.Buffer
		w, err := NewWriter(&buf, JSONL, meta)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range lists {
			if err := w.Write(l); err != nil {
				t.Fatalf("accepted list %+v not writable: %v", l, err)
			}
		}
		w.Close()
		_, again, err := read(&buf, JSONL, "again.jsonl")
		if err != nil {
			t.Fatalf("re-read: %v", err)
		}
		if len(again) != len(lists) {
			t.Fatalf("re-read %d lists, want %d", len(again), len(lists))
		}
		for i := range again {
			if again[i].User != lists[i].User || len(again[i].Items) != len(lists[i].Items) {
				t.Fatalf("list %d changed: %+v → %+v", i, lists[i], again[i])
			}
			for j := range again[i].Items {
				a, b := again[i].Items[j], lists[i].Items[j]
				if a.ID != b.ID || math.Float32bits(a.Score) != math.Float32bits(b.Score) {
					t.Fatalf("list %d item %d changed: %+v → %+v", i, j, b, a)
				}
			}
		}
	})
}

// FuzzFastPath checks that whenever the fast line parser accepts a line,
// encoding/json (the slow path) accepts it too and reads the same list.
func FuzzFastPath(f *testing.F) {
	for _, l := range sampleLists {
		f.Add(AppendJSONLine(nil, &l))
	}
	f.Add([]byte(`{"user":"1","items":[{"id":"2","score":-0.0e+5}]}`))
	f.Add([]byte(`{"user":"1","items":[{"id":"2","score":01}]}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		line = bytes.TrimSpace(line)
		var fast List
		if !parseLineFast(line, &fast) {
			return
		}
		var slow jsonLine
		if err := json.Unmarshal(line, &slow); err != nil {
			t.Fatalf("fast path accepted %q, encoding/json says %v", line, err)
		}
		if slow.User == nil || *slow.User != fast.User || slow.Items == nil || len(*slow.Items) != len(fast.Items) {
			t.Fatalf("%q: fast %+v, slow user %v", line, fast, slow.User)
		}
		for i, it := range *slow.Items {
			if it.ID == nil || *it.ID != fast.Items[i].ID || it.Score == nil || float32(*it.Score) != fast.Items[i].Score {
				t.Fatalf("%q: item %d differs: fast %+v", line, i, fast.Items[i])
			}
		}
	})
}
