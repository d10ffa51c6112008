package topk

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/recs-dev/recs/als"
)

// blockUsers is the number of users scored together: their packed factors
// (blockUsers × rank float32, 24 KiB at rank 64) stay in L1 while the item
// panels stream past. A multiple of every kernel's mr.
const blockUsers = 96

// Options says what to compute.
type Options struct {
	// K is the length of each list; it must be at least 1. Lists are shorter
	// when fewer than K items qualify.
	K int

	// Users are the model user rows to score, in the order their lists are
	// delivered. Nil means every user of the model, 0..n-1. Repeats are
	// allowed (each occurrence gets its list).
	Users []int32

	// Exclude holds, per model user, items never to recommend (the items
	// the user already rated, from NewExclusion). Nil excludes nothing,
	// as Spark's recommendForAllUsers does.
	Exclude *Exclusion

	// Threads is the number of scoring goroutines; 0 means GOMAXPROCS.
	// The lists do not depend on it.
	Threads int
}

// Func receives one user's list: model user row, item rows best first and
// their scores. The slices are reused after Func returns: copy what you
// keep. Returning an error stops the computation and Each returns it.
type Func func(user int32, items []int32, scores []float32) error

// Each computes the top-K list of every user in opts.Users (all users when
// nil) and calls fn once per user, in that order, from a single goroutine
// (never concurrently). Scoring runs on opts.Threads goroutines ahead of the
// delivery by at most 4·Threads blocks of 96 users, so memory stays bounded
// however many users there are and fn may write to a file as it goes.
//
// Errors: an invalid model (lengths inconsistent with the rank, rank < 1),
// K < 1, a user row out of range, ctx cancellation, or fn's error.
func Each(ctx context.Context, m *als.Model, opts Options, fn Func) error {
	return each(ctx, m, opts, best(), fn)
}

// Lists holds the top-K lists of many users in flat arrays: list r (for
// model user Users[r]) is Items[r*K : r*K+Len[r]] with Scores likewise.
type Lists struct {
	K      int
	Users  []int32   // model user rows, in the order asked for
	Len    []int32   // length of each list, ≤ K
	Items  []int32   // len(Users)·K model item rows; -1 past Len[r]
	Scores []float32 // len(Users)·K scores; 0 past Len[r]
}

// List returns the items and scores of list r.
func (l *Lists) List(r int) (items []int32, scores []float32) {
	a := r * l.K
	b := a + int(l.Len[r])
	return l.Items[a:b], l.Scores[a:b]
}

// Recommend is Each collecting every list in memory: 8·K bytes per user
// (11 MB for 138,000 users at K = 10).
func Recommend(ctx context.Context, m *als.Model, opts Options) (*Lists, error) {
	users := opts.Users
	if users == nil {
		users = allUsers(len(m.UserIDs))
		opts.Users = users
	}
	if opts.K < 1 {
		return nil, fmt.Errorf("topk: k must be at least 1, got %d", opts.K)
	}
	l := &Lists{K: opts.K, Users: users, Len: make([]int32, len(users)),
		Items: make([]int32, len(users)*opts.K), Scores: make([]float32, len(users)*opts.K)}
	for i := range l.Items {
		l.Items[i] = -1
	}
	r := 0
	err := Each(ctx, m, opts, func(_ int32, items []int32, scores []float32) error {
		copy(l.Items[r*opts.K:], items)
		copy(l.Scores[r*opts.K:], scores)
		l.Len[r] = int32(len(items))
		r++
		return nil
	})
	if err != nil {
		return nil, err
	}
	return l, nil
}

func allUsers(n int) []int32 {
	u := make([]int32, n)
	for i := range u {
		u[i] = int32(i)
	}
	return u
}

