package errdefs_test

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/recs-dev/recs/errdefs"
	"github.com/recs-dev/recs/ingest"
)

// A caller outside recs tells bad input data from other failures.
func ExampleInputError() {
	data := "1\t10\t4\t881250949\n2\t20\tfour\t881250950\n"
	_, _, err := ingest.ReadFrom(context.Background(), "u.data", strings.NewReader(data), ingest.Options{})
	var ie *errdefs.InputError
	if errors.As(err, &ie) {
		fmt.Printf("%s, line %d\n", ie.File, ie.Line)
	}
	// Output: u.data, line 2
}
