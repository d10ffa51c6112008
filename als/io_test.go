package als

import (
	"context"
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/recs-dev/recs/internal/errs"
)

var update = flag.Bool("update", false, "rewrite the fixtures in testdata/als")

func sameModel(t *testing.T, got, want *Model) {
	t.Helper()
	if got.Rank != want.Rank || !reflect.DeepEqual(got.UserIDs, want.UserIDs) || !reflect.DeepEqual(got.ItemIDs, want.ItemIDs) {
		t.Fatalf("shape or ids differ: rank %d/%d, %d/%d users, %d/%d items", got.Rank, want.Rank,
			len(got.UserIDs), len(want.UserIDs), len(got.ItemIDs), len(want.ItemIDs))
	}
	for _, p := range [][2][]float32{{got.UserFactors, want.UserFactors}, {got.ItemFactors, want.ItemFactors}} {
		for i := range p[1] {
			if math.Float32bits(p[0][i]) != math.Float32bits(p[1][i]) {
				t.Fatalf("factor %d: %v, want %v", i, p[0][i], p[1][i])
			}
		}
	}
}

// TestSaveLoadRoundTrip: a fitted model (int ids, string ids, biases)
// reads back identical, with its recs.json information.
func TestSaveLoadRoundTrip(t *testing.T) {
	tab := synthTable(10, 40, 25, 500) // ids "u3", "i7": not int32
	for _, p := range []Params{
		{Rank: 4, MaxIter: 2, Reg: 0.1, Seed: 1},
		{Rank: 4, MaxIter: 2, Reg: 0.1, Seed: 1, Biases: true, ColdStart: ColdStartDrop},
	} {
		m, err := Fit(context.Background(), tab, p)
		if err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(t.TempDir(), "model")
		if err := Save(dir, m); err != nil {
			t.Fatal(err)
		}
		got, err := Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		sameModel(t, got, m)
		if got.ID != m.ID || got.DataHash != m.DataHash || !reflect.DeepEqual(got.Params, m.Params) || !reflect.DeepEqual(got.History, m.History) {
			t.Errorf("recs.json fields differ: %s %s %+v", got.ID, got.DataHash, got.Params)
		}
		if got.Spark.ColdStart != m.Params.ColdStart {
			t.Errorf("coldStartStrategy %q, want %q", got.Spark.ColdStart, m.Params.ColdStart)
		}
		// Saving again over the existing model replaces it.
		if err := Save(dir, got); err != nil {
			t.Fatalf("save over a model: %v", err)
		}
		if _, err := Load(dir); err != nil {
			t.Fatal(err)
		}
		left, _ := filepath.Glob(filepath.Join(filepath.Dir(dir), ".model.*"))
		if len(left) != 0 {
			t.Errorf("temporary directories left behind: %v", left)
		}
	}
}

// TestSaveIntIDs: canonical int32 ids are written as Spark ids (no id list
// in recs.json), anything else ("007") through the id list.
func TestSaveIntIDs(t *testing.T) {
	m := &Model{Rank: 2, UserIDs: []string{"1", "-5", "2147483647"}, ItemIDs: []string{"7", "007"},
		UserFactors: []float32{1, 2, 3, 4, 5, 6}, ItemFactors: []float32{0.5, -0.5, 1e-3, 7}}
	dir := filepath.Join(t.TempDir(), "m")
	if err := Save(dir, m); err != nil {
		t.Fatal(err)
	}
	var rm recsMeta
	b, err := os.ReadFile(filepath.Join(dir, "recs.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rm); err != nil {
		t.Fatal(err)
	}
	if len(rm.Users.IDs) != 0 || len(rm.Items.IDs) != 2 {
		t.Errorf("recs.json lists %d user ids and %d item ids, want 0 and 2", len(rm.Users.IDs), len(rm.Items.IDs))
	}
	got, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	sameModel(t, got, m)
}

// TestSaveRefusesOtherDirectory: Save never replaces a directory that does
// not hold a model.
func TestSaveRefusesOtherDirectory(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "precious.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	m := &Model{Rank: 1, UserIDs: []string{"1"}, ItemIDs: []string{"2"}, UserFactors: []float32{1}, ItemFactors: []float32{1}}
	if err := Save(dir, m); err == nil || !strings.Contains(err.Error(), "does not hold a model") {
		t.Fatalf("got %v, want a refusal", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "precious.txt")); err != nil {
		t.Fatal("the directory was touched")
	}
}

// sparkFixture is the content of testdata/als/spark-model: a model in the
// layout Spark's ALSModel.save writes (metadata JSON as DefaultParamsWriter
// formats it, factors split over two part files each, _SUCCESS markers,
// Spark's Parquet footer metadata, no recs.json). Rank 3.
var sparkFixture = struct {
	userIDs, itemIDs []string
	users, items     [][]float32
}{
	userIDs: []string{"1", "2", "3", "5", "8"},
	itemIDs: []string{"10", "20", "30", "40"},
	users:   [][]float32{{0.1, 0.2, 0.3}, {-1, 0, 1}, {0.5, 0.5, 0.5}, {2, -2, 0.25}, {0, 0, 1e-3}},
	items:   [][]float32{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}, {0.3, -0.7, 1.5}},
}

