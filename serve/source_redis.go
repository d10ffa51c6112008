package serve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/singleflight"

	"github.com/recs-dev/recs/export"
	"github.com/recs-dev/recs/internal/errs"
)

// RedisConfig configures a RedisStore.
type RedisConfig struct {
	// Client reaches the server that `recs export --to redis` wrote to.
	Client redis.UniversalClient
	// Prefix is the publication's key prefix ("": export.DefaultRedisPrefix).
	Prefix string
	// Source describes the server and prefix for logs and /readyz (no
	// secrets).
	Source string
	// MaxK caps the k served (0: the generation's list length).
	MaxK int
	// CacheSize bounds the cached lookups (found and absent users) of the
	// live generation; 0 turns the cache off. CacheTTL is how long one is
	// served (0: 5 minutes). A new generation starts with an empty cache.
	CacheSize int
	CacheTTL  time.Duration
	// Timeout bounds one lookup (0: 2 s).
	Timeout time.Duration
	// Registerer receives the cache and read metrics; may be nil.
	Registerer prometheus.Registerer
	// Scrub removes secrets from errors (redisconn.Client.Scrub); may be nil.
	Scrub func(error) error
	Log   *slog.Logger
}

// RedisStore is a Store that reads each user's document from a Redis
// publication of `recs export --to redis` by point read (one GET), behind
// the same bounded LRU cache with a time to live as the Cosmos DB store.
// It follows the publication's pointer key ({PREFIX}:current): Refresh
// (called every reload interval by Watch) moves to a new generation, and
// a user missing from the generation in use makes it check the pointer at
// once, so that a generation deleted by a later publication never turns
// known users into unknown ones.
type RedisStore struct {
	cfg    RedisConfig
	layout export.RedisLayout
	cur    atomic.Pointer[redisGen]
	mu     sync.Mutex // serialises Refresh
	group  singleflight.Group
	change atomic.Pointer[func(from, to string)]

	hits, misses, switches prometheus.Counter
	reads                  *prometheus.CounterVec
	readD                  prometheus.Histogram
}

var _ Store = (*RedisStore)(nil)

// redisGen is the generation being served, with its own cache.
type redisGen struct {
	gen      string
	meta     export.RedisGeneration
	maxK     int
	cache    *lruCache // nil: no cache
	loadedAt time.Time
}

// NewRedisStore returns a store reading cfg.Client. It serves nothing
// until Refresh (or Check) has found the live generation.
func NewRedisStore(cfg RedisConfig) *RedisStore {
	if cfg.Prefix == "" {
		cfg.Prefix = export.DefaultRedisPrefix
	}
	if cfg.CacheTTL <= 0 {
		cfg.CacheTTL = 5 * time.Minute
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 2 * time.Second
	}
	if cfg.Scrub == nil {
		cfg.Scrub = func(err error) error { return err }
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	s := &RedisStore{
		cfg:    cfg,
		layout: export.RedisLayout{Prefix: cfg.Prefix},
		hits:   prometheus.NewCounter(prometheus.CounterOpts{Name: "recs_serve_cache_hits_total", Help: "Redis lookups answered from the cache."}),
		misses: prometheus.NewCounter(prometheus.CounterOpts{Name: "recs_serve_cache_misses_total", Help: "Redis lookups not in the cache (or expired)."}),
		switches: prometheus.NewCounter(prometheus.CounterOpts{Name: "recs_serve_redis_generation_switches_total",
			Help: "Times the Redis pointer named a new generation and the store moved to it."}),
		reads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "recs_serve_redis_reads_total",
			Help: "Redis point reads, by result (found, absent, error).",
		}, []string{"result"}),
		readD: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "recs_serve_redis_read_duration_seconds",
			Help:    "Duration of Redis point reads.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
		}),
	}
	if cfg.Registerer != nil {
		cs := []prometheus.Collector{s.hits, s.misses, s.switches, s.reads, s.readD}
		if cfg.CacheSize > 0 {
			cs = append(cs, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "recs_serve_cache_entries", Help: "Lookups held by the Redis cache.",
			}, func() float64 {
				if g := s.cur.Load(); g != nil && g.cache != nil {
					return float64(g.cache.len())
				}
				return 0
			}))
		}
		for _, c := range cs {
			cfg.Registerer.Register(c)
		}
	}
	return s
}

// OnChange sets f to be called after the store moved to a new generation
// (from is "" the first time). The server uses it to take the new list
// length, model and time (Server.SetStore).
func (s *RedisStore) OnChange(f func(from, to string)) { s.change.Store(&f) }

// Check finds the live generation: it fails when the server cannot be
// reached, refuses the credentials, or holds no publication under the
// prefix, so that a misconfigured server never turns ready.
func (s *RedisStore) Check(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 4*s.cfg.Timeout)
	defer cancel()
	_, err := s.Refresh(ctx)
	return err
}

