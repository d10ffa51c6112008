package export

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
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

// BlobSink publishes into a Blob Storage container under Prefix, as an
// immutable generation: each data file becomes the block blob
// PREFIX/GEN/DataName(format), where GEN is a generation no earlier
// publication used (see Manifest); its blocks are staged while the lists
// stream and committed (CommitBlockList) only when the file is complete.
// Then PREFIX/manifest.json, the only blob ever replaced, is switched to
// the new generation in one upload; then older generations beyond the
// newest KeepGenerations, and data blobs of killed publications, are
// deleted. A reader that follows the manifest always finds exactly the
// bytes it names, whenever the publisher is killed.
//
// The switch is conditional on the manifest being the one read at the
// start (its ETag, or its absence): if another publisher switched it
// meanwhile, this publication fails and removes its own generation instead
// of overwriting the other's. Publish to one prefix from one job at a time;
// cleanup removes only generations older than its own.
//
// Retries are the SDK's (internal/azure.DefaultRetry: 408, 429, 5xx and
// connection errors, exponential backoff with jitter honouring
// Retry-After), counted through azure.Counts.
type BlobSink struct {
	Container *container.Client
	// Prefix is prepended to every blob name (a "/" is added when missing).
	Prefix  string
	Formats []toplist.Format // data files; empty: DefaultFormats
	// KeepGenerations is how many generations stay after a publication,
	// the new one included; 0: DefaultKeepGenerations.
	KeepGenerations int
	// CreateContainer creates the container when it does not exist (a
	// credential without the right, such as a container SAS, makes this a
	// no-op and the container must exist).
	CreateContainer bool
	BlockSize       int // bytes per staged block; 0: 8 MiB
	Concurrency     int // blocks in flight over all files; 0: 4
	// Counts are the SDK request counts of Container's client (give the
	// same *azure.Counts to azure.BlobLocation); they become Stats.Retries
	// and Stats.Throttles. May be nil.
	Counts   *azure.Counts
	Secrets  []string  // removed from error messages (keys, SAS)
	Progress *Counters // optional live counters

	// Shard, when not zero, makes Publish write one shard's part of the
	// sharded publication Publication instead of a whole publication (see
	// Finalize and the package documentation).
	Shard       toplist.Shard
	Publication string
}

// Publish implements Sink.
func (s *BlobSink) Publish(ctx context.Context, meta toplist.Meta, src ListSource) (Stats, error) {
	start := time.Now()
	c := countersOr(s.Progress)
	var st Stats
	var err error
	if s.Shard.IsZero() {
		st, err = s.publish(ctx, meta, src, c, start)
	} else {
		st, err = s.publishPart(ctx, meta, src, c, start)
	}
	if s.Counts != nil {
		st.Retries, st.Throttles = s.Counts.Retries(), s.Counts.Throttles.Load()
	}
	if err != nil && !errs.IsInput(err) && ctx.Err() == nil {
		err = errs.Service("blob", azure.Scrub(err, s.Secrets...))
	}
	for i, w := range st.Warnings {
		st.Warnings[i] = azure.ScrubString(w, s.Secrets...)
	}
	return st, err
}

func (s *BlobSink) publish(ctx context.Context, meta toplist.Meta, src ListSource, c *Counters, start time.Time) (Stats, error) {
	if s.Container == nil {
		return Stats{}, fmt.Errorf("export: BlobSink without a container client")
	}
	formats, err := checkFormats(s.Formats)
	if err != nil {
		return Stats{}, err
	}
	prefix := s.Prefix
	if prefix != "" && prefix[len(prefix)-1] != '/' {
		prefix += "/"
	}
	if s.CreateContainer {
		if _, err := s.Container.Create(ctx, nil); err != nil &&
			!bloberror.HasCode(err, bloberror.ContainerAlreadyExists, bloberror.AuthorizationFailure, bloberror.AuthorizationPermissionMismatch) {
			return c.snapshot(start), fmt.Errorf("create container: %w", err)
		}
	}
	mb := s.Container.NewBlockBlobClient(prefix + ManifestName)
	old, cond, err := s.readManifest(ctx, mb, prefix)
	if err != nil {
		return c.snapshot(start), err
	}
	gen := newGenerationID(start)

	m, err := writeFiles(ctx, meta, src, formats, gen, nil, s.blockDests(ctx, prefix, gen[len(gen)-6:]), c)
	if err != nil {
		s.removeGeneration(prefix, gen)
		return c.snapshot(start), err
	}
	kept, keepLegacy := retain(gen, old, s.KeepGenerations)
	m.Generations = kept
	m.PublishedAt = time.Now().UTC()
	b, err := m.encode()
	if err != nil {
		s.removeGeneration(prefix, gen)
		return c.snapshot(start), err
	}
	crashPoint("before manifest")
	if _, err := mb.Upload(ctx, streaming.NopCloser(bytes.NewReader(b)), &blockblob.UploadOptions{
		HTTPHeaders:      &blob.HTTPHeaders{BlobContentType: to.Ptr("application/json")},
		AccessConditions: &blob.AccessConditions{ModifiedAccessConditions: cond},
	}); err != nil {
		s.removeGeneration(prefix, gen)
		if bloberror.HasCode(err, bloberror.ConditionNotMet, bloberror.BlobAlreadyExists) {
			return c.snapshot(start), errs.Service("blob", fmt.Errorf("%s%s was replaced by another publication while this one ran: nothing published (publish to one prefix from one job at a time)", prefix, ManifestName))
		}
		return c.snapshot(start), fmt.Errorf("%s: %w", ManifestName, err)
	}
	crashPoint("after manifest")
	c.Bytes.Add(int64(len(b)))
	st := c.snapshot(start)
	st.Manifest = m
	st.Warnings = s.clean(ctx, prefix, gen, start, kept, retired(old, kept), keepLegacy)
	return st, nil
}

