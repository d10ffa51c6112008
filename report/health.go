package report

import (
	"fmt"
	"math"
	"strings"

	"github.com/recs-dev/recs/rundir"
)

// level is the severity of a health hint.
type level int

const (
	levelOK level = iota
	levelInfo
	levelWarn
	levelBad
)

func (l level) String() string {
	return [...]string{"ok", "info", "warn", "bad"}[l]
}

// hint is one computed observation about the run. Text states the
// numbers it was computed from; Rule states the threshold that fired.
type hint struct {
	Level level
	Title string
	Text  string
	Rule  string
}

// Thresholds of the health checks. They are printed on the page next to
// each hint, so a reader knows what fired and why.
const (
	// A training-loss rise between consecutive iterations larger than this
	// (relative) is flagged. Exact ALS never raises its objective; the
	// tolerance absorbs inexact (CG) solves and float rounding.
	lossRiseTol = 0.01
	// The loss has converged at the first iteration whose relative
	// improvement over the previous one is below this.
	convergedTol = 0.001
	// A last-iteration improvement above this says more iterations may help.
	stillFallingTol = 0.01
	// A validation metric whose final value is worse than its best by more
	// than this (relative) signals overfitting.
	overfitTol = 0.01
	// Worse than the best by more than this is no longer mild overfitting.
	collapseTol = 0.25
	// Catalogue coverage below these is a popularity collapse (bad) or a
	// strong popularity bias (warn).
	coverageBad  = 0.05
	coverageWarn = 0.10
	// Items with fewer training ratings than rareCount are "rare" (their
	// share of the lists is shown in the popularity table).
	rareCount = 5
	// Lists whose recommended items are on average less than liftWarn
	// times as popular as a catalogue item are close to a random pick of
	// the catalogue: on MovieLens 100k, explicit ALS (which ranks by
	// predicted rating) shows 0.98 and implicit ALS 4.4.
	liftWarn = 1.5
	// Lists with a low lift are said to favour rarely rated items only
	// when at least this share of their slots holds rare items; below it
	// the evidence would contradict the title.
	rareShareWarn = 0.01
	// Test rows dropped as cold start above this share are flagged.
	coldWarn = 0.05
)

// diagnose computes the health hints of d, most severe first, in a fixed
// order within a severity.
func diagnose(d *data) []hint {
	var hs []hint
	add := func(h hint) { hs = append(hs, h) }

	if m := d.Manifest; m != nil {
		runHints(m, add)
	}
	if len(d.Missing) > 0 {
		add(hint{Level: levelInfo, Title: "Files missing from the run directory",
			Text: "Not found: " + strings.Join(d.Missing, ", ") + ". The sections that need them are left out.",
			Rule: "a run-directory file that does not exist"})
	}
	if d.History != nil {
		historyHints(d.History, add)
	}
	if d.EvalModel != "" && d.Model != nil && d.Model.ID != "" && d.EvalModel != d.Model.ID {
		add(hint{Level: levelWarn, Title: "Metrics are of another model",
			Text: fmt.Sprintf("The metrics document evaluated model %s, but the run's model is %s: the metrics do not describe this model.", d.EvalModel, d.Model.ID),
			Rule: "model id in the metrics document differs from the model's"})
	}
	for _, w := range d.EvalWarnings {
		add(hint{Level: levelInfo, Title: "Evaluation note", Text: w, Rule: "a warning written by the evaluator"})
	}
	var implicit *bool
	if d.Model != nil {
		implicit = d.Model.Implicit
	}
	isImplicit := implicit != nil && *implicit
	if d.Ratings != nil {
		// An implicit model predicts preference (0 to 1), not ratings: its
		// RMSE against ratings measures nothing.
		if rm, ok := d.metric("rmse"); ok && !isImplicit {
			rmseHint(rm, d.Ratings, add)
		}
		if d.Ratings.Distinct && len(d.Ratings.Counts) == 1 {
			add(hint{Level: levelInfo, Title: "One rating value",
				Text: fmt.Sprintf("Every training rating is %s: the data is implicit feedback, so rating metrics (RMSE, MAE) say little; judge the model by its ranking metrics.", num(d.Ratings.Min)),
				Rule: "a single distinct rating value"})
		}
	}
	if d.Pop != nil && d.Pop.Slots > 0 {
		popHints(d.Pop, implicit, add)
	}
	if d.Curves != nil {
		curveHints(d.Curves, implicit, add)
	}
	// Stable sort by severity, most severe first.
	out := make([]hint, 0, len(hs))
	for l := levelBad; l >= levelOK; l-- {
		for _, h := range hs {
			if h.Level == l {
				out = append(out, h)
			}
		}
	}
	return out
}

