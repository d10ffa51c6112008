package export

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"

	"github.com/recs-dev/recs/internal/azure"
	"github.com/recs-dev/recs/internal/errs"
	"github.com/recs-dev/recs/toplist"
)

// Defaults of the Cosmos DB target.
const (
	DefaultDatabase  = "recommendations"
	DefaultContainer = "user_recommendations"
)

// DocumentShape is the JSON shape of a user's document.
type DocumentShape string

const (
	// ShapeFull: {"id":"<user>","items":[{"id":"<item>","score":s},…],
	// "model":"<model id>","generatedAt":"<RFC 3339>"}.
	ShapeFull DocumentShape = "full"
	// ShapeReference: the Azure reference architecture's
	// {"id":"<user>","MovieId":["<item>",…]} (no scores).
	ShapeReference DocumentShape = "reference"
)

// ParseShape returns the shape named s.
func ParseShape(s string) (DocumentShape, error) {
	switch DocumentShape(s) {
	case ShapeFull, ShapeReference:
		return DocumentShape(s), nil
	}
	return "", fmt.Errorf("document shape %q: want full or reference", s)
}

// NewCosmosClient returns a client of the Cosmos DB account at endpoint,
// authenticated by key or, when key is empty, by Azure AD
// (azidentity.DefaultAzureCredential: environment, workload identity,
// managed identity, Azure CLI). opts may be nil; unless opts sets
// Retry.MaxRetries, the SDK's own retries are turned off because CosmosSink
// retries (and counts, and paces) every request itself. Errors never
// contain the key.
func NewCosmosClient(endpoint, key string, opts *azcosmos.ClientOptions) (*azcosmos.Client, error) {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("cosmos endpoint %q is not an https:// URL", azure.ScrubString(endpoint, key))
	}
	o := azcosmos.ClientOptions{}
	if opts != nil {
		o = *opts
	}
	if o.Retry.MaxRetries == 0 {
		o.Retry.MaxRetries = -1
	}
	if key != "" {
		cred, err := azcosmos.NewKeyCredential(key)
		if err != nil {
			return nil, fmt.Errorf("cosmos key: %v", azure.ScrubString(err.Error(), key))
		}
		c, err := azcosmos.NewClientWithKey(endpoint, cred, &o)
		return c, azure.Scrub(err, key)
	}
	cred, err := azidentity.NewDefaultAzureCredential(nil)
	if err != nil {
		return nil, fmt.Errorf("no Cosmos key and no Azure AD credential: %v", err)
	}
	return azcosmos.NewClient(endpoint, cred, &o)
}

// CosmosSink upserts one document per user into a Cosmos DB container
// (created if missing, partition key /id), with bounded adaptive
// concurrency and retries (see the package documentation).
type CosmosSink struct {
	Client    *azcosmos.Client
	Database  string        // "": DefaultDatabase
	Container string        // "": DefaultContainer
	Shape     DocumentShape // "": ShapeFull
	// TTL, when positive, gives every document a "ttl" of that many
	// seconds, so users absent from later runs age out. The container's
	// default TTL is switched on (-1: no expiry unless a document says so)
	// if it is off.
	TTL int

	MaxConcurrency int // upper bound of the AIMD window; 0: 32
	// MaxRetries bounds the retries of one document after transient
	// failures (408, 449, 5xx, connection errors, timeouts); 0: 8.
	MaxRetries int
	// MaxThrottles bounds the 429s one document may receive; 0: 100.
	MaxThrottles   int
	Backoff        Backoff       // waits between transient retries
	RequestTimeout time.Duration // per attempt; 0: 30 s

	// Checkpoint is the path of the checkpoint file ("": none). It is
	// rewritten every CheckpointEvery (0: 2 s) and at the end.
	Checkpoint      string
	CheckpointEvery time.Duration
	// Resume skips the lists that the checkpoint shows written by an
	// interrupted run with the same model, lists and target.
	Resume bool

	Secrets []string // removed from error messages (the key)
	// Credential names what Client authenticates with, for messages about
	// a rejected one: "key" or "Azure AD token"; "": "credential".
	Credential string
	Progress   *Counters    // optional live counters
	Log        *slog.Logger // optional
}

