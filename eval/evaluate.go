package eval

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/recs-dev/recs/internal/errs"
	"github.com/recs-dev/recs/ratings"
	"github.com/recs-dev/recs/topk"
)

// Options say which metrics to compute and how.
type Options struct {
	// K lists the list lengths of the ranking metrics (each ≥ 1); nil
	// means {10}. The lists are computed once at the largest k.
	K []int
	// Metrics are the metric names to compute (RatingMetrics,
	// RankingMetrics); nil means all. Ranking work is skipped when no
	// ranking metric is asked for, rating work likewise.
	Metrics []string
	// RelevanceThreshold, when set, makes only test ratings ≥ it relevant
	// for the ranking metrics (rating metrics always use every test row).
	RelevanceThreshold *float64
	// IncludeSeen keeps the items a user rated in the training data among
	// the candidates. Without it the training data is required.
	IncludeSeen bool
	// Threads is the number of scoring goroutines; 0 means GOMAXPROCS.
	// Metrics do not depend on it.
	Threads int
	// Progress, if not nil, is told how many users will be ranked and
	// then each user ranked (a *progress.Reporter fits).
	Progress Progress
}

// Progress receives the advance of the ranking pass.
type Progress interface {
	SetTotal(n int64)
	Add(n int64)
}

// Candidate and tie rules, as written into Settings.
const (
	candidatesModel       = "every model item the user did not rate in the training data"
	candidatesModelSeen   = "every model item"
	candidatesPreds       = "the user's predictions, without items the user rated in the training data"
	candidatesPredsSeen   = "the user's predictions"
	candidatesPredsNoSeen = "the user's predictions (no training data given)"
	tiesModel             = "higher score first, then lower model item row (package topk)"
	tiesPreds             = "higher score first, then earlier in the predictions file (stable sort, as pandas)"
)

type normalized struct {
	Options
	rating, ranking bool
	ks              []int
	want            map[string]bool
}

func (o Options) normalize() (*normalized, error) {
	n := &normalized{Options: o, want: map[string]bool{}}
	n.ks = slices.Clone(o.K)
	if n.ks == nil {
		n.ks = []int{10}
	}
	if len(n.ks) == 0 {
		return nil, errors.New("eval: no k given")
	}
	slices.Sort(n.ks)
	n.ks = slices.Compact(n.ks)
	if n.ks[0] < 1 {
		return nil, fmt.Errorf("eval: k must be at least 1, got %d", n.ks[0])
	}
	names := o.Metrics
	if names == nil {
		names = allNames()
	}
	if len(names) == 0 {
		return nil, errors.New("eval: no metric asked for")
	}
	for _, name := range names {
		if _, ok := Definitions[name]; !ok {
			return nil, fmt.Errorf("eval: unknown metric %q (known: %s)", name, strings.Join(allNames(), ", "))
		}
		n.want[name] = true
		if slices.Contains(RatingMetrics, name) {
			n.rating = true
		} else {
			n.ranking = true
		}
	}
	if t := o.RelevanceThreshold; t != nil && (math.IsNaN(*t) || math.IsInf(*t, 0)) {
		return nil, fmt.Errorf("eval: relevance threshold %v is not a finite number", *t)
	}
	return n, nil
}

func (n *normalized) document(candidates, ties string) *Document {
	d := &Document{Format: FormatName, Version: FormatVersion}
	d.Settings = Settings{K: n.ks, RelevanceThreshold: n.RelevanceThreshold, IncludeSeen: n.IncludeSeen,
		Candidates: candidates, Ties: ties}
	for _, name := range allNames() {
		if n.want[name] {
			d.Settings.Metrics = append(d.Settings.Metrics, name)
		}
	}
	return d
}

// keep appends the asked-for metrics of ms to the document.
func (n *normalized) keep(d *Document, ms []Metric) {
	for _, m := range ms {
		if n.want[m.Name] {
			d.Metrics = append(d.Metrics, m)
		}
	}
}

// relevant reports whether a test rating is relevant.
func (n *normalized) relevant(r float32) bool {
	return n.RelevanceThreshold == nil || float64(r) >= *n.RelevanceThreshold
}

// countRelevant returns how many of a user's test ratings are relevant.
func (n *normalized) countRelevant(vals []float32) int {
	c := 0
	for _, v := range vals {
		if n.relevant(v) {
			c++
		}
	}
	return c
}

// testStats fills the test counts and checks the test set is usable.
func testStats(d *Document, test *ratings.Table, name string) error {
	if test == nil || test.Len() == 0 {
		return errs.Input(name, errors.New("the test set is empty"))
	}
	d.Counts.TestRows = test.Len()
	d.Counts.TestUsers = test.ActiveUsers()
	d.Counts.TestItems = test.ActiveItems()
	return nil
}

// relScratch builds one test user's relevant items: distinct test-table
// items with a relevant rating, mapped to another numbering (-1: none).
type relScratch struct {
	tab   []int32
	known []int32
}

func (s *relScratch) build(n *normalized, test *ratings.Table, tu int, mapItem []int32) (known []int32, nrel int) {
	cols, vals := test.ByUser().Row(tu)
	s.tab = s.tab[:0]
	for j, it := range cols {
		if n.relevant(vals[j]) {
			s.tab = append(s.tab, it)
		}
	}
	slices.Sort(s.tab)
	s.tab = slices.Compact(s.tab)
	s.known = s.known[:0]
	for _, it := range s.tab {
		if m := mapItem[it]; m >= 0 {
			s.known = append(s.known, m)
		}
	}
	slices.Sort(s.known)
	return s.known, len(s.tab)
}

