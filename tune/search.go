package tune

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/recs-dev/recs/eval"
	"github.com/recs-dev/recs/ratings"
)

// Strategy says how a search turns a space into trials.
type Strategy string

// The strategies (see the package comment).
const (
	Grid    Strategy = "grid"
	Random  Strategy = "random"
	Halving Strategy = "halving"
)

// Outcome is what an objective reports for one trial.
type Outcome struct {
	// Metrics are the validation metrics at iteration BestIter, by name
	// ("ndcg@10", "rmse", ...).
	Metrics map[string]float64
	// Iterations is the number of iterations fitted; BestIter (1 ≤ BestIter
	// ≤ Iterations) the one whose model Metrics describe.
	Iterations, BestIter int
	// EarlyStopped says the fit ended before the trial's MaxIter because the
	// validation metric stopped improving.
	EarlyStopped bool
}

// Objective fits and scores one point. It is called from several
// goroutines at once when Options.Parallel > 1. An error that is not the
// context's marks the trial failed; the search goes on without it.
type Objective func(ctx context.Context, p Params) (Outcome, error)

// Trial is one fit of the search.
type Trial struct {
	ID     int    `json:"id"`     // 1-based, in the order of the plan
	Config int    `json:"config"` // configuration number, 1-based; the same across the rungs of successive halving
	Rung   int    `json:"rung"`   // 0-based rung of successive halving; 0 for grid and random
	Params Params `json:"params"` // what was fitted, MaxIter included
}

// Record is one completed trial: a row of the results table.
type Record struct {
	Trial
	Metrics      map[string]float64 `json:"metrics,omitempty"`
	Iterations   int                `json:"iterations"`
	BestIter     int                `json:"best_iter"`
	EarlyStopped bool               `json:"early_stopped"`
	FitSeconds   float64            `json:"fit_s"`
	Error        string             `json:"error,omitempty"`
}

// OK reports whether the trial succeeded.
func (r Record) OK() bool { return r.Error == "" }

// BestParams returns the parameters that reproduce the trial's reported
// metrics: its Params with MaxIter set to BestIter.
func (r Record) BestParams() Params {
	p := r.Params
	if r.BestIter > 0 {
		p.MaxIter = r.BestIter
	}
	return p
}

// Options controls a search.
type Options struct {
	Strategy Strategy
	// Budget is the largest number of trials (fits). A grid larger than the
	// budget is an error; random search draws Budget distinct points (fewer
	// when the space is smaller); successive halving starts as many
	// configurations as fit the budget over all its rungs.
	Budget int
	// Seed seeds random search and successive halving's draws.
	Seed int64
	// Metric names the validation metric to optimise, a key of
	// Outcome.Metrics. rmse, mae and other errors are minimised (see
	// LowerIsBetter), the rest maximised.
	Metric string
	// Parallel is the number of trials fitted at once (0 means 1).
	Parallel int
	// Eta is successive halving's reduction factor: each rung keeps the best
	// 1/Eta of the previous one and gives it Eta times the iterations
	// (0 means 3).
	Eta int
	// Rungs is successive halving's number of rungs (0 means 3). Rung r
	// (0-based) fits ⌈MaxIter/Eta^(Rungs−1−r)⌉ iterations.
	Rungs int
	// Journal is the path of the results journal: one JSON line per
	// completed trial, appended atomically. An existing journal of the same
	// search is resumed; one of another search is an error. "" keeps none.
	Journal string
	// Identity is text that identifies the data and the objective's
	// settings; a journal written under another identity is not resumed.
	Identity string
	// Validation is Run's validation set. Nil: Holdout carves one out of
	// the training data.
	Validation *ratings.Table
	// Holdout is how Run carves the validation set when Validation is nil.
	Holdout Holdout
	// Threads is the number of ALS goroutines of each of Run's trials; 0
	// means max(1, GOMAXPROCS / Parallel), so that Parallel trials of
	// Threads goroutines share the cores without oversubscribing them.
	// Results do not depend on it.
	Threads int
	// EarlyStop is Run's early stopping.
	EarlyStop EarlyStop

	// OnTrial, when set, is called after each newly fitted trial, one call
	// at a time, with the number of trials done (resumed ones included) and
	// the number planned so far.
	OnTrial func(r Record, done, total int)
}

// Result is a completed search.
type Result struct {
	Strategy Strategy `json:"strategy"`
	Metric   string   `json:"metric"`
	Budget   int      `json:"budget"`
	Seed     int64    `json:"seed"`
	Resumed  int      `json:"resumed"` // trials read back from the journal
	Seconds  float64  `json:"seconds"` // wall time of this call (resumed trials cost nothing)
	// Validation describes the validation set (Run only).
	Validation *ValidationInfo `json:"validation,omitempty"`
	Trials     []Record        `json:"trials"` // by ID
	Best       Record          `json:"best"`   // the best successful trial; ties go to the lower ID
}

