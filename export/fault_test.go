package export

import (
	"bytes"
	"context"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"

	"github.com/recs-dev/recs/internal/emulator"
	"github.com/recs-dev/recs/toplist"
)

// faultProxy stands between the Cosmos SDK and the emulator and, for
// document writes only, injects faults with fixed probabilities from a
// seeded generator:
//
//	429 with x-ms-retry-after-ms (the emulator never throttles)
//	503 Service Unavailable
//	a slow response (forwarded after a short delay)
//	a stalled response (held until the client gives up on it)
//	a connection dropped before forwarding (the write never happened)
//	a connection dropped after forwarding (the write happened, the
//	  answer was lost: the retry must be harmless)
type faultProxy struct {
	rp *httputil.ReverseProxy

	mu  sync.Mutex
	rng *rand.Rand

	p429, p503, pSlow, pStall, pDropBefore, pDropAfter float64
	slow                                               time.Duration
	retryAfter                                         string

	n429, n503, nSlow, nStall, nDropBefore, nDropAfter, nForwarded atomic.Int64

	// authStatus, when set, answers every request (data and control
	// plane) with it, as Cosmos DB does when the key is wrong (401) or not
	// allowed (403); the emulator accepts any key.
	// (Atomic: the test sets them while the server runs, and the requests
	// come from a child process, which the race detector cannot follow.)
	authStatus   atomic.Int32
	authDocsOnly atomic.Bool // only document writes (a key that may read, not write)
	nAuth        atomic.Int64
}

func newFaultProxy(t *testing.T, target string, seed uint64) (*faultProxy, string) {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &faultProxy{rp: httputil.NewSingleHostReverseProxy(u), rng: rand.New(rand.NewPCG(seed, 7))}
	// Stalled requests that the client abandons end in "proxy error:
	// context canceled"; that is expected, not worth a log line.
	p.rp.ErrorLog = log.New(io.Discard, "", 0)
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	// The account document names the regional endpoint the SDK then talks
	// to: make that the proxy, or only the first request would pass it.
	proxyHost := strings.TrimPrefix(srv.URL, "http://")
	p.rp.ModifyResponse = func(resp *http.Response) error {
		if resp.Request.Method != http.MethodGet || resp.Request.URL.Path != "/" {
			return nil
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		b = bytes.ReplaceAll(b, []byte(u.Host), []byte(proxyHost))
		resp.Body = io.NopCloser(bytes.NewReader(b))
		resp.ContentLength = int64(len(b))
		resp.Header.Set("Content-Length", strconv.Itoa(len(b)))
		return nil
	}
	return p, srv.URL + "/"
}

func isDocWrite(r *http.Request) bool {
	return r.Method == http.MethodPost && strings.HasSuffix(strings.TrimSuffix(r.URL.Path, "/"), "/docs")
}

func (p *faultProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if status := int(p.authStatus.Load()); status != 0 && (!p.authDocsOnly.Load() || isDocWrite(r)) {
		p.nAuth.Add(1)
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, `{"code":"`+http.StatusText(status)+`","message":"The input authorization token can't serve the request (injected)"}`)
		return
	}
	if !isDocWrite(r) {
		p.rp.ServeHTTP(w, r)
		return
	}
	p.mu.Lock()
	x := p.rng.Float64()
	p.mu.Unlock()
	cut := 0.0
	next := func(pr float64) bool { cut += pr; return x < cut }
	switch {
	case next(p.p429):
		p.n429.Add(1)
		io.Copy(io.Discard, r.Body)
		w.Header().Set("x-ms-retry-after-ms", p.retryAfter)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		io.WriteString(w, `{"code":"TooManyRequests","message":"Request rate is large (injected)"}`)
	case next(p.p503):
		p.n503.Add(1)
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, `{"code":"ServiceUnavailable","message":"injected"}`)
	case next(p.pSlow):
		p.nSlow.Add(1)
		time.Sleep(p.slow)
		p.forward(w, r)
	case next(p.pStall):
		// Held until the client's per-attempt timeout abandons it, however
		// long that takes on a busy machine; the write never happens. (The
		// server notices a closed connection, and ends the request's
		// context, only once the body has been read.)
		p.nStall.Add(1)
		io.Copy(io.Discard, r.Body)
		<-r.Context().Done()
	case next(p.pDropBefore):
		p.nDropBefore.Add(1)
		drop(w)
	case next(p.pDropAfter):
		p.nDropAfter.Add(1)
		rec := httptest.NewRecorder()
		p.forward(rec, r)
		drop(w)
	default:
		p.forward(w, r)
	}
}

