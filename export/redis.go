package export

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/recs-dev/recs/internal/errs"
	"github.com/recs-dev/recs/toplist"
)

// Defaults of the Redis target.
const (
	DefaultRedisPrefix = "recs"
	// DefaultRedisKeepGenerations is how many generations RedisSink keeps
	// when its KeepGenerations is 0: only the live one. Readers that find a
	// user's key gone re-read the pointer (see RedisLayout), so an older
	// generation serves nobody once the pointer moved.
	DefaultRedisKeepGenerations = 1
	// RedisGenerationFormat is the "format" of a generation's metadata.
	RedisGenerationFormat = "recs-redis-generation"
)

var _ Sink = (*RedisSink)(nil)

// RedisLayout names the keys of the publications under one prefix P. A
// generation GEN (a name no earlier publication used, as for directories:
// UTC time and random bits) holds
//
//	P:GEN:u:USER        the user's document (string; the Cosmos DB shapes)
//	{P}:GEN:meta        RedisGeneration as JSON, written after every user
//	{P}:GEN:lease       held by the publisher while it writes (expires)
//
// and the publications share
//
//	{P}:current         the live generation's name: the pointer, switched last
//	{P}:published       the generations switched to, newest first (list)
//	{P}:generations     every generation started and not yet deleted (sorted
//	                    set, scored by start time in ms)
//
// A reader GETs {P}:current, then P:GEN:u:USER. A missing user key means an
// unknown user only while the pointer still names GEN: when a publication
// has moved it (and deleted GEN), the reader re-reads the pointer and
// retries. The control keys share the hash tag {P}, so the scripts that
// switch the pointer touch one cluster slot; user keys spread over all.
type RedisLayout struct{ Prefix string }

// Current is the pointer key.
func (l RedisLayout) Current() string { return l.tag() + ":current" }

// Published is the list of published generations, newest first.
func (l RedisLayout) Published() string { return l.tag() + ":published" }

// Generations is the sorted set of generations not yet deleted.
func (l RedisLayout) Generations() string { return l.tag() + ":generations" }

// Meta is gen's metadata key.
func (l RedisLayout) Meta(gen string) string { return l.tag() + ":" + gen + ":meta" }

// Lease is gen's publisher lease key.
func (l RedisLayout) Lease(gen string) string { return l.tag() + ":" + gen + ":lease" }

// UserPrefix is what precedes a user id in gen's keys.
func (l RedisLayout) UserPrefix(gen string) string { return l.prefix() + ":" + gen + ":u:" }

// User is user's key in gen.
func (l RedisLayout) User(gen, user string) string { return l.UserPrefix(gen) + user }

func (l RedisLayout) prefix() string {
	if l.Prefix == "" {
		return DefaultRedisPrefix
	}
	return l.Prefix
}

func (l RedisLayout) tag() string { return "{" + l.prefix() + "}" }

var redisPrefixRE = regexp.MustCompile(`^[A-Za-z0-9._:/-]{1,128}$`)

// CheckRedisPrefix rejects prefixes that would make keys ambiguous or
// break the hash tag: 1–128 of A–Z a–z 0–9 . _ : / -.
func CheckRedisPrefix(p string) error {
	if !redisPrefixRE.MatchString(p) {
		return fmt.Errorf("redis prefix %q: want 1–128 characters of A-Z a-z 0-9 . _ : / -", p)
	}
	return nil
}

// RedisGeneration is a generation's metadata ({P}:GEN:meta).
type RedisGeneration struct {
	Format      string        `json:"format"` // RedisGenerationFormat
	Version     int           `json:"version"`
	Generation  string        `json:"generation"`
	Model       string        `json:"model"`
	K           int           `json:"k"` // the list length; documents hold at most K items
	GeneratedAt time.Time     `json:"generatedAt"`
	PublishedAt time.Time     `json:"publishedAt"`
	Users       int64         `json:"users"`
	Shape       DocumentShape `json:"shape"`
	TTL         int           `json:"ttl,omitempty"` // seconds each user key lives (0: no expiry)
	// UserPrefix is the key of a user less its id: P:GEN:u:.
	UserPrefix string `json:"userPrefix"`
}

