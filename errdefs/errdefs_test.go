package errdefs

import (
	"errors"
	"fmt"
	"io/fs"
	"testing"
)

// TestInputErrorText: "file:line: problem", leaving out what is unknown,
// and a path error about the same file does not name the file twice.
func TestInputErrorText(t *testing.T) {
	notExist := &fs.PathError{Op: "open", Path: "r.csv", Err: fs.ErrNotExist}
	for _, tc := range []struct {
		err  *InputError
		want string
	}{
		{&InputError{File: "r.csv", Line: 3, Err: errors.New(`rating "abc" is not a number`)}, `r.csv:3: rating "abc" is not a number`},
		{&InputError{File: "r.csv", Err: errors.New("empty")}, "r.csv: empty"},
		{&InputError{Line: 7, Err: errors.New("empty")}, "line 7: empty"},
		{&InputError{Err: errors.New("empty")}, "empty"},
		{&InputError{File: "r.csv", Err: notExist}, "r.csv: open: file does not exist"},
		{&InputError{File: "r.csv", Line: 2, Err: notExist}, "r.csv:2: open: file does not exist"},
		// A different path, or a wrapped one, is printed as it is.
		{&InputError{File: "runs", Err: &fs.PathError{Op: "lstat", Path: "runs/latest", Err: fs.ErrNotExist}}, "runs: lstat runs/latest: file does not exist"},
		{&InputError{File: "r.csv", Err: fmt.Errorf("reading: %w", notExist)}, "r.csv: reading: open r.csv: file does not exist"},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
		if !errors.Is(tc.err, tc.err.Err) {
			t.Errorf("%q does not wrap its problem", tc.err)
		}
	}
}
