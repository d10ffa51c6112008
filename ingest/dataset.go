package ingest

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/recs-dev/recs/internal/azure"
	"github.com/recs-dev/recs/internal/errs"
)

// A dataset is a directory (or glob) of Parquet part files read as one
// source, as Spark, Hive and Delta lay tables out:
//
//	ratings/_SUCCESS
//	ratings/year=2019/part-00000-<uuid>.c000.snappy.parquet
//	ratings/year=2020/part-00001-<uuid>.c000.snappy.parquet
//
// Every file under the root is a part except hidden ones: a path element
// that starts with '.' or with '_' (and has no '='), as Spark skips them
// (_SUCCESS, _committed_*, _temporary/, .crc files). Directories named
// key=value are Hive-style partitions: key is a column of every row of the
// part files below, with the value unescaped (%XX) as text, usable as any
// of the columns (--user-col year). Parts are read in the byte order of
// their paths below the root, which fixes the order of rows and ids.
type dataset struct {
	name  string // the location as given, without a SAS, for messages
	fsys  fs.FS
	where func(rel string) string // a part's location for messages
	keys  []string                // partition keys, outermost first
	parts []datasetPart
	size  int64
}

type datasetPart struct {
	rel    string
	size   int64
	values []string // one per key
}

// hivePrefixNull is Hive's name for a null partition value.
const hiveNull = "__HIVE_DEFAULT_PARTITION__"

// hasGlobMeta reports whether s holds a path.Match metacharacter.
func hasGlobMeta(s string) bool { return strings.ContainsAny(s, "*?[") }

// openLocalDataset returns the dataset at p when p is a local directory or
// a glob pattern that is not itself an existing file; nil otherwise.
func openLocalDataset(p string) (*dataset, error) {
	st, err := os.Stat(p)
	if err == nil {
		if !st.IsDir() {
			return nil, nil
		}
		root := filepath.Clean(p)
		return listDataset(p, os.DirFS(root), ".", func(rel string) string {
			return filepath.Join(root, filepath.FromSlash(rel))
		})
	}
	if !hasGlobMeta(p) {
		return nil, nil // not there: openSource says so
	}
	// The root is the directory above the first element with a
	// metacharacter; the pattern is matched below it.
	slashed := filepath.ToSlash(p)
	elems := strings.Split(slashed, "/")
	k := 0
	for k < len(elems) && !hasGlobMeta(elems[k]) {
		k++
	}
	root := strings.Join(elems[:k], "/")
	switch {
	case root == "" && strings.HasPrefix(slashed, "/"):
		root = "/"
	case root == "":
		root = "."
	}
	pattern := strings.TrimRight(strings.Join(elems[k:], "/"), "/")
	if _, err := path.Match(pattern, ""); err != nil {
		return nil, errs.Inputf(p, 0, "bad glob pattern: %v", err)
	}
	lroot := filepath.FromSlash(root)
	return listDataset(p, os.DirFS(lroot), pattern, func(rel string) string {
		return filepath.Join(lroot, filepath.FromSlash(rel))
	})
}

// openBlobDataset returns the dataset under the Blob Storage (or ADLS)
// location u when u ends in '/', holds a glob metacharacter in its path,
// or names a prefix with blobs below it; nil when u names a single blob.
func openBlobDataset(ctx context.Context, u string, o BlobOptions) (*dataset, error) {
	if m, ok := azure.ADLSToBlobURL(u); ok {
		u = m
	}
	base, query, _ := strings.Cut(u, "?")
	pu, err := url.Parse(base)
	if err != nil {
		return nil, errs.Inputf(stripQuery(u), 0, "bad URL: %v", err)
	}
	// The listing root is the prefix up to the first element with a
	// metacharacter.
	p := pu.Path
	pattern := "."
	if hasGlobMeta(p) {
		elems := strings.Split(p, "/")
		k := 0
		for k < len(elems) && !hasGlobMeta(elems[k]) {
			k++
		}
		p, pattern = strings.Join(elems[:k], "/")+"/", strings.TrimRight(strings.Join(elems[k:], "/"), "/")
		if _, err := path.Match(pattern, ""); err != nil {
			return nil, errs.Inputf(base, 0, "bad glob pattern: %v", err)
		}
	}
	if !strings.HasSuffix(p, "/") {
		p += "/" // list below it; a blob of exactly that name is not listed
	}
	rootURL := pu.Scheme + "://" + pu.Host + p
	if query != "" {
		rootURL += "?" + query
	}
	fsys, err := azure.OpenFS(ctx, azure.BlobLocation{URL: rootURL, AccountKey: o.AccountKey, Retry: o.Retry})
	if err != nil {
		return nil, errs.Service("blob", err)
	}
	if fsys.Empty() {
		if pattern != "." || strings.HasSuffix(pu.Path, "/") {
			return nil, errs.Inputf(base, 0, "no blobs under this prefix")
		}
		return nil, nil // a single blob (or nothing): OpenBlob tells
	}
	root := fsys.Name()
	return listDataset(base, fsys, pattern, func(rel string) string { return root + rel })
}

