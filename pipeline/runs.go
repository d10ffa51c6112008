package pipeline

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/recs-dev/recs/rundir"
)

// newRunID returns "<UTC time to the millisecond>-<6 hex>", which sorts
// by time (runs on one root are serialised by the lock).
func newRunID(now time.Time) string {
	var b [3]byte
	rand.Read(b[:])
	return now.UTC().Format("20060102T150405.000Z") + "-" + hex.EncodeToString(b[:])
}

// switchLatest points ROOT/latest at run (a directory name inside root)
// atomically: a new symbolic link is made under a temporary name and renamed
// over the old one, so readers see the old run or the new one, never none.
func switchLatest(root, run string) error {
	tmp := filepath.Join(root, fmt.Sprintf(".latest-%d", os.Getpid()))
	os.Remove(tmp)
	if err := os.Symlink(run, tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(root, rundir.LatestLink)); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// ResolveLatest returns the run directory ROOT/latest points at.
func ResolveLatest(root string) (string, error) {
	target, err := os.Readlink(filepath.Join(root, rundir.LatestLink))
	if err != nil {
		return "", err
	}
	if !filepath.IsAbs(target) {
		target = filepath.Join(root, target)
	}
	return target, nil
}

// runDirs lists the run directories under root, oldest first.
func runDirs(root string) ([]string, error) {
	ents, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range ents {
		n := e.Name()
		if e.IsDir() && !strings.HasPrefix(n, ".") && len(n) > 17 && n[8] == 'T' {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names, nil
}

// prune removes all but the newest keep runs under root, never the one
// latest points at. keep <= 0 keeps everything. It returns the removed names.
func prune(root string, keep int) ([]string, error) {
	if keep <= 0 {
		return nil, nil
	}
	names, err := runDirs(root)
	if err != nil {
		return nil, err
	}
	latest, _ := ResolveLatest(root)
	var removed []string
	for i := 0; i < len(names)-keep; i++ {
		p := filepath.Join(root, names[i])
		if p == latest {
			continue
		}
		if err := os.RemoveAll(p); err != nil {
			return removed, err
		}
		removed = append(removed, names[i])
	}
	return removed, nil
}
