package serve

import (
	"hash/maphash"
	"sync"
	"time"
)

// lruShards is the number of independently locked parts of the cache, so
// that concurrent requests rarely wait on one another.
const lruShards = 16

// lruCache is a bounded, sharded least-recently-used cache of lookups
// (found records and known absences) with a time to live. Capacity is
// split evenly between the shards, so eviction is LRU within a shard.
type lruCache struct {
	seed   maphash.Seed
	ttl    time.Duration
	shards [lruShards]lruShard
	now    func() time.Time // for tests
}

type lruShard struct {
	mu   sync.Mutex
	m    map[string]*lruEntry
	head lruEntry // sentinel: head.next is the most recent, head.prev the least
	cap  int
}

type lruEntry struct {
	key        string
	rec        Record
	found      bool
	expires    time.Time
	prev, next *lruEntry
}

// newLRU returns a cache of about size entries (at least one per shard)
// that expire ttl after they were stored. size must be positive.
func newLRU(size int, ttl time.Duration) *lruCache {
	c := &lruCache{seed: maphash.MakeSeed(), ttl: ttl, now: time.Now}
	per := (size + lruShards - 1) / lruShards
	for i := range c.shards {
		s := &c.shards[i]
		s.m = make(map[string]*lruEntry)
		s.head.next, s.head.prev = &s.head, &s.head
		s.cap = max(per, 1)
	}
	return c
}

func (c *lruCache) shard(key string) *lruShard {
	return &c.shards[maphash.String(c.seed, key)%lruShards]
}

// get returns the cached lookup of key, if present and fresh.
func (c *lruCache) get(key string) (rec Record, found, ok bool) {
	s := c.shard(key)
	now := c.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.m[key]
	if e == nil {
		return Record{}, false, false
	}
	if !now.Before(e.expires) {
		s.remove(e)
		return Record{}, false, false
	}
	s.unlink(e)
	s.pushFront(e)
	return e.rec, e.found, true
}

// put stores a lookup, evicting the least recently used entry of the shard
// when it is full.
func (c *lruCache) put(key string, rec Record, found bool) {
	s := c.shard(key)
	exp := c.now().Add(c.ttl)
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.m[key]; e != nil {
		e.rec, e.found, e.expires = rec, found, exp
		s.unlink(e)
		s.pushFront(e)
		return
	}
	for len(s.m) >= s.cap {
		s.remove(s.head.prev)
	}
	e := &lruEntry{key: key, rec: rec, found: found, expires: exp}
	s.m[key] = e
	s.pushFront(e)
}

// len returns the number of entries held.
func (c *lruCache) len() int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		n += len(s.m)
		s.mu.Unlock()
	}
	return n
}

func (s *lruShard) unlink(e *lruEntry) {
	e.prev.next, e.next.prev = e.next, e.prev
}

func (s *lruShard) pushFront(e *lruEntry) {
	e.prev, e.next = &s.head, s.head.next
	s.head.next.prev = e
	s.head.next = e
}

func (s *lruShard) remove(e *lruEntry) {
	s.unlink(e)
	delete(s.m, e.key)
}
