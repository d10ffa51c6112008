package ingest

import (
	"context"
	"math/rand/v2"
	"os"
	"reflect"
	"sort"
	"testing"
)

// refDedupe is the obvious map-based dedupe: for each (user, item), the
// kept row and its rating; rows in table order.
func refDedupe(users, items []int32, rs []float32, ts []int64, policy Dedupe) (keptRows []int, ratings []float32) {
	type key struct{ u, i int32 }
	groups := map[key][]int{}
	for r := range users {
		k := key{users[r], items[r]}
		groups[k] = append(groups[k], r)
	}
	keep := map[int]float32{}
	for _, g := range groups {
		best := g[0]
		var sum float64
		for _, r := range g {
			sum += float64(rs[r])
			t, bt := int64(0), int64(0)
			if ts != nil {
				t, bt = ts[r], ts[best]
			}
			switch policy {
			case DedupeFirst:
				if t < bt || (t == bt && r < best) {
					best = r
				}
			default:
				if t > bt || (t == bt && r > best) {
					best = r
				}
			}
		}
		v := rs[best]
		if policy == DedupeMean {
			v = float32(sum / float64(len(g)))
		}
		keep[best] = v
	}
	for r := range users {
		if v, ok := keep[r]; ok {
			keptRows = append(keptRows, r)
			ratings = append(ratings, v)
		}
	}
	return keptRows, ratings
}

// TestDedupeRandom compares the in-place, parallel dedupe with refDedupe on
// random tables with many duplicates and tied timestamps, with rows grouped
// by user (the in-place path) or shuffled (the counting-sort path).
func TestDedupeRandom(t *testing.T) {
	defer func(n int) { dedupeRowsPerWorker = n }(dedupeRowsPerWorker)
	dedupeRowsPerWorker = 16
	rng := rand.New(rand.NewPCG(5, 6))
	for trial := 0; trial < 40; trial++ {
		n := 1 + rng.IntN(3000)
		nu, ni := 1+rng.IntN(60), 1+rng.IntN(40)
		users, items := make([]int32, n), make([]int32, n)
		rs, ts := make([]float32, n), make([]int64, n)
		for r := range users {
			users[r], items[r] = int32(rng.IntN(nu)), int32(rng.IntN(ni))
			rs[r], ts[r] = float32(rng.IntN(10))/2, int64(rng.IntN(5))
		}
		if trial%2 == 0 {
			idx := make([]int, n)
			for k := range idx {
				idx[k] = k
			}
			sort.SliceStable(idx, func(a, b int) bool { return users[idx[a]] < users[idx[b]] })
			users, items, rs, ts = permute(users, idx), permute(items, idx), permute(rs, idx), permute(ts, idx)
		}
		withTimes := trial%3 != 0
		// DedupeError reports the duplicate met first in table order, with
		// the first row of its pair.
		var wantDup *[2]int32
		first := map[[2]int32]int32{}
		for r := range users {
			k := [2]int32{users[r], items[r]}
			if f, ok := first[k]; ok {
				wantDup = &[2]int32{f, int32(r)}
				break
			}
			first[k] = int32(r)
		}
		for _, workers := range []int{1, 2, 4} {
			d := dedupeCols{users: users, items: items, ratings: append([]float32(nil), rs...), times: ts, nUsers: nu, nItems: ni}
			res, err := d.run(context.Background(), DedupeError, workers)
			if err != nil || !reflect.DeepEqual(res.dup, wantDup) || res.removed != 0 {
				t.Fatalf("trial %d error workers %d: dup %v removed %d, want %v", trial, workers, res.dup, res.removed, wantDup)
			}
		}
		for _, policy := range []Dedupe{DedupeLast, DedupeFirst, DedupeMean} {
			var times []int64
			if withTimes {
				times = ts
			}
			wantRows, wantRatings := refDedupe(users, items, rs, times, policy)
			for _, workers := range []int{1, 2, 4} {
				d := dedupeCols{users: append([]int32(nil), users...), items: append([]int32(nil), items...),
					ratings: append([]float32(nil), rs...), nUsers: nu, nItems: ni}
				if withTimes {
					d.times = append([]int64(nil), ts...)
				}
				res, err := d.run(context.Background(), policy, workers)
				if err != nil {
					t.Fatal(err)
				}
				m := n - res.removed
				if m != len(wantRows) {
					t.Fatalf("trial %d %s workers %d: %d rows kept, want %d", trial, policy, workers, m, len(wantRows))
				}
				for k, r := range wantRows {
					if d.users[k] != users[r] || d.items[k] != items[r] || (withTimes && d.times[k] != ts[r]) {
						t.Fatalf("trial %d %s workers %d: row %d is not input row %d", trial, policy, workers, k, r)
					}
				}
				if !reflect.DeepEqual(d.ratings[:m], wantRatings) {
					t.Fatalf("trial %d %s workers %d: ratings differ", trial, policy, workers)
				}
			}
		}
	}
}

func permute[T any](s []T, idx []int) []T {
	out := make([]T, len(s))
	for k, i := range idx {
		out[k] = s[i]
	}
	return out
}

// recorder is a Progress that remembers what it was told.
type recorder struct{ total, done int64 }

func (r *recorder) SetTotal(n int64) { r.total = n }
func (r *recorder) Add(n int64)      { r.done += n }

// TestProgress: the total is the file sizes and every byte is counted.
func TestProgress(t *testing.T) {
	a := writeFile(t, "u.data", []byte(uData))
	b := writeFile(t, "r.csv.gz", gz(t, csv))
	var size int64
	for _, p := range []string{a, b} {
		st, _ := os.Stat(p)
		size += st.Size()
	}
	rec := &recorder{}
	if _, _, err := Read(context.Background(), []string{a, b}, Options{Progress: rec}); err != nil {
		t.Fatal(err)
	}
	if rec.total != size || rec.done != size {
		t.Errorf("progress total %d done %d, want both %d (the file sizes)", rec.total, rec.done, size)
	}
}
