package pipeline

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/recs-dev/recs/internal/lockfile"
)

// ErrLocked is returned when another live process holds the run root.
var ErrLocked = errors.New("another recs train is running on this run root")

// Lock is an exclusive lock on a run root: a lockfile on ROOT/.lock, which
// the kernel releases when its holder dies, so a lock left by a killed run
// is simply taken over.
type Lock struct {
	l *lockfile.Lock
}

// AcquireLock takes the lock on root without waiting.
func AcquireLock(root string) (*Lock, error) {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, err
	}
	l, err := lockfile.TryLock(filepath.Join(root, ".lock"))
	var held *lockfile.HeldError
	if errors.As(err, &held) {
		return nil, fmt.Errorf("%w (%s: %s)", ErrLocked, held.Path, held.Holder)
	}
	if err != nil {
		return nil, err
	}
	return &Lock{l: l}, nil
}

// Release gives the lock up.
func (l *Lock) Release() error {
	if l == nil {
		return nil
	}
	return l.l.Unlock()
}
