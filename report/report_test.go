package report

import (
	"bytes"
	"flag"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/recs-dev/recs/als"
	"github.com/recs-dev/recs/eval"
	"github.com/recs-dev/recs/ratings"
	"github.com/recs-dev/recs/rundir"
	"github.com/recs-dev/recs/toplist"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/report")

const golden = "../testdata/report/sample.html"

// TestGolden renders the fixture run and compares it with the checked-in
// page. The expected bytes come from a rendering that was inspected by eye
// (as a screenshot); -update rewrites it after an intended change.
func TestGolden(t *testing.T) {
	var a, b bytes.Buffer
	if err := Write(&a, fixtureInputs()); err != nil {
		t.Fatal(err)
	}
	if err := Write(&b, fixtureInputs()); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("two renderings of the same inputs differ")
	}
	if *update {
		if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, a.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./report -run TestGolden -update to create it)", err)
	}
	if got := a.Bytes(); !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for j := 0; j < min(len(gl), len(wl)); j++ {
			if gl[j] != wl[j] {
				t.Fatalf("report differs from %s at line %d:\n got: %.200s\nwant: %.200s\n(-update rewrites the golden file)", golden, j+1, gl[j], wl[j])
			}
		}
		t.Fatalf("report differs from %s in length: %d lines, want %d", golden, len(gl), len(wl))
	}
}