// ValidationInfo says where Run's validation set came from.
type ValidationInfo struct {
	Source    string   `json:"source"` // "holdout" or "given"
	Holdout   *Holdout `json:"holdout,omitempty"`
	FitRows   int      `json:"fit_rows"`
	ValidRows int      `json:"valid_rows"`
}

// Summary is a Result without its trials, for a run manifest.
type Summary struct {
	Strategy   Strategy        `json:"strategy"`
	Metric     string          `json:"metric"`
	Budget     int             `json:"budget"`
	Seed       int64           `json:"seed"`
	Trials     int             `json:"trials"`
	Failed     int             `json:"failed"`
	Resumed    int             `json:"resumed"`
	Seconds    float64         `json:"seconds"`
	Validation *ValidationInfo `json:"validation,omitempty"`
	Best       Record          `json:"best"`
	BestParams Params          `json:"best_params"` // Best.BestParams(): what to train
}

// Summary returns r without its trials.
func (r Result) Summary() Summary {
	s := Summary{Strategy: r.Strategy, Metric: r.Metric, Budget: r.Budget, Seed: r.Seed, Trials: len(r.Trials),
		Resumed: r.Resumed, Seconds: r.Seconds, Validation: r.Validation, Best: r.Best, BestParams: r.Best.BestParams()}
	for _, t := range r.Trials {
		if !t.OK() {
			s.Failed++
		}
	}
	return s
}

// ErrJournalMismatch is returned when a journal belongs to another search.
var ErrJournalMismatch = errors.New("the results journal belongs to a different search")

// LowerIsBetter reports whether smaller values of the metric are better:
// true for the error metrics rmse and mae, false for the others
// (eval.LowerIsBetter).
func LowerIsBetter(metric string) bool { return eval.LowerIsBetter(metric) }

// better reports whether a ranks before b: successful before failed, then
// by metric, then by lower ID.
func better(a, b Record, metric string) bool {
	if a.OK() != b.OK() {
		return a.OK()
	}
	if a.OK() {
		x, y := a.Metrics[metric], b.Metrics[metric]
		if LowerIsBetter(metric) {
			x, y = -x, -y
		}
		if x != y {
			return x > y || math.IsNaN(y) && !math.IsNaN(x)
		}
	}
	return a.ID < b.ID
}

// Latest keeps, of each configuration, the record of the highest rung it
// reached (successive halving fits a promoted configuration again with
// more iterations; its earlier rungs are superseded), in the order given.
func Latest(records []Record) []Record {
	top := map[int]int{}
	for _, r := range records {
		top[r.Config] = max(top[r.Config], r.Rung)
	}
	var out []Record
	for _, r := range records {
		if r.Rung == top[r.Config] {
			out = append(out, r)
		}
	}
	return out
}

// Leaderboard returns the records best first.
func Leaderboard(records []Record, metric string) []Record {
	out := append([]Record(nil), records...)
	sort.SliceStable(out, func(i, j int) bool { return better(out[i], out[j], metric) })
	return out
}

func (o *Options) defaults() error {
	if o.Parallel <= 0 {
		o.Parallel = 1
	}
	if o.Eta == 0 {
		o.Eta = 3
	}
	if o.Rungs == 0 {
		o.Rungs = 3
	}
	if o.Metric == "" {
		return errors.New("tune: no metric to optimise")
	}
	switch o.Strategy {
	case Grid:
		if o.Budget < 0 {
			return fmt.Errorf("tune: budget %d: want ≥ 0 (0: the whole grid)", o.Budget)
		}
	case Random, Halving:
		if o.Budget < 1 {
			return fmt.Errorf("tune: budget %d: want ≥ 1 trial", o.Budget)
		}
	default:
		return fmt.Errorf("tune: strategy %q: want grid, random or halving", o.Strategy)
	}
	if o.Eta < 2 {
		return fmt.Errorf("tune: eta %d: want ≥ 2", o.Eta)
	}
	if o.Rungs < 1 {
		return fmt.Errorf("tune: rungs %d: want ≥ 1", o.Rungs)
	}
	return nil
}