func (s *CosmosSink) defaults() (CosmosSink, error) {
	d := *s
	if d.Client == nil {
		return d, errors.New("export: CosmosSink without a client")
	}
	if d.Database == "" {
		d.Database = DefaultDatabase
	}
	if d.Container == "" {
		d.Container = DefaultContainer
	}
	if d.Shape == "" {
		d.Shape = ShapeFull
	}
	if _, err := ParseShape(string(d.Shape)); err != nil {
		return d, err
	}
	if d.TTL < 0 {
		return d, fmt.Errorf("ttl %d is negative", d.TTL)
	}
	if d.MaxConcurrency <= 0 {
		d.MaxConcurrency = 32
	}
	if d.MaxRetries <= 0 {
		d.MaxRetries = 8
	}
	if d.MaxThrottles <= 0 {
		d.MaxThrottles = 100
	}
	if d.RequestTimeout <= 0 {
		d.RequestTimeout = 30 * time.Second
	}
	if d.CheckpointEvery <= 0 {
		d.CheckpointEvery = 2 * time.Second
	}
	if d.Log == nil {
		d.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return d, nil
}

func (s *CosmosSink) target() string {
	host := s.Client.Endpoint()
	if u, err := url.Parse(host); err == nil {
		host = u.Host
	}
	return fmt.Sprintf("%s/%s/%s shape=%s ttl=%d", host, s.Database, s.Container, s.Shape, s.TTL)
}

// Publish implements Sink.
func (s *CosmosSink) Publish(ctx context.Context, meta toplist.Meta, src ListSource) (Stats, error) {
	start := time.Now()
	c := countersOr(s.Progress)
	d, err := s.defaults()
	if err != nil {
		return Stats{}, err
	}
	err = d.publish(ctx, meta, src, c)
	st := c.snapshot(start)
	switch {
	case err == nil:
	case ctx.Err() != nil:
		err = ctx.Err()
	case authRejected(err) != nil:
		err = errs.Service("cosmos", authRejected(err)(hostOf(s.Client.Endpoint()), or(s.Credential, "credential")))
	case !errs.IsInput(err):
		err = errs.Service("cosmos", azure.Scrub(err, s.Secrets...))
	}
	return st, err
}

// authRejected returns, for a 401 or 403 answer, a function that words it
// for the user; nil for any other error. Such an answer is never retried
// (see classify), and the message carries the service's error code but
// none of its text (which may echo the request's signature payload).
func authRejected(err error) func(host, credential string) error {
	var re *azcore.ResponseError
	if !errors.As(err, &re) || (re.StatusCode != http.StatusUnauthorized && re.StatusCode != http.StatusForbidden) {
		return nil
	}
	status := fmt.Sprintf("%d %s", re.StatusCode, http.StatusText(re.StatusCode))
	if c := re.ErrorCode; c != "" && !strings.Contains(c, strconv.Itoa(re.StatusCode)) && c != http.StatusText(re.StatusCode) {
		status += ", " + c
	}
	return func(host, credential string) error {
		if re.StatusCode == http.StatusUnauthorized {
			return fmt.Errorf("the %s was rejected by %s (%s): check that it is a current key of this account (or the identity's token)", credential, host, status)
		}
		return fmt.Errorf("the %s was rejected by %s (%s): it is valid but not allowed to do this — a read-only key, a missing role assignment, or a firewall or network rule", credential, host, status)
	}
}

type upsertJob struct {
	seq  int64
	list toplist.List
}

func (s *CosmosSink) publish(parent context.Context, meta toplist.Meta, src ListSource, c *Counters) error {
	cc, err := s.ensureContainer(parent, c)
	if err != nil {
		return err
	}
	cp := &Checkpoint{Target: s.target(), Model: meta.Model, GeneratedAt: meta.GeneratedAt.UTC()}
	skip, skipHash, err := s.resumePoint(cp)
	if err != nil {
		return err
	}

	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)
	r := &cosmosRun{
		s: s, meta: meta, cc: cc, c: c, cp: cp, ctx: ctx, cancel: cancel,
		lim: newAIMD(1, s.MaxConcurrency, s.MaxConcurrency),
		tr:  newTracker(),
	}

	ckDone := make(chan struct{})
	var ckWG sync.WaitGroup
	ckWG.Add(1)
	go func() {
		defer ckWG.Done()
		r.checkpointLoop(ckDone)
	}()

	jobs := make(chan upsertJob, 2*s.MaxConcurrency)
	var wg sync.WaitGroup
	for range s.MaxConcurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.work(jobs)
		}()
	}

	mismatch, produceErr := r.produce(src, skip, skipHash, jobs)
	close(jobs)
	if produceErr != nil {
		cancel(produceErr)
	}
	wg.Wait()
	close(ckDone)
	ckWG.Wait()
	c.Window.Store(int64(r.lim.window()))
	err = context.Cause(ctx)
	if err == nil {
		err = parent.Err()
	}
	if !mismatch {
		r.saveCheckpoint(err == nil)
	}
	return err
}

