package cli

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestEvalExitCodes checks the exit codes the eval scripts cannot: a
// regression is 5, a flag mistake 2, bad data 3.
func TestEvalExitCodes(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	var train, test strings.Builder
	for u := 1; u <= 12; u++ {
		for i := 0; i < 8; i++ {
			line := strings.Join([]string{strconv.Itoa(u), strconv.Itoa(100 + (u*7+i*3)%15), strconv.Itoa(1 + (u+i)%5)}, "\t") + "\n"
			if i < 2 {
				test.WriteString(line)
			} else {
				train.WriteString(line)
			}
		}
	}
	trainF, testF := write("train.tsv", train.String()), write("test.tsv", test.String())
	model := filepath.Join(dir, "model")
	if code, _, stderr := runArgs(t, "fit", trainF, "-o", model, "--rank", "3", "--max-iter", "3"); code != ExitOK {
		t.Fatalf("fit: exit %d\n%s", code, stderr)
	}
	base := filepath.Join(dir, "base.json")
	better := write("better.json", `{"format":"recs-metrics","version":1,"metrics":{"ndcg@10":{"k":10,"value":1}}}`)
	evalArgs := []string{"eval", "--model", model, "--train", trainF, "--test", testF}
	for _, tc := range []struct {
		args []string
		want int
	}{
		{append(evalArgs, "--json", base), ExitOK},
		{append(evalArgs, "--baseline", base), ExitOK},
		{append(evalArgs, "--baseline", better), ExitRegression},
		{append(evalArgs, "--baseline", better, "--max-regression", "ndcg@10=0.001"), ExitRegression},
		{append(evalArgs, "--baseline", better, "--max-regression", "ndcg@10=1"), ExitOK},
		{[]string{"compare", base, base}, ExitOK},
		{[]string{"compare", better, base}, ExitRegression},
		{[]string{"compare", better, base, "--max-regression", "rmse=1"}, ExitUsage},
		{append(evalArgs, "--k", "0"), ExitUsage},
		{append(evalArgs, "--max-regression", "ndcg@10=1"), ExitUsage},
		{[]string{"eval", "--model", model, "--train", trainF, "--test", write("s.tsv", "x\ty\t1\n")}, ExitInput},
		{[]string{"eval", "--model", model, "--train", trainF, "--test", testF, "--baseline", trainF}, ExitInput},
	} {
		code, _, stderr := runArgs(t, tc.args...)
		if code != tc.want {
			t.Errorf("recs %s: exit %d, want %d\n%s", strings.Join(tc.args, " "), code, tc.want, stderr)
		}
	}
}
