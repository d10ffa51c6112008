package toplist

import (
	"bytes"
	"fmt"
	"io"
	"testing"
)

func benchLists(n int) []List {
	lists := make([]List, n)
	for u := range lists {
		items := make([]Item, 10)
		for j := range items {
			items[j] = Item{ID: fmt.Sprint((u*7919+j*22895)%27278 + 1), Score: 5 - float32(j)*0.125 - float32(u%97)/1024}
		}
		lists[u] = List{User: fmt.Sprint(u + 1), Items: items}
	}
	return lists
}

// BenchmarkWrite and BenchmarkRead measure 100k top-10 lists per format;
// b.SetBytes is the encoded size, so MB/s is of the file.
func BenchmarkWrite(b *testing.B) {
	lists := benchLists(100_000)
	for _, f := range Formats {
		b.Run("format="+string(f)+"/lists=1e5", func(b *testing.B) {
			var size int64
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				var buf bytes.Buffer
				w, _ := NewWriter(&buf, f, sampleMeta)
				for _, l := range lists {
					w.Write(l)
				}
				w.Close()
				size = int64(buf.Len())
			}
			b.ReportMetric(float64(size)/1e6*float64(b.N)/b.Elapsed().Seconds(), "MB/s")
			b.ReportMetric(float64(len(lists))*float64(b.N)/b.Elapsed().Seconds(), "lists/s")
		})
	}
}

func BenchmarkRead(b *testing.B) {
	lists := benchLists(100_000)
	meta := sampleMeta
	meta.K = 10
	for _, f := range Formats {
		var buf bytes.Buffer
		w, _ := NewWriter(&buf, f, meta)
		for _, l := range lists {
			w.Write(l)
		}
		w.Close()
		data := buf.Bytes()
		b.Run("format="+string(f)+"/lists=1e5", func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for i := 0; i < b.N; i++ {
				r, err := NewReader(bytes.NewReader(data), f, "bench")
				if err != nil {
					b.Fatal(err)
				}
				for {
					if _, err := r.Next(); err == io.EOF {
						break
					} else if err != nil {
						b.Fatal(err)
					}
				}
				r.Close()
			}
			b.ReportMetric(float64(len(lists))*float64(b.N)/b.Elapsed().Seconds(), "lists/s")
		})
	}
}
