package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/recs-dev/recs/toplist"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/singleflight"

	"github.com/recs-dev/recs/export"
	"github.com/recs-dev/recs/internal/azure"
	"github.com/recs-dev/recs/internal/errs"
)

// CosmosConfig configures a CosmosStore.
type CosmosConfig struct {
	// Container holds one document per user, partition key /id, in the
	// shape `recs export` writes: {"id","items":[{"id","score"}],"model",
	// "generatedAt"} or the reference architecture's {"id","MovieId":[…]}.
	Container *azcosmos.ContainerClient
	// Source describes the container for logs and /readyz (no secrets).
	Source string
	// MaxK is the largest k served (the length the lists were computed
	// with); documents holding more items are cut to MaxK. 0: 10.
	MaxK int
	// CacheSize bounds the cached lookups (found and absent users); 0
	// turns the cache off: every request is a point read.
	CacheSize int
	// CacheTTL is how long a cached lookup is served. 0: 5 minutes.
	CacheTTL time.Duration
	// Timeout bounds one lookup, retries included. 0: 2 s.
	Timeout time.Duration
	// Registerer receives the cache and read metrics; may be nil.
	Registerer prometheus.Registerer
	// Secrets are removed from error messages (the account key).
	Secrets []string
}

// CosmosStore is a Store that reads each user's document from Azure Cosmos
// DB by point read (partition key and id = the user id, about 1 RU),
// behind a bounded LRU cache with a time to live. Concurrent misses for one
// user share a single read. Ids Cosmos DB cannot store (containing /, \, ?
// or #, or longer than 255 bytes) are unknown without a read.
type CosmosStore struct {
	cfg    CosmosConfig
	cache  *lruCache // nil: no cache
	group  singleflight.Group
	hits   prometheus.Counter
	misses prometheus.Counter
	reads  *prometheus.CounterVec
	readD  prometheus.Histogram
}

var _ Store = (*CosmosStore)(nil)

// CosmosRetry are the SDK retry settings for serving: a lookup has a
// client waiting, so retries are few and short, and only for answers that
// mean "try again" (408, 429, 502, 503, 504).
var CosmosRetry = policy.RetryOptions{
	MaxRetries:    2,
	RetryDelay:    20 * time.Millisecond,
	MaxRetryDelay: 500 * time.Millisecond,
	StatusCodes: []int{http.StatusRequestTimeout, http.StatusTooManyRequests,
		http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout},
}

// OpenCosmosContainer returns a client of database/container in the
// account at endpoint, authenticated by key or, when key is empty, by
// Azure AD (managed or workload identity, environment, Azure CLI), with
// the serving retry settings CosmosRetry. Errors never contain the key.
func OpenCosmosContainer(endpoint, key, database, container string) (*azcosmos.ContainerClient, error) {
	c, err := export.NewCosmosClient(endpoint, key, &azcosmos.ClientOptions{ClientOptions: azcore.ClientOptions{Retry: CosmosRetry}})
	if err != nil {
		return nil, errs.Service("cosmos", err)
	}
	cc, err := c.NewContainer(database, container)
	if err != nil {
		return nil, errs.Service("cosmos", azure.Scrub(err, key))
	}
	return cc, nil
}

// NewCosmosStore returns a store reading cfg.Container.
func NewCosmosStore(cfg CosmosConfig) *CosmosStore {
	if cfg.MaxK <= 0 {
		cfg.MaxK = 10
	}
	if cfg.CacheTTL <= 0 {
		cfg.CacheTTL = 5 * time.Minute
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 2 * time.Second
	}
	s := &CosmosStore{
		cfg:    cfg,
		hits:   prometheus.NewCounter(prometheus.CounterOpts{Name: "recs_serve_cache_hits_total", Help: "Cosmos DB lookups answered from the cache."}),
		misses: prometheus.NewCounter(prometheus.CounterOpts{Name: "recs_serve_cache_misses_total", Help: "Cosmos DB lookups not in the cache (or expired)."}),
		reads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "recs_serve_cosmos_reads_total",
			Help: "Cosmos DB point reads, by result (found, absent, error).",
		}, []string{"result"}),
		readD: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "recs_serve_cosmos_read_duration_seconds",
			Help:    "Duration of Cosmos DB point reads, retries included.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}),
	}
	if cfg.CacheSize > 0 {
		s.cache = newLRU(cfg.CacheSize, cfg.CacheTTL)
	}
	if cfg.Registerer != nil {
		cs := []prometheus.Collector{s.hits, s.misses, s.reads, s.readD}
		if s.cache != nil {
			cs = append(cs, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "recs_serve_cache_entries", Help: "Lookups held by the Cosmos DB cache.",
			}, func() float64 { return float64(s.cache.len()) }))
		}
		for _, c := range cs {
			cfg.Registerer.Register(c)
		}
	}
	return s
}

