// Package errs builds the errors of package errdefs, so that the command
// line can map them to exit codes without the library packages knowing
// about the command line.
//
// A library marks an error by wrapping it: bad input data with Input or
// Inputf (which also carry the file and line), a failing external service
// with Service, a quality-gate failure with ErrRegression. Callers, inside
// the module or not, test with errors.Is / errors.As on the errdefs types
// (aliased here); the wrapped error stays reachable with %w.
package errs

import (
	"errors"
	"fmt"

	"github.com/recs-dev/recs/errdefs"
)

// ErrRegression marks a metric that is worse than its baseline allows.
var ErrRegression = errdefs.ErrRegression

// InputError is an error in input data: a file, a line (0 when unknown) and
// what is wrong there.
type InputError = errdefs.InputError

// ServiceError is a failure of an external service (Blob Storage, Cosmos
// DB, an HTTP download) after retries.
type ServiceError = errdefs.ServiceError

// Inputf returns an *InputError for file and line with a formatted message.
func Inputf(file string, line int64, format string, args ...any) error {
	return &InputError{File: file, Line: line, Err: fmt.Errorf(format, args...)}
}

// Input wraps err as an *InputError about file (line 0: the whole file).
func Input(file string, err error) error {
	if err == nil {
		return nil
	}
	return &InputError{File: file, Err: err}
}

// Service wraps err as a *ServiceError of the named service.
func Service(service string, err error) error {
	if err == nil {
		return nil
	}
	return &ServiceError{Service: service, Err: err}
}

// IsInput reports whether err is (or wraps) an *InputError.
func IsInput(err error) bool {
	var e *InputError
	return errors.As(err, &e)
}

// IsService reports whether err is (or wraps) a *ServiceError.
func IsService(err error) bool {
	var e *ServiceError
	return errors.As(err, &e)
}
