package pipeline

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"time"

	"github.com/recs-dev/recs/rundir"
)

// stepTimer records the wall time of pipeline steps and the process's peak
// memory at the end of each (a running maximum: the peak of a step is at
// most the value recorded for it).
type stepTimer struct {
	steps []rundir.Step
}

func (s *stepTimer) run(name string, fn func() error) error {
	start := time.Now()
	err := fn()
	s.steps = append(s.steps, rundir.Step{Name: name, WallS: time.Since(start).Seconds(), PeakRSSMB: peakRSSMB()})
	return err
}

// fileSHA256 returns the hex SHA-256 of a file's bytes.
func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