// checkModel reports an inconsistent model as an error: models come from
// files, so this is data, not caller misuse.
func checkModel(m *als.Model) error {
	if m == nil {
		return errors.New("topk: nil model")
	}
	if m.Rank < 1 {
		return fmt.Errorf("topk: model rank %d is not positive", m.Rank)
	}
	if len(m.UserFactors) != len(m.UserIDs)*m.Rank {
		return fmt.Errorf("topk: model has %d users but %d user factor values at rank %d",
			len(m.UserIDs), len(m.UserFactors), m.Rank)
	}
	if len(m.ItemFactors) != len(m.ItemIDs)*m.Rank {
		return fmt.Errorf("topk: model has %d items but %d item factor values at rank %d",
			len(m.ItemIDs), len(m.ItemFactors), m.Rank)
	}
	return nil
}

// packItems lays the item factors out in panels of nr items, rank-major
// within a panel, zero-padded to a whole panel.
func packItems(m *als.Model, nr int) []float32 {
	n, r := len(m.ItemIDs), m.Rank
	panels := (n + nr - 1) / nr
	out := make([]float32, panels*nr*r)
	for i := 0; i < n; i++ {
		pn, j := i/nr, i%nr
		base := pn * nr * r
		row := m.ItemFactors[i*r : (i+1)*r]
		for p, v := range row {
			out[base+p*nr+j] = v
		}
	}
	return out
}

// block is one block of users and, once scored, their lists.
type block struct {
	idx    int
	users  []int32 // model user rows (a window of opts.Users)
	len    []int32
	items  []int32 // blockUsers*k
	scores []float32
}

// each is Each scoring with kernel kn (tests and benchmarks try every tier).
func each(ctx context.Context, m *als.Model, opts Options, kn *kernel, fn Func) error {
	users, err := checkOptions(m, opts)
	if err != nil {
		return err
	}
	if len(users) == 0 {
		return nil
	}
	threads := opts.Threads
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	nblocks := (len(users) + blockUsers - 1) / blockUsers
	threads = min(threads, nblocks)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	bpack := packItems(m, kn.nr)
	q := newBlockQueue(users, opts.K, nblocks, 4*threads)
	var wg sync.WaitGroup
	for w := 0; w < threads; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			q.score(ctx, newScorer(m, kn, bpack, opts))
		}()
	}
	err = q.deliver(ctx, fn)
	cancel()
	wg.Wait()
	return err
}

// checkOptions checks m and opts against each other and returns the users
// to score: opts.Users, or every user of m when nil.
func checkOptions(m *als.Model, opts Options) ([]int32, error) {
	if err := checkModel(m); err != nil {
		return nil, err
	}
	if opts.K < 1 {
		return nil, fmt.Errorf("topk: k must be at least 1, got %d", opts.K)
	}
	nu := len(m.UserIDs)
	users := opts.Users
	if users == nil {
		users = allUsers(nu)
	}
	for _, u := range users {
		if u < 0 || int(u) >= nu {
			return nil, fmt.Errorf("topk: user row %d out of range [0,%d)", u, nu)
		}
	}
	if n := opts.Exclude.numUsers(); n != 0 && n != nu {
		return nil, fmt.Errorf("topk: exclusion built for %d users, model has %d", n, nu)
	}
	return users, nil
}

// blockQueue hands the blocks of users to the scoring goroutines and the
// scored blocks, in order, to the delivery. A scorer takes a token before
// it claims a block and the delivery returns it once the block's lists are
// delivered, so scoring runs at most cap(tokens) blocks ahead.
type blockQueue struct {
	users   []int32
	k       int
	nblocks int
	next    atomic.Int64  // the next block to claim
	tokens  chan struct{} // one per block claimed and not yet delivered
	scored  chan *block
	free    chan *block // delivered blocks for reuse
}

func newBlockQueue(users []int32, k, nblocks, window int) *blockQueue {
	return &blockQueue{users: users, k: k, nblocks: nblocks, tokens: make(chan struct{}, window),
		scored: make(chan *block, window), free: make(chan *block, window)}
}

