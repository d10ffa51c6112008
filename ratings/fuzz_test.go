package ratings

import (
	"bytes"
	"math"
	"testing"

	"github.com/recs-dev/recs/internal/errs"
)

// FuzzReadParquet feeds ReadParquet mutated files. Invariants: it never
// panics; every error is an *errs.InputError naming the file; every table it
// returns passes New's checks (equal column lengths, indices inside their
// dictionaries, finite ratings) and has dictionaries without duplicates.
func FuzzReadParquet(f *testing.F) {
	for _, tab := range []*Table{
		mustTable(f, true, [4]string{"1", "10", "4", "881250949"}, [4]string{"2", "10", "3.5", "891717742"}),
		mustTable(f, false, [4]string{"A3R5OBKS7OM2IR", "x", "5"}, [4]string{"b", "x", "1"}),
		mustTable(f, true),
	} {
		var buf bytes.Buffer
		if err := WriteParquet(&buf, tab); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes())
	}
	f.Add([]byte("PAR1"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tab, err := ReadParquet(bytes.NewReader(data), "fuzz.parquet")
		if err != nil {
			if !errs.IsInput(err) {
				t.Fatalf("error %v is not an input error", err)
			}
			return
		}
		if _, err := New(tab.UserIDs, tab.ItemIDs, tab.Users, tab.Items, tab.Ratings, tab.Times); err != nil {
			t.Fatalf("invalid table: %v", err)
		}
		for _, ids := range [][]string{tab.UserIDs, tab.ItemIDs} {
			seen := map[string]bool{}
			for _, id := range ids {
				if seen[id] {
					t.Fatalf("id %q twice in a dictionary", id)
				}
				seen[id] = true
			}
		}
		for _, r := range tab.Ratings {
			if math.IsNaN(float64(r)) {
				t.Fatal("NaN rating")
			}
		}
	})
}
