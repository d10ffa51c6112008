package ingest

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/recs-dev/recs/synth"
)

// BenchmarkRead parses the synthetic ml-1m preset (1,000,209 ratings) from
// memory in each text format; MB/s is input bytes per second. The
// end-to-end comparison with pandas is scripts/bench-ingest.sh.
func BenchmarkRead(b *testing.B) {
	c, err := synth.PresetConfig("ml-1m")
	if err != nil {
		b.Fatal(err)
	}
	for _, f := range []synth.Format{synth.FormatCSV, synth.FormatUData, synth.FormatDat} {
		var buf bytes.Buffer
		if err := synth.WriteText(context.Background(), &buf, c, f); err != nil {
			b.Fatal(err)
		}
		data := buf.Bytes()
		for _, workers := range []int{1, 2} {
			b.Run(fmt.Sprintf("rows=1e6/format=%s/workers=%d", f, workers), func(b *testing.B) {
				b.SetBytes(int64(len(data)))
				for i := 0; i < b.N; i++ {
					if _, _, err := ReadFrom(context.Background(), "bench", bytes.NewReader(data), Options{Workers: workers}); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