// score is one scoring goroutine: it scores blocks with s until none is
// left or ctx is done.
func (q *blockQueue) score(ctx context.Context, s *scorer) {
	for {
		select {
		case q.tokens <- struct{}{}:
		case <-ctx.Done():
			return
		}
		bi := int(q.next.Add(1) - 1)
		if bi >= q.nblocks {
			return
		}
		b := q.block(bi)
		if s.score(ctx, b) != nil {
			return // cancelled; the delivery loop reports it
		}
		select {
		case q.scored <- b:
		case <-ctx.Done():
			return
		}
	}
}

// block returns block bi, in a delivered block's space when there is one.
func (q *blockQueue) block(bi int) *block {
	var b *block
	select {
	case b = <-q.free:
	default:
		b = &block{len: make([]int32, blockUsers), items: make([]int32, blockUsers*q.k),
			scores: make([]float32, blockUsers*q.k)}
	}
	b.idx = bi
	b.users = q.users[bi*blockUsers : min((bi+1)*blockUsers, len(q.users))]
	return b
}

// deliver calls fn on the lists of every block in order, as they are
// scored, and returns fn's first error or ctx's.
func (q *blockQueue) deliver(ctx context.Context, fn Func) error {
	pending := make(map[int]*block, cap(q.tokens))
	for want := 0; want < q.nblocks; {
		b, ok := pending[want]
		if !ok {
			select {
			case b = <-q.scored:
			case <-ctx.Done():
				return ctx.Err()
			}
			if b.idx != want {
				pending[b.idx] = b
				continue
			}
		} else {
			delete(pending, want)
		}
		for r, u := range b.users {
			a := r * q.k
			n := int(b.len[r])
			if err := fn(u, b.items[a:a+n], b.scores[a:a+n]); err != nil {
				return err
			}
		}
		want++
		select {
		case q.free <- b:
		default:
		}
		<-q.tokens
	}
	return nil
}

// scorer is one goroutine's scratch space.
type scorer struct {
	m     *als.Model
	kn    *kernel
	bpack []float32
	excl  *Exclusion
	k     int
	nItem int

	apack []float32 // blockUsers*rank: tiles of mr users, rank-major
	c     []float32 // mr*nr tile of scores
	thr   []float32 // blockUsers thresholds (+Inf for padding users)
	hs    []float32 // blockUsers*k heap scores
	hi    []int32   // blockUsers*k heap items
	hn    []int32   // heap sizes
	seen  [][]int32 // excluded items of each block user
	cur   []int32   // position in seen (items arrive in ascending order)
}

func newScorer(m *als.Model, kn *kernel, bpack []float32, opts Options) *scorer {
	k := opts.K
	return &scorer{m: m, kn: kn, bpack: bpack, excl: opts.Exclude, k: k, nItem: len(m.ItemIDs),
		apack: make([]float32, blockUsers*m.Rank), c: make([]float32, kn.mr*kn.nr),
		thr: make([]float32, blockUsers), hs: make([]float32, blockUsers*k), hi: make([]int32, blockUsers*k),
		hn: make([]int32, blockUsers), seen: make([][]int32, blockUsers), cur: make([]int32, blockUsers)}
}