func (p *faultProxy) forward(w http.ResponseWriter, r *http.Request) {
	p.nForwarded.Add(1)
	p.rp.ServeHTTP(w, r)
}

// drop closes the client's connection without an answer.
func drop(w http.ResponseWriter) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		panic(err)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0) // RST, like a crashed gateway
	}
	conn.Close()
}

// faults counts the injected faults that fail the attempt they hit (a slow
// response does not).
func (p *faultProxy) faults() int64 {
	return p.n429.Load() + p.n503.Load() + p.nStall.Load() + p.nDropBefore.Load() + p.nDropAfter.Load()
}

// countingTransport is the client's HTTP transport, below every retry of
// the SDK: it sees each attempt and counts how attempts ended.
type countingTransport struct {
	next *http.Client
	// failed: a transport error or a status the sink or the SDK retries
	// (408, 410, 429, 449, 5xx); throttled: 429s among them.
	attempts, failed, throttled atomic.Int64
}

func newCountingTransport() *countingTransport {
	return &countingTransport{next: &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}}
}

func (c *countingTransport) Do(r *http.Request) (*http.Response, error) {
	c.attempts.Add(1)
	resp, err := c.next.Do(r)
	switch {
	case err != nil:
		c.failed.Add(1)
	case resp.StatusCode == http.StatusTooManyRequests:
		c.throttled.Add(1)
		c.failed.Add(1)
	case resp.StatusCode == http.StatusRequestTimeout || resp.StatusCode == http.StatusGone || resp.StatusCode == 449 || resp.StatusCode >= 500:
		c.failed.Add(1)
	}
	return resp, err
}

