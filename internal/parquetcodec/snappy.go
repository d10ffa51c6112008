// Package parquetcodec makes the Parquet files recs writes compress with
// Snappy's standard-speed encoder. Import it for its side effect, in every
// package that writes Parquet:
//
//	import _ "github.com/recs-dev/recs/internal/parquetcodec"
//
// arrow-go registers klauspost/compress's snappy package, whose Encode is
// S2's "better" mode: a few percent smaller blocks at about twice the CPU
// time, which made Snappy the largest single cost of `recs ingest` on a
// 25M-row file (14% of its CPU time). The blocks this codec writes are
// standard Snappy, the same format Spark (snappy-java) writes and every
// Parquet reader decodes; decoding is unchanged. The registration is
// process-wide, so every Parquet writer of the binary uses it.
package parquetcodec

import (
	"io"

	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/klauspost/compress/s2"
)

// snappy encodes blocks with s2.EncodeSnappy and leaves the rest (block
// decoding, the stream reader and writer) to the codec arrow-go registered.
type snappy struct {
	base interface {
		compress.ErrorCodec
		compress.StreamingCodec
	}
}

func (c snappy) Encode(dst, src []byte) []byte {
	return s2.EncodeSnappy(dst, src)
}

func (c snappy) EncodeLevel(dst, src []byte, _ int) []byte { return c.Encode(dst, src) }

func (c snappy) CompressBound(n int64) int64 {
	// s2.EncodeSnappy writes into dst only when it has room for the worst
	// case of its own bound (otherwise it allocates).
	return max(c.base.CompressBound(n), int64(s2.MaxEncodedLen(int(n))))
}

func (c snappy) Decode(dst, src []byte) []byte { return c.base.Decode(dst, src) }

func (c snappy) DecodeWithError(dst, src []byte) ([]byte, error) {
	return c.base.DecodeWithError(dst, src)
}

func (c snappy) NewReader(r io.Reader) io.ReadCloser { return c.base.NewReader(r) }

func (c snappy) NewWriter(w io.Writer) io.WriteCloser { return c.base.NewWriter(w) }

func (c snappy) NewWriterLevel(w io.Writer, level int) (io.WriteCloser, error) {
	return c.base.NewWriterLevel(w, level)
}

func init() {
	c, err := compress.GetCodec(compress.Codecs.Snappy)
	if err != nil {
		panic("parquetcodec: arrow-go registers no Snappy codec: " + err.Error())
	}
	base, ok := c.(interface {
		compress.ErrorCodec
		compress.StreamingCodec
	})
	if !ok {
		panic("parquetcodec: arrow-go's Snappy codec lacks block error decoding or streams")
	}
	compress.RegisterCodec(compress.Codecs.Snappy, snappy{base})
}
