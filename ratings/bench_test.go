package ratings

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// cpuTime returns the CPU time (user + system) this process has used. On a
// machine shared with other work, CPU time per operation is steadier than
// wall time; the benchmarks report both.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchTable returns a MovieLens-25M-shaped table of n rows: 162,541 users
// and 59,047 items with integer ids (ml-25m's counts), ratings in half
// steps, increasing timestamps. strIDs gives string ids instead.
func benchTable(n int, strIDs bool) *Table {
	const nu, ni = 162541, 59047
	rng := rand.New(rand.NewPCG(42, 0))
	userIDs, itemIDs := make([]string, nu), make([]string, ni)
	for i := range userIDs {
		userIDs[i] = strconv.Itoa(i + 1)
		if strIDs {
			userIDs[i] = fmt.Sprintf("U%013d", i+1)
		}
	}
	for i := range itemIDs {
		itemIDs[i] = strconv.Itoa(i*3 + 1)
		if strIDs {
			itemIDs[i] = fmt.Sprintf("B%09d", i*3+1)
		}
	}
	t := &Table{UserIDs: userIDs, ItemIDs: itemIDs, Users: make([]int32, n), Items: make([]int32, n),
		Ratings: make([]float32, n), Times: make([]int64, n)}
	u := int32(0)
	for r := 0; r < n; r++ {
		if rng.IntN(150) == 0 {
			u = int32(rng.IntN(nu))
		}
		t.Users[r] = u
		// Long-tailed item popularity.
		f := rng.Float64()
		t.Items[r] = int32(f * f * f * ni)
		t.Ratings[r] = float32(rng.IntN(10)+1) / 2
		t.Times[r] = 789652009 + int64(r)/2
	}
	return t
}

// BenchmarkParquet writes and reads tables in memory. The 25M-row case is
// the MovieLens 25M size; run it with -bench Parquet/rows=25e6 -benchtime 1x.
func BenchmarkParquet(b *testing.B) {
	for _, size := range []struct {
		name string
		n    int
	}{{"1e6", 1e6}, {"25e6", 25e6}} {
		for _, kind := range []string{"int", "string"} {
			var tab *Table
			var buf bytes.Buffer
			prepare := func(b *testing.B) {
				if tab == nil {
					tab = benchTable(size.n, kind == "string")
				}
				if buf.Len() == 0 {
					if err := WriteParquet(&buf, tab); err != nil {
						b.Fatal(err)
					}
				}
				b.ResetTimer()
			}
			b.Run("write/rows="+size.name+"/ids="+kind, func(b *testing.B) {
				prepare(b)
				b.SetBytes(int64(size.n) * 28) // 4+4+4+8 bytes + ids as int64: 28 bytes a row uncompressed
				c0 := cpuTime()
				for i := 0; i < b.N; i++ {
					buf.Reset()
					if err := WriteParquet(&buf, tab); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(cpuTime()-c0)/1e6/float64(b.N), "cpu-ms/op")
				b.ReportMetric(float64(buf.Len())/float64(size.n), "file-bytes/row")
			})
			b.Run("read/rows="+size.name+"/ids="+kind, func(b *testing.B) {
				prepare(b)
				data := buf.Bytes()
				b.SetBytes(int64(size.n) * 28)
				c0 := cpuTime()
				for i := 0; i < b.N; i++ {
					got, err := ReadParquet(bytes.NewReader(data), "bench")
					if err != nil {
						b.Fatal(err)
					}
					if got.Len() != size.n {
						b.Fatalf("read %d rows", got.Len())
					}
				}
				b.ReportMetric(float64(cpuTime()-c0)/1e6/float64(b.N), "cpu-ms/op")
			})
		}
	}
}

// BenchmarkSummary: Table.Summary over MovieLens 25M-sized columns.
func BenchmarkSummary(b *testing.B) {
	tab := benchTable(25e6, false)
	b.SetBytes(int64(tab.Len()) * 12) // ratings and times
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_ = tab.Summary()
	}
}
