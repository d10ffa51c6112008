package pipeline

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ErrLocked is returned when another live process holds the run root.
var ErrLocked = errors.New("another recs train is running on this run root")

// Lock is an exclusive lock on a run root: an flock(2) on ROOT/.lock
// (LockFileEx on Windows; lock_unix.go, lock_windows.go), which the kernel
// releases when its holder dies, so a lock left by a killed run
// is simply taken over. The file also records the holder's pid and start
// time for people reading it.
type Lock struct {
	f *os.File
}

// AcquireLock takes the lock on root without waiting.
func AcquireLock(root string) (*Lock, error) {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, err
	}
	path := filepath.Join(root, ".lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := lockFile(f); err != nil {
		holder, _ := os.ReadFile(path)
		f.Close()
		if errors.Is(err, errWouldBlock) {
			return nil, fmt.Errorf("%w (%s: %s)", ErrLocked, path, strings.TrimSpace(string(holder)))
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte("pid "+strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &Lock{f: f}, nil
}

// Release gives the lock up.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	l.f.Truncate(0)
	err := unlockFile(l.f)
	l.f.Close()
	l.f = nil
	return err
}
