package als

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sync/atomic"
	"time"

	"github.com/recs-dev/recs/ratings"
)

// Iteration reports one finished iteration of Fit.
type Iteration struct {
	Iter int `json:"iter"` // 1-based
	// Loss is the regularised objective after the iteration: explicit,
	// Σ (r − r̂)² + Σ_u reg_u‖x_u‖² + Σ_i reg_i‖y_i‖²; implicit, the same
	// with Σ over all user-item pairs of c·(p − r̂)². It is computed from
	// each user's normal equations (c − 2xᵀb + xᵀGx) as they are solved,
	// exact up to float32 rounding of the factors for the Cholesky and NNLS
	// solvers and up to the CG residual's drift for CG.
	Loss float64 `json:"loss"`
	// TrainRMSE is √(Σ (r − r̂)² / n) over the training ratings (explicit
	// only; 0 for implicit).
	TrainRMSE float64 `json:"trainRmse,omitempty"`
	// Metric names the validation metric ("rmse" or "ndcg@10"); empty
	// without a validation set, and then Validation is 0.
	Metric     string  `json:"metric,omitempty"`
	Validation float64 `json:"validation,omitempty"`
	// Duration is the time of the two half-iterations (validation and
	// the callback excluded).
	Duration time.Duration `json:"durationNs"`
}

// Option adjusts a fit.
type Option func(*config)

type config struct {
	valid    *ratings.Table
	callback func(Iteration) error
	progress func(iter, done, total int)
	kern     *kernels
}

// WithValidation evaluates the model on t after every iteration: RMSE over
// the rows whose user and item have factors (cold-start rows dropped) for
// explicit feedback; NDCG@10 over each validation user's unseen items
// (training items excluded, every validation row relevant, Microsoft
// Recommenders' definition) for implicit feedback. Rows are matched to the
// training data by original id, so t may have its own dictionaries. The
// NDCG scores every item for every validation user: cost users·items·rank
// per iteration.
func WithValidation(t *ratings.Table) Option { return func(c *config) { c.valid = t } }

// WithCallback calls fn after every iteration, from the goroutine that
// called Fit. An error from fn stops the fit and is returned.
func WithCallback(fn func(Iteration) error) Option { return func(c *config) { c.callback = fn } }

// WithProgress calls fn as work pieces finish: done of total users and
// items of iteration iter are solved. fn may be called from several
// goroutines at once and must be quick.
func WithProgress(fn func(iter, done, total int)) Option {
	return func(c *config) { c.progress = fn }
}

// withKernels forces a kernel set (tests and benchmarks).
func withKernels(k *kernels) Option { return func(c *config) { c.kern = k } }

// ErrNoRatings is returned by Fit for a training table without rows.
var ErrNoRatings = errors.New("als: the training data has no ratings")

// ErrNoValidation is returned by Fit when no row of the validation set has
// a user (explicit: and an item) with training ratings.
var ErrNoValidation = errors.New("als: no validation row has a user and item that occur in the training data")

// Fit factors the ratings of train by alternating least squares.
//
// Explicit feedback (the default) is Spark MLlib's ALS-WR: with the item
// factors Y fixed, each user u with rated items I_u solves
//
//	(Y_Iᵀ Y_I + λ·n_u·I) x_u = Y_Iᵀ r_u,   n_u = |I_u|,
//
// and the items are solved likewise from the users. Each iteration solves
// the items first, then the users (Spark's order). Implicit feedback is
// Hu, Koren and Volinsky (2008) with Spark's extension to r ≤ 0:
// confidence c = 1 + α|r|, preference p = [r > 0], and
//
//	(YᵀY + Y_Iᵀ (C_u − I) Y_I + λ·n_u·I) x_u = Y_Iᵀ C_u p_u
//
// with YᵀY formed once per half-iteration and n_u counting ratings > 0.
// See Params for the solver and regularisation choices.
//
// Only users and items with at least one row in train get factors; the
// model's ids are those, in the order of train's dictionaries. Both sides
// start from unit-length Gaussian rows drawn from p.Seed. Factors are
// float32; the normal equations are accumulated and solved in float64
// (float32 for the CG solver). The factors are bit-identical for any
// Threads on the same machine.
//
// A singular system or a non-finite factor stops the fit with a
// *SolveError naming the iteration and the user or item. Cancelling ctx
// stops it between pieces of work with ctx's error.
func Fit(ctx context.Context, train *ratings.Table, p Params, opts ...Option) (*Model, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	p = p.normalized()
	cfg := config{kern: activeKernels()}
	for _, o := range opts {
		o(&cfg)
	}
	if train.Len() == 0 {
		return nil, ErrNoRatings
	}
	users, items := compactSides(train)
	pr := &problem{p: p, k: p.Rank, kern: cfg.kern, threads: p.threads()}
	if p.Biases {
		pr.k++
		var sum float64
		for _, v := range train.Ratings {
			sum += float64(v)
		}
		pr.mu = sum / float64(train.Len())
	}
	pr.s = stride(pr.k)
	users.setReg(p, items.n())
	items.setReg(p, users.n())
	users.makeChunks()
	items.makeChunks()
	users.initFactors(p.Rank, pr.s, p.Seed, streamUsers, p.Biases)
	items.initFactors(p.Rank, pr.s, p.Seed, streamItems, p.Biases)
	pr.scratch = make([]*scratch, pr.threads)
	for i := range pr.scratch {
		pr.scratch[i] = newScratch(pr.k, pr.s)
	}

	var val *validator
	if cfg.valid != nil {
		val = newValidator(cfg.valid, users, items, p.Implicit)
		if val.empty() {
			return nil, ErrNoValidation
		}
	}
	total := users.n() + items.n()
	var done atomic.Int64
	var iter int
	if cfg.progress != nil {
		pr.progress = func(n int) { cfg.progress(iter, int(done.Add(int64(n))), total) }
	}

	var history []Iteration
	for iter = 1; iter <= p.MaxIter; iter++ {
		done.Store(0)
		start := time.Now()
		if err := pr.solveHalf(ctx, iter, items, users); err != nil {
			return nil, err
		}
		if err := pr.solveHalf(ctx, iter, users, items); err != nil {
			return nil, err
		}
		it := Iteration{Iter: iter, Duration: time.Since(start)}
		var data, reg float64
		for e := range users.loss {
			data += users.loss[e]
			reg += users.regl[e]
		}
		for _, v := range items.regl {
			reg += v
		}
		it.Loss = data + reg
		if !p.Implicit {
			it.TrainRMSE = math.Sqrt(math.Max(0, data) / float64(train.Len()))
		}
		if val != nil {
			it.Metric, it.Validation = val.evaluate(pr, users, items)
		}
		history = append(history, it)
		if cfg.callback != nil {
			if err := cfg.callback(it); err != nil {
				return nil, err
			}
		}
	}
	m := pr.model(users, items)
	pp := p
	m.Params = &pp
	m.History = history
	m.DataHash = TableHash(train)
	m.ID = m.contentID()
	return m, nil
}