// ReadRedisGeneration reads gen's metadata; nil, nil when it is absent.
func ReadRedisGeneration(ctx context.Context, c redis.Cmdable, l RedisLayout, gen string) (*RedisGeneration, error) {
	b, err := c.Get(ctx, l.Meta(gen)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var g RedisGeneration
	if err := json.Unmarshal(b, &g); err != nil || g.Format != RedisGenerationFormat {
		return nil, fmt.Errorf("%s is not the metadata of a recs generation", l.Meta(gen))
	}
	return &g, nil
}

// RedisSink publishes one key per user into Redis (Azure Cache for Redis,
// Azure Managed Redis, any Redis ≥ 6) as a new generation under Prefix,
// written with pipelining, then switches the pointer key to it in one
// script, then deletes generations beyond KeepGenerations and leftovers of
// killed publications. Readers that follow the pointer never see a partial
// generation: the pointer moves only after every user and the metadata are
// written, and only if no other publication moved it since this one began
// (compare and set, like the Blob manifest's ETag).
//
// While it writes, the publisher holds the generation's lease key, renewed
// every Lease/3. Cleanup deletes an unpublished generation only when its
// lease is gone (its publisher died at least Lease ago), and the switch
// requires the lease, so a generation that lost it (a stalled publisher)
// can never go live after parts of it were deleted.
type RedisSink struct {
	Client redis.UniversalClient
	Prefix string        // "": DefaultRedisPrefix
	Shape  DocumentShape // "": ShapeFull
	// TTL, when positive, makes every user key expire after that many
	// seconds (the pointer and the metadata do not expire).
	TTL int
	// KeepGenerations is how many published generations stay, the new one
	// included (0: DefaultRedisKeepGenerations).
	KeepGenerations int

	Batch       int // documents per pipeline (0: 1000)
	Concurrency int // pipelines in flight (0: 4)
	// MaxRetries bounds the retries of one pipeline after a connection
	// failure (0: 8). Errors answered by the server are not retried.
	MaxRetries int
	Backoff    Backoff
	Lease      time.Duration // 0: 30 s

	// Describe names the server for messages (no secrets).
	Describe string
	// Scrub, if set, removes secrets from errors (redisconn.Client.Scrub).
	Scrub    func(error) error
	Progress *Counters
	Log      *slog.Logger

	now func() time.Time // tests
}

func (s *RedisSink) defaults() (RedisSink, error) {
	d := *s
	if d.Client == nil {
		return d, errors.New("export: RedisSink without a client")
	}
	if d.Prefix == "" {
		d.Prefix = DefaultRedisPrefix
	}
	if err := CheckRedisPrefix(d.Prefix); err != nil {
		return d, err
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
	if d.KeepGenerations <= 0 {
		d.KeepGenerations = DefaultRedisKeepGenerations
	}
	if d.Batch <= 0 {
		d.Batch = 1000
	}
	if d.Concurrency <= 0 {
		d.Concurrency = 4
	}
	if d.MaxRetries <= 0 {
		d.MaxRetries = 8
	}
	if d.Lease <= 0 {
		d.Lease = 30 * time.Second
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Scrub == nil {
		d.Scrub = func(err error) error { return err }
	}
	if d.now == nil {
		d.now = time.Now
	}
	return d, nil
}

// The scripts run atomically on the server. Errors they raise start with a
// word recs recognises.
var (
	// KEYS: lease, generations. ARGV: token, lease ms, gen, now ms.
	redisRegister = redis.NewScript(`
if not redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') then
  return redis.error_reply('RECSLEASE generation ' .. ARGV[3] .. ' exists')
end
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[3])
return 1`)
	// KEYS: lease. ARGV: token, lease ms. 1 if renewed, 0 if lost.
	redisRenew = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0`)
	// KEYS: current, published, lease, meta. ARGV: expected pointer ("" for
	// none), gen, token.
	redisSwitch = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if not cur then cur = '' end
if cur ~= ARGV[1] then
  return redis.error_reply('RECSMOVED ' .. cur)
end
if redis.call('GET', KEYS[3]) ~= ARGV[3] then
  return redis.error_reply('RECSLEASE lost')
end
if redis.call('EXISTS', KEYS[4]) == 0 then
  return redis.error_reply('RECSMETA missing')
end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('LPUSH', KEYS[2], ARGV[2])
redis.call('DEL', KEYS[3])
return 1`)
)

// errLeaseLost says the publisher's lease expired before the switch.
var errLeaseLost = errors.New("the publication's lease expired before the switch (the export stalled longer than the lease); nothing was published")

// Publish implements Sink.
func (s *RedisSink) Publish(ctx context.Context, meta toplist.Meta, src ListSource) (Stats, error) {
	start := time.Now()
	c := countersOr(s.Progress)
	d, err := s.defaults()
	if err != nil {
		return Stats{}, err
	}
	var warnings []string
	err = d.publish(ctx, meta, src, c, &warnings)
	st := c.snapshot(start)
	st.Warnings = warnings
	switch {
	case err == nil:
	case ctx.Err() != nil:
		err = ctx.Err()
	case errs.IsInput(err):
	default:
		err = errs.Service("redis", d.Scrub(d.reword(err)))
	}
	return st, err
}

// reword makes authentication and memory errors say what to do.
func (s *RedisSink) reword(err error) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "WRONGPASS"), strings.Contains(msg, "NOAUTH"), strings.Contains(msg, "invalid password"):
		return fmt.Errorf("%s rejected the credentials (%s): check $RECS_REDIS_PASSWORD, or the Entra ID identity's access policy on the cache: %w",
			or(s.Describe, "the server"), firstWord(msg), err)
	case strings.Contains(msg, "NOPERM"):
		return fmt.Errorf("%s: the user may not run a command recs needs (SET, GET, EVALSHA, SCAN, UNLINK, ZADD, LPUSH): %w", or(s.Describe, "the server"), err)
	case strings.Contains(msg, "OOM"):
		return fmt.Errorf("%s is out of memory (maxmemory): a publication needs room for two generations while it is written: %w", or(s.Describe, "the server"), err)
	}
	return err
}

