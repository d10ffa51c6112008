package azure

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"path"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/recs-dev/recs/internal/errs"
)

// ADLSToBlobURL maps an ADLS Gen2 or WASB location to the Blob endpoint of
// the same storage account, which serves the same data:
//
//	abfss://CONTAINER@ACCOUNT.dfs.core.windows.net/PATH  → https://ACCOUNT.blob.core.windows.net/CONTAINER/PATH
//	abfs://…, wasbs://CONTAINER@ACCOUNT.blob.core.windows.net/PATH, wasb://… likewise
//
// The host's suffix after the account's endpoint kind (core.windows.net, a
// sovereign cloud's core.chinacloudapi.cn, ...) is kept. Other strings are
// returned unchanged with ok false.
func ADLSToBlobURL(s string) (string, bool) {
	u, err := url.Parse(s)
	if err != nil {
		return s, false
	}
	switch strings.ToLower(u.Scheme) {
	case "abfss", "abfs", "wasbs", "wasb":
	default:
		return s, false
	}
	cont := u.User.Username()
	account, suffix, ok := strings.Cut(u.Host, ".")
	if cont == "" || !ok || account == "" {
		return s, false
	}
	kind, rest, ok := strings.Cut(suffix, ".")
	if !ok || (kind != "dfs" && kind != "blob") {
		return s, false
	}
	out := url.URL{Scheme: "https", Host: account + ".blob." + rest, Path: "/" + cont + u.Path, RawQuery: u.RawQuery}
	return out.String(), true
}

// FS is a read-only file system (fs.FS, fs.ReadDirFS, fs.ReadFileFS,
// fs.StatFS) over the blobs whose names start with a prefix: the blob
// PREFIX/a/b is the file "a/b", and every '/'-separated part of a name is
// a directory. The blobs are listed once, when the FS is opened; content is
// downloaded when a file is first read, whole, in parallel blocks. ADLS Gen2
// directory markers (empty blobs with hdi_isfolder=true) are directories,
// not files.
//
// Errors are *fs.PathError around errors whose messages never contain a
// key, connection string or SAS; a missing blob is fs.ErrNotExist, a failed
// download wraps an *errs.ServiceError.
type FS struct {
	ctx     context.Context
	cc      *container.Client
	prefix  string
	name    string
	secrets []string
	files   map[string]blobInfo
	dirs    map[string][]fs.DirEntry // sorted by name
}

type blobInfo struct {
	size int64
	mod  time.Time
}

// DownloadConcurrency is the number of parallel range requests that
// download one blob.
const DownloadConcurrency = 4

// OpenFS lists the blobs under the prefix of l's URL (or the whole
// container) and returns them as an FS; an ADLS URL (abfss://…) is mapped
// with ADLSToBlobURL first. ctx bounds every later download. Name returns
// the location for messages, without a SAS.
func OpenFS(ctx context.Context, l BlobLocation) (*FS, error) {
	if u, ok := ADLSToBlobURL(l.URL); ok {
		l.URL = u
	}
	l = l.WithDefaults()
	secrets := l.Secrets()
	cc, prefix, err := OpenContainer(l)
	if err != nil {
		return nil, err
	}
	name := l.Container + "/" + prefix
	if l.URL != "" {
		base, _, _ := strings.Cut(l.URL, "?")
		name = strings.TrimSuffix(base, "/") + "/"
	}
	f := &FS{ctx: ctx, cc: cc, prefix: prefix, name: name, secrets: secrets,
		files: map[string]blobInfo{}, dirs: map[string][]fs.DirEntry{".": nil}}
	seenDir := map[string]bool{".": true}
	var addDir func(dir string)
	addDir = func(dir string) {
		if seenDir[dir] {
			return
		}
		seenDir[dir] = true
		parent := path.Dir(dir)
		addDir(parent)
		f.dirs[parent] = append(f.dirs[parent], dirEntry{name: path.Base(dir), dir: true})
		if _, ok := f.dirs[dir]; !ok {
			f.dirs[dir] = nil
		}
	}
	lo := &container.ListBlobsFlatOptions{Include: container.ListBlobsInclude{Metadata: true}}
	if prefix != "" {
		lo.Prefix = &prefix
	}
	pager := cc.NewListBlobsFlatPager(lo)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			if bloberror.HasCode(err, bloberror.ContainerNotFound) {
				return nil, fmt.Errorf("%s: no such container", name)
			}
			return nil, Scrub(fmt.Errorf("listing %s: %w", name, err), secrets...)
		}
		for _, it := range page.Segment.BlobItems {
			if it.Name == nil {
				continue
			}
			rel := strings.TrimPrefix(*it.Name, prefix)
			if rel == "" || !fs.ValidPath(rel) {
				continue // the prefix itself (an ADLS directory marker), or a name with empty parts
			}
			if isFolderMarker(it.Metadata) {
				addDir(rel)
				continue
			}
			var bi blobInfo
			if p := it.Properties; p != nil {
				if p.ContentLength != nil {
					bi.size = *p.ContentLength
				}
				if p.LastModified != nil {
					bi.mod = *p.LastModified
				}
			}
			f.files[rel] = bi
			dir := path.Dir(rel)
			addDir(dir)
			f.dirs[dir] = append(f.dirs[dir], dirEntry{name: path.Base(rel), info: bi})
		}
	}
	for d, ents := range f.dirs {
		sort.Slice(ents, func(i, j int) bool { return ents[i].Name() < ents[j].Name() })
		f.dirs[d] = ents
	}
	return f, nil
}

func isFolderMarker(md map[string]*string) bool {
	for k, v := range md {
		if strings.EqualFold(k, "hdi_isfolder") && v != nil && strings.EqualFold(*v, "true") {
			return true
		}
	}
	return false
}

