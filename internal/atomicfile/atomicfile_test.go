package atomicfile

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// A file of several writeback chunks (whose writeback Write starts on the
// way) arrives whole, and no temporary file is left.
func TestWriteFileLarge(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "big")
	block := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	n := 2*writebackChunk/len(block) + 3
	err := WriteFile(path, func(w io.Writer) error {
		for i := 0; i < n; i++ {
			block[0] = byte(i)
			if _, err := w.Write(block); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n*len(block) {
		t.Fatalf("%d bytes, want %d", len(got), n*len(block))
	}
	for i := 0; i < n; i++ {
		if got[i*len(block)] != byte(i) || !bytes.Equal(got[i*len(block)+1:(i+1)*len(block)], block[1:]) {
			t.Fatalf("block %d differs", i)
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("%d entries in the directory, want only the file", len(ents))
	}
}

// A failing writer leaves the old content and no temporary file, also
// after writeback was started.
func TestWriteFileFailureKeepsOld(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := WriteFile(path, func(w io.Writer) error {
		if _, err := w.Write(make([]byte, writebackChunk+1)); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("error %v, want %v", err, boom)
	}
	if got, _ := os.ReadFile(path); string(got) != "old" {
		t.Errorf("content %q, want the old one", got)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("%d entries in the directory, want only the file", len(ents))
	}
}