func firstWord(s string) string {
	for _, w := range strings.Fields(s) {
		if w == strings.ToUpper(w) && len(w) > 3 {
			return strings.TrimSuffix(w, ":")
		}
	}
	return "rejected"
}

// redisBatch is the documents of one pipeline.
type redisBatch struct {
	keys  []string
	ends  []int // end of each document in arena
	arena []byte
}

// publish writes src as a new generation under s.Prefix and switches the
// pointer to it, unless another export switched it first. A publication
// that fails removes what it wrote.
func (s *RedisSink) publish(parent context.Context, meta toplist.Meta, src ListSource, c *Counters, warnings *[]string) error {
	l := RedisLayout{Prefix: s.Prefix}
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)

	expected, gen, token, err := s.register(ctx, l)
	if err != nil {
		return err
	}
	s.Log.Info("writing a new Redis generation", "prefix", s.Prefix, "generation", gen, "live", expected)
	crashPoint("redis registered")

	// From here on a failure removes what this publication wrote.
	published := false
	defer func() {
		if published {
			return
		}
		dctx, dcancel := context.WithTimeout(context.WithoutCancel(parent), 2*time.Minute)
		defer dcancel()
		if err := s.deleteGeneration(dctx, l, gen); err != nil {
			s.Log.Warn("cannot remove the unfinished generation; a later export removes it", "generation", gen, "err", s.Scrub(err))
		}
	}()

	stopLease := s.keepLease(ctx, cancel, l, gen, token)
	users, k, err := s.writeUsers(ctx, l, gen, meta, src, c)
	if err != nil {
		stopLease()
		if cause := context.Cause(ctx); cause != nil && parent.Err() == nil {
			return cause
		}
		return err
	}
	err = s.writeMeta(ctx, l, gen, meta, users, k)
	stopLease()
	if err != nil {
		return err
	}
	if cause := context.Cause(ctx); cause != nil {
		return cause
	}
	crashPoint("redis before switch")
	if err := s.switchTo(ctx, l, expected, gen, token); err != nil {
		return err
	}
	published = true
	crashPoint("redis after switch")
	s.Log.Info("switched the Redis pointer", "key", l.Current(), "generation", gen, "previous", expected, "users", users)

	if err := s.cleanup(context.WithoutCancel(parent), l, warnings); err != nil {
		*warnings = append(*warnings, fmt.Sprintf("redis: old generations not (all) deleted: %v; the next export retries", s.Scrub(err)))
	}
	return nil
}

