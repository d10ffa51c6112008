package ratings

import (
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
)

func TestNewValidates(t *testing.T) {
	ids := []string{"a", "b"}
	tests := []struct {
		name    string
		users   []int32
		items   []int32
		ratings []float32
		times   []int64
		want    string // "" for success
	}{
		{"ok", []int32{0, 1}, []int32{1, 0}, []float32{1, 2}, []int64{5, 6}, ""},
		{"ok no times", []int32{0}, []int32{0}, []float32{1}, nil, ""},
		{"lengths", []int32{0, 1}, []int32{0}, []float32{1, 2}, nil, "column lengths differ"},
		{"times length", []int32{0}, []int32{0}, []float32{1}, []int64{1, 2}, "column lengths differ"},
		{"user range", []int32{2}, []int32{0}, []float32{1}, nil, "row 0: user index 2 out of range"},
		{"item negative", []int32{0}, []int32{-1}, []float32{1}, nil, "row 0: item index -1 out of range"},
		{"NaN", []int32{0, 0}, []int32{0, 1}, []float32{1, float32(math.NaN())}, nil, "row 1: rating NaN is not finite"},
		{"Inf", []int32{0}, []int32{0}, []float32{float32(math.Inf(-1))}, nil, "is not finite"},
	}
	for _, tc := range tests {
		_, err := New(ids, ids, tc.users, tc.items, tc.ratings, tc.times)
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
}

// A large table is checked in parts concurrently; the error still names
// the first bad row (here a bad rating in the last part comes after a bad
// item index in the second).
func TestNewValidatesFirstBadRowOfMany(t *testing.T) {
	n := 3 << 20
	users, items, rs := make([]int32, n), make([]int32, n), make([]float32, n)
	rs[n-5] = float32(math.NaN())
	items[n/2+7] = 9
	_, err := New([]string{"a"}, []string{"b"}, users, items, rs, nil)
	if want := fmt.Sprintf("row %d: item index 9 out of range", n/2+7); err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %v, want %q", err, want)
	}
	items[n/2+7] = 0
	if _, err := New([]string{"a"}, []string{"b"}, users, items, rs, nil); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("row %d: rating NaN", n-5)) {
		t.Fatalf("error %v, want row %d", err, n-5)
	}
}

func TestSubsetCompactCSR(t *testing.T) {
	tab := mustTable(t, true,
		[4]string{"u1", "i1", "1", "10"},
		[4]string{"u2", "i2", "2", "20"},
		[4]string{"u1", "i3", "3", "30"},
		[4]string{"u3", "i1", "4", "40"})
	sub := tab.Subset([]int{3, 0})
	if !reflect.DeepEqual(sub.Ratings, []float32{4, 1}) || !reflect.DeepEqual(sub.Times, []int64{40, 10}) {
		t.Errorf("subset %v %v", sub.Ratings, sub.Times)
	}
	if sub.NumUsers() != 3 || &sub.UserIDs[0] != &tab.UserIDs[0] {
		t.Error("subset does not share the user dictionary")
	}
	c := sub.Compact()
	if !reflect.DeepEqual(c.UserIDs, []string{"u3", "u1"}) || !reflect.DeepEqual(c.ItemIDs, []string{"i1"}) ||
		!reflect.DeepEqual(c.Users, []int32{0, 1}) || !reflect.DeepEqual(c.Items, []int32{0, 0}) {
		t.Errorf("compact %v %v %v %v", c.UserIDs, c.ItemIDs, c.Users, c.Items)
	}
	if i, ok := tab.ItemIndex("i3"); !ok || i != 2 {
		t.Errorf("ItemIndex(i3) = %d, %v", i, ok)
	}
	if _, ok := tab.UserIndex("nobody"); ok {
		t.Error("UserIndex found an unknown id")
	}
	// By user: u1 has rows 0 and 2 (items i1, i3) in table order; u2 row 1;
	// u3 row 3.
	csr := tab.ByUser()
	cols, vals := csr.Row(0)
	if csr.NumRows() != 3 || !reflect.DeepEqual(cols, []int32{0, 2}) || !reflect.DeepEqual(vals, []float32{1, 3}) ||
		!reflect.DeepEqual(csr.Rows[:2], []int64{0, 2}) || csr.RowLen(2) != 1 {
		t.Errorf("by user: %+v", csr)
	}
	// By item: i1 has users u1 (row 0) and u3 (row 3).
	cols, vals = tab.ByItem().Row(0)
	if !reflect.DeepEqual(cols, []int32{0, 2}) || !reflect.DeepEqual(vals, []float32{1, 4}) {
		t.Errorf("by item row 0: %v %v", cols, vals)
	}
}
