package synth

import (
	"context"
	"io"
	"testing"
)

// BenchmarkWriteText measures generating and formatting the ml-1m preset
// (1,000,209 ratings) as CSV; ns/op is per data set.
func BenchmarkWriteText(b *testing.B) {
	c, _ := PresetConfig("ml-1m")
	for _, workers := range []int{1, 2} {
		c.Workers = workers
		b.Run("ml-1m/workers="+string(rune('0'+workers)), func(b *testing.B) {
			b.SetBytes(c.Ratings) // "MB/s" reads as million ratings per second
			for i := 0; i < b.N; i++ {
				if err := WriteText(context.Background(), io.Discard, c, FormatCSV); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