// register reads the live generation (expected, "" when there is none) and
// registers a new generation gen under a lease held by a random token.
func (s *RedisSink) register(ctx context.Context, l RedisLayout) (expected, gen, token string, err error) {
	expected, err = s.Client.Get(ctx, l.Current()).Result()
	if errors.Is(err, redis.Nil) {
		expected, err = "", nil
	}
	if err != nil {
		return "", "", "", fmt.Errorf("read %s: %w", l.Current(), err)
	}
	gen = newGenerationID(s.now())
	var tok [16]byte
	rand.Read(tok[:])
	token = hex.EncodeToString(tok[:])
	if err := redisRegister.Run(ctx, s.Client, []string{l.Lease(gen), l.Generations()},
		token, s.Lease.Milliseconds(), gen, s.now().UnixMilli()).Err(); err != nil {
		return "", "", "", fmt.Errorf("start generation %s: %w", gen, err)
	}
	return expected, gen, token, nil
}

// keepLease renews the lease of gen every s.Lease/3 until the returned stop
// is called or ctx ends. A lease lost, or not renewed for s.Lease, cancels
// ctx with errLeaseLost.
func (s *RedisSink) keepLease(ctx context.Context, cancel context.CancelCauseFunc, l RedisLayout, gen, token string) (stop func()) {
	leaseDone := make(chan struct{})
	var leaseWG sync.WaitGroup
	leaseWG.Add(1)
	go func() {
		defer leaseWG.Done()
		t := time.NewTicker(s.Lease / 3)
		defer t.Stop()
		last := time.Now()
		for {
			select {
			case <-leaseDone:
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
			n, err := redisRenew.Run(ctx, s.Client, []string{l.Lease(gen)}, token, s.Lease.Milliseconds()).Int()
			switch {
			case err == nil && n == 1:
				last = time.Now()
			case err == nil:
				cancel(errLeaseLost)
				return
			case time.Since(last) >= s.Lease:
				cancel(fmt.Errorf("%w (renewal: %v)", errLeaseLost, err))
				return
			}
		}
	}()
	return func() {
		close(leaseDone)
		leaseWG.Wait()
	}
}

// writeMeta writes the metadata document of gen: users lists, the longest k
// long unless meta.K says otherwise.
func (s *RedisSink) writeMeta(ctx context.Context, l RedisLayout, gen string, meta toplist.Meta, users int64, k int) error {
	if meta.K > 0 {
		k = meta.K
	}
	g := RedisGeneration{Format: RedisGenerationFormat, Version: 1, Generation: gen, Model: meta.Model, K: k,
		GeneratedAt: meta.GeneratedAt.UTC(), PublishedAt: s.now().UTC(), Users: users, Shape: s.Shape, TTL: s.TTL,
		UserPrefix: l.UserPrefix(gen)}
	gb, _ := json.Marshal(g)
	if err := s.Client.Set(ctx, l.Meta(gen), gb, 0).Err(); err != nil {
		return fmt.Errorf("write %s: %w", l.Meta(gen), err)
	}
	return nil
}

// switchTo points l.Current() at gen if it still names expected and this
// export still holds the lease of gen.
func (s *RedisSink) switchTo(ctx context.Context, l RedisLayout, expected, gen, token string) error {
	err := redisSwitch.Run(ctx, s.Client, []string{l.Current(), l.Published(), l.Lease(gen), l.Meta(gen)}, expected, gen, token).Err()
	if err == nil {
		return nil
	}
	msg := err.Error()
	switch {
	case strings.HasPrefix(msg, "RECSMOVED"):
		now := strings.TrimSpace(strings.TrimPrefix(msg, "RECSMOVED"))
		return fmt.Errorf("another export switched %s from %q to %q while this one wrote generation %s; nothing was published by this one (run it again to publish these lists)",
			l.Current(), expected, now, gen)
	case strings.HasPrefix(msg, "RECSLEASE"):
		return errLeaseLost
	}
	return fmt.Errorf("switch %s to %s: %w", l.Current(), gen, err)
}

// writeUsers reads src to the end and writes every user's document under
// gen with pipelines of s.Batch documents, s.Concurrency at a time. It
// returns the number of users and the longest list.
func (s *RedisSink) writeUsers(ctx context.Context, l RedisLayout, gen string, meta toplist.Meta, src ListSource, c *Counters) (int64, int, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	userPrefix := l.UserPrefix(gen)
	ttl := time.Duration(s.TTL) * time.Second
	free := make(chan *redisBatch, 2*s.Concurrency)
	jobs := make(chan *redisBatch, s.Concurrency)
	var wg sync.WaitGroup
	var batchN sync.Mutex
	nBatches := 0
	for range s.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range jobs {
				if ctx.Err() != nil {
					continue // drain
				}
				if err := s.writeBatch(ctx, b, ttl, c); err != nil {
					cancel(err)
					continue
				}
				batchN.Lock()
				nBatches++
				n := nBatches
				batchN.Unlock()
				crashPoint(fmt.Sprintf("redis batch %d", n))
				select {
				case free <- b:
				default:
				}
			}
		}()
	}
	var users int64
	k := 0
	produce := func() error {
		var b *redisBatch
		send := func() bool {
			select {
			case jobs <- b:
				b = nil
				return true
			case <-ctx.Done():
				return false
			}
		}
		for {
			list, err := src.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return err
			}
			if list.User == "" {
				return errs.Input("", fmt.Errorf("list %d has an empty user id", users+1))
			}
			if b == nil {
				select {
				case b = <-free:
					b.keys, b.ends, b.arena = b.keys[:0], b.ends[:0], b.arena[:0]
				default:
					b = &redisBatch{keys: make([]string, 0, s.Batch), ends: make([]int, 0, s.Batch)}
				}
			}
			b.keys = append(b.keys, userPrefix+list.User)
			b.arena = appendDocument(b.arena, s.Shape, meta, &list, 0)
			b.ends = append(b.ends, len(b.arena))
			users++
			k = max(k, len(list.Items))
			if len(b.keys) == s.Batch && !send() {
				return nil
			}
		}
		if b != nil && len(b.keys) > 0 {
			send()
		}
		return nil
	}
	perr := produce()
	close(jobs)
	if perr != nil {
		cancel(perr)
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return users, k, err
	}
	return users, k, nil
}

