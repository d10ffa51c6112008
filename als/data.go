package als

import (
	"math"
	"math/rand/v2"

	"github.com/recs-dev/recs/internal/hugemem"
	"github.com/recs-dev/recs/ratings"
)

// side is one half of the factorisation (the users or the items): the
// entities that have at least one training rating, their ratings as a
// compressed sparse row matrix over the other side's compact indices, and
// their factors.
type side struct {
	name   string   // "user" or "item", for messages
	ids    []string // original ids, in compact order
	indptr []int64  // ratings of entity e: cols/vals[indptr[e]:indptr[e+1]]
	cols   []int32  // compact index of the other side
	vals   []float32
	reg    []float64 // regularisation weight of each entity (fixed)
	chunks []int     // work pieces: entities chunks[c] .. chunks[c+1]-1

	fac  []float32 // n × s factors; column rank holds 1 when fitting biases
	bias []float64 // per-entity bias (Biases only)
	loss []float64 // per-entity data loss of the last solve
	regl []float64 // per-entity reg·‖x‖² of the last solve
}

func (sd *side) n() int { return len(sd.ids) }

// compactSides builds the user and item sides of t: only users and items
// with at least one row get an index, in dictionary order; within an
// entity, ratings keep table order. Cost O(rows + dictionary).
func compactSides(t *ratings.Table) (users, items *side) {
	uMap, uIDs := compactIndex(t.Users, t.UserIDs)
	iMap, iIDs := compactIndex(t.Items, t.ItemIDs)
	users = &side{name: "user", ids: uIDs}
	items = &side{name: "item", ids: iIDs}
	users.indptr, users.cols, users.vals = csr(t.Users, t.Items, t.Ratings, uMap, iMap, len(uIDs))
	items.indptr, items.cols, items.vals = csr(t.Items, t.Users, t.Ratings, iMap, uMap, len(iIDs))
	return users, items
}

// compactIndex maps dictionary indices that occur in idx to 0..n-1 in
// dictionary order; absent ones map to -1.
func compactIndex(idx []int32, ids []string) ([]int32, []string) {
	m := make([]int32, len(ids))
	for _, v := range idx {
		m[v] = 1
	}
	var kept []string
	for i := range m {
		if m[i] == 1 {
			m[i] = int32(len(kept))
			kept = append(kept, ids[i])
		} else {
			m[i] = -1
		}
	}
	return m, kept
}

// csr is a stable counting sort of the rows by their compact row index.
func csr(rowIdx, colIdx []int32, vals []float32, rowMap, colMap []int32, n int) ([]int64, []int32, []float32) {
	indptr := make([]int64, n+1)
	for _, r := range rowIdx {
		indptr[rowMap[r]+1]++
	}
	for i := 0; i < n; i++ {
		indptr[i+1] += indptr[i]
	}
	next := make([]int64, n)
	copy(next, indptr[:n])
	cols := make([]int32, len(rowIdx))
	out := make([]float32, len(rowIdx))
	for k, r := range rowIdx {
		e := rowMap[r]
		p := next[e]
		next[e]++
		cols[p] = colMap[colIdx[k]]
		out[p] = vals[k]
	}
	return indptr, cols, out
}

// Work-piece sizes. They depend only on the data, never on the thread
// count, so that the factors do not either.
const (
	chunkWork     = 1 << 15 // Σ (ratings + chunkOverhead) per piece
	chunkOverhead = 64      // per-entity cost of the solve, in ratings
	chunkMaxEnt   = 512     // entities per piece at most
)

// makeChunks cuts the entities of sd into contiguous pieces of about
// chunkWork.
func (sd *side) makeChunks() {
	sd.chunks = append(sd.chunks[:0], 0)
	var work int64
	start := 0
	for e := 0; e < sd.n(); e++ {
		work += sd.indptr[e+1] - sd.indptr[e] + chunkOverhead
		if work >= chunkWork || e+1-start >= chunkMaxEnt {
			sd.chunks = append(sd.chunks, e+1)
			start, work = e+1, 0
		}
	}
	if sd.chunks[len(sd.chunks)-1] != sd.n() {
		sd.chunks = append(sd.chunks, sd.n())
	}
}

// setReg fills sd.reg from the parameters. other is the size of the other
// side (N in RegFrequency).
func (sd *side) setReg(p Params, other int) {
	sd.reg = make([]float64, sd.n())
	a0 := 1 / (1 + p.Alpha)
	for e := range sd.reg {
		var n int
		if p.Implicit {
			// Spark counts only the ratings > 0 ("numExplicits").
			for _, v := range sd.vals[sd.indptr[e]:sd.indptr[e+1]] {
				if v > 0 {
					n++
				}
			}
		} else {
			n = int(sd.indptr[e+1] - sd.indptr[e])
		}
		switch p.RegMode {
		case RegPlain:
			sd.reg[e] = p.Reg
		case RegFrequency:
			sd.reg[e] = p.Reg * math.Pow(float64(n)+a0*float64(other), p.RegExponent)
		default:
			sd.reg[e] = p.Reg * float64(n)
		}
	}
}

// initFactors fills sd.fac (stride s) with rows drawn from a standard
// Gaussian and scaled to unit length over the first rank columns, as Spark
// does; column rank is set to 1 when biases are fitted. The generator is a
// PCG seeded with (seed, stream), drawn in entity order.
func (sd *side) initFactors(rank, s int, seed int64, stream uint64, biases bool) {
	rng := rand.New(rand.NewPCG(uint64(seed), stream))
	sd.fac = hugemem.Make[float32](sd.n()*s, sd.n()*s) // rows are read in random order: see internal/hugemem
	row := make([]float64, rank)
	for e := 0; e < sd.n(); e++ {
		var nrm float64
		for c := range row {
			row[c] = rng.NormFloat64()
			nrm += row[c] * row[c]
		}
		nrm = math.Sqrt(nrm)
		f := sd.fac[e*s : e*s+s]
		for c, v := range row {
			f[c] = float32(v / nrm)
		}
		if biases {
			f[rank] = 1
		}
	}
	if biases {
		sd.bias = make([]float64, sd.n())
	}
	sd.loss = make([]float64, sd.n())
	sd.regl = make([]float64, sd.n())
}

// Streams of the initial factors of each side (any fixed distinct values).
const (
	streamUsers = 0x7573657273 // "users"
	streamItems = 0x6974656d73 // "items"
)
