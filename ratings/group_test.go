package ratings

import (
	"slices"
	"testing"
)

func TestGroupBy(t *testing.T) {
	for _, tc := range []struct {
		name  string
		keys  []int32
		n     int
		start []int64
		pos   []int32
	}{
		{"empty", nil, 2, []int64{0, 0, 0}, []int32{}},
		{"stable", []int32{1, 0, 1, 2, 0}, 3, []int64{0, 2, 4, 5}, []int32{1, 4, 0, 2, 3}},
		{"empty groups", []int32{3, 3, 0}, 5, []int64{0, 1, 1, 1, 3, 3}, []int32{2, 0, 1}},
		{"negative keys left out", []int32{-1, 1, -1, 0}, 2, []int64{0, 1, 2}, []int32{3, 1}},
	} {
		g := GroupBy[int32](tc.keys, tc.n)
		if !slices.Equal(g.Start, tc.start) || !slices.Equal(g.Pos, tc.pos) || g.Len() != tc.n {
			t.Errorf("%s: GroupBy(%v, %d) = %v %v, want %v %v", tc.name, tc.keys, tc.n, g.Start, g.Pos, tc.start, tc.pos)
		}
		g64 := GroupBy[int64](tc.keys, tc.n)
		for k := range tc.n {
			var got []int32
			for _, p := range g64.Of(k) {
				got = append(got, int32(p))
			}
			if want := tc.pos[tc.start[k]:tc.start[k+1]]; !slices.Equal(got, want) {
				t.Errorf("%s: GroupBy[int64] group %d = %v, want %v", tc.name, k, got, want)
			}
		}
	}
}
