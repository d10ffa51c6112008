package tune

import (
	"testing"

	"gopkg.in/yaml.v3"
)

func TestConfigYAML(t *testing.T) {
	p := DefaultParams()
	p.Rank, p.MaxIter, p.Reg, p.Implicit, p.Alpha, p.Solver, p.RegMode = 64, 12, 23.4, true, 2.5, "cg", "plain"
	got := string(p.ConfigYAML(42))
	want := `als:
  rank: 64
  max_iter: 12
  reg: 23.4
  implicit: true
  alpha: 2.5
  nonnegative: false
  seed: 42
  solver: cg
  cg_steps: 3
  reg_mode: plain
`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	// It reads back into the same values.
	var back struct {
		ALS struct {
			Params `yaml:",inline"`
			Seed   int64 `yaml:"seed"`
		} `yaml:"als"`
	}
	back.ALS.Params = DefaultParams()
	if err := yaml.Unmarshal([]byte(got), &back); err != nil {
		t.Fatal(err)
	}
	if back.ALS.Params != p || back.ALS.Seed != 42 {
		t.Errorf("read back %+v seed %d, want %+v", back.ALS.Params, back.ALS.Seed, p)
	}
}
