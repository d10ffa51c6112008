package export

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"sync"
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

// BlobSink publishes into a Blob Storage container under Prefix: each data
// file (DataName of each format) as a block blob whose blocks are staged
// while the lists stream and committed (CommitBlockList) only when the file
// is complete, then manifest.json in one upload. A failed run leaves no new
// data blob (uncommitted blocks are discarded by the service) and never a
// manifest that points at a partial run.
//
// Retries are the SDK's (internal/azure.DefaultRetry: 408, 429, 5xx and
// connection errors, exponential backoff with jitter honouring
// Retry-After), counted through azure.Counts.
type BlobSink struct {
	Container *container.Client
	// Prefix is prepended to every blob name (a "/" is added when missing);
	// use one per run ("2024-05-01/") to keep history.
	Prefix  string
	Formats []toplist.Format // data files; empty: DefaultFormats
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
}

// Publish implements Sink.
func (s *BlobSink) Publish(ctx context.Context, meta toplist.Meta, src ListSource) (Stats, error) {
	start := time.Now()
	c := countersOr(s.Progress)
	st, err := s.publish(ctx, meta, src, c, start)
	if s.Counts != nil {
		st.Retries, st.Throttles = s.Counts.Retries(), s.Counts.Throttles.Load()
	}
	if err != nil && !errs.IsInput(err) && ctx.Err() == nil {
		err = errs.Service("blob", azure.Scrub(err, s.Secrets...))
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
	run := make([]byte, 8)
	rand.Read(run)
	runID := hex.EncodeToString(run)

	m, err := writeFiles(ctx, meta, src, formats, func(name string, f toplist.Format) (dest, error) {
		dctx, cancel := context.WithCancel(ctx)
		d := &blockDest{ctx: dctx, cancel: cancel, bb: s.Container.NewBlockBlobClient(prefix + name),
			blockSize: blockSize, sem: sem, pool: pool, runID: runID, contentType: contentType(f)}
		d.buf = *pool.Get().(*[]byte)
		return d, nil
	}, c)
	if err != nil {
		return c.snapshot(start), err
	}
	b, err := m.encode()
	if err != nil {
		return c.snapshot(start), err
	}
	mb := s.Container.NewBlockBlobClient(prefix + ManifestName)
	if _, err := mb.Upload(ctx, streaming.NopCloser(bytes.NewReader(b)), &blockblob.UploadOptions{
		HTTPHeaders: &blob.HTTPHeaders{BlobContentType: to.Ptr("application/json")},
	}); err != nil {
		return c.snapshot(start), fmt.Errorf("%s: %w", ManifestName, err)
	}
	c.Bytes.Add(int64(len(b)))
	st := c.snapshot(start)
	st.Manifest = m
	return st, nil
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
	// Block ids must have equal lengths within a blob; the run id keeps
	// them apart from blocks a failed earlier run left uncommitted.
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
