package pipeline

import (
	"bytes"
	"strings"
	"testing"

	"github.com/recs-dev/recs/eval"
)

// TestPublishedRowsMatchTheSetting: the Spark ALS row (measured at rank
// 10, regParam 0.05, 15 iterations, explicit) stands only beside a run of
// that setting; the other algorithms' rows beside any run of the protocol.
func TestPublishedRowsMatchTheSetting(t *testing.T) {
	doc := &eval.Document{}
	for _, tc := range []struct {
		name  string
		run   ALSConfig
		spark bool
	}{
		{"spark setting", ALSConfig{Rank: 10, Reg: 0.05, MaxIter: 15}, true},
		{"spark setting, spark reg mode", ALSConfig{Rank: 10, Reg: 0.05, MaxIter: 15, RegMode: "spark"}, true},
		{"implicit rank 64", ALSConfig{Rank: 64, Reg: 50, MaxIter: 15, Implicit: true, Alpha: 2, RegMode: "plain"}, false},
		{"explicit rank 10 with biases", ALSConfig{Rank: 10, Reg: 0.05, MaxIter: 15, Biases: true}, false},
		{"explicit other reg", ALSConfig{Rank: 10, Reg: 0.1, MaxIter: 15}, false},
	} {
		var b bytes.Buffer
		if err := WritePublishedComparison(&b, doc, tc.run); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		if got := strings.Contains(out, "Spark ALS"); got != tc.spark {
			t.Errorf("%s: Spark ALS row shown = %v, want %v:\n%s", tc.name, got, tc.spark, out)
		}
		if !strings.Contains(out, "BiVAE") || !strings.Contains(out, "recs (this run)") {
			t.Errorf("%s: the other algorithms' rows are missing:\n%s", tc.name, out)
		}
	}
}