// resumePoint returns how many leading lists an earlier run of the same
// model and target wrote, and the hash of their users, from the checkpoint
// when s.Resume is set; 0 and "" when there is nothing to resume.
func (s *CosmosSink) resumePoint(cp *Checkpoint) (skip int64, skipHash string, err error) {
	if s.Checkpoint == "" || !s.Resume {
		return 0, "", nil
	}
	old, err := ReadCheckpoint(s.Checkpoint)
	switch {
	case err != nil:
		return 0, "", err
	case old == nil:
		s.Log.Info("no checkpoint; writing every document", "checkpoint", s.Checkpoint)
	case old.Target != cp.Target || old.Model != cp.Model || !old.GeneratedAt.Equal(cp.GeneratedAt):
		s.Log.Warn("checkpoint is for another run; writing every document", "checkpoint", s.Checkpoint,
			"checkpoint_model", old.Model, "model", cp.Model)
	default:
		skip, skipHash = old.Done, old.UsersHash
		s.Log.Info("resuming", "skip", skip, "checkpoint", s.Checkpoint)
	}
	return skip, skipHash, nil
}

// cosmosRun is what one publish shares between its producer, its workers
// and its checkpoint writer.
type cosmosRun struct {
	s      *CosmosSink
	meta   toplist.Meta
	cc     *azcosmos.ContainerClient
	c      *Counters
	cp     *Checkpoint
	ctx    context.Context
	cancel context.CancelCauseFunc
	lim    *aimd
	tr     *tracker
}

// saveCheckpoint writes the current watermark to the checkpoint file, if
// there is one; a failure is only logged.
func (r *cosmosRun) saveCheckpoint(complete bool) {
	if r.s.Checkpoint == "" {
		return
	}
	r.cp.Done, r.cp.LastUser, r.cp.UsersHash = r.tr.watermark()
	r.cp.Complete = complete
	if err := writeCheckpoint(r.s.Checkpoint, r.cp); err != nil {
		r.s.Log.Warn("cannot write checkpoint", "checkpoint", r.s.Checkpoint, "err", err)
	}
}

// checkpointLoop publishes the AIMD window and saves the checkpoint every
// CheckpointEvery when the watermark has moved, until done is closed.
func (r *cosmosRun) checkpointLoop(done <-chan struct{}) {
	t := time.NewTicker(r.s.CheckpointEvery)
	defer t.Stop()
	var last int64 // a watermark of 0 is never worth writing
	for {
		select {
		case <-done:
			return
		case <-t.C:
			r.c.Window.Store(int64(r.lim.window()))
			if wm, _, _ := r.tr.watermark(); wm != last {
				r.saveCheckpoint(false)
				last = wm
			}
		}
	}
}

// work upserts the documents of jobs until the channel is closed; after the
// first failure (which cancels the run) it only drains.
func (r *cosmosRun) work(jobs <-chan upsertJob) {
	for j := range jobs {
		if r.ctx.Err() != nil {
			continue // drain
		}
		doc := r.s.document(r.meta, &j.list)
		if err := r.s.upsert(r.ctx, r.cc, j.list.User, doc, r.lim, r.c); err != nil {
			r.cancel(fmt.Errorf("user %q: %w", j.list.User, err))
			continue
		}
		r.c.Documents.Add(1)
		r.c.Bytes.Add(int64(len(doc)))
		r.tr.finish(j.seq, j.list.User)
	}
}

// produce reads src and sends each list to jobs, skipping the first skip
// lists after checking that their users hash to skipHash. mismatch reports
// that the source is not the checkpointed one, so the checkpoint is kept.
func (r *cosmosRun) produce(src ListSource, skip int64, skipHash string, jobs chan<- upsertJob) (mismatch bool, err error) {
	skipped := newUserHash()
	for n := int64(0); ; n++ {
		l, err := src.Next()
		if errors.Is(err, io.EOF) {
			if n < skip {
				return true, fmt.Errorf("the lists differ from the checkpointed run (%d lists, the checkpoint says %d were written); run without --resume", n, skip)
			}
			return false, nil
		}
		if err != nil {
			return false, err
		}
		if err := checkCosmosID(l.User); err != nil {
			return false, errs.Input("", err)
		}
		if n < skip {
			// The skipped users must be those of the checkpointed run;
			// only then do they count as written.
			skipped.add(l.User)
			if n == skip-1 {
				if skipped.sum() != skipHash {
					return true, fmt.Errorf("the lists differ from the checkpointed run (the users of the first %d lists are not the same); run without --resume", skip)
				}
				r.tr.adopt(skip, l.User, skipped)
			}
			r.c.Skipped.Add(1)
			continue
		}
		select {
		case jobs <- upsertJob{seq: n, list: l}:
		case <-r.ctx.Done():
			return false, nil
		}
	}
}

