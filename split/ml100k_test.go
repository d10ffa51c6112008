package split

import (
	"strconv"
	"testing"

	"github.com/recs-dev/recs/internal/testenv"
)

// TestML100KChrono compares the chronological split of MovieLens 100k with
// pandas running Recommenders' rule with a stable time sort (the script
// testdata/split/ml100k_chrono.py; numbers recorded from its output with
// python3-pandas 1.5.3): sizes, cold-start counts and a checksum of the
// test rows, Σ(user·100003 + item), which pins the exact set of test rows.
func TestML100KChrono(t *testing.T) {
	tab := testenv.ML100KTable(t)
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
