package ingest

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// A local file is read in place (mapped) and a stream through chunk
// buffers; both give the same table and the same error lines, for any
// chunk size, including a last line without a newline, CRLF line ends,
// blank lines and a line longer than a chunk.
func TestMappedMatchesStream(t *testing.T) {
	defer func(n int) { chunkSize = n }(chunkSize)
	long := strings.Repeat("9", 300)
	inputs := map[string]string{
		"no final newline": "u,i,r,t\n1,2,3.5,10\n1,3,4,11\n2,2,1,12",
		"crlf and blanks":  "u,i,r,t\r\n\r\n1,2,3.5,10\r\n\r\n2,5,4,11\r\n\r\n",
		"long line":        "u,i,r,t\n1,2,3.5,10\n" + long + ",7,2,13\n3,3,3,14\n",
		"bad line":         "u,i,r,t\n1,2,3.5,10\n1,3,x,11\n2,2,1,12\n",
	}
	for name, text := range inputs {
		path := filepath.Join(t.TempDir(), "r.csv")
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, size := range []int{3, 16, 1 << 20} {
			chunkSize = size
			opts := Options{Workers: 2}
			mt, _, merr := Read(context.Background(), []string{path}, opts)
			st, _, serr := ReadFrom(context.Background(), path, bytes.NewReader([]byte(text)), opts)
			if (merr == nil) != (serr == nil) || (merr != nil && merr.Error() != serr.Error()) {
				t.Fatalf("%s, chunk %d: mapped error %v, stream error %v", name, size, merr, serr)
			}
			if merr == nil && !reflect.DeepEqual(rowsOf(mt), rowsOf(st)) {
				t.Fatalf("%s, chunk %d: mapped rows %v, stream rows %v", name, size, rowsOf(mt), rowsOf(st))
			}
		}
	}
}

// A mapped file cut short under the parser gives an error naming the
// change, not a crash: the parser touches a page that no longer exists.
func TestMappedFileTruncated(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.csv")
	text := strings.Repeat("1,2,3,4\n", 4096) // 32 KiB: several pages
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	data, unmap := mapFile(f, int64(len(text)))
	if data == nil {
		t.Skip("this OS maps no files: the reader path runs instead")
	}
	defer unmap()
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	lay, err := detectLayout([]byte("1,2,3,4"), path, &Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := newChunk(0)
	c.data = data[len(data)-100:] // the last page, gone with the truncation
	if err := parseGuarded(newParser(lay, false), c, true); !errors.Is(err, errShrank) {
		t.Fatalf("parse of a truncated mapping: %v, want %v", err, errShrank)
	}
}
