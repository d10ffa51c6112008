package synth

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sort"
	"time"
)

// Config describes a synthetic data set. Zero fields take the defaults
// noted; Users, Items and Ratings are required.
type Config struct {
	Users   int   // number of users (ids 1..Users)
	Items   int   // number of items (ids 1..Items); every one is rated
	Ratings int64 // number of ratings, exactly
	// Rank is the dimension of the planted factors (default 8).
	Rank int
	// HalfStars rounds ratings to 0.5..5 in steps of 0.5 instead of 1..5.
	HalfStars bool
	// MinPerUser is the least number of ratings of a user (default 20).
	MinPerUser int
	// Start and End bound the timestamps (Unix seconds; default
	// 1997-09-20 .. 1998-04-23, the span of MovieLens 100k).
	Start, End int64
	// Noise is the standard deviation of the rating noise (default 0.6).
	Noise float64
	// Seed selects the data set; the same Config gives the same data.
	Seed uint64
	// Workers is the number of generating goroutines (0: GOMAXPROCS). The
	// result does not depend on it.
	Workers int
}

// Preset names a Config sized like a MovieLens release.
type Preset struct {
	Name        string
	Description string
	Config      Config
}

func unix(y int, m time.Month, d int) int64 { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() }

// Presets are sized like the MovieLens releases they are named after
// (users, items, ratings, rating scale and time span).
var Presets = []Preset{
	{"ml-100k", "943 users, 1,682 items, 100,000 ratings, 1-5 stars, 1997-1998",
		Config{Users: 943, Items: 1682, Ratings: 100_000, Start: unix(1997, 9, 20), End: unix(1998, 4, 23)}},
	{"ml-1m", "6,040 users, 3,706 items, 1,000,209 ratings, 1-5 stars, 2000-2003",
		Config{Users: 6040, Items: 3706, Ratings: 1_000_209, Start: unix(2000, 4, 25), End: unix(2003, 3, 1)}},
	{"ml-20m", "138,493 users, 26,744 items, 20,000,263 ratings, 0.5-5 stars, 1995-2015",
		Config{Users: 138_493, Items: 26_744, Ratings: 20_000_263, HalfStars: true, Start: unix(1995, 1, 9), End: unix(2015, 3, 31)}},
	{"ml-25m", "162,541 users, 62,423 items, 25,000,095 ratings, 0.5-5 stars, 1995-2019",
		Config{Users: 162_541, Items: 62_423, Ratings: 25_000_095, HalfStars: true, Start: unix(1995, 1, 9), End: unix(2019, 11, 21)}},
}

// PresetConfig returns the Config of the preset named name.
func PresetConfig(name string) (Config, error) {
	for _, p := range Presets {
		if p.Name == name {
			return p.Config, nil
		}
	}
	names := make([]string, len(Presets))
	for i, p := range Presets {
		names[i] = p.Name
	}
	return Config{}, fmt.Errorf("unknown preset %q (want one of %v)", name, names)
}

// Validate reports whether c describes a data set that can be generated:
// positive sizes, at least MinPerUser ratings per user, at most 45% of the
// items per user.
func (c Config) Validate() error {
	_, err := c.withDefaults()
	return err
}

// withDefaults fills zero fields and validates c.
func (c Config) withDefaults() (Config, error) {
	if c.Rank == 0 {
		c.Rank = 8
	}
	if c.MinPerUser == 0 {
		c.MinPerUser = 20
	}
	if c.Start == 0 && c.End == 0 {
		c.Start, c.End = unix(1997, 9, 20), unix(1998, 4, 23)
	}
	if c.Noise == 0 {
		c.Noise = 0.6
	}
	if c.Workers <= 0 {
		c.Workers = runtime.GOMAXPROCS(0)
	}
	switch {
	case c.Users <= 0 || c.Items <= 0 || c.Ratings <= 0:
		return c, fmt.Errorf("synth: users (%d), items (%d) and ratings (%d) must be positive", c.Users, c.Items, c.Ratings)
	case c.Users > math.MaxInt32 || c.Items > math.MaxInt32 || c.Ratings > math.MaxInt32:
		return c, errors.New("synth: at most 2^31-1 users, items and ratings")
	case c.Rank < 1 || c.Rank > 256:
		return c, fmt.Errorf("synth: rank %d out of [1, 256]", c.Rank)
	case c.MinPerUser < 1:
		return c, fmt.Errorf("synth: min ratings per user %d must be positive", c.MinPerUser)
	case c.Noise < 0 || math.IsNaN(c.Noise) || math.IsInf(c.Noise, 0):
		return c, fmt.Errorf("synth: noise %v must be a finite number ≥ 0", c.Noise)
	case c.End <= c.Start:
		return c, errors.New("synth: end time must be after start time")
	}
	perUserCap := c.perUserCap()
	if perUserCap < c.MinPerUser {
		return c, fmt.Errorf("synth: %d items are too few for %d ratings per user (a user rates at most 45%% of the items)", c.Items, c.MinPerUser)
	}
	if int64(c.MinPerUser)*int64(c.Users) > c.Ratings {
		return c, fmt.Errorf("synth: %d ratings are too few for %d users with at least %d each", c.Ratings, c.Users, c.MinPerUser)
	}
	if int64(perUserCap)*int64(c.Users) < c.Ratings {
		return c, fmt.Errorf("synth: %d ratings are too many for %d users rating at most %d of %d items each", c.Ratings, c.Users, perUserCap, c.Items)
	}
	return c, nil
}

