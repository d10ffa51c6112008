package report

import (
	"io"
	"testing"
)

// BenchmarkWrite renders the report of a run shaped like MovieLens 1M
// (1,000,000 training ratings, 6,000 users, 3,700 items, top 10): the cost
// is the statistics over the table and the lists, plus the plots.
func BenchmarkWrite(b *testing.B) {
	b.Run("rows=1e6/users=6e3/items=3.7e3", func(b *testing.B) {
		tbl := fixtureTable(1, 6000, 3700, 1_000_000)
		in := Inputs{RunDir: "run", Manifest: fixtureManifest(), Model: fixtureModel(tbl), Train: tbl,
			TopK: fixtureLists(2, tbl, 10, 1.2)}
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			if err := Write(io.Discard, in); err != nil {
				b.Fatal(err)
			}
		}
	})
}
