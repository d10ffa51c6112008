package split

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/recs-dev/recs/ratings"
)

// loadML100K reads MovieLens 100k's u.data from $RECS_ML100K (the file or
// its directory), skipping the test when it is not there.
func loadML100K(t *testing.T) *ratings.Table {
	t.Helper()
	path := os.Getenv("RECS_ML100K")
	if path == "" {
		t.Skip("RECS_ML100K not set")
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		path += "/u.data"
	}
	f, err := os.Open(path)
	if err != nil {
		t.Skipf("RECS_ML100K: %v", err)
	}
	defer f.Close()
	b := ratings.NewBuilder(true)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Split(sc.Text(), "\t")
		r, _ := strconv.ParseFloat(fs[2], 32)
		ts, _ := strconv.ParseInt(fs[3], 10, 64)
		b.Add(fs[0], fs[1], float32(r), ts)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return b.Table()
}

// TestML100KChrono compares the chronological split of MovieLens 100k with
// pandas running Recommenders' rule with a stable time sort (the script
// testdata/split/ml100k_chrono.py; numbers recorded from its output with
// python3-pandas 1.5.3): sizes, cold-start counts and a checksum of the
// test rows, Σ(user·100003 + item), which pins the exact set of test rows.
func TestML100KChrono(t *testing.T) {
	tab := loadML100K(t)
	tests := []struct {
		by                          By
		train, test                 int
		coldUsers, coldItems, coldR int
		checksum                    int64
	}{
		{ByUser, 74992, 25008, 0, 85, 117, 1156163837941},
		{ByItem, 75066, 24934, 49, 0, 3575, 1163337452533},
	}
	for _, tc := range tests {
		parts, err := Chrono(tab, []float64{0.75}, 1, tc.by)
		if err != nil {
			t.Fatal(err)
		}
		train, test := parts[0], parts[1]
		if train.Len() != tc.train || test.Len() != tc.test {
			t.Errorf("by %v: %d/%d, want %d/%d", tc.by, train.Len(), test.Len(), tc.train, tc.test)
		}
		u, i, r := ColdStart(train, test)
		if u != tc.coldUsers || i != tc.coldItems || r != tc.coldR {
			t.Errorf("by %v: cold start %d/%d/%d, want %d/%d/%d", tc.by, u, i, r, tc.coldUsers, tc.coldItems, tc.coldR)
		}
		var sum int64
		for k := 0; k < test.Len(); k++ {
			uid, _ := strconv.ParseInt(test.UserIDs[test.Users[k]], 10, 64)
			iid, _ := strconv.ParseInt(test.ItemIDs[test.Items[k]], 10, 64)
			sum += uid*100003 + iid
		}
		if sum != tc.checksum {
			t.Errorf("by %v: test checksum %d, want %d", tc.by, sum, tc.checksum)
		}
		// Stratified shares the per-group counts.
		parts, err = Stratified(tab, []float64{0.75}, 1, tc.by, 42)
		if err != nil {
			t.Fatal(err)
		}
		if parts[0].Len() != tc.train || parts[1].Len() != tc.test {
			t.Errorf("stratified by %v: %d/%d, want %d/%d", tc.by, parts[0].Len(), parts[1].Len(), tc.train, tc.test)
		}
	}
	// Random at 0.75: floor(0.75·100000) = 75000 (scikit-learn).
	parts, err := Random(tab, []float64{0.75}, 42)
	if err != nil {
		t.Fatal(err)
	}
	if parts[0].Len() != 75000 || parts[1].Len() != 25000 {
		t.Errorf("random: %d/%d, want 75000/25000", parts[0].Len(), parts[1].Len())
	}
}