// tracker keeps the watermark: the count of leading lists all written,
// the last of their users and a hash of all of them in order.
type tracker struct {
	mu       sync.Mutex
	next     int64
	lastUser string
	hash     userHash
	done     map[int64]string
}

func newTracker() *tracker {
	return &tracker{hash: newUserHash(), done: map[int64]string{}}
}

// adopt starts the watermark at next (lists skipped by a resume), with the
// hash of their users.
func (t *tracker) adopt(next int64, lastUser string, h userHash) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.next, t.lastUser, t.hash = next, lastUser, h
}

// userHash is SHA-256 over a sequence of user ids, each length-prefixed so
// that ids cannot run into each other.
type userHash struct{ h hash.Hash }

func newUserHash() userHash { return userHash{sha256.New()} }

func (u userHash) add(id string) {
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(id)))
	u.h.Write(n[:])
	io.WriteString(u.h, id)
}

func (u userHash) sum() string { return hex.EncodeToString(u.h.Sum(nil)) }

func (t *tracker) finish(seq int64, user string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.done[seq] = user
	for {
		u, ok := t.done[t.next]
		if !ok {
			return
		}
		delete(t.done, t.next)
		t.lastUser = u
		t.hash.add(u)
		t.next++
	}
}

func (t *tracker) watermark() (done int64, lastUser, usersHash string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.next, t.lastUser, t.hash.sum()
}

// checkCosmosID rejects user ids Cosmos DB cannot store as document ids.
func checkCosmosID(id string) error {
	if strings.ContainsAny(id, `/\?#`) {
		return fmt.Errorf("user id %q cannot be a Cosmos DB document id (it contains /, \\, ? or #)", id)
	}
	if len(id) > 255 {
		return fmt.Errorf("user id %.40q… is longer than the 255 characters of a Cosmos DB document id", id)
	}
	return nil
}

// document renders the user's document in the sink's shape.
func (s *CosmosSink) document(meta toplist.Meta, l *toplist.List) []byte {
	return appendDocument(make([]byte, 0, 64+len(l.Items)*32), s.Shape, meta, l, s.TTL)
}

// appendDocument appends l's document in shape to b (ShapeFull unless
// ShapeReference), with a "ttl" member when ttl is positive.
func appendDocument(b []byte, shape DocumentShape, meta toplist.Meta, l *toplist.List, ttl int) []byte {
	b = append(b, `{"id":`...)
	b = toplist.AppendJSONString(b, l.User)
	switch shape {
	case ShapeReference:
		b = append(b, `,"MovieId":[`...)
		for i, it := range l.Items {
			if i > 0 {
				b = append(b, ',')
			}
			b = toplist.AppendJSONString(b, it.ID)
		}
		b = append(b, ']')
	default:
		b = append(b, `,"items":[`...)
		for i, it := range l.Items {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"id":`...)
			b = toplist.AppendJSONString(b, it.ID)
			b = append(b, `,"score":`...)
			b = toplist.AppendScore(b, it.Score)
			b = append(b, '}')
		}
		b = append(b, `],"model":`...)
		b = toplist.AppendJSONString(b, meta.Model)
		b = append(b, `,"generatedAt":"`...)
		b = meta.GeneratedAt.UTC().AppendFormat(b, time.RFC3339Nano)
		b = append(b, '"')
	}
	if ttl > 0 {
		b = append(b, `,"ttl":`...)
		b = strconv.AppendInt(b, int64(ttl), 10)
	}
	return append(b, '}')
}

// upsert writes one document, retrying throttles and transient failures.
func (s *CosmosSink) upsert(ctx context.Context, cc *azcosmos.ContainerClient, id string, doc []byte, lim *aimd, c *Counters) error {
	pk := azcosmos.NewPartitionKeyString(id)
	return s.retry(ctx, lim, c, func(ctx context.Context) error {
		_, err := cc.UpsertItem(ctx, pk, doc, nil)
		return err
	})
}