// readManifest reads the manifest a publication is about to replace (nil
// when there is none) and the condition under which it may be replaced:
// unchanged since (its ETag), or still absent.
func (s *BlobSink) readManifest(ctx context.Context, mb *blockblob.Client, prefix string) (*Manifest, *blob.ModifiedAccessConditions, error) {
	resp, err := mb.DownloadStream(ctx, nil)
	if bloberror.HasCode(err, bloberror.BlobNotFound) {
		return nil, &blob.ModifiedAccessConditions{IfNoneMatch: to.Ptr(azcore.ETagAny)}, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read %s%s: %w", prefix, ManifestName, err)
	}
	defer resp.Body.Close()
	name := prefix + ManifestName
	m, err := ReadManifest(io.LimitReader(resp.Body, 1<<20), name)
	if err != nil {
		return nil, nil, errs.Inputf("", 0, "%v; refusing to publish over it (choose another prefix)", err)
	}
	if resp.ETag == nil {
		return nil, nil, fmt.Errorf("read %s: no ETag in the response", name)
	}
	return m, &blob.ModifiedAccessConditions{IfMatch: resp.ETag}, nil
}

// removeGeneration deletes the committed data blobs of generation gen
// after a failed publication (best effort: the next publication removes
// what remains).
func (s *BlobSink) removeGeneration(prefix, gen string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p := prefix + gen + "/"
	pager := s.Container.NewListBlobsFlatPager(&container.ListBlobsFlatOptions{Prefix: &p})
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return
		}
		for _, b := range page.Segment.BlobItems {
			s.Container.NewBlobClient(*b.Name).Delete(ctx, nil)
		}
	}
}

// clean deletes, after a manifest switch, the blobs of time-named
// generations that sort before before (the own generation's name, or the
// generationStamp of the publication's start) and are not kept, of
// sharded generations that are not kept and either retired (named by the
// replaced manifest) or abandoned (no blob written since well before
// start), and the data blobs of a pre-generation
// publication unless keepLegacy. Newer generations are left alone (a
// publication that started later may be writing them). Failures do not
// undo the publication: they are returned as warnings.
func (s *BlobSink) clean(ctx context.Context, prefix, before string, start time.Time, kept, retired []string, keepLegacy bool) []string {
	var warn []string
	remove := func(name string) {
		if _, err := s.Container.NewBlobClient(name).Delete(ctx, nil); err != nil && !bloberror.HasCode(err, bloberror.BlobNotFound) {
			warn = append(warn, fmt.Sprintf("cleaning up %s: %v", name, err))
			return
		}
		crashPoint("removed " + strings.TrimPrefix(name, prefix))
	}
	// Sharded generations are judged whole, after the listing.
	sharded := map[string][]string{}
	newest := map[string]time.Time{}
	var order []string
	pager := s.Container.NewListBlobsFlatPager(&container.ListBlobsFlatOptions{Prefix: &prefix})
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return append(warn, fmt.Sprintf("cleaning up old generations: listing %s: %v", prefix, err))
		}
		for _, b := range page.Segment.BlobItems {
			rest := strings.TrimPrefix(*b.Name, prefix)
			g, _, inFolder := strings.Cut(rest, "/")
			switch {
			case inFolder && isShardedGeneration(g):
				if slices.Contains(kept, g) {
					continue
				}
				if _, seen := sharded[g]; !seen {
					order = append(order, g)
				}
				sharded[g] = append(sharded[g], *b.Name)
				if b.Properties != nil && b.Properties.LastModified != nil && b.Properties.LastModified.After(newest[g]) {
					newest[g] = *b.Properties.LastModified
				}
			case inFolder:
				if isTimeGeneration(g) && g < before && !slices.Contains(kept, g) {
					remove(*b.Name)
				}
			default:
				if isLegacyDataName(rest) && !keepLegacy {
					remove(*b.Name)
				}
			}
		}
	}
	for _, g := range order {
		if slices.Contains(retired, g) || abandoned(newest[g], start) {
			for _, name := range sharded[g] {
				remove(name)
			}
		}
	}
	return warn
}

