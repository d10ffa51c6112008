package export

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/recs-dev/recs/internal/azure"
	"github.com/recs-dev/recs/internal/errs"
	"github.com/recs-dev/recs/toplist"
)

// prefixSlash returns s.Prefix ending in "/" ("" stays "").
func (s *BlobSink) prefixSlash() string {
	if s.Prefix != "" && !strings.HasSuffix(s.Prefix, "/") {
		return s.Prefix + "/"
	}
	return s.Prefix
}

// publishPart writes shard s.Shard of publication s.Publication: its data
// blobs into PREFIX/sharded-ID/ (blocks staged while the lists stream,
// each blob committed when complete), then its part record. Shards of one
// publication run side by side, each writing names of its own.
func (s *BlobSink) publishPart(ctx context.Context, meta toplist.Meta, src ListSource, c *Counters, start time.Time) (Stats, error) {
	if s.Container == nil {
		return Stats{}, fmt.Errorf("export: BlobSink without a container client")
	}
	formats, err := checkFormats(s.Formats)
	if err != nil {
		return Stats{}, err
	}
	if err := CheckPublicationID(s.Publication); err != nil {
		return Stats{}, err
	}
	prefix := s.prefixSlash()
	if s.CreateContainer {
		if _, err := s.Container.Create(ctx, nil); err != nil &&
			!bloberror.HasCode(err, bloberror.ContainerAlreadyExists, bloberror.AuthorizationFailure, bloberror.AuthorizationPermissionMismatch) {
			return c.snapshot(start), fmt.Errorf("create container: %w", err)
		}
	}
	old, _, err := s.readManifest(ctx, s.Container.NewBlockBlobClient(prefix+ManifestName), prefix)
	if err != nil {
		return c.snapshot(start), err
	}
	if err := checkNotPublished(old, s.Publication); err != nil {
		return c.snapshot(start), err
	}
	runID := newAttemptID()
	p, err := writePart(ctx, meta, src, formats, s.Publication, s.Shard, s.blockDests(ctx, prefix, runID), c)
	if err != nil {
		return c.snapshot(start), err
	}
	b, err := p.encode()
	if err != nil {
		return c.snapshot(start), err
	}
	crashPoint("before part record")
	name := prefix + ShardedGeneration(s.Publication) + "/" + partRecordName(s.Shard)
	if _, err := s.Container.NewBlockBlobClient(name).Upload(ctx, streaming.NopCloser(bytes.NewReader(b)), &blockblob.UploadOptions{
		HTTPHeaders: &blob.HTTPHeaders{BlobContentType: to.Ptr("application/json")},
	}); err != nil {
		return c.snapshot(start), fmt.Errorf("%s: %w", name, err)
	}
	st := c.snapshot(start)
	st.Part = p
	return st, nil
}

// Finalize implements Finalizer: it composes the manifest of the n parts
// of publication id (reading every data blob whole to check its size and
// SHA-256), switches PREFIX/manifest.json to it in one upload conditional
// on the manifest read at the start, and cleans up as Publish does.
func (s *BlobSink) Finalize(ctx context.Context, id string, n int) (Stats, error) {
	start := time.Now()
	c := countersOr(s.Progress)
	st, err := s.finalize(ctx, id, n, c, start)
	if s.Counts != nil {
		st.Retries, st.Throttles = s.Counts.Retries(), s.Counts.Throttles.Load()
	}
	var inc *IncompleteError
	if err != nil && !errs.IsInput(err) && ctx.Err() == nil && !errors.As(err, &inc) {
		err = errs.Service("blob", azure.Scrub(err, s.Secrets...))
	}
	for i, w := range st.Warnings {
		st.Warnings[i] = azure.ScrubString(w, s.Secrets...)
	}
	return st, err
}

