package eval

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/recs-dev/recs/internal/errs"
)

// FuzzReadPredictions: any input either parses or fails with an input
// error naming the file; parsed rows have non-empty ids, finite scores, no
// repeated (user, item) pair, and are no more than the input's lines.
func FuzzReadPredictions(f *testing.F) {
	for _, s := range []string{
		"user,item,score\n1,2,0.5\n1,3,0.25\n",
		"1\t2\t0.5\r\n\n2\t2\t1e-3\r\n",
		"1,2,0.5,x\n1,2,0.7\n",
		"a,b,NaN\n", "a,b\n", "", "\n\n", "h1,h2,h3\nh1,h2,h3\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		p, err := ReadPredictions(context.Background(), strings.NewReader(in), "f.csv")
		if err != nil {
			var ie *errs.InputError
			if !errors.As(err, &ie) || ie.File != "f.csv" {
				t.Fatalf("error %v is not an input error about f.csv", err)
			}
			return
		}
		if p.Len() > strings.Count(in, "\n")+1 {
			t.Fatalf("%d rows from %d lines", p.Len(), strings.Count(in, "\n")+1)
		}
		seen := map[[2]int32]bool{}
		for r := 0; r < p.Len(); r++ {
			if p.UserIDs[p.Users[r]] == "" || p.ItemIDs[p.Items[r]] == "" {
				t.Fatalf("row %d: empty id", r)
			}
			if s := float64(p.Scores[r]); math.IsNaN(s) || math.IsInf(s, 0) {
				t.Fatalf("row %d: score %v", r, s)
			}
			k := [2]int32{p.Users[r], p.Items[r]}
			if seen[k] {
				t.Fatalf("row %d: pair repeated", r)
			}
			seen[k] = true
		}
	})
}

// FuzzParseAllowances: any input parses or errors; what parses has valid
// keys, finite values ≥ 0, no repeated key, and parses again to the same
// allowances when printed back.
func FuzzParseAllowances(f *testing.F) {
	for _, s := range []string{"ndcg@10=0.01,rmse=0.005", "*=0", "map_at_k@5=1e-3, coverage@20=0.1", "rmse=-1", "ndcg=1", "=", ",,"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		al, err := ParseAllowances(in)
		if err != nil {
			return
		}
		var parts []string
		seen := map[string]bool{}
		for _, a := range al {
			if a.Key != "*" {
				if _, _, err := SplitKey(a.Key); err != nil {
					t.Fatalf("key %q accepted: %v", a.Key, err)
				}
			}
			if a.Max < 0 || math.IsNaN(a.Max) || math.IsInf(a.Max, 0) || seen[a.Key] {
				t.Fatalf("allowance %+v accepted", a)
			}
			seen[a.Key] = true
			parts = append(parts, fmt.Sprintf("%s=%v", a.Key, a.Max))
		}
		again, err := ParseAllowances(strings.Join(parts, ","))
		if err != nil || len(again) != len(al) {
			t.Fatalf("printed %q does not parse back: %v", strings.Join(parts, ","), err)
		}
		for i := range al {
			if again[i] != al[i] {
				t.Fatalf("round trip %+v -> %+v", al[i], again[i])
			}
		}
	})
}
