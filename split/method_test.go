package split

import (
	"reflect"
	"testing"

	"github.com/recs-dev/recs/ratings"
)

// TestApply checks that Apply runs the method's function, with the
// minimum-ratings filter before random and leave-last.
func TestApply(t *testing.T) {
	tab := groupsTable(t, 1, 2, 3, 10)
	ratios := []float64{0.75}
	direct := map[string]func() ([]*ratings.Table, error){
		MethodRandom:     func() ([]*ratings.Table, error) { return Random(MinRatings(tab, 3, ByUser), ratios, 7) },
		MethodStratified: func() ([]*ratings.Table, error) { return Stratified(tab, ratios, 3, ByUser, 7) },
		MethodChrono:     func() ([]*ratings.Table, error) { return Chrono(tab, ratios, 3, ByUser) },
		MethodLeaveLast:  func() ([]*ratings.Table, error) { return LeaveLast(MinRatings(tab, 3, ByUser), 2) },
	}
	for method, f := range direct {
		want, err := f()
		if err != nil {
			t.Fatal(err)
		}
		got, err := Apply(tab, Spec{Method: method, Ratios: ratios, By: ByUser, MinRatings: 3, Seed: 7, LeaveLast: 2})
		if err != nil {
			t.Fatalf("%s: %v", method, err)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: Apply gave %d parts, the method's function %d", method, len(got), len(want))
		}
		for j := range got {
			g, w := got[j], want[j]
			if !reflect.DeepEqual([][]int32{g.Users, g.Items}, [][]int32{w.Users, w.Items}) || !reflect.DeepEqual(g.Times, w.Times) {
				t.Errorf("%s: part %d differs from the method's function's", method, j)
			}
		}
	}
	if _, err := Apply(tab, Spec{Method: "shuffle", Ratios: ratios}); err == nil {
		t.Error("unknown method accepted")
	}
}