// TestCosmosThroughFaults exports through the fault-injecting proxy, then
// cancels an export midway and resumes it. After each, every user's
// document must be present exactly once with the right content, and the
// stats must account for the injected throttles and retries.
//
// Nothing here depends on how fast the machine is: a per-attempt timeout
// that fires on a merely slow request (a busy machine) is one more failed
// attempt, which the client-side counts include, so the assertions are
// inequalities between exact counts, never time windows.
func TestCosmosThroughFaults(t *testing.T) {
	emu := emulator.Cosmos(t)
	proxy, endpoint := newFaultProxy(t, emu.Endpoint, 2024)
	// About a quarter of document writes fail in one of five ways.
	proxy.p429, proxy.p503, proxy.pSlow, proxy.pStall, proxy.pDropBefore, proxy.pDropAfter = 0.08, 0.05, 0.05, 0.01, 0.04, 0.04
	proxy.slow, proxy.retryAfter = 30*time.Millisecond, "15"

	tr := newCountingTransport()
	client, err := NewCosmosClient(endpoint, emulator.CosmosKey, &azcosmos.ClientOptions{ClientOptions: azcore.ClientOptions{Transport: tr}})
	if err != nil {
		t.Fatal(err)
	}
	direct := cosmosClient(t, emu.Endpoint) // to read back without faults
	db := uniqueDB(t)
	lists := genLists(800, 10, 21)
	newSink := func(progress *Counters) *CosmosSink {
		return &CosmosSink{Client: client, Database: db, MaxConcurrency: 16, MaxRetries: 20,
			Backoff: Backoff{Base: 5 * time.Millisecond, Max: 50 * time.Millisecond}, RequestTimeout: 500 * time.Millisecond,
			Checkpoint: filepath.Join(t.TempDir(), "ck.json"), CheckpointEvery: 20 * time.Millisecond, Progress: progress}
	}

	s := newSink(nil)
	st, err := s.Publish(context.Background(), testMeta, Lists(lists))
	if err != nil {
		t.Fatal(err)
	}
	checkDocs(t, readAll(t, direct, db, DefaultContainer), lists, testMeta)
	t.Logf("injected: 429 %d, 503 %d, slow %d, stall %d, drop-before %d, drop-after %d; stats %+v",
		proxy.n429.Load(), proxy.n503.Load(), proxy.nSlow.Load(), proxy.nStall.Load(), proxy.nDropBefore.Load(), proxy.nDropAfter.Load(), st)
	// Every kind of fault occurs: the proxy draws from a seeded generator
	// under a lock, so the first 800 draws (one per document's first
	// attempt, in whatever order the attempts arrive) are the same every
	// run, and they include each kind (about 64, 40, 40, 8, 32, 32
	// expected: 800 times the probabilities).
	for name, n := range map[string]int64{"429": proxy.n429.Load(), "503": proxy.n503.Load(), "stall": proxy.nStall.Load(),
		"drop-before": proxy.nDropBefore.Load(), "drop-after": proxy.nDropAfter.Load(), "slow": proxy.nSlow.Load()} {
		if n == 0 {
			t.Errorf("no %s fault was injected; the test lost its point", name)
		}
	}
	// Exact accounting. No SDK policy retries a 429, so each 429 the
	// client received is one throttle of the sink, and the client cannot
	// receive a 429 the proxy did not inject (the emulator never
	// throttles). Every injected fault failed the attempt it hit, so the
	// client saw at least that many failed attempts. Each retry of the
	// sink follows a failed call, and each failed call had at least one
	// failed attempt of its own (the SDK's cross-region policy may retry
	// a 503 or a connection error by itself, so not every failed attempt
	// becomes a sink retry); each throttle is retried.
	throttled, failed := tr.throttled.Load(), tr.failed.Load()
	t.Logf("client: %d attempts, %d failed, %d throttled", tr.attempts.Load(), failed, throttled)
	if st.Throttles != throttled || throttled > proxy.n429.Load() {
		t.Errorf("Throttles = %d; client received %d 429s, proxy injected %d", st.Throttles, throttled, proxy.n429.Load())
	}
	if failed < proxy.faults() {
		t.Errorf("client saw %d failed attempts, fewer than the %d faults injected", failed, proxy.faults())
	}
	if st.Retries < st.Throttles || st.Retries > failed {
		t.Errorf("Retries = %d, want within [Throttles %d, failed attempts %d]", st.Retries, st.Throttles, failed)
	}
	if st.Documents != int64(len(lists)) {
		t.Errorf("Documents = %d, want %d", st.Documents, len(lists))
	}
	ck, err := ReadCheckpoint(s.Checkpoint)
	if err != nil || ck == nil || !ck.Complete || ck.Done != int64(len(lists)) {
		t.Errorf("checkpoint after success = %+v, %v", ck, err)
	}

	// Now new lists (another model), cancelled midway through.
	meta2 := testMeta
	meta2.Model = "als-test-8"
	lists2 := genLists(800, 10, 22)
	var live Counters
	s2 := newSink(&live)
	ctx, cancel := context.WithCancel(context.Background())
	src := &cancellingSource{ListSource: Lists(lists2), live: &live, after: 300, checkpoint: s2.Checkpoint, cancel: cancel}
	st2, err := s2.Publish(ctx, meta2, src)
	if err != context.Canceled {
		t.Fatalf("cancelled export: err = %v, want context.Canceled", err)
	}
	ck, err = ReadCheckpoint(s2.Checkpoint)
	if err != nil || ck == nil {
		t.Fatalf("no checkpoint after cancel: %v", err)
	}
	if ck.Complete || ck.Done <= 0 || ck.Done >= int64(len(lists2)) || ck.Model != meta2.Model {
		t.Fatalf("checkpoint after cancel = %+v", ck)
	}
	if ck.LastUser != lists2[ck.Done-1].User {
		t.Errorf("checkpoint last user %q, list %d is %q", ck.LastUser, ck.Done, lists2[ck.Done-1].User)
	}
	t.Logf("cancelled after %d documents; checkpoint done %d", st2.Documents, ck.Done)

	// Resume: the checkpointed lists are skipped, the rest written.
	s3 := newSink(nil)
	s3.Checkpoint, s3.Resume = s2.Checkpoint, true
	st3, err := s3.Publish(context.Background(), meta2, Lists(lists2))
	if err != nil {
		t.Fatal(err)
	}
	if st3.Skipped != ck.Done || st3.Documents != int64(len(lists2))-ck.Done {
		t.Errorf("resume: skipped %d, wrote %d; want %d and %d", st3.Skipped, st3.Documents, ck.Done, int64(len(lists2))-ck.Done)
	}
	checkDocs(t, readAll(t, direct, db, DefaultContainer), lists2, meta2)

	ck3, err := ReadCheckpoint(s3.Checkpoint)
	if err != nil || ck3 == nil || !ck3.Complete {
		t.Fatalf("checkpoint after resume: %+v, %v", ck3, err)
	}
	// A resume of a finished run writes nothing; a resume with other lists
	// (same model) refuses rather than skip the wrong users.
	st4, err := s3.Publish(context.Background(), meta2, Lists(lists2))
	if err != nil || st4.Documents != 0 || st4.Skipped != int64(len(lists2)) {
		t.Errorf("resume of a complete run: %+v, %v", st4, err)
	}
	shuffled := append([]toplist.List{lists2[1], lists2[0]}, lists2[2:]...)
	if _, err := s3.Publish(context.Background(), meta2, Lists(shuffled)); err == nil || !strings.Contains(err.Error(), "differ from the checkpointed run") {
		t.Errorf("resume with reordered lists: err = %v", err)
	}
	// The refused resume left the checkpoint as it was.
	if after, err := ReadCheckpoint(s3.Checkpoint); err != nil || after == nil || !after.Complete || after.UsersHash != ck3.UsersHash {
		t.Errorf("checkpoint changed by a refused resume: %+v, %v", after, err)
	}
	// Fewer lists than the checkpoint says were written: refused too.
	if _, err := s3.Publish(context.Background(), meta2, Lists(lists2[:10])); err == nil || !strings.Contains(err.Error(), "differ from the checkpointed run") {
		t.Errorf("resume with fewer lists: err = %v", err)
	}
	if _, err := os.Stat(s3.Checkpoint); err != nil {
		t.Error(err)
	}
}

// cancellingSource cancels the export once `after` documents are written
// and a checkpoint shows a written prefix. Until then the export goes on;
// after `after` documents it hands out no more lists, so the cancel comes
// with lists still unwritten, whatever order the writes finish in.
type cancellingSource struct {
	ListSource
	live       *Counters
	after      int64
	checkpoint string
	cancel     context.CancelFunc
}

func (c *cancellingSource) Next() (toplist.List, error) {
	if c.live.Documents.Load() < c.after {
		return c.ListSource.Next()
	}
	// The workers finish the lists handed out; the sink writes the
	// checkpoint every CheckpointEvery once its prefix has grown. (The
	// minute is only a way out should the export fail: the test then
	// reports the empty checkpoint.)
	for give := time.Now().Add(time.Minute); time.Now().Before(give); time.Sleep(time.Millisecond) {
		if ck, err := ReadCheckpoint(c.checkpoint); err == nil && ck != nil && ck.Done > 0 {
			break
		}
	}
	c.cancel()
	return c.ListSource.Next()
}
