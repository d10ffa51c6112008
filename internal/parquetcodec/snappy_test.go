package parquetcodec

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/parquet/compress"
	gosnappy "github.com/golang/snappy"
)

// The Snappy codec Parquet writers get is this package's, and its blocks
// decode with the reference Snappy decoder (github.com/golang/snappy, the
// Go port of Google's) and with the codec's own Decode.
func TestSnappyBlocks(t *testing.T) {
	c, err := compress.GetCodec(compress.Codecs.Snappy)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.(snappy); !ok {
		t.Fatalf("registered Snappy codec is %T, want parquetcodec.snappy", c)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, 1<<20)
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	ts := make([]byte, 0, 8<<20) // little-endian int64 timestamps, as in a ratings file
	for i := 0; i < 1<<20; i++ {
		v := uint64(789652009 + rng.IntN(1<<24))
		for b := 0; b < 8; b++ {
			ts = append(ts, byte(v>>(8*b)))
		}
	}
	for name, src := range map[string][]byte{
		"empty": {}, "short": []byte("abc"), "zeros": make([]byte, 100000),
		"random": random, "timestamps": ts,
	} {
		dst := make([]byte, c.CompressBound(int64(len(src))))
		enc := c.Encode(dst, src)
		got, err := gosnappy.Decode(nil, enc)
		if err != nil || !bytes.Equal(got, src) {
			t.Errorf("%s: reference decoder: err %v, equal %v", name, err, bytes.Equal(got, src))
		}
		if got := c.Decode(nil, enc); !bytes.Equal(got, src) {
			t.Errorf("%s: codec Decode differs", name)
		}
		// 100,000 zero bytes are one literal and then copies of up to 64
		// bytes at 2-3 bytes each: a few KB, well under a tenth.
		if name == "zeros" && len(enc) > len(src)/10 {
			t.Errorf("zeros: %d bytes compressed to %d", len(src), len(enc))
		}
	}
}
