package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/recs-dev/recs/internal/errs"
	"github.com/recs-dev/recs/rundir"
	"github.com/recs-dev/recs/tune"
)

const tuneGolden = "../testdata/report/tune.html"

// fixtureScore is the invented validation NDCG@10 of the fixtures: a ridge
// where reg grows with alpha (the shape tune's package comment describes
// on MovieLens 100k), peaking on reg = 25·alpha, a little better for
// larger ranks: 0.1 + 0.35·exp(−ln²(reg / (25·alpha))/8) − 0.01·log2(128/rank).
func fixtureScore(p tune.Params) float64 {
	l := math.Log(p.Reg / (25 * p.Alpha))
	return 0.1 + 0.35*math.Exp(-l*l/8) - 0.01*math.Log2(128/float64(p.Rank))
}

// fixturePoint draws a point of tune.DefaultSpace with its own sampler:
// rank from {32, 64, 128}, reg and alpha log-uniform in [2, 300] and
// [0.1, 20], implicit, CG, plain λ, 15 iterations.
func fixturePoint(rng *rand.Rand) tune.Params {
	return tune.DefaultSpace().Sample(rng)
}

// fixtureRandomTune is a random search of 14 trials over the built-in space
// scored by fixtureScore; trial 6 failed. Fixed times, seed 42.
func fixtureRandomTune() *Tune {
	rng := rand.New(rand.NewPCG(42, 1))
	space := tune.DefaultSpace()
	res := tune.Result{Strategy: tune.Random, Metric: "ndcg@10", Budget: 14, Seed: 42, Seconds: 3.25,
		Validation: &tune.ValidationInfo{Source: "holdout", Holdout: &tune.Holdout{Ratio: 0.2, Method: "stratified", By: "item", Seed: 42},
			FitRows: 60000, ValidRows: 15000}}
	for id := 1; id <= 14; id++ {
		p := fixturePoint(rng)
		r := tune.Record{Trial: tune.Trial{ID: id, Config: id, Params: p}, Iterations: 9, BestIter: 6, EarlyStopped: true,
			FitSeconds: 0.5 + 0.05*float64(id)}
		if id == 6 {
			r.Error, r.Iterations, r.BestIter, r.EarlyStopped = "validation ndcg@10 is NaN", 0, 0, false
		} else {
			r.Metrics = map[string]float64{"ndcg@10": fixtureScore(p)}
		}
		res.Trials = append(res.Trials, r)
	}
	res.Best = tune.Leaderboard(res.Trials, res.Metric)[0]
	return &Tune{Result: res, Space: &space, SpaceName: "built-in"}
}

// fixtureHalvingTune is successive halving with η = 3 over 3 rungs: 9
// configurations fit 2 iterations, the best 3 of them 5, the best 1 15.
// A configuration's score at rung r is fixtureScore − 0.04·(2 − r), so
// later rungs score higher and the ranking within a rung is
// fixtureScore's.
func fixtureHalvingTune() *Tune {
	rng := rand.New(rand.NewPCG(7, 1))
	space := tune.DefaultSpace()
	res := tune.Result{Strategy: tune.Halving, Metric: "ndcg@10", Budget: 13, Seed: 7, Seconds: 1.5}
	configs := make([]tune.Params, 9)
	for j := range configs {
		configs[j] = fixturePoint(rng)
	}
	iters := []int{2, 5, 15}
	rung := []int{1, 2, 3, 4, 5, 6, 7, 8, 9}
	id := 0
	for r := 0; r < 3; r++ {
		var recs []tune.Record
		for _, c := range rung {
			id++
			p := configs[c-1]
			p.MaxIter = iters[r]
			recs = append(recs, tune.Record{Trial: tune.Trial{ID: id, Config: c, Rung: r, Params: p},
				Metrics: map[string]float64{"ndcg@10": fixtureScore(p) - 0.04*float64(2-r)}, Iterations: iters[r], BestIter: iters[r],
				FitSeconds: 0.1 * float64(iters[r])})
		}
		res.Trials = append(res.Trials, recs...)
		rung = rung[:0]
		for _, rec := range tune.Leaderboard(recs, res.Metric)[:len(recs)/3] {
			rung = append(rung, rec.Config)
		}
	}
	res.Best = tune.Leaderboard(res.Trials, res.Metric)[0]
	return &Tune{Result: res, Space: &space, SpaceName: "built-in"}
}

