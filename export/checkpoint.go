package export

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"github.com/recs-dev/recs/internal/atomicfile"
)

const checkpointFormat = "recs-cosmos-checkpoint"

// Checkpoint records how far a Cosmos export got: every list before Done
// (in the order of the source) has been written. It names the target and
// the lists so that a resume never skips lists of a different run.
type Checkpoint struct {
	Format      string    `json:"format"`
	Version     int       `json:"version"`
	Target      string    `json:"target"` // endpoint host / database / container / shape / ttl
	Model       string    `json:"model"`
	GeneratedAt time.Time `json:"generatedAt"`
	Done        int64     `json:"done"`      // lists 0..Done-1 are written
	LastUser    string    `json:"lastUser"`  // user of list Done-1
	UsersHash   string    `json:"usersHash"` // SHA-256 over the users of lists 0..Done-1, to detect a changed source
	Complete    bool      `json:"complete"`  // the whole source was written
	UpdatedAt   time.Time `json:"updatedAt"`
}

// ReadCheckpoint reads the checkpoint at path; a missing file is (nil, nil).
func ReadCheckpoint(path string) (*Checkpoint, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var c Checkpoint
	if err := json.Unmarshal(b, &c); err != nil || c.Format != checkpointFormat || c.Version != 1 {
		return nil, fmt.Errorf("%s: not a recs Cosmos checkpoint (delete it to start over)", path)
	}
	return &c, nil
}

func writeCheckpoint(path string, c *Checkpoint) error {
	c.Format, c.Version, c.UpdatedAt = checkpointFormat, 1, time.Now().UTC()
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, func(w io.Writer) error {
		_, err := w.Write(append(b, '\n'))
		return err
	})
}
