// Package errdefs defines the errors that recs's packages return for the
// conditions a caller may want to tell apart from any other failure: bad
// input data (*InputError, naming the file and the line), an external
// service that still failed after retries (*ServiceError), and a metric
// that regressed beyond its allowance (ErrRegression). Match them with
// errors.As and errors.Is; the underlying error stays reachable with
// errors.Unwrap.
//
//	var ie *errdefs.InputError
//	if errors.As(err, &ie) {
//		fmt.Printf("fix %s line %d: %v\n", ie.File, ie.Line, ie.Err)
//	}
//
// The recs command maps them to its exit codes 3, 4 and 5. Each package's
// documentation says which of them it returns.
package errdefs

import (
	"errors"
	"fmt"
	"io/fs"
)

// ErrRegression is wrapped by the errors that report a metric worse than
// its baseline allows (eval.Compare, pipeline.Run's quality gate).
var ErrRegression = errors.New("metric regression")

// InputError is an error in input data: a file, a line (0 when unknown) and
// what is wrong there.
type InputError struct {
	File string // as the user named it; "-" for stdin; "" when unknown
	Line int64  // 1-based; 0 when the error is not about one line
	Err  error  // the problem
}

// Error returns "file:line: problem", leaving out what is unknown.
// When the problem is an *fs.PathError about that same file, its path is
// not repeated: "ratings.csv: open: no such file or directory".
func (e *InputError) Error() string {
	problem := e.Err.Error()
	if pe, ok := e.Err.(*fs.PathError); ok && e.File != "" && pe.Path == e.File {
		problem = pe.Op + ": " + pe.Err.Error()
	}
	switch {
	case e.File != "" && e.Line > 0:
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, problem)
	case e.File != "":
		return e.File + ": " + problem
	case e.Line > 0:
		return fmt.Sprintf("line %d: %s", e.Line, problem)
	}
	return problem
}

// Unwrap returns the problem.
func (e *InputError) Unwrap() error { return e.Err }

// ServiceError is a failure of an external service (Blob Storage, Cosmos
// DB, an HTTP download) after retries.
type ServiceError struct {
	Service string // "blob", "cosmos", "http"
	Err     error
}

// Error returns "service: error".
func (e *ServiceError) Error() string { return e.Service + ": " + e.Err.Error() }

// Unwrap returns the service's error.
func (e *ServiceError) Unwrap() error { return e.Err }