// TestSelfContained checks that the page loads nothing: no script, no
// external style sheet, image, font or frame.
func TestSelfContained(t *testing.T) {
	var b bytes.Buffer
	if err := Write(&b, fixtureInputs()); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, bad := range []string{"<script", "<link", "<img", "<iframe", "src=", "href=", "url(", "@import", "xlink:href"} {
		if strings.Contains(page, bad) {
			t.Errorf("page contains %q", bad)
		}
	}
	// The six plots of the fixture: loss, RMSE (training and validation),
	// metrics by k, rating histogram, long tail, concentration.
	if n := strings.Count(page, "<svg"); n != 6 {
		t.Errorf("page has %d inline SVG plots, want 6", n)
	}
	// The fixture's validation RMSE is worst at the end (parabola with its
	// minimum at iteration 7): the page must say so, with the threshold.
	for _, want := range []string{
		"Validation RMSE got worse: overfitting",
		"Validation RMSE was best at iteration 7 (0.9500) and ended at 1.0000 in iteration 12, 5.3% worse.",
		"Threshold: final value worse than the best by &gt; 1.0%",
		"Many cold-start test rows",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if regexp.MustCompile(`\b(NaN|Inf)\b`).MatchString(page) {
		t.Error("page shows NaN or Inf")
	}
}

// TestEmptyInputs renders a page with nothing to show: it must still be a
// valid page that says so, not an error.
func TestEmptyInputs(t *testing.T) {
	var b bytes.Buffer
	if err := Write(&b, Inputs{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "Nothing to check") || strings.Contains(b.String(), "<svg") {
		t.Errorf("empty report:\n%s", b.String())
	}
}

// TestFromRunDir writes the fixture run to a directory in the formats of
// the pipeline and reads it back: the report drawn from the directory must
// be byte-identical to the one drawn from memory.
func TestFromRunDir(t *testing.T) {
	in := fixtureInputs()
	dir := t.TempDir()
	in.RunDir = dir
	m := *in.Manifest
	m.Files = map[string]string{"topk": "lists/top.jsonl"}
	in.Manifest = &m
	b, err := jsonMarshal(&m)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, rundir.ManifestFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := ratings.WriteFile(filepath.Join(dir, rundir.TrainFile), in.Train); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "lists"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := als.Save(filepath.Join(dir, rundir.ModelDir), in.Model); err != nil {
		t.Fatal(err)
	}
	for name, doc := range map[string]*eval.Document{rundir.MetricsFile: in.Metrics, rundir.CurvesFile: in.Curves} {
		var b bytes.Buffer
		if err := doc.WriteJSON(&b); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	meta := toplist.Meta{Model: "als-0123456789abcdef", K: 10, GeneratedAt: m.Finished}
	if err := toplist.WriteFile(filepath.Join(dir, "lists", "top.jsonl"), meta, in.TopK); err != nil {
		t.Fatal(err)
	}
	got, err := FromRunDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Missing) != 0 {
		t.Errorf("missing %v, want none", got.Missing)
	}
	var fromMem, fromDir bytes.Buffer
	if err := Write(&fromMem, in); err != nil {
		t.Fatal(err)
	}
	if err := Write(&fromDir, got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(fromMem.Bytes(), fromDir.Bytes()) {
		t.Error("report from the run directory differs from the report from memory")
	}
}

// TestEvalConversion checks how metrics documents become the page's
// tables and curves.
func TestEvalConversion(t *testing.T) {
	// A curves document with k = 1..3: one series per ranking metric that
	// has values, in k order, even when the document lists them otherwise.
	doc := fixtureDoc(3, 1, 2)
	cv := evalCurve(doc)
	if cv == nil || len(cv.K) != 3 || cv.K[0] != 1 || cv.K[2] != 3 {
		t.Fatalf("curve ks %v, want [1 2 3]", cv)
	}
	if len(cv.Series) != 4 || cv.Series[0].Name != "precision" || cv.Series[2].Name != "NDCG" {
		t.Fatalf("series %v, want precision, recall, NDCG, MAP", cv.Series)
	}
	// fixtureDoc: precision@2 = 0.35·(1 − 0.04) = 0.336.
	if v := cv.Series[0].Values[1]; math.Abs(v-0.336) > 1e-12 {
		t.Errorf("precision@2 = %v, want 0.336", v)
	}
	// A metric absent at one k is a gap (NaN), not a zero.
	doc.Metrics = slices.DeleteFunc(doc.Metrics, func(m eval.Metric) bool { return m.Name == eval.Recall && m.K == 2 })
	if v := evalCurve(doc).Series[1].Values[1]; !math.IsNaN(v) {
		t.Errorf("missing recall@2 = %v, want NaN", v)
	}
	// One k: no curve; the metrics document then fills only the table.
	if cv := evalCurve(fixtureDoc(10)); cv != nil {
		t.Errorf("curve from a single k: %v", cv)
	}
	d, err := build(Inputs{Metrics: fixtureDoc(10)})
	if err != nil {
		t.Fatal(err)
	}
	if d.K != 10 || d.Curves != nil || len(d.Metrics) != 4+6 {
		t.Errorf("k %d, curves %v, %d metrics; want 10, none, 10", d.K, d.Curves, len(d.Metrics))
	}
	if m, ok := d.metric("rmse"); !ok || !m.Lower || m.Value != 0.92 {
		t.Errorf("rmse row %+v, want 0.92, lower is better", m)
	}
	// Without a curves document, a metrics document with several k draws
	// the curve.
	if d, _ := build(Inputs{Metrics: fixtureDoc(5, 10, 20)}); d.Curves == nil || len(d.Curves.K) != 3 || d.K != 0 {
		t.Errorf("curve from a metrics document with k = 5, 10, 20: %+v (k %d)", d.Curves, d.K)
	}
}

// TestModelMismatch: metrics of another model than the run's are flagged.
func TestModelMismatch(t *testing.T) {
	in := fixtureInputs()
	in.Metrics.Model.ID = "als-ffffffffffffffff"
	d, err := build(in)
	if err != nil {
		t.Fatal(err)
	}
	has(t, hintsOf(d), "warn:Metrics are of another model")
	in = fixtureInputs()
	d, _ = build(in)
	for _, h := range hintsOf(d) {
		if strings.Contains(h, "another model") {
			t.Errorf("matching model ids flagged: %q", h)
		}
	}
}

// TestImplicitCards: an implicit model predicts preference, not ratings, so
// its RMSE is neither a headline number nor judged.
func TestImplicitCards(t *testing.T) {
	in := fixtureInputs()
	in.Model.Params.Implicit = true
	d, err := build(in)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cards(d) {
		if c.Label == "RMSE" {
			t.Error("implicit model shows an RMSE card")
		}
	}
	for _, h := range hintsOf(d) {
		if strings.Contains(h, "RMSE beats") || strings.Contains(h, "RMSE no better") {
			t.Errorf("implicit model judged by RMSE: %q", h)
		}
	}
	in.Model.Params.Implicit = false
	d, _ = build(in)
	has(t, hintsOf(d), "ok:RMSE beats the mean predictor")
}