func (c Config) perUserCap() int { return max(int(0.45*float64(c.Items)), min(c.Items, c.MinPerUser)) }

// Model constants (see the package comment).
const (
	globalMean    = 3.25
	biasSD        = 0.5
	factorWeight  = 0.7
	selectGain    = 1.5
	zipfExponent  = 1.1
	uniformShare  = 0.03
	activitySigma = 1.2
	popularLift   = 0.15
)

// Stream keys that keep the PCG streams of different purposes apart.
const (
	streamSetup = 0x5e7a9 + iota
	streamItem
	streamUser
)

// plan is everything shared by the per-user generators.
type plan struct {
	c        Config
	itemID   []int32   // popularity rank -> item id (1-based)
	itemF    []float32 // rank-major item factors (I × k), by popularity rank
	itemB    []float32 // item bias, by popularity rank
	alias    aliasTable
	count    []int32 // ratings per user
	offset   []int64 // first row of each user
	reserved [][]int32
	scale    float64 // sd of factor entries
}

// newPlan draws everything the users share: item ids, popularity, item
// factors and biases, the number of ratings of each user and the items
// reserved so that every item is rated. The draws come from the seed in a
// fixed order, so the same Config gives the same plan.
func newPlan(c Config) (*plan, error) {
	c, err := c.withDefaults()
	if err != nil {
		return nil, err
	}
	p := &plan{c: c, scale: math.Sqrt(1 / math.Sqrt(float64(c.Rank)))}
	setup := rand.New(rand.NewPCG(c.Seed, streamSetup))
	p.itemID = shuffledIDs(setup, c.Items)
	pop := newPopularity(c.Items)
	p.alias = newAlias(pop.w)
	p.drawItems(pop)
	p.count = userCounts(c)
	p.offset = make([]int64, c.Users+1)
	for u := 0; u < c.Users; u++ {
		p.offset[u+1] = p.offset[u] + int64(p.count[u])
	}
	if p.reserved, err = reserveItems(setup, c, p.count); err != nil {
		return nil, err
	}
	return p, nil
}

// shuffledIDs returns a seeded shuffle of the item ids 1..n: the id of each
// popularity rank.
func shuffledIDs(setup *rand.Rand, n int) []int32 {
	ids := make([]int32, n)
	for i := range ids {
		ids[i] = int32(i + 1)
	}
	setup.Shuffle(n, func(a, b int) { ids[a], ids[b] = ids[b], ids[a] })
	return ids
}

// popularity is the distribution of draws over the n popularity ranks,
// w_r = (1-uniformShare)·z_r/Σz + uniformShare/n with z_r = (r + 5 +
// n/100)^-zipfExponent, with the mean and standard deviation of log w.
type popularity struct {
	w              []float64
	meanLog, sdLog float64
}

func newPopularity(n int) popularity {
	w := make([]float64, n)
	cOff := 5 + float64(n)/100
	var sum float64
	for r := range w {
		w[r] = math.Pow(float64(r)+cOff, -zipfExponent)
		sum += w[r]
	}
	var meanLog float64
	for r := range w {
		w[r] = (1-uniformShare)*w[r]/sum + uniformShare/float64(n)
		meanLog += math.Log(w[r])
	}
	meanLog /= float64(n)
	var sdLog float64
	for r := range w {
		d := math.Log(w[r]) - meanLog
		sdLog += d * d
	}
	sdLog = math.Sqrt(sdLog/float64(n)) + 1e-12
	return popularity{w: w, meanLog: meanLog, sdLog: sdLog}
}

// drawItems fills the item factors and biases, one PCG stream per item id;
// popular items get a lift in bias.
func (p *plan) drawItems(pop popularity) {
	c := p.c
	I, k := c.Items, c.Rank
	p.itemF = make([]float32, I*k)
	p.itemB = make([]float32, I)
	var src rand.PCG
	rng := rand.New(&src)
	for r := 0; r < I; r++ {
		src.Seed(c.Seed^streamItem, uint64(p.itemID[r]))
		for j := 0; j < k; j++ {
			p.itemF[r*k+j] = float32(rng.NormFloat64() * p.scale)
		}
		p.itemB[r] = float32(biasSD*rng.NormFloat64() + popularLift*(math.Log(pop.w[r])-pop.meanLog)/pop.sdLog)
	}
}