// retry runs call until it succeeds, fails permanently, or exhausts the
// retry budgets. lim may be nil (control-plane calls).
func (s *CosmosSink) retry(ctx context.Context, lim *aimd, c *Counters, call func(context.Context) error) error {
	throttles, failures := 0, 0
	for {
		if lim != nil {
			if err := lim.acquire(ctx); err != nil {
				return err
			}
		}
		actx, acancel := context.WithTimeout(ctx, s.RequestTimeout)
		err := call(actx)
		acancel()
		if err == nil {
			if lim != nil {
				lim.success()
			}
			return nil
		}
		if ctx.Err() != nil {
			if lim != nil {
				lim.failed()
			}
			return context.Cause(ctx)
		}
		o, status, retryAfter := classify(err)
		switch o {
		case throttle:
			c.Throttles.Add(1)
			throttles++
			if retryAfter <= 0 {
				retryAfter = s.Backoff.Delay(throttles)
			}
			if lim != nil {
				lim.throttled(retryAfter)
			}
			if throttles > s.MaxThrottles {
				return fmt.Errorf("throttled (429) %d times: %w", throttles, err)
			}
			s.Log.Debug("throttled", "retry_after", retryAfter)
			c.Retries.Add(1)
			if lim == nil {
				if err := sleep(ctx, retryAfter); err != nil {
					return err
				}
			}
		case transient:
			if lim != nil {
				lim.failed()
			}
			failures++
			if failures > s.MaxRetries {
				return fmt.Errorf("gave up after %d retries: %w", s.MaxRetries, err)
			}
			s.Log.Debug("transient failure", "status", status, "retry", failures)
			c.Retries.Add(1)
			if err := sleep(ctx, s.Backoff.Delay(failures)); err != nil {
				return context.Cause(ctx)
			}
		default:
			if lim != nil {
				lim.failed()
			}
			return err
		}
	}
}

// ensureContainer creates the database and container when missing and
// checks an existing container's partition key (and TTL setting).
func (s *CosmosSink) ensureContainer(ctx context.Context, c *Counters) (*azcosmos.ContainerClient, error) {
	err := s.retry(ctx, nil, c, func(ctx context.Context) error {
		_, err := s.Client.CreateDatabase(ctx, azcosmos.DatabaseProperties{ID: s.Database}, nil)
		if statusOf(err) == http.StatusConflict {
			return nil
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("create database %q: %w", s.Database, err)
	}
	db, err := s.Client.NewDatabase(s.Database)
	if err != nil {
		return nil, err
	}
	props := azcosmos.ContainerProperties{ID: s.Container,
		PartitionKeyDefinition: azcosmos.PartitionKeyDefinition{Paths: []string{"/id"}, Kind: azcosmos.PartitionKeyKindHash}}
	if s.TTL > 0 {
		props.DefaultTimeToLive = to.Ptr[int32](-1)
	}
	existed := false
	err = s.retry(ctx, nil, c, func(ctx context.Context) error {
		_, err := db.CreateContainer(ctx, props, nil)
		if statusOf(err) == http.StatusConflict {
			existed = true
			return nil
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("create container %q: %w", s.Container, err)
	}
	cc, err := db.NewContainer(s.Container)
	if err != nil {
		return nil, err
	}
	if !existed {
		s.Log.Info("created Cosmos container", "database", s.Database, "container", s.Container, "partition_key", "/id")
		return cc, nil
	}
	var got *azcosmos.ContainerProperties
	err = s.retry(ctx, nil, c, func(ctx context.Context) error {
		resp, err := cc.Read(ctx, nil)
		if err == nil {
			got = resp.ContainerProperties
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read container %q: %w", s.Container, err)
	}
	if got == nil {
		return nil, fmt.Errorf("read container %q: no properties in the response", s.Container)
	}
	if p := got.PartitionKeyDefinition.Paths; len(p) != 1 || p[0] != "/id" {
		return nil, fmt.Errorf("container %s/%s has partition key %v; recs needs /id (use another --container)", s.Database, s.Container, p)
	}
	if s.TTL > 0 && got.DefaultTimeToLive == nil {
		got.DefaultTimeToLive = to.Ptr[int32](-1)
		err = s.retry(ctx, nil, c, func(ctx context.Context) error {
			_, err := cc.Replace(ctx, *got, nil)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("switch on TTL of container %q: %w", s.Container, err)
		}
		s.Log.Info("switched on time-to-live for the container (default -1: per-document ttl)", "container", s.Container)
	}
	return cc, nil
}

func statusOf(err error) int {
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		return re.StatusCode
	}
	return 0
}