// TestTuneGolden renders the random search as recs tune's page and compares
// it with the checked-in page, inspected by eye as a screenshot; -update
// rewrites it.
func TestTuneGolden(t *testing.T) {
	var a, b bytes.Buffer
	if err := Write(&a, Inputs{RunDir: "tune-out", Tune: fixtureRandomTune()}); err != nil {
		t.Fatal(err)
	}
	if err := Write(&b, Inputs{RunDir: "tune-out", Tune: fixtureRandomTune()}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("two renderings of the same search differ")
	}
	if *update {
		if err := os.WriteFile(tuneGolden, a.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(tuneGolden)
	if err != nil {
		t.Fatalf("%v (run go test ./report -run TestTuneGolden -update to create it)", err)
	}
	if !bytes.Equal(a.Bytes(), want) {
		gl, wl := strings.Split(a.String(), "\n"), strings.Split(string(want), "\n")
		for j := 0; j < min(len(gl), len(wl)); j++ {
			if gl[j] != wl[j] {
				t.Fatalf("page differs from %s at line %d:\n got: %.200s\nwant: %.200s", tuneGolden, j+1, gl[j], wl[j])
			}
		}
		t.Fatalf("page differs from %s in length", tuneGolden)
	}
}

// tableRows returns the cells of the rows of the first table after marker.
func tableRows(t *testing.T, page, marker string) [][]string {
	t.Helper()
	i := strings.Index(page, marker)
	if i < 0 {
		t.Fatalf("page lacks %q", marker)
	}
	tbl := page[i:]
	tbl = tbl[:strings.Index(tbl, "</table>")]
	var rows [][]string
	cell := regexp.MustCompile(`<td[^>]*>(.*?)</td>`)
	for _, tr := range strings.Split(tbl, "<tr")[1:] {
		var cells []string
		for _, m := range cell.FindAllStringSubmatch(tr, -1) {
			cells = append(cells, m[1])
		}
		if cells != nil {
			rows = append(rows, cells)
		}
	}
	return rows
}

// TestTunePage checks the page of a search alone: its sections, one plot
// per varying parameter, the leaderboard's order and the notes.
func TestTunePage(t *testing.T) {
	tn := fixtureRandomTune()
	var b bytes.Buffer
	if err := Write(&b, Inputs{RunDir: "tune-out", Tune: tn}); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	if strings.Contains(page, `<section id="health">`) || strings.Contains(page, `<section id="run">`) {
		t.Error("the page of a search shows the sections of a run")
	}
	// The built-in space varies rank, reg and alpha: three plots.
	for _, want := range []string{`<section id="tune">`, "<h3>NDCG@10 against rank</h3>", "<h3>NDCG@10 against reg</h3>",
		"<h3>NDCG@10 against alpha</h3>", "Log scale: the space draws reg log-uniformly from [2, 300].",
		"The space lists 3 values.", "1 of 14 trials failed", "trial 6: validation ndcg@10 is NaN",
		"built-in: rank {32, 64, 128}; reg log-uniform [2, 300]; alpha log-uniform [0.1, 20]",
		"holdout of 20% of the training data, stratified by item, seed 42", "All 14 trials"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if n := strings.Count(page, "<svg"); n != 3 {
		t.Errorf("%d plots, want 3", n)
	}
	// The leaderboard: the 10 best of the 13 successful trials, in the
	// order of tune.Leaderboard, the first the result's best.
	rows := tableRows(t, page, "<h3>Leaderboard</h3>")
	if len(rows) != 10 {
		t.Fatalf("leaderboard has %d rows, want 10", len(rows))
	}
	lb := tune.Leaderboard(tn.Result.Trials, "ndcg@10")
	for j, r := range rows {
		if r[0] != strconv.Itoa(j+1) || r[1] != strconv.Itoa(lb[j].ID) {
			t.Errorf("leaderboard row %d: rank %s trial %s, want %d trial %d", j+1, r[0], r[1], j+1, lb[j].ID)
		}
		if want := fixed(lb[j].Metrics["ndcg@10"], 4); r[5] != want {
			t.Errorf("leaderboard row %d: metric %s, want %s", j+1, r[5], want)
		}
	}
	if rows[0][1] != strconv.Itoa(tn.Result.Best.ID) {
		t.Errorf("first row is trial %s, want the best, %d", rows[0][1], tn.Result.Best.ID)
	}
	// Every trial is listed by ID; the failed one says so.
	all := tableRows(t, page, "<summary>All 14 trials</summary>")
	if len(all) != 14 || all[5][0] != "6" || all[5][6] != "failed" {
		t.Errorf("trial table: %d rows, row 6 %v", len(all), all[min(5, len(all)-1)])
	}
	// The winner's parameters are its best parameters (max_iter = best iteration 6).
	if !strings.Contains(page, `<tr><td class="key">max_iter</td><td class="mono">6</td></tr>`) {
		t.Error("winning configuration does not give max_iter = 6, the best iteration")
	}
	if regexp.MustCompile(`\b(NaN|Inf)\b`).MatchString(strings.ReplaceAll(page, "ndcg@10 is NaN", "")) {
		t.Error("page shows NaN or Inf")
	}
}

// TestTuneHalving checks that successive halving is plotted one point per
// configuration, coloured by the last rung it reached.
func TestTuneHalving(t *testing.T) {
	tn := fixtureHalvingTune()
	pts := configPoints(tn.Result.Trials, "ndcg@10")
	// 9 configurations; 3 reached rung 1 and 1 reached rung 2.
	if len(pts) != 9 {
		t.Fatalf("%d points, want one per configuration, 9", len(pts))
	}
	last := map[int]int{}
	for _, p := range pts {
		last[p.LastRung]++
		if want := min(p.LastRung, 2); p.Rec.Rung != want {
			t.Errorf("config %d: point from rung %d, want its best trial, from its last rung %d", p.Rec.Config, p.Rec.Rung, want)
		}
	}
	if last[0] != 6 || last[1] != 2 || last[2] != 1 {
		t.Errorf("configurations by last rung %v, want 6, 2, 1", last)
	}
	if pts[0].Rec.ID != tn.Result.Best.ID || pts[0].Rec.Rung != 2 {
		t.Errorf("best point is trial %d rung %d, want trial %d on rung 2", pts[0].Rec.ID, pts[0].Rec.Rung, tn.Result.Best.ID)
	}
	// max_iter changes with the rung only: not a varying parameter.
	if v := varyingParams(tn.Result.Trials, true); !slices.Equal(v, []string{"rank", "reg", "alpha"}) {
		t.Errorf("varying %v, want rank, reg, alpha", v)
	}
	var b bytes.Buffer
	if err := Write(&b, Inputs{Tune: tn}); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, want := range []string{"successive halving (3 rungs)", "dropped after rung 0 (max_iter 2)", "dropped after rung 1 (max_iter 5)",
		"reached the last rung, 2 (max_iter 15)", "one point per configuration, at its best trial", "<th class=\"num\">rung</th>"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if rows := tableRows(t, page, "<h3>Leaderboard</h3>"); len(rows) != 9 {
		t.Errorf("leaderboard has %d rows, want the 9 configurations", len(rows))
	}
}

// TestVaryingMaxIter: with halving, max_iter varies when configurations of
// one rung differ in it; without halving whenever it differs.
func TestVaryingMaxIter(t *testing.T) {
	rec := func(rung, iters int) tune.Record {
		p := tune.DefaultParams()
		p.MaxIter = iters
		return tune.Record{Trial: tune.Trial{Rung: rung, Params: p}}
	}
	rungsOnly := []tune.Record{rec(0, 2), rec(0, 2), rec(1, 5)}
	if v := varyingParams(rungsOnly, true); len(v) != 0 {
		t.Errorf("halving, max_iter by rung only: varying %v, want none", v)
	}
	if v := varyingParams(rungsOnly, false); !slices.Equal(v, []string{"max_iter"}) {
		t.Errorf("random: varying %v, want max_iter", v)
	}
	if v := varyingParams([]tune.Record{rec(0, 2), rec(0, 4), rec(1, 5)}, true); !slices.Equal(v, []string{"max_iter"}) {
		t.Errorf("halving, max_iter differing within rung 0: varying %v, want max_iter", v)
	}
}

// TestScaleOf checks the choice of axis for each kind of parameter.
func TestScaleOf(t *testing.T) {
	recs := func(name string, vals ...any) []tune.Record {
		var out []tune.Record
		for j, v := range vals {
			p := tune.DefaultParams()
			switch name {
			case "reg":
				p.Reg = v.(float64)
			case "rank":
				p.Rank = v.(int)
			case "implicit":
				p.Implicit = v.(bool)
			}
			out = append(out, tune.Record{Trial: tune.Trial{ID: j + 1, Config: j + 1, Params: p}, Metrics: map[string]float64{"m": 0}})
		}
		return out
	}
	pts := func(r []tune.Record) []tunePoint { return configPoints(r, "m") }
	def := tune.DefaultSpace()

	// The built-in space: reg is a log range, the axis spans it whatever was tried.
	r := recs("reg", 5.0, 7.0, 9.0)
	if s := scaleOf("reg", pts(r), r, &def); !s.Log || s.Lo != 2 || s.Hi != 300 || !s.Range || s.Cats != nil {
		t.Errorf("reg in the built-in space: %+v, want log over [2, 300]", s)
	}
	// rank is a list: a category per listed value, 128 included though untried.
	r = recs("rank", 32, 64, 32)
	if s := scaleOf("rank", pts(r), r, &def); !slices.Equal(s.Cats, []string{"32", "64", "128"}) {
		t.Errorf("rank in the built-in space: categories %v, want 32, 64, 128", s.Cats)
	}
	// Without the space: 2 .. 250 spans 2.1 decades → log; 2 .. 150 (1.9) → linear.
	r = recs("reg", 2.0, 17.0, 250.0, 40.0, 3.3, 120.0, 9.0)
	if s := scaleOf("reg", pts(r), r, nil); !s.Log || s.Lo != 2 || s.Hi != 250 || s.Range || !strings.Contains(s.Why, "2.1 decades") {
		t.Errorf("reg over 2.1 decades: %+v, want a log axis over the values", s)
	}
	r = recs("reg", 2.0, 17.0, 150.0, 40.0, 3.3, 120.0, 9.0)
	if s := scaleOf("reg", pts(r), r, nil); s.Log || s.Cats != nil {
		t.Errorf("reg over 1.9 decades: %+v, want a linear axis", s)
	}
	// Few values that repeat are a list; distinct values are a range.
	r = recs("reg", 1.0, 10.0, 1.0, 10.0)
	if s := scaleOf("reg", pts(r), r, nil); !slices.Equal(s.Cats, []string{"1", "10"}) {
		t.Errorf("reg 1, 10 repeated: categories %v, want 1, 10", s.Cats)
	}
	r = recs("rank", 4, 9, 16)
	if s := scaleOf("rank", pts(r), r, nil); s.Cats != nil {
		t.Errorf("rank 4, 9, 16 tried once each: categories %v, want a numeric axis", s.Cats)
	}
	// true/false: two categories, false first.
	r = recs("implicit", true, false)
	if s := scaleOf("implicit", pts(r), r, nil); !slices.Equal(s.Cats, []string{"false", "true"}) {
		t.Errorf("implicit: categories %v, want false, true", s.Cats)
	}
}

// TestLogTicks checks the labels of logarithmic axes.
func TestLogTicks(t *testing.T) {
	labels := func(lo, hi float64) (lab []string, minor int) {
		for _, tk := range (logTicks{}).Ticks(lo, hi) {
			if tk.Label == "" {
				minor++
			} else {
				lab = append(lab, tk.Label)
			}
		}
		return lab, minor
	}
	for _, c := range []struct {
		lo, hi float64
		want   []string
		minor  int
	}{
		// Under three decades: 1, 2, 5 × 10^k, and minor ticks at 3, 4, 6–9.
		{2, 300, []string{"2", "5", "10", "20", "50", "100", "200"}, 13},
		{0.1, 20, []string{"0.1", "0.2", "0.5", "1", "2", "5", "10", "20"}, 12},
		// Four decades: powers of ten, minor ticks at 2–9 × 10^k.
		{1, 10000, []string{"1", "10", "100", "1,000", "10,000"}, 32},
		// Less than one 1-2-5 step: every digit.
		{3, 8, []string{"3", "4", "5", "6", "7", "8"}, 0},
	} {
		lab, minor := labels(c.lo, c.hi)
		if !slices.Equal(lab, c.want) || minor != c.minor {
			t.Errorf("[%v, %v]: labels %v and %d minor ticks, want %v and %d", c.lo, c.hi, lab, minor, c.want, c.minor)
		}
	}
}

// TestEdgeNote: a best value at the end of its range suggests widening it.
func TestEdgeNote(t *testing.T) {
	logRange := paramScale{Lo: 2, Hi: 300, Log: true, Range: true}
	// 250 is at ln(125)/ln(150) = 96.4% of the log range: within 5% of the top.
	if h, ok := edgeNote("reg", 250, logRange, 10); !ok || h.Title != "Best reg at the top of its range" {
		t.Errorf("reg 250 in log [2, 300]: %v %v, want a note", h, ok)
	}
	// 2.4 is at ln(1.2)/ln(150) = 3.6%: the bottom.
	if h, ok := edgeNote("reg", 2.4, logRange, 10); !ok || !strings.Contains(h.Title, "bottom") {
		t.Errorf("reg 2.4 in log [2, 300]: %v %v, want a note", h, ok)
	}
	// 200 is at 91.7%: no note. On a linear range it would be at 66%.
	if _, ok := edgeNote("reg", 200, logRange, 10); ok {
		t.Error("reg 200 in log [2, 300]: note, want none")
	}
	// Without the space: the largest of 4 values tried, not of 3.
	tried := paramScale{Lo: 1, Hi: 8}
	if _, ok := edgeNote("rank", 8, tried, 4); !ok {
		t.Error("largest of 4 values: no note")
	}
	if _, ok := edgeNote("rank", 8, tried, 3); ok {
		t.Error("largest of 3 values: note, want none")
	}
	if _, ok := edgeNote("implicit", 1, paramScale{Cats: []string{"false", "true"}}, 2); ok {
		t.Error("categories: note, want none")
	}
}

// writeTuneDir writes tn as recs tune writes its directory: trials.json
// and best.yaml with its comment naming the space.
func writeTuneDir(t *testing.T, dir string, tn *Tune) {
	t.Helper()
	var b bytes.Buffer
	if err := tn.Result.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, TuneResultFile), b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	best := fmt.Sprintf("# recs tune: the best of %d trials by validation ndcg@10 = 0.45\n# (trial %d, best iteration 6 of 9); strategy %s, budget %d, seed %d, space %s.\nals:\n  rank: 64\n",
		len(tn.Result.Trials), tn.Result.Best.ID, tn.Result.Strategy, tn.Result.Budget, tn.Result.Seed, tn.SpaceName)
	if err := os.WriteFile(filepath.Join(dir, tuneBestFile), []byte(best), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestFromTuneDir reads a directory of recs tune back: the page must be
// byte-identical to the one drawn from memory, the space found through
// best.yaml.
func TestFromTuneDir(t *testing.T) {
	tn := fixtureRandomTune()
	dir := t.TempDir()
	writeTuneDir(t, dir, tn)
	if !IsTuneDir(dir) || IsTuneDir(t.TempDir()) {
		t.Error("IsTuneDir does not recognise the directory by its trials.json")
	}
	in, err := FromTuneDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if in.Tune == nil || in.Tune.Space == nil || in.Tune.SpaceName != "built-in" {
		t.Fatalf("space not found through best.yaml: %+v", in.Tune)
	}
	var fromMem, fromDir bytes.Buffer
	if err := Write(&fromMem, Inputs{RunDir: dir, Tune: tn}); err != nil {
		t.Fatal(err)
	}
	if err := Write(&fromDir, in); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(fromMem.Bytes(), fromDir.Bytes()) {
		t.Error("page from the directory differs from the page from memory")
	}

	// A space file named by best.yaml that is gone: the scales are guessed.
	tn.SpaceName = filepath.Join(dir, "gone.yaml")
	writeTuneDir(t, dir, tn)
	if in, err := FromTuneDir(dir); err != nil || in.Tune.Space != nil || in.Tune.SpaceName != tn.SpaceName {
		t.Errorf("missing space file: %v, %+v; want no space and its name", err, in.Tune)
	}

	// Not a search: a missing, a torn and an empty trials.json.
	if _, err := FromTuneDir(t.TempDir()); !errs.IsInput(err) || !strings.Contains(err.Error(), "no trials.json") {
		t.Errorf("directory without trials.json: %v", err)
	}
	if _, err := ReadTune(t.TempDir()); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadTune of an empty directory: %v, want fs.ErrNotExist", err)
	}
	torn := t.TempDir()
	if err := os.WriteFile(filepath.Join(torn, TuneResultFile), []byte("{\n  \"strategy\": \"random\",\n  \"trials\": [\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadTune(torn); !errs.IsInput(err) || !strings.Contains(err.Error(), TuneResultFile) {
		t.Errorf("torn trials.json: %v, want an input error naming the file", err)
	}
	empty := t.TempDir()
	if err := os.WriteFile(filepath.Join(empty, TuneResultFile), []byte(`{"strategy":"random","metric":"ndcg@10","trials":[]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadTune(empty); !errs.IsInput(err) || !strings.Contains(err.Error(), "no metric or no trials") {
		t.Errorf("trials.json without trials: %v", err)
	}
}

// TestRunDirTune: a run of recs train --tune gets the section in its
// report, the space from config.yaml; a tuned run whose trials are gone
// lists them as missing and shows the manifest's summary.
func TestRunDirTune(t *testing.T) {
	tn := fixtureRandomTune()
	in := fixtureInputs()
	dir := t.TempDir()
	m := *in.Manifest
	sum, err := json.Marshal(tn.Result.Summary())
	if err != nil {
		t.Fatal(err)
	}
	m.Tune, m.Files = sum, map[string]string{"tune": "tune"}
	b, err := jsonMarshal(&m)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, rundir.ManifestFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, rundir.ConfigFile), []byte("tune:\n  space: builtin\n  strategy: random\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	writeTuneDir(t, filepath.Join(dir, "tune"), &Tune{Result: tn.Result, SpaceName: "elsewhere.yaml"})
	got, err := FromRunDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got.Tune == nil || got.Tune.SpaceName != "builtin" || got.Tune.Space == nil {
		t.Fatalf("tune from the run directory: %+v, want the built-in space config.yaml names", got.Tune)
	}
	var page bytes.Buffer
	if err := Write(&page, got); err != nil {
		t.Fatal(err)
	}
	p := page.String()
	for _, want := range []string{`<section id="health">`, `<section id="tune">`, "<h3>NDCG@10 against reg</h3>",
		"The run trained its final model with these parameters"} {
		if !strings.Contains(p, want) {
			t.Errorf("run page lacks %q", want)
		}
	}
	if i, j := strings.Index(p, `<section id="tune">`), strings.Index(p, `<section id="parameters">`); i > j {
		t.Error("the search comes after the model section")
	}

	// The trials removed: listed as missing; the manifest's summary is shown.
	if err := os.RemoveAll(filepath.Join(dir, "tune")); err != nil {
		t.Fatal(err)
	}
	got, err = FromRunDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got.Tune != nil || !slices.Contains(got.Missing, filepath.Join("tune", TuneResultFile)) {
		t.Errorf("tune %v, missing %v; want nil and tune/trials.json missing", got.Tune, got.Missing)
	}
	page.Reset()
	if err := Write(&page, got); err != nil {
		t.Fatal(err)
	}
	p = page.String()
	for _, want := range []string{`<section id="tune">`, "Trials not shown", "<h3>Winning configuration</h3>",
		fmt.Sprintf("trial %d: NDCG@10 %s at iteration 6 of 9", tn.Result.Best.ID, fixed(tn.Result.Best.Metrics["ndcg@10"], 4))} {
		if !strings.Contains(p, want) {
			t.Errorf("page from the manifest's summary lacks %q", want)
		}
	}
	if strings.Contains(p, "against reg") {
		t.Error("page from the manifest's summary has plots")
	}

	// A run that did not tune has no section and misses nothing for it.
	got, err = FromRunDir(writeUntunedRun(t))
	if err != nil {
		t.Fatal(err)
	}
	if got.Tune != nil || slices.Contains(got.Missing, filepath.Join("tune", TuneResultFile)) {
		t.Errorf("untuned run: tune %v, missing %v", got.Tune, got.Missing)
	}
}

func writeUntunedRun(t *testing.T) string {
	dir := t.TempDir()
	b, err := jsonMarshal(fixtureManifest())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, rundir.ManifestFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}