// userCounts returns the number of ratings of each user: MinPerUser plus a
// log-normal share of the rest, capped, rounded so that the counts add up
// to exactly c.Ratings.
func userCounts(c Config) []int32 {
	U := c.Users
	act := make([]float64, U)
	var src rand.PCG
	rng := rand.New(&src)
	for u := range act {
		src.Seed(c.Seed^streamUser, uint64(u))
		act[u] = math.Exp(activitySigma * rng.NormFloat64())
	}
	count := make([]int32, U)
	for u := range count {
		count[u] = int32(c.MinPerUser)
	}
	order := make([]int, U) // users by activity, most active first
	for u := range order {
		order[u] = u
	}
	sort.SliceStable(order, func(a, b int) bool { return act[order[a]] > act[order[b]] })
	shareRest(count, act, order, c.Ratings-int64(c.MinPerUser)*int64(U), int64(c.perUserCap()))
	return count
}

// shareRest adds rest ratings to count, by activity act, without taking any
// user past capU; order lists the users most active first.
func shareRest(count []int32, act []float64, order []int, rest, capU int64) {
	for pass := 0; rest > 0; pass++ {
		// Share what is left among users below the cap, by activity; after
		// a few passes only rounding remainders are left.
		var actSum float64
		for _, u := range order {
			if int64(count[u]) < capU {
				actSum += act[u]
			}
		}
		given := int64(0)
		for _, u := range order {
			if pass >= 4 {
				break
			}
			room := capU - int64(count[u])
			if room <= 0 {
				continue
			}
			add := min(int64(float64(rest)*act[u]/actSum), room)
			count[u] += int32(add)
			given += add
		}
		if given == 0 {
			// Rounding left a remainder: one more each, most active first.
			for _, u := range order {
				if given == rest {
					break
				}
				if int64(count[u]) < capU {
					count[u]++
					given++
				}
			}
		}
		rest -= given
	}
}

// reserveItems makes every item rated at least once: it reserves each item
// (by rank) for one user, drawn from setup, who has room for it (at most
// half of a user's ratings are reserved).
func reserveItems(setup *rand.Rand, c Config, count []int32) ([][]int32, error) {
	U := c.Users
	reserved := make([][]int32, U)
	for r := 0; r < c.Items; r++ {
		u := int(setup.Uint64N(uint64(U)))
		for tries := 0; len(reserved[u])*2 >= int(count[u]); tries++ {
			u = (u + 1) % U
			if tries > U {
				return nil, fmt.Errorf("synth: %d ratings are too few to rate each of %d items once", c.Ratings, c.Items)
			}
		}
		reserved[u] = append(reserved[u], int32(r))
	}
	return reserved, nil
}

// userGen draws the ratings of users; one per worker.
type userGen struct {
	p    *plan
	src  rand.PCG
	rng  *rand.Rand
	mark []int32 // stamp of the user who last took each item (by rank)
	x    []float32
	pick []int32
	dots []float64
	gaps []float64
}

func newUserGen(p *plan) *userGen {
	g := &userGen{p: p, mark: make([]int32, p.c.Items), x: make([]float32, p.c.Rank)}
	g.rng = rand.New(&g.src)
	return g
}

func (g *userGen) dot(r int32) float64 {
	k := len(g.x)
	f := g.p.itemF[int(r)*k : int(r)*k+k]
	x := g.x[:len(f)]
	var s float32
	for j, v := range f {
		s += x[j] * v
	}
	return float64(s)
}

// float64 returns a uniform draw in [0, 1) straight from the PCG (the
// rand.Rand wrapper costs an interface call per draw).
func (g *userGen) float64() float64 { return float64(g.src.Uint64()>>11) * (1.0 / (1 << 53)) }

