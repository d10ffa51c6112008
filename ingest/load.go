package ingest

import (
	"bytes"
	"context"
	"os"

	"github.com/recs-dev/recs/ratings"
)

// LoadTable reads one ratings file as every recs command does: a Parquet
// file (known by its content, whatever its name) with ratings.ReadFile,
// anything else as text of an automatically detected format (gzip and zip
// included; "-" is standard input; a Blob Storage URL is read with
// credentials from the environment) with the default Options — duplicates
// keep the latest rating, and a bad line is an error naming the file and
// line.
func LoadTable(ctx context.Context, path string) (*ratings.Table, error) {
	if path != "-" && !IsBlobURL(path) && isParquet(path) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		return ratings.ReadFile(path)
	}
	t, _, err := Read(ctx, []string{path}, Options{})
	return t, err
}

func isParquet(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var magic [4]byte
	n, _ := f.ReadAt(magic[:], 0)
	return bytes.Equal(magic[:n], magicParquet)
}