// model copies the factors out of the padded working arrays, folding the
// biases into two extra columns.
func (pr *problem) model(users, items *side) *Model {
	rank := pr.p.Rank
	out := rank
	if pr.p.Biases {
		out += 2
	}
	m := &Model{Rank: out, UserIDs: users.ids, ItemIDs: items.ids,
		UserFactors: make([]float32, users.n()*out), ItemFactors: make([]float32, items.n()*out)}
	for e := 0; e < users.n(); e++ {
		row := m.UserFactors[e*out : e*out+out]
		copy(row, users.fac[e*pr.s:e*pr.s+rank])
		if pr.p.Biases {
			row[rank] = float32(users.bias[e] + pr.mu)
			row[rank+1] = 1
		}
	}
	for e := 0; e < items.n(); e++ {
		row := m.ItemFactors[e*out : e*out+out]
		copy(row, items.fac[e*pr.s:e*pr.s+rank])
		if pr.p.Biases {
			row[rank] = 1
			row[rank+1] = float32(items.bias[e])
		}
	}
	return m
}

// TableHash returns "sha256:<hex>" of the table's content: its id
// dictionaries and its (user, item, rating) rows in order (timestamps are
// not part of it). Two tables hash equal when they hold the same rows in
// the same order with the same dictionaries.
func TableHash(t *ratings.Table) string {
	h := sha256.New()
	var buf [8]byte
	writeStrings := func(ids []string) {
		binary.LittleEndian.PutUint64(buf[:], uint64(len(ids)))
		h.Write(buf[:])
		for _, id := range ids {
			binary.LittleEndian.PutUint64(buf[:], uint64(len(id)))
			h.Write(buf[:])
			h.Write([]byte(id))
		}
	}
	writeStrings(t.UserIDs)
	writeStrings(t.ItemIDs)
	const chunk = 1 << 14
	b := make([]byte, 0, chunk*12)
	for r := 0; r < t.Len(); r++ {
		b = binary.LittleEndian.AppendUint32(b, uint32(t.Users[r]))
		b = binary.LittleEndian.AppendUint32(b, uint32(t.Items[r]))
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(t.Ratings[r]))
		if len(b) == cap(b) {
			h.Write(b)
			b = b[:0]
		}
	}
	h.Write(b)
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// contentID derives the model id from the training data hash, the
// parameters and the factors: the same fit gives the same id.
func (m *Model) contentID() string {
	h := sha256.New()
	h.Write([]byte(m.DataHash))
	if m.Params != nil {
		b, _ := json.Marshal(m.Params)
		h.Write(b)
	}
	b := make([]byte, 0, 1<<16)
	for _, f := range [][]float32{m.UserFactors, m.ItemFactors} {
		for _, v := range f {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
			if len(b) == cap(b) {
				h.Write(b)
				b = b[:0]
			}
		}
	}
	h.Write(b)
	for _, ids := range [][]string{m.UserIDs, m.ItemIDs} {
		for _, id := range ids {
			fmt.Fprintf(h, "%d:%s", len(id), id)
		}
	}
	return "als-" + hex.EncodeToString(h.Sum(nil))[:16]
}