// Name returns the location of the FS's root for messages: the URL without
// its query, ending in '/'.
func (f *FS) Name() string { return f.name }

// Empty reports whether no blob was found under the prefix.
func (f *FS) Empty() bool { return len(f.files) == 0 }

// Open opens a file or directory of the listing.
func (f *FS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	if ents, ok := f.dirs[name]; ok {
		return &blobDir{name: name, ents: ents}, nil
	}
	bi, ok := f.files[name]
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return &blobFile{fsys: f, name: name, info: bi}, nil
}

// ReadDir returns the entries of a directory, sorted by name.
func (f *FS) ReadDir(name string) ([]fs.DirEntry, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrInvalid}
	}
	ents, ok := f.dirs[name]
	if !ok {
		if _, isFile := f.files[name]; isFile {
			return nil, &fs.PathError{Op: "readdir", Path: name, Err: errors.New("not a directory")}
		}
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrNotExist}
	}
	return append([]fs.DirEntry(nil), ents...), nil
}

// Stat describes a file or directory of the listing.
func (f *FS) Stat(name string) (fs.FileInfo, error) {
	if _, ok := f.dirs[name]; ok {
		return dirEntry{name: path.Base(name), dir: true}, nil
	}
	if bi, ok := f.files[name]; ok {
		return dirEntry{name: path.Base(name), info: bi}, nil
	}
	return nil, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrNotExist}
}

// ReadFile downloads a file whole.
func (f *FS) ReadFile(name string) ([]byte, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fs.ErrInvalid}
	}
	bi, ok := f.files[name]
	if !ok {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fs.ErrNotExist}
	}
	return f.download(name, bi.size)
}

func (f *FS) download(name string, size int64) ([]byte, error) {
	buf := make([]byte, size)
	if size == 0 {
		return buf, nil
	}
	bc := f.cc.NewBlobClient(f.prefix + name)
	n, err := bc.DownloadBuffer(f.ctx, buf, &blob.DownloadBufferOptions{
		Concurrency: DownloadConcurrency, BlockSize: 4 << 20,
	})
	if err != nil {
		if bloberror.HasCode(err, bloberror.BlobNotFound) {
			err = fmt.Errorf("%w (deleted since it was listed)", fs.ErrNotExist)
		}
		return nil, &fs.PathError{Op: "read", Path: name, Err: errs.Service("blob", Scrub(err, f.secrets...))}
	}
	if n != size {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fmt.Errorf("%d bytes downloaded, the listing said %d: the blob changed meanwhile", n, size)}
	}
	return buf, nil
}

// blobFile is an open file; its content is downloaded at the first read.
// It implements io.ReaderAt and io.Seeker, as Parquet readers need.
type blobFile struct {
	fsys *FS
	name string
	info blobInfo
	once sync.Once
	r    *bytes.Reader
	err  error
}

func (b *blobFile) load() error {
	b.once.Do(func() {
		data, err := b.fsys.download(b.name, b.info.size)
		b.r, b.err = bytes.NewReader(data), err
	})
	return b.err
}

func (b *blobFile) Stat() (fs.FileInfo, error) {
	return dirEntry{name: path.Base(b.name), info: b.info}, nil
}

func (b *blobFile) Read(p []byte) (int, error) {
	if err := b.load(); err != nil {
		return 0, err
	}
	return b.r.Read(p)
}

func (b *blobFile) ReadAt(p []byte, off int64) (int, error) {
	if err := b.load(); err != nil {
		return 0, err
	}
	return b.r.ReadAt(p, off)
}

func (b *blobFile) Seek(off int64, whence int) (int64, error) {
	if err := b.load(); err != nil {
		return 0, err
	}
	return b.r.Seek(off, whence)
}

func (b *blobFile) Close() error { return nil }

type blobDir struct {
	name string
	ents []fs.DirEntry
	off  int
}

func (d *blobDir) Stat() (fs.FileInfo, error) {
	return dirEntry{name: path.Base(d.name), dir: true}, nil
}

func (d *blobDir) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.name, Err: errors.New("is a directory")}
}

func (d *blobDir) Close() error { return nil }

func (d *blobDir) ReadDir(n int) ([]fs.DirEntry, error) {
	rest := d.ents[d.off:]
	if n <= 0 {
		d.off = len(d.ents)
		return append([]fs.DirEntry(nil), rest...), nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	n = min(n, len(rest))
	d.off += n
	return append([]fs.DirEntry(nil), rest[:n]...), nil
}

// dirEntry is both the fs.DirEntry and the fs.FileInfo of a listed name.
type dirEntry struct {
	name string
	dir  bool
	info blobInfo
}

func (e dirEntry) Name() string { return e.name }
func (e dirEntry) IsDir() bool  { return e.dir }
func (e dirEntry) Type() fs.FileMode {
	if e.dir {
		return fs.ModeDir
	}
	return 0
}
func (e dirEntry) Info() (fs.FileInfo, error) { return e, nil }
func (e dirEntry) Size() int64                { return e.info.size }
func (e dirEntry) Mode() fs.FileMode {
	if e.dir {
		return fs.ModeDir | 0o555
	}
	return 0o444
}
func (e dirEntry) ModTime() time.Time { return e.info.mod }
func (e dirEntry) Sys() any           { return nil }

var (
	_ fs.ReadDirFS   = (*FS)(nil)
	_ fs.ReadFileFS  = (*FS)(nil)
	_ fs.StatFS      = (*FS)(nil)
	_ io.ReaderAt    = (*blobFile)(nil)
	_ io.Seeker      = (*blobFile)(nil)
	_ fs.ReadDirFile = (*blobDir)(nil)
)
