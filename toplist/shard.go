package toplist

import (
	"fmt"
	"strconv"
	"strings"
)

// MaxShards is the largest number of shards a set of users can be cut
// into (part files are numbered with five digits).
const MaxShards = 10000

// Shard is part Index of Count of a set of users: the users u with
// ShardOf(u, Count) == Index. The zero Shard (Count 0) means no sharding:
// every user.
type Shard struct {
	Index int // 0 ≤ Index < Count
	Count int // 1 ≤ Count ≤ MaxShards; 0: not sharded
}

// ShardOf returns the shard of user among n: the 64-bit FNV-1a hash of
// the user id's bytes (its UTF-8 encoding, exactly as it appears in the
// ratings and the lists; no normalisation) modulo n, as an unsigned
// integer:
//
//	h := 0xcbf29ce484222325                  // FNV-1a 64 offset basis
//	for each byte b of user: h = (h XOR b) · 0x100000001b3 mod 2⁶⁴
//	shard = h mod n
//
// It depends on the id alone, so it is the same on every platform, in
// every version of recs and in any other language (FNV-1a is in most
// standard libraries: Go's hash/fnv New64a, Python's
// fnvhash.fnv1a_64). FNV is not a cryptographic hash: ids chosen to
// collide can unbalance the shards, ids as they come (numbers, UUIDs,
// emails) spread evenly. It panics if n < 1.
//
// Cost: one multiply per byte of the id.
func ShardOf(user string, n int) int {
	if n < 1 {
		panic(fmt.Sprintf("toplist: ShardOf with %d shards", n))
	}
	const (
		offset64 = 0xcbf29ce484222325
		prime64  = 0x100000001b3
	)
	h := uint64(offset64)
	for i := 0; i < len(user); i++ {
		h ^= uint64(user[i])
		h *= prime64
	}
	return int(h % uint64(n))
}

// Has reports whether user belongs to s; every user belongs to the zero
// Shard.
func (s Shard) Has(user string) bool {
	if s.Count == 0 {
		return true
	}
	return ShardOf(user, s.Count) == s.Index
}

// IsZero reports whether s is the zero Shard (no sharding).
func (s Shard) IsZero() bool { return s.Count == 0 }

// String returns "I/N", or "" for the zero Shard.
func (s Shard) String() string {
	if s.Count == 0 {
		return ""
	}
	return fmt.Sprintf("%d/%d", s.Index, s.Count)
}

// ParseShard parses "I/N" (0 ≤ I < N ≤ MaxShards), as Kubernetes'
// JOB_COMPLETION_INDEX and the Job's completions give them.
func ParseShard(s string) (Shard, error) {
	is, ns, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return Shard{}, fmt.Errorf("shard %q: want I/N, e.g. 0/4", s)
	}
	i, err1 := strconv.Atoi(is)
	n, err2 := strconv.Atoi(ns)
	switch {
	case err1 != nil || err2 != nil:
		return Shard{}, fmt.Errorf("shard %q: want I/N with whole numbers, e.g. 0/4", s)
	case n < 1 || n > MaxShards:
		return Shard{}, fmt.Errorf("shard %q: N must be 1 to %d", s, MaxShards)
	case i < 0 || i >= n:
		return Shard{}, fmt.Errorf("shard %q: I must be 0 to N-1 (shards are numbered from 0, like JOB_COMPLETION_INDEX)", s)
	}
	return Shard{Index: i, Count: n}, nil
}
