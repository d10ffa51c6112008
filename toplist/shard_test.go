package toplist

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"testing"
)

// TestShardOfVectors pins the shard function. The 64-bit hashes of "",
// "a" and "foobar" are the FNV-1a test vectors of the FNV reference
// (Fowler, Noll, Vo; draft-eastlake-fnv, test suite of fnv.c); the others
// were computed with the definition in ShardOf's comment by an independent
// Python implementation:
//
//	def fnv1a64(s):
//	    h = 0xcbf29ce484222325
//	    for b in s.encode(): h = ((h ^ b) * 0x100000001b3) % 2**64
//	    return h
//
// A change of any shard here means lists move between shards of running
// deployments: it must never happen.
func TestShardOfVectors(t *testing.T) {
	for _, tc := range []struct {
		user  string
		hash  uint64
		shard map[int]int // n → shard
	}{
		{"", 0xcbf29ce484222325, map[int]int{1: 0, 2: 1, 3: 2, 4: 1, 7: 2, 16: 5}},
		{"a", 0xaf63dc4c8601ec8c, map[int]int{2: 0, 3: 1, 4: 0, 7: 5, 16: 12}},
		{"foobar", 0x85944171f73967e8, map[int]int{2: 0, 3: 0, 4: 0, 7: 6, 16: 8}},
		{"196", 0x4550c71818081ccb, map[int]int{2: 1, 3: 2, 4: 3, 7: 1, 16: 11}},
		{"user-42", 0x32c6d7a54d35dacb, map[int]int{2: 1, 3: 0, 4: 3, 7: 2, 16: 11}},
		{"ü", 0x0ac20a07b71807ea, map[int]int{2: 0, 3: 0, 4: 2, 7: 5, 16: 10}}, // UTF-8 c3 bc
	} {
		h := fnv.New64a()
		h.Write([]byte(tc.user))
		if got := h.Sum64(); got != tc.hash {
			t.Errorf("FNV-1a 64 of %q = %#x, want %#x (the vector itself is wrong)", tc.user, got, tc.hash)
		}
		for n, want := range tc.shard {
			if got := ShardOf(tc.user, n); got != want {
				t.Errorf("ShardOf(%q, %d) = %d, want %d", tc.user, n, got, want)
			}
			if want != int(tc.hash%uint64(n)) {
				t.Errorf("vector %q n=%d: shard %d is not hash mod n", tc.user, n, want)
			}
		}
	}
}

// TestShardOfMatchesStdlib checks ShardOf against hash/fnv on random ids,
// and that the shards partition them: every id in exactly one Shard.
func TestShardOfMatchesStdlib(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 2000; i++ {
		b := make([]byte, rng.IntN(40))
		for j := range b {
			b[j] = byte(rng.IntN(256))
		}
		id := string(b)
		n := 1 + rng.IntN(100)
		h := fnv.New64a()
		h.Write(b)
		if got, want := ShardOf(id, n), int(h.Sum64()%uint64(n)); got != want {
			t.Fatalf("ShardOf(%q, %d) = %d, hash/fnv says %d", id, n, got, want)
		}
		in := 0
		for s := 0; s < n; s++ {
			if (Shard{Index: s, Count: n}).Has(id) {
				in++
			}
		}
		if in != 1 {
			t.Fatalf("%q is in %d of %d shards", id, in, n)
		}
	}
}

// TestShardBalance: 100,000 numeric ids (MovieLens-style) over 4 shards.
// Each shard's count is Binomial(100000, 1/4) if the hash spreads them:
// mean 25,000, σ = 137; the bound 25,000 ± 1,000 is over 7σ.
func TestShardBalance(t *testing.T) {
	counts := make([]int, 4)
	for u := 1; u <= 100_000; u++ {
		counts[ShardOf(fmt.Sprint(u), 4)]++
	}
	for s, c := range counts {
		if c < 24_000 || c > 26_000 {
			t.Errorf("shard %d/4 holds %d of 100000 ids, want 25000 ± 1000", s, c)
		}
	}
}

func TestParseShard(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Shard
		ok   bool
	}{
		{"0/4", Shard{0, 4}, true},
		{"3/4", Shard{3, 4}, true},
		{" 0/1 ", Shard{0, 1}, true},
		{"9999/10000", Shard{9999, 10000}, true},
		{"4/4", Shard{}, false},
		{"-1/4", Shard{}, false},
		{"0/0", Shard{}, false},
		{"0/10001", Shard{}, false},
		{"1", Shard{}, false},
		{"a/4", Shard{}, false},
		{"1/b", Shard{}, false},
		{"", Shard{}, false},
	} {
		got, err := ParseShard(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseShard(%q) = %v, %v; want %v, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
		if tc.ok && got.String() != fmt.Sprintf("%d/%d", tc.want.Index, tc.want.Count) {
			t.Errorf("String() = %q", got.String())
		}
	}
	if !(Shard{}).Has("anyone") || !(Shard{}).IsZero() || (Shard{}).String() != "" {
		t.Error("the zero Shard must hold every user and print as \"\"")
	}
}