// Check reads the container's properties: it fails when the account, the
// database or the container cannot be reached, so that a misconfigured
// server never turns ready.
func (s *CosmosStore) Check(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 4*s.cfg.Timeout)
	defer cancel()
	if _, err := s.cfg.Container.Read(ctx, nil); err != nil {
		return errs.Service("cosmos", fmt.Errorf("container %s: %w", s.cfg.Source, azure.Scrub(err, s.cfg.Secrets...)))
	}
	return nil
}

// MaxK implements Store.
func (s *CosmosStore) MaxK() int { return s.cfg.MaxK }

// Info implements Store.
func (s *CosmosStore) Info() StoreInfo {
	return StoreInfo{Kind: "cosmos", Source: s.cfg.Source, K: s.cfg.MaxK}
}

// cosmosIDOK reports whether id can be a Cosmos DB document id.
func cosmosIDOK(id string) bool {
	return len(id) <= 255 && !strings.ContainsAny(id, `/\?#`)
}

type cosmosResult struct {
	rec   Record
	found bool
}

// Lookup implements Store.
func (s *CosmosStore) Lookup(ctx context.Context, user string) (Record, bool, error) {
	if !cosmosIDOK(user) {
		return Record{}, false, nil
	}
	if s.cache != nil {
		if rec, found, ok := s.cache.get(user); ok {
			s.hits.Inc()
			return rec, found, nil
		}
		s.misses.Inc()
	}
	// One read per user at a time; it runs detached from any one caller's
	// cancellation (bounded by Timeout) so that a client going away does
	// not fail the others waiting on the same read.
	ch := s.group.DoChan(user, func() (any, error) {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.Timeout)
		defer cancel()
		rec, found, err := s.read(rctx, user)
		if err != nil {
			return nil, err
		}
		if s.cache != nil {
			s.cache.put(user, rec, found)
		}
		return cosmosResult{rec, found}, nil
	})
	select {
	case <-ctx.Done():
		return Record{}, false, ctx.Err()
	case r := <-ch:
		if r.Err != nil {
			return Record{}, false, r.Err
		}
		res := r.Val.(cosmosResult)
		return res.rec, res.found, nil
	}
}

// read fetches and encodes one user's document.
func (s *CosmosStore) read(ctx context.Context, user string) (Record, bool, error) {
	start := time.Now()
	pk := azcosmos.NewPartitionKeyString(user)
	resp, err := s.cfg.Container.ReadItem(ctx, pk, user, nil)
	var body []byte
	if err == nil {
		body = resp.Value
	} else {
		var re *azcore.ResponseError
		switch {
		case errors.As(err, &re) && re.StatusCode == http.StatusNotFound:
			s.observe(start, "absent")
			return Record{}, false, nil
		case errors.As(err, &re) && re.StatusCode == http.StatusInternalServerError:
			// Confirm with a query in the partition: the local emulator
			// answers 500 instead of 404 for a missing document, and a
			// genuine server failure fails the query too.
			body, err = s.queryByID(ctx, pk, user)
			if err == nil && body == nil {
				s.observe(start, "absent")
				return Record{}, false, nil
			}
		}
	}
	if err != nil {
		s.observe(start, "error")
		return Record{}, false, errs.Service("cosmos", fmt.Errorf("read user %q: %w", truncateID(user), azure.Scrub(err, s.cfg.Secrets...)))
	}
	rec, err := encodeDocument(user, body, s.cfg.MaxK)
	if err != nil {
		s.observe(start, "error")
		return Record{}, false, errs.Inputf(s.cfg.Source, 0, "document %q: %v", truncateID(user), err)
	}
	s.observe(start, "found")
	return rec, true, nil
}