const sparkFixtureMeta = `{"class":"org.apache.spark.ml.recommendation.ALSModel","timestamp":1700000000000,` +
	`"sparkVersion":"3.5.0","uid":"ALS_0f1e2d3c4b5a","paramMap":{"userCol":"userId","itemCol":"movieId",` +
	`"coldStartStrategy":"drop"},"defaultParamMap":{"blockSize":4096,"predictionCol":"prediction",` +
	`"coldStartStrategy":"nan","userCol":"user","itemCol":"item"},"rank":3}`

const sparkFixtureDir = "../testdata/als/spark-model"

// TestWriteSparkFixture regenerates the fixture with -update.
func TestWriteSparkFixture(t *testing.T) {
	if !*update {
		t.Skip("run with -update to rewrite testdata/als/spark-model")
	}
	os.RemoveAll(sparkFixtureDir)
	write := func(rel string, data []byte) {
		p := filepath.Join(sparkFixtureDir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("metadata/part-00000", []byte(sparkFixtureMeta+"\n"))
	write("metadata/_SUCCESS", nil)
	for _, s := range []struct {
		dir  string
		ids  []string
		rows [][]float32
	}{{"userFactors", sparkFixture.userIDs, sparkFixture.users}, {"itemFactors", sparkFixture.itemIDs, sparkFixture.items}} {
		ids, _ := int32IDs(s.ids)
		half := len(ids) / 2
		for part, rng := range [][2]int{{0, half}, {half, len(ids)}} {
			var f []float32
			for _, r := range s.rows[rng[0]:rng[1]] {
				f = append(f, r...)
			}
			w := &byteWriter{}
			if err := writeFactors(w, ids[rng[0]:rng[1]], f, 3); err != nil {
				t.Fatal(err)
			}
			name := "part-0000" + string(rune('0'+part)) + "-6a1f3d1e-8c0b-4f52-9a43-1b2c3d4e5f60-c000.snappy.parquet"
			write(s.dir+"/"+name, w.b)
		}
		write(s.dir+"/_SUCCESS", nil)
	}
}

type byteWriter struct{ b []byte }

func (w *byteWriter) Write(p []byte) (int, error) { w.b = append(w.b, p...); return len(p), nil }

// TestLoadSparkFixture: recs reads a Spark-written model directory.
func TestLoadSparkFixture(t *testing.T) {
	m, err := Load(sparkFixtureDir)
	if err != nil {
		t.Fatal(err)
	}
	want := &Model{Rank: 3, UserIDs: sparkFixture.userIDs, ItemIDs: sparkFixture.itemIDs}
	for _, r := range sparkFixture.users {
		want.UserFactors = append(want.UserFactors, r...)
	}
	for _, r := range sparkFixture.items {
		want.ItemFactors = append(want.ItemFactors, r...)
	}
	sameModel(t, m, want)
	if m.Params != nil || m.History != nil || !strings.HasPrefix(m.ID, "als-") {
		t.Errorf("a Spark model has no recs.json: params %v, history %v, id %q", m.Params, m.History, m.ID)
	}
	if m.Spark.UID != "ALS_0f1e2d3c4b5a" || m.Spark.ColdStart != ColdStartDrop || m.Spark.UserCol != "userId" || m.Spark.ItemCol != "movieId" {
		t.Errorf("Spark metadata read as %+v", m.Spark)
	}
	// 0.1·0.3 + 0.2·(−0.7) + 0.3·1.5 = 0.34, computed in float32.
	if p, ok := m.Predict("1", "40"); !ok || math.Abs(float64(p)-0.34) > 1e-6 {
		t.Errorf("Predict(1, 40) = %v, %v; want 0.34", p, ok)
	}
	// Saving it with recs keeps Spark's uid and adds recs.json.
	dir := filepath.Join(t.TempDir(), "copy")
	if err := Save(dir, m); err != nil {
		t.Fatal(err)
	}
	again, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	sameModel(t, again, m)
	if again.Spark.UID != m.Spark.UID {
		t.Errorf("uid %q after save, want %q", again.Spark.UID, m.Spark.UID)
	}
}

func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestLoadRejectsBrokenModels: each kind of damage gives an input error
// that names the problem.
func TestLoadRejectsBrokenModels(t *testing.T) {
	saved := filepath.Join(t.TempDir(), "saved")
	m, err := Fit(context.Background(), synthTable(11, 30, 20, 300), Params{Rank: 3, MaxIter: 1, Reg: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	if err := Save(saved, m); err != nil {
		t.Fatal(err)
	}
	firstPart := func(dir, side string) string {
		ps, _ := filepath.Glob(filepath.Join(dir, side, "part-*.parquet"))
		return ps[0]
	}
	for _, tc := range []struct {
		name, src string
		damage    func(dir string)
		want      string
	}{
		{"truncated parquet (spark)", sparkFixtureDir, func(d string) {
			p := firstPart(d, "itemFactors")
			fi, _ := os.Stat(p)
			os.Truncate(p, fi.Size()-10)
		}, "unreadable Parquet"},
		{"truncated parquet (recs)", saved, func(d string) {
			p := firstPart(d, "userFactors")
			fi, _ := os.Stat(p)
			os.Truncate(p, fi.Size()/2)
		}, "truncated"},
		{"no _SUCCESS", sparkFixtureDir, func(d string) { os.Remove(filepath.Join(d, "userFactors", "_SUCCESS")) }, "_SUCCESS"},
		{"no metadata", sparkFixtureDir, func(d string) { os.RemoveAll(filepath.Join(d, "metadata")) }, "not a model directory"},
		{"no item factors", sparkFixtureDir, func(d string) { os.RemoveAll(filepath.Join(d, "itemFactors")) }, "incomplete"},
		{"wrong rank", sparkFixtureDir, func(d string) {
			os.WriteFile(filepath.Join(d, "metadata", "part-00000"), []byte(strings.Replace(sparkFixtureMeta, `"rank":3`, `"rank":4`, 1)), 0o644)
		}, "3 features, the model's rank is 4"},
		{"not ALS", sparkFixtureDir, func(d string) {
			os.WriteFile(filepath.Join(d, "metadata", "part-00000"), []byte(strings.Replace(sparkFixtureMeta, "ALSModel", "LinearRegressionModel", 1)), 0o644)
		}, "is not org.apache.spark.ml.recommendation.ALSModel"},
		{"duplicate part", sparkFixtureDir, func(d string) {
			p := firstPart(d, "userFactors")
			b, _ := os.ReadFile(p)
			os.WriteFile(filepath.Join(d, "userFactors", "part-00009-x.snappy.parquet"), b, 0o644)
		}, "appears twice"},
		{"recs.json count", saved, func(d string) {
			b, _ := os.ReadFile(filepath.Join(d, "recs.json"))
			os.WriteFile(filepath.Join(d, "recs.json"), []byte(strings.Replace(string(b), `"rank": 3`, `"rank": 5`, 1)), 0o644)
		}, "rank 5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "m")
			copyDir(t, tc.src, dir)
			tc.damage(dir)
			_, err := Load(dir)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
			if !errs.IsInput(err) {
				t.Errorf("%v is not an input error", err)
			}
		})
	}
}
