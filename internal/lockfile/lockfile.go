// Package lockfile takes exclusive locks on files without waiting: flock(2)
// on Unix, LockFileEx on Windows. The kernel releases such a lock when its
// holder dies, so a lock left by a killed process is simply taken over. The
// file records the holder's pid for people reading it.
package lockfile

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// ErrLocked matches (errors.Is) the *HeldError TryLock returns when
// another live process holds the lock.
var ErrLocked = errors.New("locked by another process")

// HeldError says who holds a lock: Holder is what the holder wrote in the
// file ("pid 1234").
type HeldError struct{ Path, Holder string }

func (e *HeldError) Error() string        { return fmt.Sprintf("%s is locked (%s)", e.Path, e.Holder) }
func (e *HeldError) Is(target error) bool { return target == ErrLocked }

// Lock is a held lock.
type Lock struct{ f *os.File }

// TryLock creates path if needed and locks it, or fails at once with a
// *HeldError when another process holds it.
func TryLock(path string) (*Lock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := lockFile(f); err != nil {
		holder, _ := os.ReadFile(path)
		f.Close()
		if errors.Is(err, errWouldBlock) {
			return nil, &HeldError{Path: path, Holder: strings.TrimSpace(string(holder))}
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte("pid "+strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &Lock{f: f}, nil
}

// Unlock gives the lock up; a nil or released Lock is a no-op.
func (l *Lock) Unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	l.f.Truncate(0)
	err := unlockFile(l.f)
	l.f.Close()
	l.f = nil
	return err
}