// Search runs the trials the strategy draws from space through obj and
// returns them with the best. On cancellation it returns the context's
// error; the trials completed so far are in the journal.
func Search(ctx context.Context, space Space, obj Objective, opts Options) (Result, error) {
	if err := opts.defaults(); err != nil {
		return Result{}, err
	}
	start := time.Now()
	res := Result{Strategy: opts.Strategy, Metric: opts.Metric, Budget: opts.Budget, Seed: opts.Seed}
	first, configs, err := plan(space, opts)
	if err != nil {
		return res, err
	}
	j, err := openJournal(opts.Journal, searchIdentity(space, opts))
	if err != nil {
		return res, err
	}
	defer j.close()
	s := &searcher{obj: obj, opts: opts, journal: j, total: len(first)}
	if opts.Strategy == Halving {
		s.total = 0
		for _, n := range halvingSizes(len(first), opts.Eta, opts.Rungs) {
			s.total += n
		}
	}
	rung, err := s.runRung(ctx, first)
	if err != nil {
		return res, err
	}
	all := rung
	if opts.Strategy == Halving {
		sizes := halvingSizes(len(first), opts.Eta, opts.Rungs)
		for r := 1; r < len(sizes); r++ {
			next := promote(rung, configs, sizes[r], opts.Metric, r, opts.Eta, opts.Rungs, len(all))
			if rung, err = s.runRung(ctx, next); err != nil {
				return res, err
			}
			all = append(all, rung...)
		}
	}
	res.Trials, res.Resumed = all, s.resumed
	best := Leaderboard(Latest(all), opts.Metric)
	if len(best) == 0 || !best[0].OK() {
		msg := "no trials"
		if len(best) > 0 {
			msg = fmt.Sprintf("trial %d: %s", best[0].ID, best[0].Error)
		}
		return res, fmt.Errorf("tune: every trial failed (%s)", msg)
	}
	res.Best = best[0]
	res.Seconds = time.Since(start).Seconds()
	return res, nil
}

// searchIdentity is the journal header: everything that decides which
// trials a search fits and what their results mean, one "key=value" per
// line. Random search leaves the budget out: its first n trials are the
// same for any budget ≥ n, so a journal can be resumed with a larger budget
// to extend the search.
func searchIdentity(space Space, opts Options) string {
	budget := strconv.Itoa(opts.Budget)
	if opts.Strategy == Random {
		budget = "any"
	}
	return fmt.Sprintf("strategy=%s\nbudget=%s\nseed=%d\nmetric=%s\neta=%d\nrungs=%d\nspace=%s\ndata=%s",
		opts.Strategy, budget, opts.Seed, opts.Metric, opts.Eta, opts.Rungs, space, opts.Identity)
}

// plan returns the trials of the first (for grid and random, the only)
// rung and the configurations they start, by Config.
func plan(space Space, opts Options) ([]Trial, []Params, error) {
	var points []Params
	switch opts.Strategy {
	case Grid:
		n, err := space.GridSize()
		if err != nil {
			return nil, nil, fmt.Errorf("tune: %w", err)
		}
		if opts.Budget > 0 && n > opts.Budget {
			return nil, nil, fmt.Errorf("tune: the grid has %d points, more than the budget of %d trials: raise the budget or use random search", n, opts.Budget)
		}
		all, err := space.Grid()
		if err != nil {
			return nil, nil, fmt.Errorf("tune: %w", err)
		}
		for _, p := range all {
			if p.Validate() == nil {
				points = append(points, p)
			}
		}
		if len(points) == 0 {
			return nil, nil, fmt.Errorf("tune: every point of the grid is a combination ALS rejects: %v", all[0].Validate())
		}
	case Random:
		points = sampleDistinct(space, opts.Seed, opts.Budget)
	case Halving:
		n := halvingStart(opts.Budget, opts.Eta, opts.Rungs)
		points = sampleDistinct(space, opts.Seed, n)
	}
	if len(points) == 0 {
		p := space.Sample(rand.New(rand.NewPCG(uint64(opts.Seed), 0)))
		return nil, nil, fmt.Errorf("tune: no valid point in the space (for instance %s: %v)", p, p.Validate())
	}
	trials := make([]Trial, len(points))
	for i, p := range points {
		trials[i] = Trial{ID: i + 1, Config: i + 1, Params: p}
	}
	if opts.Strategy == Halving {
		for i := range trials {
			trials[i].Params.MaxIter = rungIters(points[i].MaxIter, 0, opts.Eta, opts.Rungs)
		}
	}
	return trials, points, nil
}

// sampleDistinct draws up to n distinct valid points from a generator
// seeded with seed; draws that repeat a point or that ALS rejects (see
// Params.Validate) are drawn again. When the space has fewer than n points
// it returns them all, in the order first drawn.
func sampleDistinct(space Space, seed int64, n int) []Params {
	if size := space.size(); size >= 0 && size < n {
		n = size
	}
	rng := rand.New(rand.NewPCG(uint64(seed), 0x74756e65)) // "tune"
	seen := map[string]bool{}
	var out []Params
	for tries := 0; len(out) < n && tries < 1000*n; tries++ {
		p := space.Sample(rng)
		if k := p.key(); !seen[k] {
			seen[k] = true
			if p.Validate() == nil {
				out = append(out, p)
			}
		}
	}
	return out
}