func runHints(m *rundir.Manifest, add func(hint)) {
	gateFailed := m.Gate != nil && !m.Gate.Passed
	if m.Status != "" && m.Status != "ok" && !(m.Status == "regression" && gateFailed) {
		text := fmt.Sprintf("The run ended with status %q (exit code %d).", m.Status, m.ExitCode)
		if m.Error != "" {
			text += " Error: " + m.Error
		}
		add(hint{Level: levelBad, Title: "Run did not succeed", Text: text, Rule: `manifest status is not "ok"`})
	}
	if g := m.Gate; g != nil {
		if g.Passed {
			add(hint{Level: levelOK, Title: "Quality gate passed",
				Text: fmt.Sprintf("No metric regressed beyond its allowance against baseline %s.", g.Baseline),
				Rule: "every gated metric within its --max-regression allowance"})
		} else {
			add(hint{Level: levelBad, Title: "Quality gate failed",
				Text: fmt.Sprintf("Regressed against baseline %s: %s. The lists were not published.", g.Baseline, strings.Join(g.Failed, ", ")),
				Rule: "a gated metric worse than its --max-regression allowance"})
		}
	}
	if s := m.Split; s.TestRows > 0 && s.ColdRows > 0 {
		f := float64(s.ColdRows) / float64(s.TestRows)
		if f > coldWarn {
			add(hint{Level: levelWarn, Title: "Many cold-start test rows",
				Text: fmt.Sprintf("%s of %s test rows (%s) have a user or item absent from training (%s users, %s items); evaluation cannot score them, so the metrics describe the rest.",
					count(s.ColdRows), count(s.TestRows), pct(f), count(s.ColdUsers), count(s.ColdItems)),
				Rule: fmt.Sprintf("cold rows > %s of test rows", pct(coldWarn))})
		}
	}
}

func historyHints(h *history, add func(hint)) {
	if l := h.Loss; l != nil && len(l.Values) > 0 {
		lossHints(h.Iter, l.Values, add)
	}
	for _, s := range h.Val {
		overfitHint(h.Iter, s, add)
	}
}

func lossHints(iter []int, v []float64, add func(hint)) {
	for j, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			add(hint{Level: levelBad, Title: "Training loss is not finite",
				Text: fmt.Sprintf("The training loss is %v at iteration %d: the factors diverged. Raise the regularisation or check the input for extreme values.", x, iter[j]),
				Rule: "loss is NaN or infinite"})
			return
		}
	}
	n := len(v)
	if n < 2 {
		return
	}
	first, last := v[0], v[n-1]
	if last >= first {
		add(hint{Level: levelBad, Title: "Training loss did not decrease",
			Text: fmt.Sprintf("The loss went from %s at iteration %d to %s at iteration %d. ALS should lower its objective every iteration; check the parameters (rank, regularisation, alpha) and the data.",
				num(first), iter[0], num(last), iter[n-1]),
			Rule: "final loss ≥ first-iteration loss"})
		return
	}
	var rises []string
	for j := 1; j < n; j++ {
		if r := (v[j] - v[j-1]) / math.Abs(v[j-1]); r > lossRiseTol {
			rises = append(rises, fmt.Sprintf("iteration %d (+%s)", iter[j], pct(r)))
		}
	}
	if len(rises) > 0 {
		add(hint{Level: levelWarn, Title: "Training loss rose",
			Text: fmt.Sprintf("The loss rose at %s. With exact solves ALS never raises its objective; with CG, more steps (--cg-steps) make each solve closer to exact.", strings.Join(rises, ", ")),
			Rule: fmt.Sprintf("loss rises by more than %s between consecutive iterations", pct(lossRiseTol))})
	}
	drop := (first - last) / math.Abs(first)
	lastImp := (v[n-2] - v[n-1]) / math.Abs(v[n-2])
	conv := -1
	for j := 1; j < n; j++ {
		if (v[j-1]-v[j])/math.Abs(v[j-1]) < convergedTol {
			conv = j
			break
		}
	}
	switch {
	case lastImp > stillFallingTol:
		add(hint{Level: levelInfo, Title: "Loss still falling",
			Text: fmt.Sprintf("The loss fell %s overall and still %s in the last iteration: more iterations (--max-iter) may improve the fit.", pct(drop), pct(lastImp)),
			Rule: fmt.Sprintf("last-iteration improvement > %s", pct(stillFallingTol))})
	case conv > 0 && conv < n-1:
		add(hint{Level: levelOK, Title: "Loss converged",
			Text: fmt.Sprintf("The loss fell %s overall; from iteration %d on it improved by less than %s per iteration, so --max-iter %d would give nearly the same fit.", pct(drop), iter[conv], pct(convergedTol), iter[conv-1]),
			Rule: fmt.Sprintf("relative improvement < %s", pct(convergedTol))})
	default:
		add(hint{Level: levelOK, Title: "Loss decreasing",
			Text: fmt.Sprintf("The loss fell %s from iteration %d to %d.", pct(drop), iter[0], iter[n-1]),
			Rule: "final loss below the first"})
	}
}

