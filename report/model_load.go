package report

import (
	"os"

	"github.com/recs-dev/recs/als"
)

// loadModel reads the model directory at path into in.Model, or records it
// as missing.
func loadModel(in *Inputs, path string, missing func(string, error) (bool, error)) error {
	if _, err := os.Stat(path); err != nil {
		_, err = missing(path, err)
		return err
	}
	m, err := als.Load(path)
	if _, err := missing(path, err); err != nil {
		return err
	}
	in.Model = m
	return nil
}