func (s *BlobSink) finalize(ctx context.Context, id string, n int, c *Counters, start time.Time) (Stats, error) {
	if s.Container == nil {
		return Stats{}, fmt.Errorf("export: BlobSink without a container client")
	}
	if err := CheckPublicationID(id); err != nil {
		return Stats{}, err
	}
	if n < 1 || n > toplist.MaxShards {
		return Stats{}, fmt.Errorf("export: finalize %d shards: want 1 to %d", n, toplist.MaxShards)
	}
	prefix := s.prefixSlash()
	mb := s.Container.NewBlockBlobClient(prefix + ManifestName)
	old, cond, err := s.readManifest(ctx, mb, prefix)
	if bloberror.HasCode(err, bloberror.ContainerNotFound) {
		return Stats{}, errs.Service("blob", &IncompleteError{Publication: id, Shards: n, Missing: allShards(n)})
	}
	if err != nil {
		return c.snapshot(start), err
	}
	gen := ShardedGeneration(id)
	if old != nil && old.Generation == gen {
		st := c.snapshot(start)
		st.Manifest = old
		return st, nil
	}
	if err := checkNotPublished(old, id); err != nil {
		return c.snapshot(start), err
	}
	f, err := composeFinal(ctx, blobStore{s, prefix}, "blob", id, n, old, s.KeepGenerations)
	if err != nil {
		return c.snapshot(start), err
	}
	m, b, kept := f.m, f.b, f.kept
	crashPoint("before manifest")
	if _, err := mb.Upload(ctx, streaming.NopCloser(bytes.NewReader(b)), &blockblob.UploadOptions{
		HTTPHeaders:      &blob.HTTPHeaders{BlobContentType: to.Ptr("application/json")},
		AccessConditions: &blob.AccessConditions{ModifiedAccessConditions: cond},
	}); err != nil {
		if bloberror.HasCode(err, bloberror.ConditionNotMet, bloberror.BlobAlreadyExists) {
			return c.snapshot(start), errs.Service("blob", fmt.Errorf("%s%s was replaced by another publication while this finalize ran: nothing switched (publish to one prefix from one job at a time)", prefix, ManifestName))
		}
		return c.snapshot(start), fmt.Errorf("%s: %w", ManifestName, err)
	}
	crashPoint("after manifest")
	c.Documents.Add(m.Users)
	c.Bytes.Add(int64(len(b)))
	st := c.snapshot(start)
	st.Bytes += f.verified
	st.Manifest = m
	st.Warnings = s.clean(ctx, prefix, generationStamp(start), start, kept, retired(old, kept), f.keepLegacy)
	if names, err := (blobStore{s, prefix}).list(ctx, gen); err == nil {
		for _, name := range staleAttempts(m, names) {
			if _, err := s.Container.NewBlobClient(prefix+name).Delete(ctx, nil); err != nil && !bloberror.HasCode(err, bloberror.BlobNotFound) {
				st.Warnings = append(st.Warnings, fmt.Sprintf("cleaning up %s: %v", name, err))
			}
		}
	}
	return st, nil
}

// blobStore is a publication prefix as a partStore.
type blobStore struct {
	s      *BlobSink
	prefix string
}

func (b blobStore) readSmall(ctx context.Context, name string) ([]byte, error) {
	resp, err := b.s.Container.NewBlobClient(b.prefix+name).DownloadStream(ctx, nil)
	if bloberror.HasCode(err, bloberror.BlobNotFound, bloberror.ContainerNotFound) {
		return nil, errNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read %s%s: %w", b.prefix, name, err)
	}
	defer resp.Body.Close()
	return readAllLimit(resp.Body, 1<<20)
}

func (b blobStore) hash(ctx context.Context, name string) (int64, string, error) {
	resp, err := b.s.Container.NewBlobClient(b.prefix+name).DownloadStream(ctx, nil)
	if bloberror.HasCode(err, bloberror.BlobNotFound, bloberror.ContainerNotFound) {
		return 0, "", errNotFound
	}
	if err != nil {
		return 0, "", fmt.Errorf("read %s%s: %w", b.prefix, name, err)
	}
	defer resp.Body.Close()
	h := sha256.New()
	n, err := io.Copy(h, resp.Body)
	if err != nil {
		return 0, "", fmt.Errorf("read %s%s: %w", b.prefix, name, err)
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}

func (b blobStore) list(ctx context.Context, folder string) ([]string, error) {
	p := b.prefix + folder + "/"
	var names []string
	pager := b.s.Container.NewListBlobsFlatPager(&container.ListBlobsFlatOptions{Prefix: &p})
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, it := range page.Segment.BlobItems {
			if rest := strings.TrimPrefix(*it.Name, p); !strings.Contains(rest, "/") {
				names = append(names, rest)
			}
		}
	}
	return names, nil
}