// Refresh reads the pointer and, when it names another generation than
// the one served, moves to it (with an empty cache). It reports whether it
// moved.
func (s *RedisStore) Refresh(ctx context.Context) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	gen, err := s.cfg.Client.Get(ctx, s.layout.Current()).Result()
	if errors.Is(err, redis.Nil) {
		return false, errs.Service("redis", fmt.Errorf("%s: no publication (the pointer %s is not set): run recs export --to redis first", s.cfg.Source, s.layout.Current()))
	}
	if err != nil {
		return false, errs.Service("redis", fmt.Errorf("%s: read %s: %w", s.cfg.Source, s.layout.Current(), s.cfg.Scrub(err)))
	}
	old := s.cur.Load()
	if old != nil && old.gen == gen {
		return false, nil
	}
	meta, err := export.ReadRedisGeneration(ctx, s.cfg.Client, s.layout, gen)
	if err != nil {
		return false, errs.Service("redis", fmt.Errorf("%s: generation %s: %w", s.cfg.Source, gen, s.cfg.Scrub(err)))
	}
	if meta == nil {
		return false, errs.Service("redis", fmt.Errorf("%s: the pointer names generation %s, which has no metadata (deleted?)", s.cfg.Source, gen))
	}
	g := &redisGen{gen: gen, meta: *meta, maxK: meta.K, loadedAt: time.Now()}
	if s.cfg.MaxK > 0 && (g.maxK <= 0 || s.cfg.MaxK < g.maxK) {
		g.maxK = s.cfg.MaxK
	}
	if g.maxK <= 0 {
		g.maxK = 10
	}
	if s.cfg.CacheSize > 0 {
		g.cache = newLRU(s.cfg.CacheSize, s.cfg.CacheTTL)
	}
	s.cur.Store(g)
	from := ""
	if old != nil {
		from = old.gen
		s.switches.Inc()
	}
	s.cfg.Log.Info("serving Redis generation", "source", s.cfg.Source, "generation", gen, "previous", from,
		"model", meta.Model, "users", meta.Users, "k", g.maxK)
	if f := s.change.Load(); f != nil {
		(*f)(from, gen)
	}
	return true, nil
}

// Watch calls Refresh every interval until ctx ends; failures are logged
// and the generation in use keeps serving.
func (s *RedisStore) Watch(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		rctx, cancel := context.WithTimeout(ctx, 4*s.cfg.Timeout)
		_, err := s.Refresh(rctx)
		cancel()
		if err != nil && ctx.Err() == nil {
			s.cfg.Log.Warn("cannot check the Redis pointer; serving the generation in use", "source", s.cfg.Source, "err", Redact(err.Error()))
		}
	}
}

// MaxK implements Store.
func (s *RedisStore) MaxK() int {
	if g := s.cur.Load(); g != nil {
		return g.maxK
	}
	return max(s.cfg.MaxK, 1)
}

// Info implements Store.
func (s *RedisStore) Info() StoreInfo {
	info := StoreInfo{Kind: "redis", Source: s.cfg.Source, K: s.MaxK()}
	if g := s.cur.Load(); g != nil {
		info.Users = int(g.meta.Users)
		info.Model = g.meta.Model
		info.GeneratedAt = g.meta.GeneratedAt
		info.Version = g.gen
		info.LoadedAt = g.loadedAt
	}
	return info
}

// Generation returns the generation in use ("" before the first Refresh).
func (s *RedisStore) Generation() string {
	if g := s.cur.Load(); g != nil {
		return g.gen
	}
	return ""
}

// Lookup implements Store.
func (s *RedisStore) Lookup(ctx context.Context, user string) (Record, bool, error) {
	g := s.cur.Load()
	if g == nil {
		return Record{}, false, errs.Service("redis", errors.New("no generation loaded yet"))
	}
	if g.cache != nil {
		if rec, found, ok := g.cache.get(user); ok {
			s.hits.Inc()
			return rec, found, nil
		}
		s.misses.Inc()
	}
	// One read per user and generation at a time, detached from any one
	// caller's cancellation (bounded by Timeout).
	ch := s.group.DoChan(g.gen+"\x00"+user, func() (any, error) {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.Timeout)
		defer cancel()
		return s.lookup(rctx, g, user)
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

// lookup reads user in g; when the user is absent and the pointer has
// moved on, it moves too and reads again in the new generation.
func (s *RedisStore) lookup(ctx context.Context, g *redisGen, user string) (cosmosResult, error) {
	for attempt := 0; ; attempt++ {
		rec, found, err := s.read(ctx, g, user)
		if err != nil {
			return cosmosResult{}, err
		}
		if !found && attempt == 0 {
			// Absent here: absent everywhere only while g is live.
			cur, err := s.cfg.Client.Get(ctx, s.layout.Current()).Result()
			if err == nil && cur != g.gen {
				if _, err := s.Refresh(ctx); err != nil {
					return cosmosResult{}, err
				}
				if ng := s.cur.Load(); ng != nil && ng.gen != g.gen {
					g = ng
					continue
				}
			}
		}
		if g.cache != nil {
			g.cache.put(user, rec, found)
		}
		return cosmosResult{rec, found}, nil
	}
}

// read fetches and encodes one user's document of g.
func (s *RedisStore) read(ctx context.Context, g *redisGen, user string) (Record, bool, error) {
	start := time.Now()
	body, err := s.cfg.Client.Get(ctx, s.layout.User(g.gen, user)).Bytes()
	s.readD.Observe(time.Since(start).Seconds())
	switch {
	case errors.Is(err, redis.Nil):
		s.reads.WithLabelValues("absent").Inc()
		return Record{}, false, nil
	case err != nil:
		s.reads.WithLabelValues("error").Inc()
		return Record{}, false, errs.Service("redis", fmt.Errorf("read user %q: %w", truncateID(user), s.cfg.Scrub(err)))
	}
	rec, err := encodeDocument(user, body, g.maxK)
	if err != nil {
		s.reads.WithLabelValues("error").Inc()
		return Record{}, false, errs.Inputf(s.cfg.Source, 0, "document %q: %v", truncateID(user), err)
	}
	s.reads.WithLabelValues("found").Inc()
	return rec, true, nil
}

// Log returns the server's logger, for the stores the command line builds
// around it.
func (s *Server) Log() *slog.Logger { return s.log }