// score fills b's lists.
func (s *scorer) score(ctx context.Context, b *block) error {
	kn, rank := s.kn, s.m.Rank
	mr, nr, g := kn.mr, kn.nr, kn.g
	nb := len(b.users)
	tiles := (nb + mr - 1) / mr
	negInf, posInf := float32(math.Inf(-1)), float32(math.Inf(1))

	clear(s.apack)
	for r, u := range b.users {
		t, i := r/mr, r%mr
		base := t * mr * rank
		for p, v := range s.m.UserFactors[int(u)*rank : (int(u)+1)*rank] {
			s.apack[base+p*mr+i] = v
		}
		s.thr[r] = negInf
		s.hn[r] = 0
		s.seen[r] = s.excl.Items(int(u))
		s.cur[r] = 0
	}
	for r := nb; r < tiles*mr; r++ {
		s.thr[r] = posInf
	}

	groups := nr / g
	panels := len(s.bpack) / (nr * rank)
	for pn := 0; pn < panels; pn++ {
		if pn&255 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		bp := s.bpack[pn*nr*rank : (pn+1)*nr*rank]
		for t := 0; t < tiles; t++ {
			mask := kn.tile(s.apack[t*mr*rank:(t+1)*mr*rank], bp, s.c, s.thr[t*mr:(t+1)*mr], rank)
			for mask != 0 {
				bit := bits.TrailingZeros32(mask)
				mask &= mask - 1
				i, h := bit/groups, bit%groups
				s.take(t*mr+i, pn*nr+h*g, s.c[i*nr+h*g:i*nr+h*g+g])
			}
		}
	}

	for r := 0; r < nb; r++ {
		n := int(s.hn[r])
		b.len[r] = int32(n)
		sortDesc(s.hs[r*s.k:r*s.k+n], s.hi[r*s.k:r*s.k+n], b.scores[r*s.k:r*s.k+n], b.items[r*s.k:r*s.k+n])
	}
	return nil
}

// take offers the scores of items first, first+1, ... to block user r's
// selection. Items arrive in ascending order for each user.
func (s *scorer) take(r, first int, scores []float32) {
	t := s.thr[r]
	for l, v := range scores {
		if !(v > t) {
			continue
		}
		item := first + l
		if item >= s.nItem {
			return // panel padding
		}
		if seen := s.seen[r]; len(seen) > 0 {
			c := s.cur[r]
			for int(c) < len(seen) && int(seen[c]) < item {
				c++
			}
			s.cur[r] = c
			if int(c) < len(seen) && int(seen[c]) == item {
				continue
			}
		}
		t = s.push(r, v, int32(item))
	}
}

// push inserts (v, item) into user r's bounded min-heap, whose root is the
// worst kept entry (lowest score; among equal scores the highest item), and
// returns the new threshold: -Inf until the heap holds k entries, then the
// root's score. Since items arrive in ascending order, an item equal in
// score to the root never displaces it: lower item rows win ties.
func (s *scorer) push(r int, v float32, item int32) float32 {
	k := s.k
	hs, hi := s.hs[r*k:(r+1)*k], s.hi[r*k:(r+1)*k]
	n := int(s.hn[r])
	if n < k {
		// sift up
		j := n
		for j > 0 {
			p := (j - 1) / 2
			if !worse(v, item, hs[p], hi[p]) {
				break
			}
			hs[j], hi[j] = hs[p], hi[p]
			j = p
		}
		hs[j], hi[j] = v, item
		n++
		s.hn[r] = int32(n)
		if n < k {
			return s.thr[r]
		}
		s.thr[r] = hs[0]
		return hs[0]
	}
	siftDown(hs, hi, 0, n, v, item)
	s.thr[r] = hs[0]
	return hs[0]
}

// worse reports whether entry (a, ai) ranks below (b, bi).
func worse(a float32, ai int32, b float32, bi int32) bool {
	return a < b || (a == b && ai > bi)
}

// siftDown places (v, item) at position j of the heap of n entries.
func siftDown(hs []float32, hi []int32, j, n int, v float32, item int32) {
	for {
		c := 2*j + 1
		if c >= n {
			break
		}
		if c+1 < n && worse(hs[c+1], hi[c+1], hs[c], hi[c]) {
			c++
		}
		if !worse(hs[c], hi[c], v, item) {
			break
		}
		hs[j], hi[j] = hs[c], hi[c]
		j = c
	}
	hs[j], hi[j] = v, item
}

// sortDesc empties the heap (hs, hi) into (os, oi) best first.
func sortDesc(hs []float32, hi []int32, os []float32, oi []int32) {
	for n := len(hs); n > 0; n-- {
		os[n-1], oi[n-1] = hs[0], hi[0]
		if n > 1 {
			siftDown(hs, hi, 0, n-1, hs[n-1], hi[n-1])
		}
	}
}