func (s *CosmosStore) observe(start time.Time, result string) {
	s.readD.Observe(time.Since(start).Seconds())
	s.reads.WithLabelValues(result).Inc()
}

// queryByID returns the document with id user in partition pk, or nil.
func (s *CosmosStore) queryByID(ctx context.Context, pk azcosmos.PartitionKey, user string) ([]byte, error) {
	pager := s.cfg.Container.NewQueryItemsPager("SELECT * FROM c WHERE c.id = @id", pk,
		&azcosmos.QueryOptions{QueryParameters: []azcosmos.QueryParameter{{Name: "@id", Value: user}}})
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		if len(page.Items) > 0 {
			return page.Items[0], nil
		}
	}
	return nil, nil
}

// cosmosDoc is a user's document in either shape export writes.
type cosmosDoc struct {
	ID    string `json:"id"`
	Items []struct {
		ID    json.RawMessage `json:"id"`
		Score *float64        `json:"score"`
	} `json:"items"`
	MovieID     []json.RawMessage `json:"MovieId"`
	Model       string            `json:"model"`
	GeneratedAt time.Time         `json:"generatedAt"`
}

// encodeDocument turns a document into a Record answering for user.
// Item ids may be JSON strings or numbers (Spark writes integer ids);
// reference-shape documents have no scores, so their items have none.
func encodeDocument(user string, doc []byte, maxK int) (Record, error) {
	var d cosmosDoc
	if err := json.Unmarshal(doc, &d); err != nil {
		return Record{}, fmt.Errorf("not a recommendations document: %v", err)
	}
	if d.ID != user {
		return Record{}, fmt.Errorf("document id %q differs from the user", truncateID(d.ID))
	}
	if d.Items == nil && d.MovieID == nil {
		return Record{}, errors.New(`document has neither "items" nor "MovieId"`)
	}
	b := make([]byte, 0, 32+len(doc))
	b = append(b, `{"user":`...)
	b = toplist.AppendJSONString(b, user)
	b = append(b, `,"items":[`...)
	rec := Record{head: len(b)}
	add := func(raw json.RawMessage, score *float64) error {
		id, err := itemID(raw)
		if err != nil {
			return err
		}
		if len(rec.ends) > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"id":`...)
		b = toplist.AppendJSONString(b, id)
		if score != nil {
			if math.IsNaN(*score) || math.IsInf(*score, 0) || math.Abs(*score) > math.MaxFloat32 {
				return fmt.Errorf("item %q: score out of range", id)
			}
			b = append(b, `,"score":`...)
			b = toplist.AppendScore(b, float32(*score))
		}
		b = append(b, '}')
		rec.ends = append(rec.ends, uint32(len(b)))
		return nil
	}
	for _, it := range d.Items {
		if len(rec.ends) == maxK {
			break
		}
		if err := add(it.ID, it.Score); err != nil {
			return Record{}, err
		}
	}
	if d.Items == nil {
		for _, raw := range d.MovieID {
			if len(rec.ends) == maxK {
				break
			}
			if err := add(raw, nil); err != nil {
				return Record{}, err
			}
		}
	}
	rec.body = b
	rec.tail = append(appendTail(nil, d.Model, d.GeneratedAt, false), '\n')
	return rec, nil
}

// itemID reads an item id written as a JSON string or number.
func itemID(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", err
		}
		if s == "" {
			return "", errors.New("empty item id")
		}
		return s, nil
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil || n == "" {
		return "", fmt.Errorf("item id %s is neither a string nor a number", truncateID(string(raw)))
	}
	return n.String(), nil
}
