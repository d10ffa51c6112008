package export

import (
	"context"
	"fmt"
	"testing"

	"github.com/recs-dev/recs/internal/emulator"
)

// The sink benchmarks publish top-10 lists; docs/s and MB/s (10⁶ bytes of
// documents or files) are reported as metrics. The Cosmos and Blob ones
// include the emulator's work on the same cores.

func BenchmarkDirSink(b *testing.B) {
	lists := genLists(100_000, 10, 1)
	b.Run("lists=1e5", func(b *testing.B) {
		var st Stats
		for i := 0; i < b.N; i++ {
			var err error
			st, err = (&DirSink{Dir: b.TempDir()}).Publish(context.Background(), testMeta, Lists(lists))
			if err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(st.DocsPerSecond(), "docs/s")
		b.ReportMetric(st.MBPerSecond(), "MB/s")
	})
}

func BenchmarkBlobSink(b *testing.B) {
	lists := genLists(100_000, 10, 1)
	b.Run("lists=1e5", func(b *testing.B) {
		c, _, _, _ := newTestContainer(b)
		var st Stats
		for i := 0; i < b.N; i++ {
			var err error
			st, err = (&BlobSink{Container: c, Prefix: fmt.Sprint(i)}).Publish(context.Background(), testMeta, Lists(lists))
			if err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(st.DocsPerSecond(), "docs/s")
		b.ReportMetric(st.MBPerSecond(), "MB/s")
	})
}

func BenchmarkCosmosSink(b *testing.B) {
	lists := genLists(20_000, 10, 1)
	for _, conc := range []int{8, 32} {
		b.Run(fmt.Sprintf("docs=2e4/concurrency=%d", conc), func(b *testing.B) {
			emu := emulator.Cosmos(b)
			client, err := NewCosmosClient(emu.Endpoint, emu.Key, nil)
			if err != nil {
				b.Fatal(err)
			}
			var st Stats
			for i := 0; i < b.N; i++ {
				s := &CosmosSink{Client: client, Database: fmt.Sprintf("bench-%d-%d", conc, i), MaxConcurrency: conc}
				if st, err = s.Publish(context.Background(), testMeta, Lists(lists)); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(st.DocsPerSecond(), "docs/s")
			b.ReportMetric(st.MBPerSecond(), "MB/s")
		})
	}
}