// Both entry points run the same pipeline over a source of predictions (a
// model, or predictions made elsewhere): begin checks the options and the
// test set; a topk.Mapping joins the test dictionaries to the source's
// numbering; rate walks the test rows into a RatingAccumulator; rankable
// picks the users to rank and a ranking feeds each user's list into a
// RankingAccumulator. Only how a prediction and a user's list are made
// differs between the two.

// begin normalises the options, checks the test set and starts the
// document with the candidate and tie rules of the source.
func begin(opts Options, train, test *ratings.Table, candidates func(*normalized) string, ties string) (*normalized, *Document, error) {
	n, err := opts.normalize()
	if err != nil {
		return nil, nil, err
	}
	d := n.document(candidates(n), ties)
	if err := testStats(d, test, "test"); err != nil {
		return nil, nil, err
	}
	if train != nil {
		d.Counts.TrainRows = train.Len()
	}
	return n, d, nil
}

// predictFunc returns the source's prediction for test row r, whose user
// and item are u and i in the source's numbering; ok is false when the
// source has none for the pair.
type predictFunc func(r int, u, i int32) (p float32, ok bool, err error)

// rate joins the test rows with the source's predictions (an inner join):
// it counts the cold-start users, items and rows (those the source does
// not know and, with predict, those it has no prediction for) into d and
// accumulates the rating metrics over the other rows. With predict nil it
// only counts the unknown users, items and rows.
func rate(d *Document, test *ratings.Table, mp *topk.Mapping, predict predictFunc) (RatingAccumulator, error) {
	var ra RatingAccumulator
	userSeen := make([]bool, test.NumUsers())
	itemSeen := make([]bool, test.NumItems())
	for r := range test.Users {
		tu, ti := test.Users[r], test.Items[r]
		u, i := mp.Users[tu], mp.Items[ti]
		if u < 0 && !userSeen[tu] {
			d.Counts.ColdStartUsers++
		}
		if i < 0 && !itemSeen[ti] {
			d.Counts.ColdStartItems++
		}
		userSeen[tu], itemSeen[ti] = true, true
		if u < 0 || i < 0 {
			d.Counts.ColdStartRows++
			continue
		}
		if predict == nil {
			continue
		}
		p, ok, err := predict(r, u, i)
		if err != nil {
			return ra, err
		}
		if !ok {
			d.Counts.ColdStartRows++
			continue
		}
		ra.Add(float64(test.Ratings[r]), float64(p))
	}
	return ra, nil
}

// rankable counts the test rows below the relevance threshold into d and
// returns the test users to rank: those the source knows (users maps test
// users to the source's) with at least one relevant rating, in test order.
func rankable(d *Document, n *normalized, test *ratings.Table, users []int32) []int32 {
	var out []int32
	byUser := test.ByUser()
	for tu := 0; tu < test.NumUsers(); tu++ {
		cols, vals := byUser.Row(tu)
		if len(cols) == 0 {
			continue
		}
		rel := n.countRelevant(vals)
		d.Counts.BelowThresholdRows += len(cols) - rel
		if users[tu] >= 0 && rel > 0 {
			out = append(out, int32(tu))
		}
	}
	return out
}

// ranking scores each ranked user's list against the user's relevant test
// items.
type ranking struct {
	n     *normalized
	d     *Document
	test  *ratings.Table
	items []int32 // test item → the source's item, -1: none
	acc   *RankingAccumulator
	rs    relScratch
}

// add scores the list of source items recommended to test user tu.
func (k *ranking) add(tu int, list []int32) {
	rel, nrel := k.rs.build(k.n, k.test, tu, k.items)
	if !k.acc.Add(list, rel, nrel) {
		k.d.Counts.NoCandidateUsers++
	}
	if k.n.Progress != nil {
		k.n.Progress.Add(1)
	}
}

// finish fills the ranking counts and metrics into the document.
func (k *ranking) finish() (*Document, error) {
	d, acc := k.d, k.acc
	d.Counts.RankedUsers = acc.Users()
	d.Counts.RelevantItems = acc.Relevant()
	if d.Counts.NoCandidateUsers > 0 {
		d.Warnings = append(d.Warnings, fmt.Sprintf("%d users have no candidate item left (they rated every item): they are not ranked", d.Counts.NoCandidateUsers))
	}
	if acc.Users() == 0 {
		return nil, errs.Input("test", errors.New("no test user with a relevant rating has a candidate item to rank"))
	}
	k.n.keep(d, acc.Metrics())
	return d, nil
}

func thresholdNote(n *normalized) string {
	if n.RelevanceThreshold == nil {
		return ""
	}
	return fmt.Sprintf(" (ratings ≥ %g under --relevance-threshold)", *n.RelevanceThreshold)
}

// sample quotes the first few ids of a dictionary for error messages.
func sample(ids []string) string {
	var q []string
	for _, id := range ids[:min(3, len(ids))] {
		q = append(q, fmt.Sprintf("%q", id))
	}
	if len(q) == 0 {
		return "(none)"
	}
	return strings.Join(q, ", ")
}
