package report

import "os"

// loadModel reads the model directory into in.Model.
// Until als.Load lands, a present model directory is not read.
func loadModel(in *Inputs, path string, missing func(string, error) (bool, error)) error {
	if _, err := os.Stat(path); err != nil {
		_, err = missing(path, err)
		return err
	}
	return nil
}
