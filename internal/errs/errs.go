// Package errs classifies errors so that the command line can map them to
// exit codes without the library packages knowing about the command line.
//
// A library marks an error by wrapping it: bad input data with Input or
// Inputf (which also carry the file and line), a failing external service
// with Service, a quality-gate failure with ErrRegression. Callers test with
// errors.Is / errors.As; the wrapped error stays reachable with %w.
package errs

import (
	"errors"
	"fmt"
)

// ErrRegression marks a metric that is worse than its baseline allows.
var ErrRegression = errors.New("metric regression")

// InputError is an error in input data: a file, a line (0 when unknown) and
// what is wrong there.
type InputError struct {
	File string // as the user named it; "-" for stdin; "" when unknown
	Line int64  // 1-based; 0 when the error is not about one line
	Err  error
}

func (e *InputError) Error() string {
	switch {
	case e.File != "" && e.Line > 0:
		return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
	case e.File != "":
		return fmt.Sprintf("%s: %v", e.File, e.Err)
	case e.Line > 0:
		return fmt.Sprintf("line %d: %v", e.Line, e.Err)
	}
	return e.Err.Error()
}

func (e *InputError) Unwrap() error { return e.Err }

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

// ServiceError is a failure of an external service (Blob Storage, Cosmos
// DB, an HTTP download) after retries.
type ServiceError struct {
	Service string // "blob", "cosmos", "http"
	Err     error
}

func (e *ServiceError) Error() string { return e.Service + ": " + e.Err.Error() }
func (e *ServiceError) Unwrap() error { return e.Err }

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