func overfitHint(iter []int, s series, add func(hint)) {
	best, bestJ, last, lastJ := math.NaN(), -1, math.NaN(), -1
	for j, x := range s.Values {
		if math.IsNaN(x) {
			continue
		}
		if bestJ < 0 || (s.Lower && x < best) || (!s.Lower && x > best) {
			best, bestJ = x, j
		}
		last, lastJ = x, j
	}
	if bestJ < 0 || lastJ == bestJ {
		if lastJ > 0 {
			add(hint{Level: levelOK, Title: "Validation " + pretty(s.Name) + " best at the last iteration",
				Text: fmt.Sprintf("Validation %s reached its best value, %s, at the final iteration %d: no sign of overfitting.", pretty(s.Name), fixed(last, 4), iter[lastJ]),
				Rule: fmt.Sprintf("final value within %s of the best", pct(overfitTol))})
		}
		return
	}
	worse := (last - best) / math.Abs(best)
	if !s.Lower {
		worse = (best - last) / math.Abs(best)
	}
	if worse > collapseTol {
		add(hint{Level: levelBad, Title: "Validation " + pretty(s.Name) + " fell sharply during training",
			Text: fmt.Sprintf("Validation %s was best at iteration %d (%s) and ended at %s in iteration %d, %s worse: more than overfitting, the fit moves away from what the validation set rewards. Check the regularisation (too strong shrinks the factors to noise, too weak overfits) and, for implicit feedback, alpha.",
				pretty(s.Name), iter[bestJ], fixed(best, 4), fixed(last, 4), iter[lastJ], pct(worse)),
			Rule: fmt.Sprintf("final value worse than the best by > %s", pct(collapseTol))})
		return
	}
	if worse > overfitTol {
		add(hint{Level: levelWarn, Title: "Validation " + pretty(s.Name) + " got worse: overfitting",
			Text: fmt.Sprintf("Validation %s was best at iteration %d (%s) and ended at %s in iteration %d, %s worse. Raise the regularisation (--reg) or stop at --max-iter %d.",
				pretty(s.Name), iter[bestJ], fixed(best, 4), fixed(last, 4), iter[lastJ], pct(worse), iter[bestJ]),
			Rule: fmt.Sprintf("final value worse than the best by > %s", pct(overfitTol))})
		return
	}
	add(hint{Level: levelOK, Title: "Validation " + pretty(s.Name) + " stable",
		Text: fmt.Sprintf("Validation %s ended at %s, within %s of its best (%s at iteration %d).", pretty(s.Name), fixed(last, 4), pct(overfitTol), fixed(best, 4), iter[bestJ]),
		Rule: fmt.Sprintf("final value within %s of the best", pct(overfitTol))})
}

func rmseHint(rm metric, rs *ratingStats, add func(hint)) {
	if rs.Std == 0 || math.IsNaN(rs.Std) || math.IsNaN(rm.Value) || (rs.Distinct && len(rs.Counts) == 1) {
		return
	}
	r := rm.Value / rs.Std
	if r >= 1 {
		add(hint{Level: levelBad, Title: "RMSE no better than the mean",
			Text: fmt.Sprintf("Test RMSE %s is not below %s, the standard deviation of the training ratings — about the RMSE of predicting the training mean for every pair. The factors add nothing; check regularisation and rank.", fixed(rm.Value, 4), num(rs.Std)),
			Rule: "RMSE ≥ σ of training ratings"})
		return
	}
	add(hint{Level: levelOK, Title: "RMSE beats the mean predictor",
		Text: fmt.Sprintf("Test RMSE %s is %s below %s, the standard deviation of the training ratings (≈ the RMSE of predicting the training mean).", fixed(rm.Value, 4), pct(1-r), num(rs.Std)),
		Rule: "RMSE < σ of training ratings"})
}

