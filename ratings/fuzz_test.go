package ratings

import (
	"bytes"
	"math"
	"strconv"
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

// FuzzWriteParquet writes tables built from the fuzzer's bytes (ids,
// ratings and times drawn from them, so runs, literals and dictionary
// sizes vary) and reads them back. Invariant: the table read back has the
// same rows, ratings bit for bit.
func FuzzWriteParquet(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9}, uint8(3), uint8(5))
	f.Add(bytes.Repeat([]byte{7}, 300), uint8(0), uint8(255))
	f.Fuzz(func(t *testing.T, data []byte, userMask, itemMask uint8) {
		n := len(data)
		ids := func(mask uint8, off int) ([]string, []int32) {
			dict := make([]string, 256)
			for i := range dict {
				dict[i] = strconv.Itoa(i*37 - 100)
			}
			rows := make([]int32, n)
			for r := range rows {
				rows[r] = int32(data[(r+off)%n] & mask)
			}
			return dict, rows
		}
		userIDs, users := ids(userMask, 0)
		itemIDs, items := ids(itemMask, 1)
		rs := make([]float32, n)
		ts := make([]int64, n)
		for r := range rs {
			rs[r] = float32(data[r]%11) / 2
			ts[r] = int64(data[r]) << 20
		}
		tab, err := New(userIDs, itemIDs, users, items, rs, ts)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := WriteParquet(&buf, tab); err != nil {
			t.Fatal(err)
		}
		back, err := ReadParquet(bytes.NewReader(buf.Bytes()), "fuzz.parquet")
		if err != nil {
			t.Fatal(err)
		}
		if back.Len() != n {
			t.Fatalf("%d rows read back, want %d", back.Len(), n)
		}
		for r := range n {
			if back.UserIDs[back.Users[r]] != userIDs[users[r]] || back.ItemIDs[back.Items[r]] != itemIDs[items[r]] ||
				math.Float32bits(back.Ratings[r]) != math.Float32bits(rs[r]) || back.Times[r] != ts[r] {
				t.Fatalf("row %d differs", r)
			}
		}
	})
}