func contentType(f toplist.Format) string {
	switch f {
	case toplist.JSONL:
		return "application/x-ndjson"
	case toplist.JSONLGzip:
		return "application/gzip"
	case toplist.Parquet:
		return "application/vnd.apache.parquet"
	}
	return "application/octet-stream"
}

// blockDest stages a blob's blocks as its bytes arrive, up to a shared
// number in flight, and commits the block list at the end.
type blockDest struct {
	ctx         context.Context
	cancel      context.CancelFunc
	bb          *blockblob.Client
	blockSize   int
	sem         chan struct{}
	pool        *sync.Pool
	runID       string
	contentType string

	buf []byte
	ids []string
	wg  sync.WaitGroup
	mu  sync.Mutex
	err error
}

func (d *blockDest) firstErr() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.err
}

func (d *blockDest) Write(p []byte) (int, error) {
	if err := d.firstErr(); err != nil {
		return 0, err
	}
	n := len(p)
	for len(p) > 0 {
		room := d.blockSize - len(d.buf)
		if room > len(p) {
			room = len(p)
		}
		d.buf = append(d.buf, p[:room]...)
		p = p[room:]
		if len(d.buf) == d.blockSize {
			if err := d.stage(); err != nil {
				return 0, err
			}
		}
	}
	return n, nil
}

// stage sends the current buffer as the next block, asynchronously.
func (d *blockDest) stage() error {
	if len(d.buf) == 0 {
		return nil
	}
	// Block ids must have equal lengths within a blob; the run id (from
	// the generation's random part) keeps them apart from any other run's.
	id := base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("recs-%s-%08d", d.runID, len(d.ids))))
	d.ids = append(d.ids, id)
	block := d.buf
	d.buf = (*d.pool.Get().(*[]byte))[:0]
	select {
	case d.sem <- struct{}{}:
	case <-d.ctx.Done():
		return d.ctx.Err()
	}
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		defer func() { <-d.sem }()
		_, err := d.bb.StageBlock(d.ctx, id, streaming.NopCloser(bytes.NewReader(block)), nil)
		block = block[:0]
		d.pool.Put(&block)
		if err != nil {
			d.mu.Lock()
			if d.err == nil {
				d.err = fmt.Errorf("stage block: %w", err)
			}
			d.mu.Unlock()
			d.cancel()
		}
	}()
	return nil
}

func (d *blockDest) commit(ctx context.Context) error {
	defer d.cancel()
	err := d.stage()
	d.wg.Wait()
	if err == nil {
		err = d.firstErr()
	}
	if err != nil {
		return err
	}
	_, err = d.bb.CommitBlockList(ctx, d.ids, &blockblob.CommitBlockListOptions{
		HTTPHeaders: &blob.HTTPHeaders{BlobContentType: to.Ptr(d.contentType)},
	})
	if err != nil {
		return fmt.Errorf("commit block list: %w", err)
	}
	return nil
}

func (d *blockDest) abort() {
	d.cancel()
	d.wg.Wait()
}

// blockDests returns the destinations of writeFiles and writePart under
// prefix: each a block blob whose blocks (BlockSize, default 8 MiB) go up
// Concurrency at a time (default 4) across all files, with block ids
// tagged runID, and whose block list is committed only when complete.
func (s *BlobSink) blockDests(ctx context.Context, prefix, runID string) func(name string, f toplist.Format) (dest, error) {
	blockSize := s.BlockSize
	if blockSize <= 0 {
		blockSize = 8 << 20
	}
	conc := s.Concurrency
	if conc <= 0 {
		conc = 4
	}
	sem := make(chan struct{}, conc)
	pool := &sync.Pool{New: func() any { b := make([]byte, 0, blockSize); return &b }}
	return func(name string, f toplist.Format) (dest, error) {
		dctx, cancel := context.WithCancel(ctx)
		d := &blockDest{ctx: dctx, cancel: cancel, bb: s.Container.NewBlockBlobClient(prefix + name),
			blockSize: blockSize, sem: sem, pool: pool, runID: runID, contentType: contentType(f)}
		d.buf = *pool.Get().(*[]byte)
		return d, nil
	}
}