// halvingSizes returns the number of trials of each rung when the first
// has n: n, ⌊n/η⌋, ⌊n/η²⌋, ..., never below 1.
func halvingSizes(n, eta, rungs int) []int {
	sizes := make([]int, rungs)
	for r := range sizes {
		sizes[r] = max(1, n)
		n /= eta
	}
	return sizes
}

// halvingStart returns the largest first-rung size whose rungs together fit
// the budget (at least 1).
func halvingStart(budget, eta, rungs int) int {
	n := 1
	for {
		total := 0
		for _, s := range halvingSizes(n+1, eta, rungs) {
			total += s
		}
		if total > budget {
			return n
		}
		n++
	}
}

// rungIters is the number of iterations of rung r for a configuration of
// maxIter iterations: ⌈maxIter/η^(rungs−1−r)⌉, at least 1.
func rungIters(maxIter, r, eta, rungs int) int {
	d := 1
	for i := 0; i < rungs-1-r; i++ {
		d *= eta
	}
	return max(1, (maxIter+d-1)/d)
}

// promote returns the next rung's trials: the best keep of the previous
// rung, in rank order, each with the iterations of rung r. Their IDs follow
// the lastID trials planned so far.
func promote(prev []Record, configs []Params, keep int, metric string, r, eta, rungs, lastID int) []Trial {
	ranked := Leaderboard(prev, metric)
	var next []Trial
	for _, rec := range ranked {
		if len(next) == keep || !rec.OK() {
			break
		}
		t := Trial{ID: lastID + len(next) + 1, Config: rec.Config, Rung: r, Params: configs[rec.Config-1]}
		t.Params.MaxIter = rungIters(t.Params.MaxIter, r, eta, rungs)
		next = append(next, t)
	}
	return next
}

// searcher runs rungs of trials on a pool of workers.
type searcher struct {
	obj     Objective
	opts    Options
	journal *journal

	mu      sync.Mutex
	done    int
	total   int
	resumed int
}

// runRung fits the trials not yet in the journal and returns the records of
// all of them, by ID.
func (s *searcher) runRung(ctx context.Context, trials []Trial) ([]Record, error) {
	recs := make([]Record, len(trials))
	var todo []int
	for i, t := range trials {
		if r, ok := s.journal.lookup(t.ID); ok {
			if r.Config != t.Config || r.Rung != t.Rung || r.Params != t.Params {
				return nil, fmt.Errorf("%w: its trial %d is %s, this search's is %s", ErrJournalMismatch, t.ID, r.Params, t.Params)
			}
			recs[i] = r
			s.resumed++
			s.done++
			continue
		}
		todo = append(todo, i)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		next     = make(chan int)
		firstErr error
		errOnce  sync.Once
	)
	for w := 0; w < min(s.opts.Parallel, len(todo)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				rec, err := s.fit(ctx, trials[i])
				if err != nil {
					errOnce.Do(func() { firstErr = err; cancel() })
					continue
				}
				recs[i] = rec
			}
		}()
	}
feed:
	for _, i := range todo {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return recs, nil
}

// fit runs one trial and journals it. Only cancellation and journal
// failures are returned as errors; a failing objective makes a failed
// record.
func (s *searcher) fit(ctx context.Context, t Trial) (Record, error) {
	start := time.Now()
	out, err := s.obj(ctx, t.Params)
	rec := Record{Trial: t, FitSeconds: time.Since(start).Seconds()}
	if err != nil {
		if ctx.Err() != nil {
			return rec, ctx.Err()
		}
		rec.Error = err.Error()
	} else {
		if _, ok := out.Metrics[s.opts.Metric]; !ok {
			return rec, fmt.Errorf("tune: the objective did not report metric %q", s.opts.Metric)
		}
		rec.Metrics, rec.Iterations, rec.BestIter, rec.EarlyStopped = out.Metrics, out.Iterations, out.BestIter, out.EarlyStopped
		names := make([]string, 0, len(out.Metrics))
		for name := range out.Metrics {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			if v := out.Metrics[name]; math.IsNaN(v) || math.IsInf(v, 0) {
				rec.Metrics, rec.Error = nil, fmt.Sprintf("validation %s is %v", name, v)
				break
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.journal.append(rec); err != nil {
		return rec, err
	}
	s.done++
	if s.opts.OnTrial != nil {
		s.opts.OnTrial(rec, s.done, s.total)
	}
	return rec, nil
}