// user writes user u's rows into items (ids), ratings and times, which
// have length count[u].
func (g *userGen) user(u int, items []int32, ratings []float32, times []int64) {
	p, c := g.p, g.p.c
	g.src.Seed(c.Seed^streamUser, uint64(u))
	g.rng.NormFloat64() // the activity draw of userCounts
	for j := range g.x {
		g.x[j] = float32(g.rng.NormFloat64() * p.scale)
	}
	bias := biasSD * g.rng.NormFloat64()
	n := len(items)
	stamp := int32(u + 1)
	g.pick, g.dots = g.pick[:0], g.dots[:0]
	take := func(r int32) {
		g.mark[r] = stamp
		g.pick = append(g.pick, r)
		g.dots = append(g.dots, g.dot(r))
	}
	for _, r := range p.reserved[u] {
		take(r)
	}
	I := c.Items
	limit := 30*n + 1000
	for tries := 0; len(g.pick) < n && tries < limit; tries++ {
		r := p.alias.draw(g.src.Uint64())
		if g.mark[r] == stamp {
			continue
		}
		d := g.dot(r)
		if g.float64() >= keep(d) {
			continue
		}
		g.mark[r] = stamp
		g.pick = append(g.pick, r)
		g.dots = append(g.dots, d)
	}
	// Rarely (a user rating close to the cap) the draws run dry: fill up
	// with the most popular items not taken yet.
	for r := int32(0); len(g.pick) < n && int(r) < I; r++ {
		if g.mark[r] != stamp {
			take(r)
		}
	}
	// Reserved items first would give every user's first ratings to tail
	// items; shuffle the picks (with their dots) instead.
	for a := len(g.pick) - 1; a > 0; a-- {
		b := g.rng.IntN(a + 1)
		g.pick[a], g.pick[b] = g.pick[b], g.pick[a]
		g.dots[a], g.dots[b] = g.dots[b], g.dots[a]
	}

	// On a half-star scale half of the users still give whole stars only,
	// as in MovieLens 20M/25M, where about 30% of ratings are half stars.
	step := 1.0
	if c.HalfStars && g.rng.IntN(2) == 0 {
		step = 0.5
	}
	lo := step
	for j, r := range g.pick {
		s := globalMean + bias + float64(p.itemB[r]) + factorWeight*g.dots[j] + c.Noise*g.rng.NormFloat64()
		v := math.Round(s/step) * step
		v = min(max(v, lo), 5)
		items[j] = p.itemID[r]
		ratings[j] = float32(v)
	}

	// Times: a start, then a span (one session for half the users, else
	// days to years), split by exponential gaps.
	span := float64(c.End - c.Start)
	t0 := float64(c.Start) + g.rng.Float64()*span*0.95
	var length float64
	if g.rng.IntN(2) == 0 {
		length = float64(n) * (20 + 100*g.rng.Float64()) // about a minute a rating
	} else {
		length = math.Exp(math.Log(30*86400) + 1.5*g.rng.NormFloat64())
	}
	length = min(length, float64(c.End-1)-t0)
	g.gaps = g.gaps[:0]
	var total float64
	for range n {
		e := g.rng.ExpFloat64()
		g.gaps = append(g.gaps, e)
		total += e
	}
	var cum float64
	for j := range n {
		cum += g.gaps[j]
		times[j] = int64(t0 + length*cum/total)
	}
	for j := 1; j < n; j++ { // guard against rounding: never decrease
		times[j] = max(times[j], times[j-1])
	}
}

// aliasTable draws index i with probability w_i / Σw in O(1) (Vose's
// alias method).
type aliasTable struct {
	prob  []uint32 // P(keep column i) · 2^32, saturated
	alias []int32
}

func newAlias(w []float64) aliasTable {
	n := len(w)
	var sum float64
	for _, v := range w {
		sum += v
	}
	t := aliasTable{prob: make([]uint32, n), alias: make([]int32, n)}
	toU32 := func(p float64) uint32 { return uint32(min(p*(1<<32), math.MaxUint32)) }
	scaled := make([]float64, n)
	var small, large []int32
	for i, v := range w {
		scaled[i] = v * float64(n) / sum
		if scaled[i] < 1 {
			small = append(small, int32(i))
		} else {
			large = append(large, int32(i))
		}
	}
	for len(small) > 0 && len(large) > 0 {
		s, l := small[len(small)-1], large[len(large)-1]
		small = small[:len(small)-1]
		t.prob[s], t.alias[s] = toU32(scaled[s]), l
		scaled[l] -= 1 - scaled[s]
		if scaled[l] < 1 {
			large = large[:len(large)-1]
			small = append(small, l)
		}
	}
	for _, i := range slices.Concat(small, large) {
		t.prob[i], t.alias[i] = math.MaxUint32, i
	}
	return t
}

// draw maps one 64-bit random number to an index: the high half picks a column (Lemire's
// multiply-shift, bias below 2^-32·n), the low half tosses its coin.
func (t aliasTable) draw(x uint64) int32 {
	i := int32((x >> 32) * uint64(len(t.prob)) >> 32)
	if uint32(x) < t.prob[i] {
		return i
	}
	return t.alias[i]
}

// keep is the probability that a user keeps a drawn item whose factors
// agree with hers by d = x_u·y_i: 1/2 + 1/2·softsign(selectGain·d), a
// cheap sigmoid.
func keep(d float64) float64 {
	z := selectGain * d
	return 0.5 + 0.5*z/(1+math.Abs(z))
}