// writeBatch sends one pipeline of SETs, retrying it whole (SET is
// idempotent) after connection failures.
func (s *RedisSink) writeBatch(ctx context.Context, b *redisBatch, ttl time.Duration, c *Counters) error {
	for attempt := 0; ; attempt++ {
		pipe := s.Client.Pipeline()
		start := 0
		for i, key := range b.keys {
			pipe.Set(ctx, key, b.arena[start:b.ends[i]], ttl)
			start = b.ends[i]
		}
		cmds, err := pipe.Exec(ctx)
		if err == nil {
			c.Documents.Add(int64(len(b.keys)))
			c.Bytes.Add(int64(len(b.arena)))
			return nil
		}
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		// The first failing command says why.
		for _, cmd := range cmds {
			if cmd.Err() != nil {
				err = cmd.Err()
				break
			}
		}
		if !retryableRedis(err) || attempt >= s.MaxRetries {
			if attempt > 0 {
				return fmt.Errorf("gave up after %d retries: %w", attempt, err)
			}
			return err
		}
		c.Retries.Add(1)
		s.Log.Debug("redis pipeline failed; retrying", "err", s.Scrub(err), "retry", attempt+1)
		if err := sleep(ctx, s.Backoff.Delay(attempt+1)); err != nil {
			return context.Cause(ctx)
		}
	}
}

