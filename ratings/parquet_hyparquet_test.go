package ratings_test

import (
	"bufio"
	"bytes"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/parquet/file"

	"github.com/recs-dev/recs/internal/emulator"
	"github.com/recs-dev/recs/internal/testenv"
	"github.com/recs-dev/recs/ratings"
)

// TestParquetReadByHyparquet: the files WriteParquet encodes are read by
// hyparquet, a Parquet reader that shares no code with arrow-go (pinned in
// testdata/emulators), as the rows of the table: integer ids in runs and
// literals over two row groups, the first with column chunks that are
// PLAIN (140,000 distinct items are more than a 1 MiB dictionary page
// holds; more distinct ratings than a dictionary takes), the second with
// 17-bit dictionary indices (100,000 distinct items); and string ids
// without timestamps, with ratings 0 and -0.
func TestParquetReadByHyparquet(t *testing.T) {
	dir, err := emulator.Dir()
	if err != nil {
		t.Fatal(err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		testenv.Missing(t, "node is not on PATH")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "hyparquet")); err != nil {
		testenv.Missing(t, "hyparquet is not installed in %s; run 'make emulator-deps'", dir)
	}

	// Two row groups: rows below ParquetRowGroupRows take 140,000 items
	// and dense ratings, the rest 100,000 items and half-star ratings.
	n := ratings.ParquetRowGroupRows + 200_000
	itemIDs := make([]string, 140_000)
	for i := range itemIDs {
		itemIDs[i] = strconv.Itoa(1_000_000_007 * (i - 500))
	}
	users, items := make([]int32, n), make([]int32, n)
	rs, ts := make([]float32, n), make([]int64, n)
	for r := range n {
		users[r] = int32(r / 157 % 3000)
		if r < ratings.ParquetRowGroupRows {
			items[r] = int32(r * 7919 % 140_000)
			rs[r] = float32(r%6000) / 4
		} else {
			items[r] = int32(r * 7919 % 100_000)
			rs[r] = float32(r%10+1) / 2
		}
		ts[r] = 1_600_000_000 - int64(r%86_400)*60
	}
	userIDs := make([]string, 3000)
	for i := range userIDs {
		userIDs[i] = strconv.Itoa(i + 1)
	}
	wide, err := ratings.New(userIDs, itemIDs, users, items, rs, ts)
	if err != nil {
		t.Fatal(err)
	}

	m := 50_000
	sUsers, sItems, sRatings := make([]int32, m), make([]int32, m), make([]float32, m)
	for r := range m {
		sUsers[r] = int32(r / 40 % 500)
		sItems[r] = int32(r * 31 % 2000)
		sRatings[r] = float32(r%5 + 1)
		switch r % 1000 {
		case 1:
			sRatings[r] = 0
		case 2:
			sRatings[r] = float32(math.Copysign(0, -1))
		}
	}
	sUserIDs, sItemIDs := make([]string, 500), make([]string, 2000)
	for i := range sUserIDs {
		sUserIDs[i] = "user-" + strconv.Itoa(i)
	}
	for i := range sItemIDs {
		sItemIDs[i] = "item é " + strconv.Itoa(i)
	}
	str, err := ratings.New(sUserIDs, sItemIDs, sUsers, sItems, sRatings, nil)
	if err != nil {
		t.Fatal(err)
	}

	for name, tab := range map[string]*ratings.Table{"wide": wide, "strings": str} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), name+".parquet")
			if err := ratings.WriteFile(path, tab); err != nil {
				t.Fatal(err)
			}
			if name == "wide" {
				// The chunks are as described above: item and rating
				// PLAIN in the first row group, dictionaries in the second.
				r, err := file.OpenParquetFile(path, false)
				if err != nil {
					t.Fatal(err)
				}
				defer r.Close()
				for g, wantDict := range []bool{false, true} {
					for _, c := range []int{1, 2} {
						cc, err := r.MetaData().RowGroup(g).ColumnChunk(c)
						if err != nil {
							t.Fatal(err)
						}
						if cc.HasDictionaryPage() != wantDict {
							t.Fatalf("row group %d column %d: dictionary %v, want %v", g, c, cc.HasDictionaryPage(), wantDict)
						}
					}
				}
			}
			cmd := exec.Command(node, "read-parquet.mjs", path)
			cmd.Dir = dir
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("hyparquet: %v\n%s", err, stderr.Bytes())
			}
			sc := bufio.NewScanner(bytes.NewReader(out))
			r := 0
			for ; sc.Scan(); r++ {
				if r >= tab.Len() {
					t.Fatalf("hyparquet read more than the %d rows", tab.Len())
				}
				f := strings.Split(sc.Text(), "\t")
				want := []string{tab.UserIDs[tab.Users[r]], tab.ItemIDs[tab.Items[r]]}
				if len(f) != 4 || f[0] != want[0] || f[1] != want[1] {
					t.Fatalf("row %d: hyparquet read %q, want ids %q", r, sc.Text(), want)
				}
				v, err := strconv.ParseFloat(f[2], 64)
				if err != nil || math.Float32bits(float32(v)) != math.Float32bits(tab.Ratings[r]) {
					t.Fatalf("row %d: hyparquet read rating %q, want %v", r, f[2], tab.Ratings[r])
				}
				wantTime := ""
				if tab.HasTimes() {
					wantTime = strconv.FormatInt(tab.Times[r], 10)
				}
				if f[3] != wantTime {
					t.Fatalf("row %d: hyparquet read timestamp %q, want %q", r, f[3], wantTime)
				}
			}
			if r != tab.Len() {
				t.Fatalf("hyparquet read %d rows, want %d", r, tab.Len())
			}
		})
	}
}
