package serve

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/recs-dev/recs/export"
	"github.com/recs-dev/recs/internal/azure"
	"github.com/recs-dev/recs/internal/errs"
	"github.com/recs-dev/recs/toplist"
)

// BlobSource loads the lists `recs export --to blob` published: it reads
// PREFIX/manifest.json, then the data file the manifest names (Parquet
// preferred, then gzipped or plain JSON lines; in the publication's
// generation folder) or, for a sharded publication, every shard's file of
// that format, checks each one's size and SHA-256 against the manifest, and
// builds an Index. The manifest's ETag is the version, so a new publication
// (whose manifest is switched last) is picked up by the Reloader. Data blobs
// are never rewritten; one deleted after its manifest was read (its
// generation fell out of --keep-generations), or changed by a pre-generation
// publisher, fails the load, which is retried at the next poll, never
// served.
type BlobSource struct {
	Container *container.Client
	Prefix    string   // blob name prefix: "" or ending in "/"
	Display   string   // the location for logs, without secrets
	Secrets   []string // removed from errors
	TempDir   string   // where the data file is staged ("": os.TempDir)
}

var _ Loader = (*BlobSource)(nil)

// NewBlobSource opens the publication at loc. loc.URL may name the prefix
// (https://ACCOUNT.blob.core.windows.net/CONTAINER/PREFIX, with an optional
// SAS query) or the manifest itself (…/PREFIX/manifest.json); with
// loc.Container, prefix is the blob name prefix within it. Credentials
// follow azure.OpenContainer: SAS, account key, connection string, Azure
// AD.
func NewBlobSource(loc azure.BlobLocation, prefix string) (*BlobSource, error) {
	display := "blob://" + loc.Container + "/" + prefix
	if loc.URL != "" {
		u, err := url.Parse(loc.URL)
		if err != nil {
			return nil, errs.Inputf("", 0, "blob URL: %v", azure.ScrubString(err.Error(), loc.Secrets()...))
		}
		if p, ok := strings.CutSuffix(u.Path, "/"+export.ManifestName); ok {
			u.Path = p
			u.RawPath = ""
			loc.URL = u.String()
		}
		d := *u
		d.RawQuery = ""
		display = d.String()
	}
	c, urlPrefix, err := azure.OpenContainer(loc)
	if err != nil {
		return nil, errs.Service("blob", err)
	}
	prefix = strings.TrimSuffix(strings.TrimPrefix(prefix, "/"), export.ManifestName)
	prefix = strings.Trim(urlPrefix+prefix, "/")
	if prefix != "" {
		prefix += "/"
	}
	return &BlobSource{Container: c, Prefix: prefix, Display: display, Secrets: loc.Secrets()}, nil
}

func (b *BlobSource) String() string { return b.Display }

func (b *BlobSource) fail(err error) error {
	if err == nil || errs.IsInput(err) || errors.Is(err, context.Canceled) {
		return err
	}
	var re *azcore.ResponseError
	if errors.As(err, &re) && bloberror.HasCode(err, bloberror.BlobNotFound, bloberror.ContainerNotFound) {
		return errs.Inputf(b.Display, 0, "%s not found: nothing is published there", b.Prefix+export.ManifestName)
	}
	return errs.Service("blob", azure.Scrub(err, b.Secrets...))
}

// Version returns the manifest's ETag.
func (b *BlobSource) Version(ctx context.Context) (string, error) {
	p, err := b.Container.NewBlobClient(b.Prefix+export.ManifestName).GetProperties(ctx, nil)
	if err != nil {
		return "", b.fail(err)
	}
	if p.ETag == nil {
		return "", errs.Service("blob", errors.New("manifest has no ETag"))
	}
	return string(*p.ETag), nil
}

// Load reads the manifest and the data file it names.
func (b *BlobSource) Load(ctx context.Context) (*Index, string, error) {
	resp, err := b.Container.NewBlobClient(b.Prefix+export.ManifestName).DownloadStream(ctx, nil)
	if err != nil {
		return nil, "", b.fail(err)
	}
	name := b.Display + "/" + export.ManifestName
	m, err := export.ReadManifest(io.LimitReader(resp.Body, 1<<20), name)
	resp.Body.Close()
	if err != nil {
		return nil, "", errs.Input(name, err)
	}
	version := ""
	if resp.ETag != nil {
		version = string(*resp.ETag)
	}
	files := m.Readable()
	if len(files) == 0 {
		return nil, "", errs.Inputf(name, 0, "names no data file recs can read")
	}
	var idx *Index
	var bld *Builder
	if len(files) > 1 {
		bld = NewBuilder(m.Meta(), int(m.Users))
	}
	for _, file := range files {
		if file.Name == "" || strings.Contains(file.Name, "..") {
			return nil, "", errs.Inputf(name, 0, "names no data file recs can read")
		}
		if idx, err = b.loadFile(ctx, m, file, bld); err != nil {
			return nil, "", err
		}
	}
	if bld != nil {
		idx = bld.Build()
	}
	if int64(idx.Len()) != m.Users {
		return nil, "", errs.Inputf(name, 0, "manifest counts %d users, %s holds %d", m.Users, filesNamed(files), idx.Len())
	}
	return idx.WithSource(b.Display, version, nil), version, nil
}

// loadFile downloads and checks one data file of the publication m and
// reads it: into bld when it is not nil (the parts of a sharded
// publication), else into an Index of its own.
func (b *BlobSource) loadFile(ctx context.Context, m *export.Manifest, file export.ManifestFile, bld *Builder) (*Index, error) {
	path, err := b.download(ctx, file)
	if err != nil {
		return nil, err
	}
	defer os.Remove(path)
	if bld == nil {
		return LoadTopKFile(ctx, path)
	}
	rd, err := toplist.Open(path)
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	if meta := rd.Meta(); meta.Model != m.Model || meta.K != m.K {
		return nil, errs.Inputf(b.Display+"/"+file.Name, 0, "holds lists of model %s, k %d; the manifest says model %s, k %d", meta.Model, meta.K, m.Model, m.K)
	}
	return nil, addLists(ctx, bld, rd, b.Display+"/"+file.Name)
}

// download copies the data file to a temporary file, checking its size
// and SHA-256 against the manifest.
func (b *BlobSource) download(ctx context.Context, file export.ManifestFile) (string, error) {
	resp, err := b.Container.NewBlobClient(b.Prefix+file.Name).DownloadStream(ctx, nil)
	if bloberror.HasCode(err, bloberror.BlobNotFound) {
		return "", errs.Inputf(b.Display+"/"+export.ManifestName, 0, "names %s, which is gone (removed by a later publication?)", file.Name)
	}
	if err != nil {
		return "", b.fail(err)
	}
	defer resp.Body.Close()
	f, err := os.CreateTemp(b.TempDir, "recs-serve-*-"+path.Base(file.Name))
	if err != nil {
		return "", err
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), resp.Body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", b.fail(fmt.Errorf("%s: %w", file.Name, err))
	}
	if sum := hex.EncodeToString(h.Sum(nil)); n != file.Bytes || (file.SHA256 != "" && sum != file.SHA256) {
		os.Remove(f.Name())
		return "", errs.Inputf(b.Display+"/"+file.Name, 0, "%d bytes with SHA-256 %s, but the manifest says %d bytes, %s: the blob changed after its manifest was read (a publication in progress?)",
			n, sum[:12], file.Bytes, file.SHA256[:min(12, len(file.SHA256))])
	}
	return f.Name(), nil
}