// popHints judges the lists against the training popularity. implicit
// says how the model was fitted (nil: unknown), which decides the advice.
func popHints(p *popularity, implicit *bool, add func(hint)) {
	cov := p.Coverage()
	lift := p.Lift()
	ht, hr, hn := p.HeadShare(0.01)
	text := fmt.Sprintf("%s of %s items with training ratings (%s) appear in someone's top %d. The top %s most-rated items (%s) hold %s of training ratings and %s of recommendations.",
		count(p.Recommend), count(len(p.Train)), pct(cov), p.K, pct(0.01), count(hn), pct(ht), pct(hr))
	switch {
	case cov < coverageBad && lift >= liftWarn:
		add(hint{Level: levelBad, Title: "Popularity collapse",
			Text: text + " Nearly everyone gets the same few popular items; lower the regularisation or alpha, or raise the rank.",
			Rule: fmt.Sprintf("catalogue coverage < %s", pct(coverageBad))})
	case cov < coverageBad:
		add(hint{Level: levelBad, Title: "Lists collapse onto a few items",
			Text: text + " Nearly everyone gets the same few items, and not popular ones: the factors carry little signal. Lower the regularisation, or check the fit converged.",
			Rule: fmt.Sprintf("catalogue coverage < %s", pct(coverageBad))})
	case cov < coverageWarn:
		add(hint{Level: levelWarn, Title: "Low catalogue coverage",
			Text: text + " The lists concentrate on a small part of the catalogue.",
			Rule: fmt.Sprintf("catalogue coverage < %s", pct(coverageWarn))})
	default:
		add(hint{Level: levelOK, Title: "Catalogue coverage",
			Text: text,
			Rule: fmt.Sprintf("catalogue coverage ≥ %s", pct(coverageWarn))})
	}
	if lift < liftWarn {
		why := "Ranking by predicted rating (explicit ALS) favours items whose few ratings are high; such lists score low on precision and NDCG. Implicit mode (--implicit) ranks by preference and usually does far better."
		switch {
		case implicit != nil && *implicit:
			why = "An implicit model ranks by learnt preference, which should favour items many users chose: the factors carry little signal. Lower the regularisation or raise alpha."
		case implicit == nil:
			why = "Ranking by predicted rating (explicit ALS) favours items whose few ratings are high; an implicit model that does this has learnt little."
		}
		rare := p.RareShare(rareCount)
		if rare >= rareShareWarn {
			add(hint{Level: levelWarn, Title: "Lists favour rarely rated items",
				Text: fmt.Sprintf("A recommended item has on average %s× the training ratings of a catalogue item, and %s of slots go to items with fewer than %d ratings: the lists are no more popular than random picks. %s",
					fixed(lift, 2), pct(rare), rareCount, why),
				Rule: fmt.Sprintf("popularity lift < %s (1 = random picks) and ≥ %s of slots on items with fewer than %d ratings", num(liftWarn), pct(rareShareWarn), rareCount)})
		} else {
			// Not rare items (the evidence would contradict the title),
			// but no more popular than random picks either.
			add(hint{Level: levelWarn, Title: "Lists no more popular than random picks",
				Text: fmt.Sprintf("A recommended item has on average %s× the training ratings of a catalogue item; only %s of slots go to items with fewer than %d ratings, so the lists avoid the noisiest items but not the middle of the catalogue. %s",
					fixed(lift, 2), pct(rare), rareCount, why),
				Rule: fmt.Sprintf("popularity lift < %s (1 = random picks), < %s of slots on items with fewer than %d ratings", num(liftWarn), pct(rareShareWarn), rareCount)})
		}
	}
	if p.Unknown > 0 {
		add(hint{Level: levelWarn, Title: "Recommended items unknown to training",
			Text: fmt.Sprintf("%s recommendations name items without training ratings; the lists and the training split may come from different data.", count(p.Unknown)),
			Rule: "any recommended item absent from the training split"})
	}
}

// curveHints checks the shape of precision against k. A ranking that puts
// relevant items first has its highest precision at the smallest k; a
// random ranking has about the same precision at every k; precision that
// rises with k means the first positions hold fewer hits than later ones.
func curveHints(cv *curve, implicit *bool, add func(hint)) {
	for _, s := range cv.Series {
		if s.Name != "precision" {
			continue
		}
		first, last, kf, kl := math.NaN(), math.NaN(), 0, 0
		for j, v := range s.Values {
			if math.IsNaN(v) {
				continue
			}
			if math.IsNaN(first) {
				first, kf = v, cv.K[j]
			}
			last, kl = v, cv.K[j]
		}
		if kf == kl || math.IsNaN(first) {
			return
		}
		if first < last {
			why := " Explicit ALS used for ranking often does this; implicit mode (--implicit) ranks by preference."
			if implicit != nil && *implicit {
				why = " The implicit model's scores do not order preferences."
			}
			add(hint{Level: levelWarn, Title: "Precision rises with k",
				Text: fmt.Sprintf("precision@%d is %s but precision@%d is %s: the first positions of the lists hold fewer hits than later ones, so the scores put relevant items last rather than first.%s",
					kf, fixed(first, 4), kl, fixed(last, 4), why),
				Rule: fmt.Sprintf("precision@%d < precision@%d", kf, kl)})
		}
		return
	}
}