func stripQuery(u string) string {
	s, _, _ := strings.Cut(u, "?")
	return s
}

// hidden reports whether a path element is skipped as Spark skips it.
func hidden(elem string) bool {
	return strings.HasPrefix(elem, ".") || (strings.HasPrefix(elem, "_") && !strings.Contains(elem, "=")) ||
		strings.HasSuffix(elem, "._COPYING_")
}

// listDataset finds the part files of fsys that match pattern ("." for
// all), with their partition values.
func listDataset(name string, fsys fs.FS, pattern string, where func(string) string) (*dataset, error) {
	ds := &dataset{name: name, fsys: fsys, where: where}
	if _, err := fs.Stat(fsys, "_delta_log"); err == nil && pattern == "." {
		return nil, errs.Inputf(name, 0, "is a Delta table (it has _delta_log/): its part files may include rows that were "+
			"deleted or replaced; write a snapshot as plain Parquet (spark.read.format(\"delta\").load(...).write.parquet(...)) and ingest that")
	}
	roots := []string{"."}
	if pattern != "." {
		m, err := fs.Glob(fsys, pattern)
		if err != nil {
			return nil, dataErr(name, err)
		}
		roots = m
	}
	var rels []string
	for _, r := range roots {
		if r != "." && hiddenPath(r) {
			continue
		}
		err := fs.WalkDir(fsys, r, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if p != r && hidden(d.Name()) {
				if d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			if !d.IsDir() {
				rels = append(rels, p)
			}
			return nil
		})
		if err != nil {
			return nil, dataErr(name, err)
		}
	}
	sort.Strings(rels)
	rels = compactStrings(rels)
	if len(rels) == 0 {
		return nil, errs.Inputf(name, 0, "no part files (hidden files such as _SUCCESS do not count)")
	}
	for i, rel := range rels {
		part := datasetPart{rel: rel}
		if fi, err := fs.Stat(fsys, rel); err == nil {
			part.size = fi.Size()
		}
		var keys []string
		dir := path.Dir(rel)
		if dir != "." {
			for _, e := range strings.Split(dir, "/") {
				k, v, ok := strings.Cut(e, "=")
				if !ok {
					continue
				}
				uk, err1 := url.PathUnescape(k)
				uv, err2 := url.PathUnescape(v)
				if err1 != nil || err2 != nil || uk == "" {
					return nil, errs.Inputf(where(rel), 0, "bad partition directory %q", e)
				}
				keys = append(keys, uk)
				part.values = append(part.values, uv)
			}
		}
		if i == 0 {
			ds.keys = keys
		} else if strings.Join(keys, "/") != strings.Join(ds.keys, "/") {
			return nil, errs.Inputf(where(rel), 0, "partition keys %q differ from %q of %s", keys, ds.keys, where(rels[0]))
		}
		seen := map[string]bool{}
		for _, k := range keys {
			if seen[k] {
				return nil, errs.Inputf(where(rel), 0, "partition key %q appears twice in the path", k)
			}
			seen[k] = true
		}
		ds.parts = append(ds.parts, part)
		ds.size += part.size
	}
	return ds, nil
}

func hiddenPath(rel string) bool {
	for _, e := range strings.Split(rel, "/") {
		if hidden(e) {
			return true
		}
	}
	return false
}

func compactStrings(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// dataErr turns a listing error into a service error (a Blob listing that
// failed) or an input error naming the dataset.
func dataErr(name string, err error) error {
	if errs.IsService(err) {
		return err
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return errs.Input(name, fmt.Errorf("%s: %w", pe.Path, pe.Err))
	}
	return errs.Input(name, err)
}