// retryableRedis reports whether err is a connection failure (worth
// retrying) rather than an answer of the server. LOADING, BUSY and
// TRYAGAIN answers are transient too.
func retryableRedis(err error) bool {
	var re redis.Error
	if errors.As(err, &re) {
		msg := re.Error()
		return strings.HasPrefix(msg, "LOADING") || strings.HasPrefix(msg, "BUSY") || strings.HasPrefix(msg, "TRYAGAIN") ||
			strings.HasPrefix(msg, "MASTERDOWN")
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		strings.Contains(err.Error(), "connection reset") || strings.Contains(err.Error(), "broken pipe")
}

// cleanup deletes the published generations beyond KeepGenerations and
// the unpublished ones whose lease is gone (killed publications). The live
// generation is never deleted, nor one whose publisher still holds its
// lease.
func (s *RedisSink) cleanup(ctx context.Context, l RedisLayout, warnings *[]string) error {
	pub, err := s.Client.LRange(ctx, l.Published(), 0, -1).Result()
	if err != nil {
		return err
	}
	started, err := s.Client.ZRange(ctx, l.Generations(), 0, -1).Result()
	if err != nil {
		return err
	}
	current, err := s.Client.Get(ctx, l.Current()).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return err
	}
	keep := map[string]bool{current: true}
	for i, g := range pub {
		if i < s.KeepGenerations {
			keep[g] = true
		}
	}
	var firstErr error
	seen := map[string]bool{}
	for _, g := range append(slices.Clone(pub), started...) {
		if keep[g] || seen[g] {
			continue
		}
		seen[g] = true
		if !slices.Contains(pub, g) {
			n, err := s.Client.Exists(ctx, l.Lease(g)).Result()
			if err != nil {
				return err
			}
			if n > 0 {
				s.Log.Info("leaving a generation another export is writing (or one killed less than a lease ago)", "generation", g)
				continue
			}
		}
		if err := s.deleteGeneration(ctx, l, g); err != nil {
			*warnings = append(*warnings, fmt.Sprintf("redis: cannot delete generation %s: %v", g, s.Scrub(err)))
			firstErr = cmpOr(firstErr, err)
			continue
		}
		s.Log.Info("deleted an old Redis generation", "generation", g, "published", slices.Contains(pub, g))
	}
	return firstErr
}

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// deleteGeneration removes every key of gen (SCAN for its users, UNLINK
// in batches while the scan goes on), then its metadata and lease, then
// its entries in the registry: a generation half deleted by a killed
// cleanup is still listed and is finished by the next one.
func (s *RedisSink) deleteGeneration(ctx context.Context, l RedisLayout, gen string) error {
	pattern := escapeGlob(l.UserPrefix(gen)) + "*"
	batches := make(chan []string, 4)
	unlinked := make(chan error, 1)
	go func() {
		var err error
		for keys := range batches {
			if err == nil {
				err = s.Client.Unlink(ctx, keys...).Err()
				crashPoint("redis removing " + gen)
			}
		}
		unlinked <- err
	}()
	var cursor uint64
	var scanErr error
	for {
		keys, next, err := s.Client.Scan(ctx, cursor, pattern, 10000).Result()
		if err != nil {
			scanErr = err
			break
		}
		if len(keys) > 0 {
			batches <- keys
		}
		if next == 0 {
			break
		}
		cursor = next
	}
	close(batches)
	if err := cmpOr(scanErr, <-unlinked); err != nil {
		return err
	}
	if err := s.Client.Unlink(ctx, l.Meta(gen), l.Lease(gen)).Err(); err != nil {
		return err
	}
	if err := s.Client.ZRem(ctx, l.Generations(), gen).Err(); err != nil {
		return err
	}
	if err := s.Client.LRem(ctx, l.Published(), 0, gen).Err(); err != nil {
		return err
	}
	crashPoint("redis removed " + gen)
	return nil
}

// escapeGlob escapes the characters SCAN MATCH treats specially.
func escapeGlob(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\^`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Close closes the client when it can be closed (a redisconn.Client
// opened by Target.Open).
func (s *RedisSink) Close() error {
	if c, ok := s.Client.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// CheckRedis verifies that the server answers and accepts the credentials
// (PING), without writing anything.
func CheckRedis(ctx context.Context, c redis.UniversalClient) error {
	return c.Ping(ctx).Err()
}
